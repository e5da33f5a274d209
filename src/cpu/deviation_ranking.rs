//! CPU twin of `shaders/deviation_ranking.wgsl`: the deviation vector of one
//! ranking type, by the closed form of SPEC §3.

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
/// case of self-play) dispatch to a copy with k fixed at compile time, so the
/// Horner loop unrolls; the arithmetic, and hence every bit of the result, is
/// the same as the generic loop.
#[inline]
pub fn deviation_ranking(ranking: &[u32], weight: f64, policy: &[f64], k: usize, out: &mut [f64]) {
    match k {
        1 => ranking_pass::<1>(ranking, weight, policy, out),
        2 => ranking_pass::<2>(ranking, weight, policy, out),
        3 => ranking_pass::<3>(ranking, weight, policy, out),
        4 => ranking_pass::<4>(ranking, weight, policy, out),
        5 => ranking_pass::<5>(ranking, weight, policy, out),
        6 => ranking_pass::<6>(ranking, weight, policy, out),
        7 => ranking_pass::<7>(ranking, weight, policy, out),
        8 => ranking_pass::<8>(ranking, weight, policy, out),
        _ => {
            let scale = weight / (k as f64 + 1.0);
            let mut below = 0.0;
            for &y in ranking.iter().rev() {
                let y = y as usize;
                let at_or_below = below + policy[y];
                out[y] += scale * power_sum(at_or_below, below, k);
                below = at_or_below;
            }
        }
    }
}

#[inline(always)]
fn ranking_pass<const K: usize>(ranking: &[u32], weight: f64, policy: &[f64], out: &mut [f64]) {
    let scale = weight / (K as f64 + 1.0);
    let mut below = 0.0;
    for &y in ranking.iter().rev() {
        let y = y as usize;
        let at_or_below = below + policy[y];
        out[y] += scale * power_sum(at_or_below, below, K);
        below = at_or_below;
    }
}
