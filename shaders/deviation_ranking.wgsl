// Twin of src/cpu/deviation_ranking.rs: the closed form of docs/theory.md for
// ranking types, g_t(y) = Σ_{i=0..k} L^i B^{k−i} / (k+1), Horner in B.

// Σ_{i=0..k} L^i B^{k−i}: all terms ≥ 0, so no cancellation when p = L − B is tiny.
fn power_sum(l: f32, b: f32, k: u32) -> f32 {
    var acc = 1.0;
    var l_pow = 1.0;
    for (var i = 0u; i < k; i = i + 1u) {
        l_pow = l_pow * l;
        acc = acc * b + l_pow;
    }
    return acc;
}

// Adds Σ_t α_t g_t(y) over the population's ranking types to wg_part.
// The lanes form WG / npow segments of npow lanes; each segment takes one
// type per pass: lane i loads π of the i-th ranked response, a segmented
// suffix scan gives L (mass at or below) and B (mass strictly below), and
// the lane credits response ranking[i] in its segment's row of wg_part
// (a ranking is a permutation, so no two lanes of a segment collide).
fn deviation_ranking(lane: u32, n: u32, npow: u32, m_rank: u32, rank_off: u32, w_off: u32) {
    let segs = WG / npow;
    let seg = lane / npow;
    let i = lane % npow;
    let scale = 1.0 / f32(params.k + 1u);
    for (var base = 0u; base < m_rank; base = base + segs) {
        let t = base + seg;
        let valid = t < m_rank && i < n;
        var y = 0u;
        var v = 0.0;
        if valid {
            let e = t * n + i;  // rank entries are bytes, four to a word
            y = (data[rank_off + e / 4u] >> (8u * (e % 4u))) & 0xffu;
            v = wg_pi[y];
        }
        workgroupBarrier();
        wg_scan[lane] = v;
        for (var d = 1u; d < npow; d = d * 2u) {
            workgroupBarrier();
            var add = 0.0;
            if i + d < npow {
                add = wg_scan[lane + d];
            }
            workgroupBarrier();
            wg_scan[lane] = wg_scan[lane] + add;
        }
        workgroupBarrier();
        if valid {
            let at_or_below = wg_scan[lane];
            var below = 0.0;
            if i + 1u < npow {
                below = wg_scan[lane + 1u];
            }
            let w = data_f32(w_off + t) * scale;
            wg_part[seg * npow + y] = wg_part[seg * npow + y] + w * power_sum(at_or_below, below, params.k);
        }
    }
    workgroupBarrier();
}
