//! CPU twin of `shaders/deviation_ranking.wgsl`: the deviation vector of one
//! ranking type, by the closed form of docs/theory.md.

use super::literal_k::with_literal_k;

/// Largest k whose power sum uses Horner's rule.
pub const HORNER_MAX_K: usize = 16;

/// `Σ_{i=0..k} L^i B^{k−i}` by doubling the number of terms.
///
/// With `S_N = Σ_{i<N} L^i B^{N−1−i}`: `S_{2N} = S_N (L^N + B^N)` and
/// `S_{N+1} = L^N + B S_N`, walking the bits of `N = k + 1`. The dependent
/// chain is `O(log k)` long instead of Horner's `k` (large k ran at one
/// multiply-add latency per unit of k). Every term is non-negative, so unlike
/// `(L^{k+1} − B^{k+1}) / p` there is no cancellation when `p = L − B` is tiny
/// (or zero, where it equals `(k+1) B^k`); the relative error is a few ulp
/// per bit of `N`.
/// Small k (at most [`HORNER_MAX_K`], measured) keep Horner's rule in `B`, whose
/// unrolled chain is as short and costs fewer multiplications.
#[inline(always)]
pub fn power_sum(l: f64, b: f64, k: usize) -> f64 {
    if k <= HORNER_MAX_K {
        let mut acc = 1.0;
        let mut l_pow = 1.0;
        for _ in 0..k {
            l_pow *= l;
            acc = acc * b + l_pow;
        }
        return acc;
    }
    let terms = k + 1;
    let top = usize::BITS - 1 - terms.leading_zeros();
    // N = 1: S = 1, L^N = l, B^N = b.
    let (mut sum, mut l_pow, mut b_pow) = (1.0, l, b);
    for bit in (0..top).rev() {
        sum *= l_pow + b_pow;
        l_pow *= l_pow;
        b_pow *= b_pow;
        if terms >> bit & 1 == 1 {
            sum = l_pow + b * sum;
            l_pow *= l;
            b_pow *= b;
        }
    }
    sum
}

/// Adds `weight · g_t(y)` to `out[y]` for every response `y`, where `t` is the
/// ranking (best first) and `g_t(y) = P_t(y ≻ π^{⊗k})`.
///
/// One pass from the bottom of the ranking keeps `B`, the π-mass strictly
/// below the current response: O(n·k) for the whole vector. Small k (the hot
/// case of self-play) call the inlined pass with a literal k, so the
/// doubling loop unrolls; the arithmetic, and hence every bit of the result,
/// is the same as the generic loop.
#[inline]
pub fn deviation_ranking(ranking: &[u32], weight: f64, policy: &[f64], k: usize, out: &mut [f64]) {
    // A literal k lets the inlined pass unroll the power sum.
    with_literal_k!(k, [1 2 3 4 5 6 7 8], |k| ranking_pass(ranking, weight, policy, k, out))
}

/// Responses per chunk of a ranking pass: their power sums are independent,
/// so a chunk runs as `CHUNK` interleaved chains (vector lanes where the
/// target has them) instead of one dependent chain per response.
const CHUNK: usize = 8;

/// [`power_sum`] lane-wise: the same operations per lane, so every result is
/// bit-identical to the scalar function.
#[inline(always)]
fn power_sum_lanes(l: &[f64; CHUNK], b: &[f64; CHUNK], k: usize) -> [f64; CHUNK] {
    if k <= HORNER_MAX_K {
        let mut acc = [1.0; CHUNK];
        let mut l_pow = [1.0; CHUNK];
        for _ in 0..k {
            for i in 0..CHUNK {
                l_pow[i] *= l[i];
                acc[i] = acc[i] * b[i] + l_pow[i];
            }
        }
        return acc;
    }
    let terms = k + 1;
    let top = usize::BITS - 1 - terms.leading_zeros();
    let (mut sum, mut l_pow, mut b_pow) = ([1.0; CHUNK], *l, *b);
    for bit in (0..top).rev() {
        for i in 0..CHUNK {
            sum[i] *= l_pow[i] + b_pow[i];
            l_pow[i] *= l_pow[i];
            b_pow[i] *= b_pow[i];
        }
        if terms >> bit & 1 == 1 {
            for i in 0..CHUNK {
                sum[i] = l_pow[i] + b[i] * sum[i];
                l_pow[i] *= l[i];
                b_pow[i] *= b[i];
            }
        }
    }
    sum
}

/// One pass from the bottom of the ranking, `CHUNK` responses at a time: the
/// running mass below (a cheap dependent chain of additions) first, then the
/// chunk's power sums side by side.
#[inline(always)]
fn ranking_pass(ranking: &[u32], weight: f64, policy: &[f64], k: usize, out: &mut [f64]) {
    let scale = weight / (k as f64 + 1.0);
    let mut below = 0.0;
    let mut chunks = ranking.rchunks_exact(CHUNK);
    for chunk in &mut chunks {
        let mut l = [0.0; CHUNK];
        let mut b = [0.0; CHUNK];
        for (i, &y) in chunk.iter().rev().enumerate() {
            b[i] = below;
            below += policy[y as usize];
            l[i] = below;
        }
        let sums = power_sum_lanes(&l, &b, k);
        for (i, &y) in chunk.iter().rev().enumerate() {
            out[y as usize] += scale * sums[i];
        }
    }
    for &y in chunks.remainder().iter().rev() {
        let y = y as usize;
        let at_or_below = below + policy[y];
        out[y] += scale * power_sum(at_or_below, below, k);
        below = at_or_below;
    }
}
