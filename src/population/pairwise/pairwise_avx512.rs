//! The pairwise preferences of a population of rankings over at most 16
//! responses, in AVX-512 registers: bit for bit the sums of the scalar pass
//! in `Pairwise::of`.
//!
//! The scalar pass adds a type's weight to `p[x][y]` for each pair it ranks
//! `x` above `y`, one scattered add per pair. Here each row of `p` is a
//! register (two for n > 8) and a type adds its weight to row `x` with one
//! masked add, the mask being the responses it ranks below `x` (a bit set
//! built from the bottom of the ranking). Each entry still receives the
//! same weights in the same type order, so the sums are identical.

use crate::population::{Kind, Population};

/// Most responses the register path handles (a row is two registers).
pub const MAX_RESPONSES: usize = 16;

/// Whether [`ranking_sums`] runs for `n` responses on this CPU.
fn available(n: usize) -> bool {
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

/// Adds, for every type of `pop` in order, its weight to `p[x * n + y]` for
/// each pair it ranks `x` above `y`, into the row-major `n × n` block `p`
/// (the diagonal is left alone), where [`available`] and every type is a
/// ranking (a permutation of the `n` responses). Returns false, and does
/// nothing, otherwise.
pub fn ranking_sums(pop: &Population, p: &mut [f64]) -> bool {
    let n = pop.responses;
    if !available(n) || p.len() != n * n {
        return false;
    }
    let permutation = |r: &[u32]| r.len() == n && r.iter().all(|&y| (y as usize) < n);
    if !pop.types.iter().all(|t| matches!(&t.kind, Kind::Ranking(r) if permutation(r))) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `available` has checked the CPU for AVX-512F and n ≤ 16; every
    // type is a ranking whose entries index 0..n, and p holds n² entries.
    unsafe {
        avx512::sums(pop, p)
    };
    cfg!(target_arch = "x86_64")
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn sums(pop: &Population, p: &mut [f64]) {
        let n = pop.responses;
        // Lanes 0..8 and, for n > 8, 8..16 of each row.
        let mut low = [_mm512_setzero_pd(); MAX_RESPONSES];
        let mut high = [_mm512_setzero_pd(); MAX_RESPONSES];
        for t in &pop.types {
            let Kind::Ranking(r) = &t.kind else { unreachable!("checked by ranking_sums") };
            // below[x]: a bit for each response ranked below x, by a scalar
            // pass from the bottom (one dependent OR per position, and no
            // store-then-vector-load that would stall).
            let mut below = [0u16; MAX_RESPONSES];
            let mut seen = 0u16;
            for &y in r.iter().rev() {
                *below.get_unchecked_mut(y as usize) = seen;
                seen |= 1 << y;
            }
            let w = _mm512_set1_pd(t.weight);
            for x in 0..n {
                low[x] = _mm512_mask_add_pd(low[x], below[x] as u8, low[x], w);
                if n > 8 {
                    high[x] = _mm512_mask_add_pd(high[x], (below[x] >> 8) as u8, high[x], w);
                }
            }
        }
        let lanes = |count: usize| ((1u32 << count) - 1) as u8;
        for x in 0..n {
            let out = p.as_mut_ptr().add(x * n);
            _mm512_mask_storeu_pd(out, lanes(n.min(8)), low[x]);
            if n > 8 {
                _mm512_mask_storeu_pd(out.add(8), lanes(n - 8), high[x]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::generate::{generate_one, GenSpec, Model};

    /// The scalar pass of `Pairwise::of`, kept here as the reference.
    fn scalar(pop: &Population) -> Vec<f64> {
        let n = pop.responses;
        let mut p = vec![0.0; n * n];
        for t in &pop.types {
            let Kind::Ranking(r) = &t.kind else { panic!("rankings only") };
            for (i, &x) in r.iter().enumerate() {
                for &y in &r[i + 1..] {
                    p[x as usize * n + y as usize] += t.weight;
                }
            }
        }
        p
    }

    /// On a CPU with AVX-512 (this project's machines), the register sums
    /// are the scalar ones for every n ≤ 16; elsewhere they are refused.
    #[test]
    fn register_sums_are_the_scalar_sums_bit_for_bit() {
        let cases = [(1, Model::Impartial), (7, Model::Impartial), (33, Model::Impartial), (16, Model::Mallows)];
        for n in 1..=MAX_RESPONSES {
            for (m, model) in cases {
                let spec = GenSpec { model, responses: n, types: Some(m), count: 20, seed: 5, ..GenSpec::default() };
                for i in 0..20 {
                    let pop = generate_one(&spec, i).unwrap();
                    let mut p = vec![0.0; n * n];
                    assert_eq!(ranking_sums(&pop, &mut p), available(n));
                    if available(n) {
                        let want = scalar(&pop);
                        let same = p.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(same, "n {n} m {m}: {p:?} {want:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn other_populations_are_left_to_the_scalar_pass() {
        let spec = GenSpec { model: Model::Pl, responses: 4, types: Some(3), count: 1, seed: 1, ..GenSpec::default() };
        let mut p = vec![0.0; 16];
        assert!(!ranking_sums(&generate_one(&spec, 0).unwrap(), &mut p));
        let spec = GenSpec { responses: 17, types: Some(3), count: 1, seed: 1, ..GenSpec::default() };
        let mut p = vec![0.0; 17 * 17];
        assert!(!ranking_sums(&generate_one(&spec, 0).unwrap(), &mut p));
        assert!(p.iter().all(|&v| v == 0.0));
    }
}
