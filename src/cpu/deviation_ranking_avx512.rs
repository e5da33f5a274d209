//! Every ranking type of a population with at most 16 responses, held in
//! AVX-512 registers: the same closed form as `deviation_ranking`, with no
//! scatter and no memory traffic per response.
//!
//! The policy, padded with zeros to 16 entries, fills two 8-lane registers.
//! Per ranking type: two two-table permutes put π in rank order, the even
//! ranks in one register and the odd ranks in the other, so one add gives
//! the pair sums and a three-step shift-and-add suffix scan gives `L` (the
//! mass at or below) at the even ranks; `B` at rank `j` is `L` at rank
//! `j + 1`, and the odd ranks follow by subtraction. The power sum
//! `Σ_i L^i B^{k−i}` runs on all 16 ranks at once, two more permutes by the
//! inverse ranking bring it back to response order, and it lands in two
//! accumulator registers shared by all types (`g` is linear in the
//! weights). A ranking shorter than 16 is padded at the bottom with the
//! responses `n..16`, whose policy mass is zero, so they change no sum.
//! Each type is one long dependency chain; two types go step by step side
//! by side so the core overlaps them.
//!
//! The inverse rankings are built once and kept in [`RankScratch`]: each
//! call compares every ranking of the population with its cached copy (one
//! masked compare per type, checked once at the end) and, if any differs,
//! rebuilds them and runs again, so a solve loop over one population builds
//! them once. A call on another population (told apart by the address of its
//! types) builds them before the pass, so one-off evaluations run it once.

use super::deviation_ranking::HORNER_MAX_K;
use crate::population::{Kind, Population, UserType};

/// Most responses the register kernel holds.
pub const MAX_RESPONSES: usize = 16;

/// One ranking padded to 16: as dwords (to compare with the population's),
/// as qword permute indices, the even ranks then the odd ones (rank →
/// response), and the inverse (response → slot of its rank in that order).
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Layout {
    ranking: [u32; MAX_RESPONSES],
    order: [u64; MAX_RESPONSES],
    position: [u64; MAX_RESPONSES],
}

/// The scalar construction, the reference for `avx512::build_layouts`.
#[cfg(test)]
impl Layout {
    /// The layout of a ranking type; the identity for other types.
    fn of(t: &UserType) -> Self {
        match &t.kind {
            Kind::Ranking(r) => Layout::new(r),
            Kind::Scores(_) | Kind::WeakOrder(_) => Layout::new(&[]),
        }
    }

    fn new(ranking: &[u32]) -> Self {
        let mut padded = [0u32; MAX_RESPONSES];
        for (i, slot) in padded.iter_mut().enumerate() {
            *slot = ranking.get(i).copied().unwrap_or(i as u32);
        }
        let half = MAX_RESPONSES / 2;
        let slot = |rank: usize| rank % 2 * half + rank / 2;
        let mut order = [0u64; MAX_RESPONSES];
        let mut position = [0u64; MAX_RESPONSES];
        for (rank, &y) in padded.iter().enumerate() {
            order[slot(rank)] = u64::from(y);
            position[y as usize] = slot(rank) as u64;
        }
        Layout { ranking: padded, order, position }
    }
}

/// Reusable buffers: the inverse rankings of the last population seen.
#[derive(Default, Clone, Debug)]
pub struct RankScratch {
    layouts: Vec<Layout>,
    /// Address of the types they were built from: only a hint (a new
    /// population at an old address is caught by the compares), which lets
    /// a call on another population build its layouts before the pass
    /// instead of running the pass twice.
    owner: usize,
}

/// Whether [`rankings_into`] runs for `n` responses on this CPU.
pub fn available(n: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        n <= MAX_RESPONSES && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = n;
        false
    }
}

/// What [`rankings_into`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// Nothing ([`available`] is false).
    Nothing,
    /// The ranking types; the population also has Plackett–Luce types.
    Rankings,
    /// Every type (all are rankings).
    All,
}

