// Twin of src/cpu/deviation_pl.rs: Plackett–Luce types by the exact integral
// method of docs/theory.md in exponential-generating-function form (every
// coefficient in [0, 1], so f32 is safe up to k = 64), on the grid GRID_F32:
//
//   g_t(y) = ∫ w_y e^{−w_y s} k! [u^k] G_y(u) Π_{z≠y} F_z(u) ds
//
// The CPU twin shares the products over z through prefix/suffix arrays; a GPU
// lane has no room for those, so each lane (one response y) builds its own
// leave-one-out product Π_{z≠y} F_z: O(n k²) per node, no scratch memory.

// `acc ← acc ⊛ F_z` in EGF form, F_z = [1, e π, e π², …]: the binomial
// convolution computed from the top coefficient down so it can run in place.
fn convolve_factor(acc: ptr<function, array<f32, MAX_K + 1u>>, k: u32, e: f32, p: f32) {
    for (var j = k; j >= 1u; j = j - 1u) {
        var sum = 0.0;
        var pw = 1.0;
        for (var i = j; i >= 1u; i = i - 1u) {
            pw = pw * p;                      // π^{j−(i−1)}
            sum = sum + binom(j, i - 1u) * (*acc)[i - 1u] * pw;
        }
        (*acc)[j] = (*acc)[j] + e * sum;
    }
}

// g_t(y) of PL type `rec` (offset of its PL_META record) for response y.
fn pl_deviation(rec: u32, y: u32, n: u32) -> f32 {
    let k = params.k;
    let x_lo = data_f32(rec + 1u);
    let nodes = data[rec + 2u];
    let w_off = data[rec + 3u];
    let wy = data_f32(w_off + y);
    let py = wg_pi[y];
    var acc: array<f32, MAX_K + 1u>;
    var total = 0.0;
    for (var node = params.node_begin; node < min(nodes, params.node_end); node = node + 1u) {
        let s = exp(x_lo + f32(node) * params.pl_step);
        let kernel = params.pl_step * s * wy * exp(-s * wy);
        if kernel == 0.0 {
            continue;
        }
        acc[0] = 1.0;
        for (var j = 1u; j <= k; j = j + 1u) {
            acc[j] = 0.0;
        }
        for (var z = 0u; z < n; z = z + 1u) {
            let pz = wg_pi[z];
            if z == y || pz == 0.0 {
                continue;  // F_z = 1 outside the support
            }
            let e = exp(-s * data_f32(w_off + z));
            if e == 0.0 {
                continue;
            }
            convolve_factor(&acc, k, e, pz);
        }
        // H_y = k! [u^k] G_y Π_{z≠y} F_z with G̃_c = π_y^c / (c+1).
        var h = 0.0;
        var pw = 1.0;
        for (var c = 0u; c <= k; c = c + 1u) {
            h = h + binom(k, c) * pw / f32(c + 1u) * acc[k - c];
            pw = pw * py;
        }
        total = total + kernel * h;
    }
    return total;
}

// Adds Σ_t α_t g_t(y) over the population's PL types to wg_part: segment
// `seg` takes one type per pass and lane i of it computes response i
// (passes and nodes restricted to the ranges of `params`).
fn deviation_pl(lane: u32, n: u32, npow: u32, m_pl: u32, meta_off: u32) {
    let segs = WG / npow;
    let seg = lane / npow;
    let i = lane % npow;
    for (var q = params.pass_begin; q * segs < m_pl && q < params.pass_end; q = q + 1u) {
        let t = q * segs + seg;
        if t < m_pl && i < n {
            let rec = meta_off + t * PL_META;
            wg_part[lane] = wg_part[lane] + data_f32(rec) * pl_deviation(rec, i, n);
        }
    }
    workgroupBarrier();
}
