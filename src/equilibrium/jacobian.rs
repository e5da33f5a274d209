//! The Jacobian `J[y][z] = ∂g(π)(y)/∂π(z)` of the deviation vector, taken in
//! the ambient coordinates (π need not sum to 1): Newton's method and the
//! homotopy add the simplex constraint themselves.
//!
//! Rankings use the closed form of docs/theory.md ("How g(π) is computed"). With `S(L, B) = Σ_{i=0..k} L^i B^{k−i}`
//! and `g_t(y) = S(L_y, B_y)/(k+1)`, a response `z` ranked above `y` does not
//! move `g_t(y)`; `z = y` moves only `L`; `z` below `y` moves `L` and `B` alike.
//! So one pass per type costs O(n·k) for the derivatives and O(n²) to spread
//! them: O(m·n²) for the population.
//!
//! Plackett–Luce and weak-order types have no closed form here; their columns are finite
//! differences of the exact f64 kernel (central, or second-order one-sided
//! next to the simplex boundary where the kernel skips responses of mass 0).
//! Their error, about 1e-11 relative, only slows Newton's quadratic rate a
//! little: the residual Newton drives to zero is always the exact `g`.

use super::jacobian_avx512;
use super::jacobian_blocks::{self, power_sum_partials};
use crate::cpu::literal_k::with_literal_k;
use crate::cpu::{deviation_pl, deviation_weak_order, PlScratch, WeakOrderScratch, GRID_F64};
use crate::population::{Kind, Population};

/// Step of the Plackett–Luce finite differences (error `O(h²)` ≈ 1e-12).
const PL_STEP: f64 = 1e-6;

/// Writes the row-major `n × n` Jacobian of `g` at `policy` into `out`.
pub fn jacobian(pop: &Population, policy: &[f64], k: usize, out: &mut Vec<f64>) {
    jacobian_on(pop, policy, k, None, out)
}

/// [`jacobian`] where, when `support` is given, only the entries `J[y][z]`
/// with `support[y]` and `support[z]` are needed: what Newton's method on a
/// support reads. Those are bit for bit the full Jacobian's; rows (ranking
/// types) and columns (Plackett–Luce finite differences) outside the
/// support are skipped and left 0.
pub fn jacobian_on(pop: &Population, policy: &[f64], k: usize, support: Option<&[bool]>, out: &mut Vec<f64>) {
    jacobian_with(pop, policy, k, support, true, out)
}

/// [`jacobian_on`] by the scalar pass alone (the reference the register
/// pass is tested against).
#[doc(hidden)]
pub fn jacobian_portable(pop: &Population, policy: &[f64], k: usize, support: Option<&[bool]>, out: &mut Vec<f64>) {
    jacobian_with(pop, policy, k, support, false, out)
}

fn jacobian_with(
    pop: &Population,
    policy: &[f64],
    k: usize,
    support: Option<&[bool]>,
    registers: bool,
    out: &mut Vec<f64>,
) {
    let n = pop.responses;
    out.clear();
    out.resize(n * n, 0.0);
    // Power tables on the stack for small k, where a literal k unrolls the
    // loops over them and keeps them in registers (the arithmetic is the same).
    const STACK_K: usize = 8;
    let (mut l_small, mut b_small) = ([0.0; STACK_K + 1], [0.0; STACK_K + 1]);
    let (mut l_heap, mut b_heap) = (Vec::new(), Vec::new());
    let (l_pow, b_pow): (&mut [f64], &mut [f64]) = if k <= STACK_K {
        (&mut l_small[..=k], &mut b_small[..=k])
    } else {
        l_heap.resize(k + 1, 0.0);
        b_heap.resize(k + 1, 0.0);
        (&mut l_heap, &mut b_heap)
    };
    let mut has_pl = false;
    // Rankings of up to 16 responses (k ≤ 8) all at once in AVX-512 registers, same bits.
    let registers = registers
        && (jacobian_avx512::ranking_rows(pop, policy, k, support, out) || blocks(pop, policy, k, support, out));
    for t in &pop.types {
        match &t.kind {
            Kind::Ranking(_) if registers => {}
            Kind::Ranking(r) => with_literal_k!(k, [1 2 3 4 5 6 7 8], |k| ranking_jacobian(
                r, t.weight, policy, k, support, l_pow, b_pow, out
            )),
            Kind::Scores(_) | Kind::WeakOrder(_) => has_pl = true,
        }
    }
    if has_pl {
        pl_jacobian(pop, policy, k, support, out);
    }
}

