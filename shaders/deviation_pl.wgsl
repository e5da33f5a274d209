// Twin of src/cpu/deviation_pl.rs: Plackett–Luce types by the exact integral
// method of docs/theory.md in exponential-generating-function form (every
// coefficient in [0, 1], so f32 is safe up to k = 64), on the grid GRID_F32:
//
//   g_t(y) = ∫ w_y e^{−w_y s} k! [u^k] G_y(u) Π_{z≠y} F_z(u) ds
//
// Two kernels, chosen by k (params.pl_kernel can force one):
// - shared series (k ≥ PL_SHARED_MIN_K): as on the CPU, every leave-one-out
//   product Π_{z≠y} F_z is a prefix Π_{z<y} F_z times a suffix Π_{z>y} F_z (no
//   division): per node, one running series per type walks the responses up
//   and then down, one coefficient per lane (O(k) per lane and step, a
//   barrier per step), and lane y keeps the running series at its own step
//   in private memory: O(n·k) per lane and node. Each e^{−s w_z} is
//   computed once per node.
// - per-lane products (small k): each lane (one response y) builds its own
//   Π_{z≠y} F_z, O(n·k²) per lane and node with no barrier, which is faster
//   while k² is small against the barriers' cost.

// Smallest k that takes the shared-series kernel by default.
const PL_SHARED_MIN_K: u32 = 8u;
const PL_AUTO: u32 = 0u;
const PL_PER_LANE: u32 = 1u;
const PL_SHARED: u32 = 2u;

// Every lane must call it (params is uniform, so the branch is too).
fn deviation_pl(lane: u32, n: u32, npow: u32, m_pl: u32, meta_off: u32) {
    let kernel = params.pl_kernel;
    if kernel == PL_SHARED || (kernel == PL_AUTO && params.k >= PL_SHARED_MIN_K) {
        deviation_pl_shared(lane, n, npow, m_pl, meta_off);
    } else {
        deviation_pl_per_lane(lane, n, npow, m_pl, meta_off);
    }
}

// Double-buffered running series of each PL segment: 2 (k+1) values per
// segment, and segments are at least k+1 lanes wide, so 2 WG values suffice.
var<workgroup> wg_series: array<f32, 2u * WG>;
// e^{−s w_z} of the current node (0 outside the support: F_z = 1), per lane.
var<workgroup> wg_decay: array<f32, WG>;

// Lanes per PL segment (one type each): the population's segment width,
// widened to the series length so every coefficient has its own lane.
fn pl_width(npow: u32, k: u32) -> u32 {
    return max(npow, 1u << (32u - countLeadingZeros(k)));
}

// One step of the running series R at `base` (buffer `cur`) → R·F_z in the
// other buffer, in EGF form with F_z = [1, e π, e π², …]: lane i computes
// coefficient i. Every lane of the workgroup must call it (it ends with a
// barrier).
fn pl_series_step(i: u32, k: u32, base: u32, cur: u32, e: f32, p: f32) {
    if i <= k {
        let src = base + cur * (k + 1u);
        var v = wg_series[src + i];
        if e != 0.0 {
            var sum = 0.0;
            var pw = 1.0;
            for (var j = i; j >= 1u; j = j - 1u) {
                pw = pw * p;                      // π^{i−(j−1)}
                sum = sum + binom(i, j - 1u) * wg_series[src + j - 1u] * pw;
            }
            v = v + e * sum;
        }
        wg_series[base + (1u - cur) * (k + 1u) + i] = v;
    }
    workgroupBarrier();
}

// Buffer `cur` of the running series at `base` ← 1 (lane i sets coefficient i).
fn pl_series_reset(i: u32, k: u32, base: u32, cur: u32) {
    if i <= k {
        wg_series[base + cur * (k + 1u) + i] = select(0.0, 1.0, i == 0u);
    }
    workgroupBarrier();
}

