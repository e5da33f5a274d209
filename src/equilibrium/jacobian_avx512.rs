//! The ranking rows of the Jacobian for at most 16 responses and k ≤ 8, in
//! AVX-512 registers: the same IEEE operations in the same order as the
//! scalar pass of `jacobian`, so every entry is bit for bit the same.
//!
//! Per ranking type, `L` (mass at or below) and `B` (mass below) are summed
//! from the bottom in scalar, exactly as the scalar pass sums them; the
//! powers and the two partial derivatives of the power sum then run for all
//! positions at once in vector lanes (the scalar pass computes them one
//! position after another, a long chain of dependent multiplications); and
//! the row of each response gets its derivative added to every response
//! ranked below it with one masked add, instead of a loop over them.

use crate::cpu::deviation_ranking_avx512::MAX_RESPONSES;
use crate::population::{Kind, Population};

/// Largest k with a register path (the power tables are `k + 1` registers).
pub const MAX_K: usize = 8;

/// Whether [`ranking_rows`] runs for `n` responses and this `k` on this CPU.
pub fn available(n: usize, k: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        n <= MAX_RESPONSES && (1..=MAX_K).contains(&k) && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (n, k);
        false
    }
}

/// Writes the rows of all ranking types of `pop` into the row-major `n × n`
/// Jacobian `out`, which must be all zeros (rows of responses outside
/// `support` are skipped), where [`available`]; Plackett–Luce types are left
/// to the caller. Returns false (and does nothing) elsewhere, or when the
/// slices do not fit `n` responses or a ranking is not a permutation of them.
pub fn ranking_rows(pop: &Population, policy: &[f64], k: usize, support: Option<&[bool]>, out: &mut [f64]) -> bool {
    let n = pop.responses;
    if !available(n, k) || policy.len() < n || out.len() < n * n || support.is_some_and(|s| s.len() < n) {
        return false;
    }
    let permutation = |r: &[u32]| r.len() == n && r.iter().all(|&y| (y as usize) < n);
    if !pop.types.iter().all(|t| match &t.kind {
        Kind::Ranking(r) => permutation(r),
        Kind::Scores(_) | Kind::WeakOrder(_) => true,
    }) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `available` has checked the CPU for AVX-512F, n ≤ 16 and
    // 1 ≤ k ≤ 8; the slices hold n, n and n² entries; rankings index 0..n.
    unsafe {
        avx512::dispatch(pop, policy, k, support, out)
    };
    cfg!(target_arch = "x86_64")
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dispatch(
        pop: &Population,
        policy: &[f64],
        k: usize,
        support: Option<&[bool]>,
        out: &mut [f64],
    ) {
        match k {
            1 => rows::<1>(pop, policy, support, out),
            2 => rows::<2>(pop, policy, support, out),
            3 => rows::<3>(pop, policy, support, out),
            4 => rows::<4>(pop, policy, support, out),
            5 => rows::<5>(pop, policy, support, out),
            6 => rows::<6>(pop, policy, support, out),
            7 => rows::<7>(pop, policy, support, out),
            _ => rows::<8>(pop, policy, support, out),
        }
    }

    #[repr(C, align(64))]
    #[derive(Clone, Copy)]
    struct Lanes([f64; MAX_RESPONSES]);

    /// `(scale·∂S/∂L, scale·(∂S/∂L + ∂S/∂B))` for 8 positions, by the
    /// scalar pass's operations: powers by repeated multiplication, then the
    /// terms `(i·L^{i−1})·B^{K−i}` and `((K−i)·L^i)·B^{K−i−1}` summed in
    /// order of `i`.
    #[inline(always)]
    unsafe fn partials<const K: usize>(l: __m512d, b: __m512d, scale: __m512d) -> (__m512d, __m512d) {
        // Power tables as macro-unrolled registers: L^i and B^i for i ≤ K.
        let one = _mm512_set1_pd(1.0);
        let mut l_pow = [one; MAX_K + 1];
        let mut b_pow = [one; MAX_K + 1];
        macro_rules! step {
            ($($i:literal)*) => {$(
                if $i <= K {
                    l_pow[$i] = _mm512_mul_pd(l_pow[$i - 1], l);
                    b_pow[$i] = _mm512_mul_pd(b_pow[$i - 1], b);
                }
            )*};
        }
        step!(1 2 3 4 5 6 7 8);
        let (mut d_l, mut d_b) = (_mm512_setzero_pd(), _mm512_setzero_pd());
        macro_rules! term {
            ($($i:literal)*) => {$(
                #[allow(unused_comparisons)]
                if $i <= K {
                    if $i >= 1 {
                        let t = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd($i as f64), l_pow[$i.max(1) - 1]), b_pow[K.saturating_sub($i)]);
                        d_l = _mm512_add_pd(d_l, t);
                    }
                    if $i < K {
                        let t = _mm512_mul_pd(
                            _mm512_mul_pd(_mm512_set1_pd((K - $i.min(K)) as f64), l_pow[$i]),
                            b_pow[K.saturating_sub($i + 1)],
                        );
                        d_b = _mm512_add_pd(d_b, t);
                    }
                }
            )*};
        }
        term!(0 1 2 3 4 5 6 7 8);
        (_mm512_mul_pd(scale, d_l), _mm512_mul_pd(scale, _mm512_add_pd(d_l, d_b)))
    }

    /// Types prepared at a time: their sums are stored by scalar code and
    /// read back as vectors only after the whole batch, so no vector load
    /// waits on the scalar stores just before it.
    const BATCH: usize = 8;

    #[target_feature(enable = "avx512f")]
    unsafe fn rows<const K: usize>(pop: &Population, policy: &[f64], support: Option<&[bool]>, out: &mut [f64]) {
        let n = pop.responses;
        let halves = n.div_ceil(8);
        // The rows accumulate here, 16 wide and aligned, and go to `out` at the end.
        let mut acc = Rows([[0.0; MAX_RESPONSES]; MAX_RESPONSES]);
        let lane_mask = [((1u32 << n.min(8)) - 1) as u8, ((1u32 << n.max(8)) >> 8).wrapping_sub(1) as u8];
        // Plackett–Luce types are left to the caller: their slots in a batch stay unused.
        for batch in pop.types.chunks(BATCH) {
            // L and B at each position, summed from the bottom as the scalar
            // pass does; rank_of[z] is z's position (−1 in the padding lanes:
            // above all, so below no one).
            let mut at_or_below = [Lanes([0.0; MAX_RESPONSES]); BATCH];
            let mut below_of = [Lanes([0.0; MAX_RESPONSES]); BATCH];
            let mut rank_of = [Ranks([-1; MAX_RESPONSES]); BATCH];
            for (i, t) in batch.iter().enumerate() {
                let Kind::Ranking(ranking) = &t.kind else { continue };
                let mut below = 0.0;
                for pos in (0..n).rev() {
                    let y = ranking[pos] as usize;
                    let l = below + policy[y];
                    at_or_below[i].0[pos] = l;
                    below_of[i].0[pos] = below;
                    rank_of[i].0[y] = pos as i32;
                    below = l;
                }
            }
            for (i, t) in batch.iter().enumerate() {
                let Kind::Ranking(ranking) = &t.kind else { continue };
                let scale = _mm512_set1_pd(t.weight / (K as f64 + 1.0));
                let ranks = _mm512_load_si512(rank_of[i].0.as_ptr() as *const __m512i);
                for half in 0..halves {
                    let l = _mm512_load_pd(at_or_below[i].0.as_ptr().add(8 * half));
                    let b = _mm512_load_pd(below_of[i].0.as_ptr().add(8 * half));
                    let (diag, spread) = partials::<K>(l, b, scale);
                    for lane in 0..8.min(n - 8 * half) {
                        let pos = 8 * half + lane;
                        let y = ranking[pos] as usize;
                        if support.is_some_and(|s| !s[y]) {
                            continue;
                        }
                        let at = _mm512_set1_epi64(lane as i64);
                        let (d, s) = (_mm512_permutexvar_pd(at, diag), _mm512_permutexvar_pd(at, spread));
                        // Lane y gets the diagonal term, the lanes of the
                        // responses ranked below y the spread term, the rest 0.
                        let below = _mm512_cmpgt_epi32_mask(ranks, _mm512_set1_epi32(pos as i32));
                        let own = 1u16 << y;
                        let row = acc.0[y].as_mut_ptr();
                        for (h, &mask) in lane_mask.iter().enumerate().take(halves) {
                            let (b_h, o_h) = ((below >> (8 * h)) as u8 & mask, (own >> (8 * h)) as u8);
                            let add = _mm512_mask_blend_pd(o_h, _mm512_maskz_mov_pd(b_h, s), d);
                            let add = _mm512_maskz_mov_pd(b_h | o_h, add);
                            let r = row.add(8 * h);
                            _mm512_store_pd(r, _mm512_add_pd(_mm512_load_pd(r), add));
                        }
                    }
                }
            }
        }
        for y in 0..n {
            out[y * n..(y + 1) * n].copy_from_slice(&acc.0[y][..n]);
        }
    }

    #[repr(C, align(64))]
    #[derive(Clone, Copy)]
    struct Ranks([i32; MAX_RESPONSES]);

    #[repr(C, align(64))]
    struct Rows([[f64; MAX_RESPONSES]; MAX_RESPONSES]);
}