/// Adds `Σ_t α_t g_t(y)` over the ranking types `t` of `pop` to `out[y]`
/// (Plackett–Luce types are left to the caller), where [`available`].
pub fn rankings_into(pop: &Population, policy: &[f64], k: usize, out: &mut [f64], scratch: &mut RankScratch) -> Done {
    // The masked loads and stores read `n` entries of both slices: shorter
    // ones (an invalid call) go to the bounds-checked pass instead.
    let n = pop.responses;
    if !available(n) || policy.len() < n || out.len() < n {
        return Done::Nothing;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `available` has just checked the CPU for AVX-512F and n ≤ 16.
    let all = unsafe { avx512::dispatch(pop, policy, k, out, scratch) };
    #[cfg(not(target_arch = "x86_64"))]
    let all = false;
    if all {
        Done::All
    } else {
        Done::Rankings
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    /// Calls the kernel with a literal `k` (`K`) for k ≤ 8, so the power sum
    /// unrolls; `K = 0` reads `k` at run time.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dispatch(
        pop: &Population,
        policy: &[f64],
        k: usize,
        out: &mut [f64],
        scratch: &mut RankScratch,
    ) -> bool {
        match k {
            1 => kernel::<1>(pop, policy, k, out, scratch),
            2 => kernel::<2>(pop, policy, k, out, scratch),
            3 => kernel::<3>(pop, policy, k, out, scratch),
            4 => kernel::<4>(pop, policy, k, out, scratch),
            5 => kernel::<5>(pop, policy, k, out, scratch),
            6 => kernel::<6>(pop, policy, k, out, scratch),
            7 => kernel::<7>(pop, policy, k, out, scratch),
            8 => kernel::<8>(pop, policy, k, out, scratch),
            _ => kernel::<0>(pop, policy, k, out, scratch),
        }
    }

    /// `Σ_{i=0..k} L^i B^{k−i}` lane-wise, by the rules of
    /// `deviation_ranking::power_sum` (Horner in `B` to k = 16, doubling the
    /// number of terms above).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn power_sum(l: __m512d, b: __m512d, k: usize) -> __m512d {
        if k == 0 {
            return _mm512_set1_pd(1.0);
        }
        if k == 4 {
            // x⁴ + x³ + x² + x + 1 = (x² + φx + 1)(x² − x/φ + 1), φ the golden
            // ratio: with a = L + B and q = LB, the two factors are
            // a² − (2 − φ)q and a² − (1 + φ)q, both ≥ a²/3 (a² ≥ 4q), so
            // no cancellation. Six operations against Horner's seven.
            const PHI: f64 = 1.618_033_988_749_895;
            let a = _mm512_add_pd(l, b);
            let q = _mm512_mul_pd(l, b);
            let a2 = _mm512_mul_pd(a, a);
            let f1 = _mm512_fmadd_pd(q, _mm512_set1_pd(PHI - 2.0), a2);
            let f2 = _mm512_fmadd_pd(q, _mm512_set1_pd(-1.0 - PHI), a2);
            return _mm512_mul_pd(f1, f2);
        }
        if k <= HORNER_MAX_K {
            let mut acc = _mm512_add_pd(l, b);
            let mut l_pow = l;
            for _ in 1..k {
                l_pow = _mm512_mul_pd(l_pow, l);
                acc = _mm512_fmadd_pd(acc, b, l_pow);
            }
            return acc;
        }
        let terms = k + 1;
        let top = usize::BITS - 1 - terms.leading_zeros();
        let (mut sum, mut l_pow, mut b_pow) = (_mm512_set1_pd(1.0), l, b);
        for bit in (0..top).rev() {
            sum = _mm512_mul_pd(sum, _mm512_add_pd(l_pow, b_pow));
            l_pow = _mm512_mul_pd(l_pow, l_pow);
            b_pow = _mm512_mul_pd(b_pow, b_pow);
            if terms >> bit & 1 == 1 {
                sum = _mm512_fmadd_pd(b, sum, l_pow);
                l_pow = _mm512_mul_pd(l_pow, l);
                b_pow = _mm512_mul_pd(b_pow, b);
            }
        }
        sum
    }

    /// Lane `i` of the result is lane `i + N` of `x`, zero past the end:
    /// one `valignq` (written out: the compiler would turn it into a
    /// two-table permute with a constant index, slower on this core).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn shift_down<const N: i32>(x: __m512d) -> __m512d {
        let out: __m512d;
        std::arch::asm!(
            "vpxorq {zero}, {zero}, {zero}",
            "valignq {out}, {zero}, {x}, {n}",
            out = lateout(zmm_reg) out,
            zero = out(zmm_reg) _,
            x = in(zmm_reg) x,
            n = const N,
            options(pure, nomem, nostack),
        );
        out
    }

    /// `Σ_i L^i B^{k−i}` for every response of `N` ranking types, step by
    /// step for all `N` at once: each type is one long dependency chain, and
    /// interleaving them lets the core overlap the chains.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn types<const N: usize>(
        layouts: [&Layout; N],
        p_lo: __m512d,
        p_hi: __m512d,
        k: usize,
    ) -> [[__m512d; 2]; N] {
        let zero = _mm512_setzero_pd();
        let (mut even, mut odd, mut l_even) = ([zero; N], [zero; N], [zero; N]);
        for i in 0..N {
            // π at the even and at the odd ranks (lane i: ranks 2i and 2i + 1).
            let order = layouts[i].order.as_ptr();
            even[i] = _mm512_permutex2var_pd(p_lo, _mm512_load_si512(order as *const __m512i), p_hi);
            odd[i] = _mm512_permutex2var_pd(p_lo, _mm512_load_si512(order.add(8) as *const __m512i), p_hi);
        }
        // Suffix sums of the pair sums: L at rank 2i, three shift-and-add steps.
        for i in 0..N {
            l_even[i] = _mm512_add_pd(even[i], odd[i]);
        }
        for l in l_even.iter_mut() {
            *l = _mm512_add_pd(*l, shift_down::<1>(*l));
        }
        for l in l_even.iter_mut() {
            *l = _mm512_add_pd(*l, shift_down::<2>(*l));
        }
        for l in l_even.iter_mut() {
            *l = _mm512_add_pd(*l, _mm512_zextpd256_pd512(_mm512_extractf64x4_pd::<1>(*l)));
        }
        let mut out = [[zero; 2]; N];
        for i in 0..N {
            // B at rank j is L at rank j + 1. The sums are of non-negative
            // terms and rounding is monotone, so the differences stay ≥ 0.
            let l_odd = _mm512_sub_pd(l_even[i], even[i]);
            let b_odd = _mm512_sub_pd(l_odd, odd[i]);
            out[i] = [power_sum(l_even[i], l_odd, k), power_sum(l_odd, b_odd, k)];
        }
        for (i, o) in out.iter_mut().enumerate() {
            // Back to response order.
            let position = layouts[i].position.as_ptr();
            let pos_lo = _mm512_load_si512(position as *const __m512i);
            let pos_hi = _mm512_load_si512(position.add(8) as *const __m512i);
            *o = [_mm512_permutex2var_pd(o[0], pos_lo, o[1]), _mm512_permutex2var_pd(o[0], pos_hi, o[1])];
        }
        out
    }

    /// [`Layout::of`] for every type of `pop`, in registers: one masked
    /// load pads the ranking, one permute gives the even-then-odd rank
    /// order, one scatter the inverse.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) unsafe fn build_layouts(pop: &Population, layouts: &mut Vec<Layout>) {
        const EMPTY: Layout =
            Layout { ranking: [0; MAX_RESPONSES], order: [0; MAX_RESPONSES], position: [0; MAX_RESPONSES] };
        layouts.clear();
        layouts.resize(pop.types.len(), EMPTY);
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let even_then_odd = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        // slot(rank) = rank % 2 · 8 + rank / 2, as in `Layout::new`.
        let slots = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        let widen = |x: __m512i, to: *mut u64| {
            _mm512_store_si512(to as *mut __m512i, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(x)));
            _mm512_store_si512(to.add(8) as *mut __m512i, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(x)));
        };
        for (t, layout) in pop.types.iter().zip(layouts.iter_mut()) {
            let padded = match &t.kind {
                Kind::Ranking(r) => {
                    let mask = ((1u32 << r.len().min(MAX_RESPONSES)) - 1) as u16;
                    _mm512_mask_loadu_epi32(iota, mask, r.as_ptr() as *const i32)
                }
                Kind::Scores(_) | Kind::WeakOrder(_) => iota,
            };
            _mm512_store_si512(layout.ranking.as_mut_ptr() as *mut __m512i, padded);
            widen(_mm512_permutexvar_epi32(even_then_odd, padded), layout.order.as_mut_ptr());
            // position[y] = slot of y's rank. A valid ranking is a
            // permutation; the mask keeps any other input inside the array.
            let mut position = Aligned([0u32; MAX_RESPONSES]);
            let responses = _mm512_and_si512(padded, _mm512_set1_epi32(MAX_RESPONSES as i32 - 1));
            _mm512_i32scatter_epi32::<4>(position.0.as_mut_ptr() as *mut i32, responses, slots);
            widen(_mm512_load_si512(position.0.as_ptr() as *const __m512i), layout.position.as_mut_ptr());
        }
    }

    #[repr(C, align(64))]
    struct Aligned([u32; MAX_RESPONSES]);

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn kernel<const K: usize>(
        pop: &Population,
        policy: &[f64],
        k: usize,
        out: &mut [f64],
        scratch: &mut RankScratch,
    ) -> bool {
        let k = if K > 0 { K } else { k };
        let n = pop.responses;
        let lo_mask = (1u32 << n.min(8)).wrapping_sub(1) as u8;
        let hi_mask = ((1u32 << n.max(8)) >> 8).wrapping_sub(1) as u8;
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let p_lo = _mm512_maskz_loadu_pd(lo_mask, policy.as_ptr());
        let p_hi = _mm512_maskz_loadu_pd(hi_mask, policy.as_ptr().wrapping_add(8));
        // One layout per type (Plackett–Luce types hold an unused one).
        let owner = pop.types.as_ptr() as usize;
        let layouts = &mut scratch.layouts;
        if layouts.len() != pop.types.len() || scratch.owner != owner {
            build_layouts(pop, layouts);
            scratch.owner = owner;
        }
        let mut all = true;
        let (acc_lo, acc_hi) = loop {
            let (mut acc_lo, mut acc_hi) = (_mm512_setzero_pd(), _mm512_setzero_pd());
            // The cached layouts are valid iff every cached ranking is the
            // population's: the compares are collected and checked once, so
            // no branch waits on them.
            let mut stale = 0u16;
            // A Plackett–Luce type runs through with its identity layout
            // and weight 0, so the loop has no branch.
            let mut weight = |t: &UserType, layout: &Layout| match &t.kind {
                Kind::Ranking(r) => {
                    // Masked to the ranking's own length (never a read past
                    // it) and padded as `Layout::new` pads.
                    let dword_mask = ((1u32 << r.len().min(MAX_RESPONSES)) - 1) as u16;
                    let ranking = _mm512_mask_loadu_epi32(iota, dword_mask, r.as_ptr() as *const i32);
                    let cached = _mm512_load_si512(layout.ranking.as_ptr() as *const __m512i);
                    stale |= _mm512_cmpneq_epi32_mask(ranking, cached);
                    _mm512_set1_pd(t.weight)
                }
                Kind::Scores(_) | Kind::WeakOrder(_) => {
                    all = false;
                    _mm512_setzero_pd()
                }
            };
            for (t, layout) in pop.types.chunks_exact(2).zip(layouts.chunks_exact(2)) {
                let (w0, w1) = (weight(&t[0], &layout[0]), weight(&t[1], &layout[1]));
                let [s0, s1] = types([&layout[0], &layout[1]], p_lo, p_hi, k);
                acc_lo = _mm512_fmadd_pd(s0[0], w0, _mm512_fmadd_pd(s1[0], w1, acc_lo));
                acc_hi = _mm512_fmadd_pd(s0[1], w0, _mm512_fmadd_pd(s1[1], w1, acc_hi));
            }
            if let (Some(t), Some(layout)) =
                (pop.types.chunks_exact(2).remainder().first(), layouts.chunks_exact(2).remainder().first())
            {
                let w = weight(t, layout);
                let [s] = types([layout], p_lo, p_hi, k);
                acc_lo = _mm512_fmadd_pd(s[0], w, acc_lo);
                acc_hi = _mm512_fmadd_pd(s[1], w, acc_hi);
            }
            if stale == 0 {
                break (acc_lo, acc_hi);
            }
            build_layouts(pop, layouts);
        };
        let scale = _mm512_set1_pd(1.0 / (k as f64 + 1.0));
        let out_lo = _mm512_maskz_loadu_pd(lo_mask, out.as_ptr());
        let out_hi = _mm512_maskz_loadu_pd(hi_mask, out.as_ptr().wrapping_add(8));
        _mm512_mask_storeu_pd(out.as_mut_ptr(), lo_mask, _mm512_fmadd_pd(acc_lo, scale, out_lo));
        _mm512_mask_storeu_pd(out.as_mut_ptr().wrapping_add(8), hi_mask, _mm512_fmadd_pd(acc_hi, scale, out_hi));
        all
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The layouts built in registers are the scalar construction's, for
    /// rankings of every length to 16 and for Plackett–Luce types.
    #[test]
    fn layouts_built_in_registers_match_the_scalar_construction() {
        if !available(MAX_RESPONSES) {
            return;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for n in 1..=MAX_RESPONSES {
            let types: Vec<UserType> = (0..5)
                .map(|t| {
                    if t == 3 {
                        UserType::scores(0.2, (0..n).map(|_| rng.random_range(-2.0..2.0)).collect())
                    } else {
                        let mut r: Vec<u32> = (0..n as u32).collect();
                        for i in (1..n).rev() {
                            r.swap(i, rng.random_range(0..=i));
                        }
                        UserType::ranking(0.2, r)
                    }
                })
                .collect();
            let pop = Population::new(n, None, types).expect("a valid population");
            let mut built = Vec::new();
            // SAFETY: `available` checked the CPU for AVX-512F.
            unsafe { avx512::build_layouts(&pop, &mut built) };
            let want: Vec<Layout> = pop.types.iter().map(Layout::of).collect();
            assert_eq!(built, want, "n = {n}");
        }
    }
}