/// Responses from which the ranking rows go by blocks (`jacobian_blocks`):
/// below, the whole matrix stays in cache and the scalar pass is as fast.
const BLOCKS_FROM: usize = 64;

/// The blocked pass, where it applies; false (nothing written) elsewhere.
fn blocks(pop: &Population, policy: &[f64], k: usize, support: Option<&[bool]>, out: &mut [f64]) -> bool {
    let n = pop.responses;
    let permutations = pop.types.iter().all(|t| match &t.kind {
        Kind::Ranking(r) => r.len() == n && r.iter().all(|&y| (y as usize) < n),
        Kind::Scores(_) | Kind::WeakOrder(_) => true,
    });
    if n < BLOCKS_FROM || !permutations || policy.len() < n || support.is_some_and(|s| s.len() < n) {
        return false;
    }
    jacobian_blocks::ranking_rows(pop, policy, k, support, out);
    true
}

#[inline(always)]
fn ranking_jacobian(
    ranking: &[u32],
    weight: f64,
    policy: &[f64],
    k: usize,
    support: Option<&[bool]>,
    l_pow: &mut [f64],
    b_pow: &mut [f64],
    out: &mut [f64],
) {
    let n = ranking.len();
    let scale = weight / (k as f64 + 1.0);
    let mut below = 0.0;
    // Walk from the bottom: positions after `pos` are exactly the responses below.
    for pos in (0..n).rev() {
        let y = ranking[pos] as usize;
        let at_or_below = below + policy[y];
        if support.is_some_and(|s| !s[y]) {
            below = at_or_below;
            continue;
        }
        l_pow[0] = 1.0;
        b_pow[0] = 1.0;
        for i in 1..=k {
            l_pow[i] = l_pow[i - 1] * at_or_below;
            b_pow[i] = b_pow[i - 1] * below;
        }
        let (d_l, d_b) = power_sum_partials(l_pow, b_pow, k);
        let row = &mut out[y * n..(y + 1) * n];
        row[y] += scale * d_l;
        let d_below = scale * (d_l + d_b);
        for &z in &ranking[pos + 1..] {
            row[z as usize] += d_below;
        }
        below = at_or_below;
    }
}

/// Adds the columns of the Plackett–Luce and weak-order types by finite
/// differences of their exact g.
fn pl_jacobian(pop: &Population, policy: &[f64], k: usize, support: Option<&[bool]>, out: &mut [f64]) {
    let n = pop.responses;
    let mut scratch = PlScratch::default();
    let mut weak = WeakOrderScratch::default();
    let mut eval = |p: &[f64]| {
        let mut g = vec![0.0; n];
        for t in &pop.types {
            match &t.kind {
                Kind::Scores(s) => deviation_pl(s, t.weight, p, k, &GRID_F64, &mut g, &mut scratch),
                Kind::WeakOrder(c) => deviation_weak_order(c, t.weight, p, k, &mut g, &mut weak),
                Kind::Ranking(_) => {}
            }
        }
        g
    };
    let mut shifted = policy.to_vec();
    let centre = eval(policy);
    for z in (0..n).filter(|&z| support.is_none_or(|s| s[z])) {
        let h = PL_STEP;
        let column: Vec<f64> = if policy[z] > h {
            shifted[z] = policy[z] + h;
            let up = eval(&shifted);
            shifted[z] = policy[z] - h;
            let down = eval(&shifted);
            up.iter().zip(&down).map(|(u, d)| (u - d) / (2.0 * h)).collect()
        } else {
            // The kernel drops responses of mass ≤ 0: stay on the non-negative side.
            shifted[z] = policy[z] + h;
            let one = eval(&shifted);
            shifted[z] = policy[z] + 2.0 * h;
            let two = eval(&shifted);
            (0..n).map(|y| (-3.0 * centre[y] + 4.0 * one[y] - two[y]) / (2.0 * h)).collect()
        };
        shifted[z] = policy[z];
        for y in 0..n {
            out[y * n + z] += column[y];
        }
    }
}
