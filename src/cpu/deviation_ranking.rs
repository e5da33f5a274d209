//! CPU twin of `shaders/deviation_ranking.wgsl`: the deviation vector of one
//! ranking type, by the closed form of docs/theory.md.

/// `Σ_{i=0..k} L^i B^{k−i}` by Horner's rule in `B`.
///
/// Every term is non-negative, so unlike `(L^{k+1} − B^{k+1}) / p` there is no
/// cancellation when `p = L − B` is tiny (or zero, where it equals `(k+1) B^k`).
#[inline(always)]
pub fn power_sum(l: f64, b: f64, k: usize) -> f64 {
    let mut acc = 1.0;
    let mut l_pow = 1.0;
    for _ in 0..k {
        l_pow *= l;
        acc = acc * b + l_pow;
    }
    acc
}

/// Adds `weight · g_t(y)` to `out[y]` for every response `y`, where `t` is the
/// ranking (best first) and `g_t(y) = P_t(y ≻ π^{⊗k})`.
///
/// One pass from the bottom of the ranking keeps `B`, the π-mass strictly
/// below the current response: O(n·k) for the whole vector. Small k (the hot
/// case of self-play) call the inlined pass with a literal k, so the
/// Horner loop unrolls; the arithmetic, and hence every bit of the result, is
/// the same as the generic loop.
#[inline]
pub fn deviation_ranking(ranking: &[u32], weight: f64, policy: &[f64], k: usize, out: &mut [f64]) {
    match k {
        // A literal k lets the inlined pass unroll the power sum.
        1 => ranking_pass(ranking, weight, policy, 1, out),
        2 => ranking_pass(ranking, weight, policy, 2, out),
        3 => ranking_pass(ranking, weight, policy, 3, out),
        4 => ranking_pass(ranking, weight, policy, 4, out),
        5 => ranking_pass(ranking, weight, policy, 5, out),
        6 => ranking_pass(ranking, weight, policy, 6, out),
        7 => ranking_pass(ranking, weight, policy, 7, out),
        8 => ranking_pass(ranking, weight, policy, 8, out),
        _ => ranking_pass(ranking, weight, policy, k, out),
    }
}

#[inline(always)]
fn ranking_pass(ranking: &[u32], weight: f64, policy: &[f64], k: usize, out: &mut [f64]) {
    let scale = weight / (k as f64 + 1.0);
    let mut below = 0.0;
    for &y in ranking.iter().rev() {
        let y = y as usize;
        let at_or_below = below + policy[y];
        out[y] += scale * power_sum(at_or_below, below, k);
        below = at_or_below;
    }
}