// Shared-series kernel: adds Σ_t α_t g_t(y) over the population's PL types
// to wg_part: segment `seg` (pl_width lanes) takes one type per pass and lane i of it owns
// response i and series coefficient i (passes and nodes restricted to the
// ranges of `params`). Every lane must call it: the loops are uniform.
fn deviation_pl_shared(lane: u32, n: u32, npow: u32, m_pl: u32, meta_off: u32) {
    let k = params.k;
    let width = pl_width(npow, k);
    let segs = WG / width;
    let seg = lane / width;
    let i = lane % width;
    let base = seg * 2u * (k + 1u);
    // Nodes run to the largest count of the population's types (a uniform
    // bound, as the barriers need); a type past its own count adds nothing.
    var nodes_max = 0u;
    for (var t = 0u; t < m_pl; t = t + 1u) {
        nodes_max = max(nodes_max, data[meta_off + t * PL_META + 2u]);
    }
    let node_end = min(nodes_max, params.node_end);
    var pre: array<f32, MAX_K + 1u>;
    var suf: array<f32, MAX_K + 1u>;
    var gy: array<f32, MAX_K + 1u>;
    for (var q = params.pass_begin; q * segs < m_pl && q < params.pass_end; q = q + 1u) {
        let t = q * segs + seg;
        let live = t < m_pl && i < n;
        let rec = meta_off + min(t, m_pl - 1u) * PL_META;
        let x_lo = data_f32(rec + 1u);
        let nodes = data[rec + 2u];
        let w_off = data[rec + 3u];
        var wy = 0.0;
        var py = 0.0;
        if live {
            wy = data_f32(w_off + i);
            py = wg_pi[i];
        }
        // G̃_c = c! [u^c] G_y = π_y^c / (c+1).
        var pw = 1.0;
        for (var c = 0u; c <= k; c = c + 1u) {
            gy[c] = pw / f32(c + 1u);
            pw = pw * py;
        }
        var total = 0.0;
        for (var node = params.node_begin; node < node_end; node = node + 1u) {
            let on = live && node < nodes;
            let s = exp(x_lo + f32(node) * params.pl_step);
            var e = 0.0;
            if on {
                e = exp(-s * wy);
            }
            wg_decay[lane] = select(0.0, e, py > 0.0);
            var cur = 0u;
            pl_series_reset(i, k, base, cur);
            let row = seg * width;
            // Up: lane y keeps Π_{z<y} F_z.
            for (var z = 0u; z < n; z = z + 1u) {
                if i == z {
                    for (var c = 0u; c <= k; c = c + 1u) {
                        pre[c] = wg_series[base + cur * (k + 1u) + c];
                    }
                }
                pl_series_step(i, k, base, cur, wg_decay[row + z], wg_pi[z]);
                cur = 1u - cur;
            }
            // Down: lane y keeps Π_{z>y} F_z.
            pl_series_reset(i, k, base, cur);
            for (var z = n; z >= 1u; z = z - 1u) {
                if i == z - 1u {
                    for (var c = 0u; c <= k; c = c + 1u) {
                        suf[c] = wg_series[base + cur * (k + 1u) + c];
                    }
                }
                pl_series_step(i, k, base, cur, wg_decay[row + z - 1u], wg_pi[z - 1u]);
                cur = 1u - cur;
            }
            let kernel = params.pl_step * s * wy * e;
            if on && kernel != 0.0 {
                // H_y = k! [u^k] P S G_y = Σ_a C(k,a) P̃_a Σ_b C(k−a,b) S̃_b G̃_{k−a−b}.
                var h = 0.0;
                for (var a = 0u; a <= k; a = a + 1u) {
                    var inner = 0.0;
                    for (var b = 0u; b <= k - a; b = b + 1u) {
                        inner = inner + binom(k - a, b) * suf[b] * gy[k - a - b];
                    }
                    h = h + binom(k, a) * pre[a] * inner;
                }
                total = total + kernel * h;
            }
        }
        if live {
            wg_part[seg * width + i] = wg_part[seg * width + i] + data_f32(rec) * total;
        }
    }
    workgroupBarrier();
}

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
fn pl_deviation_per_lane(rec: u32, y: u32, n: u32) -> f32 {
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

// Per-lane kernel: adds Σ_t α_t g_t(y) over the population's PL types to wg_part: segment
// `seg` takes one type per pass and lane i of it computes response i
// (passes and nodes restricted to the ranges of `params`).
fn deviation_pl_per_lane(lane: u32, n: u32, npow: u32, m_pl: u32, meta_off: u32) {
    let segs = WG / npow;
    let seg = lane / npow;
    let i = lane % npow;
    for (var q = params.pass_begin; q * segs < m_pl && q < params.pass_end; q = q + 1u) {
        let t = q * segs + seg;
        if t < m_pl && i < n {
            let rec = meta_off + t * PL_META;
            wg_part[lane] = wg_part[lane] + data_f32(rec) * pl_deviation_per_lane(rec, i, n);
        }
    }
    workgroupBarrier();
}
