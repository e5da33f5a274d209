//! Newton's method on the support, with an active-set step (the finish of
//! every solve and the whole of [`polish`](super::polish)).
//!
//! On a support `S` a symmetric equilibrium solves the square system
//! `g(π)(y) = c` for `y ∈ S`, `Σ_S π = 1` (unknowns `π_S` and `c`; π is 0
//! off `S`), and is one exactly when `π_S ≥ 0` and `g(π)(y) ≤ c` off `S`
//! (then `c = 1/(k+1)` by the sum rule and `E_k = 0`). Newton's method solves
//! the system; the responses whose mass a step takes to 0 or below leave `S`
//! together (dropping them one at a time, by a ratio test, cost 13× more
//! time on large impartial cultures where a QRE start carries many small
//! masses); once the system is solved, the response with the largest
//! `g(y) > c` off `S` joins it. Near an equilibrium with the right support
//! this converges quadratically.

use super::jacobian::jacobian_on;
use crate::cpu::{deviation_into, with_scratch, Scratch};
use crate::linalg::{least_squares_in_place, lu_factor_in_place, lu_solve_in_place};
use crate::population::Population;

/// Mass below which a starting policy's response is taken off the support.
const SUPPORT_THRESHOLD: f64 = 1e-9;
/// Residual (max norm) at which the support system counts as solved.
const SOLVED: f64 = 1e-14;
/// Newton iterations per support before giving up on it.
const MAX_NEWTON: usize = 40;

/// A finished Newton solve: the policy (on the simplex) and the work it took.
#[derive(Clone, Debug)]
pub struct NewtonResult {
    pub policy: Vec<f64>,
    /// `g(policy)`, exactly as the f64 engine computes it (the solve's last
    /// evaluation, so the caller need not repeat it).
    pub deviation: Vec<f64>,
    /// Newton iterations, over all supports tried.
    pub steps: usize,
}

/// Runs the active-set Newton method from `start`, whose `g(start)` the
/// caller may pass (`start_deviation`, as [`deviation_into`] computes it:
/// a dynamics run ends with it) to spare its evaluation. Returns `None`
/// when the support system is singular or stops improving before a policy
/// with `E_k ≤ tol` is reached (the caller then moves on to a better start).
pub fn support_newton(
    pop: &Population,
    k: usize,
    start: &[f64],
    start_deviation: Option<&[f64]>,
    tol: f64,
) -> Option<NewtonResult> {
    with_scratch(|scratch| {
        BUFFERS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => support_newton_with(pop, k, start, start_deviation, tol, scratch, &mut buffers),
            Err(_) => support_newton_with(pop, k, start, start_deviation, tol, scratch, &mut Buffers::default()),
        })
    })
}

/// The working arrays of a Newton solve, kept per thread: a sweep polishes
/// each population in about one Newton step, and allocating them for every
/// solve cost about as much as the step's linear algebra.
#[derive(Default)]
struct Buffers {
    support: Vec<usize>,
    in_support: Vec<bool>,
    jacobian: Vec<f64>,
    /// The support system `a · delta = rhs` (`rhs` then holds `delta`).
    a: Vec<f64>,
    rhs: Vec<f64>,
    pivots: Vec<usize>,
}

thread_local! {
    static BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::default();
}

fn support_newton_with(
    pop: &Population,
    k: usize,
    start: &[f64],
    start_deviation: Option<&[f64]>,
    tol: f64,
    scratch: &mut Scratch,
    buffers: &mut Buffers,
) -> Option<NewtonResult> {
    let n = pop.responses;
    let fair = 1.0 / (k as f64 + 1.0);
    let top = start.iter().cloned().fold(0.0, f64::max);
    let mut policy: Vec<f64> = start.iter().map(|&p| if p > SUPPORT_THRESHOLD * top { p } else { 0.0 }).collect();
    normalise(&mut policy)?;
    buffers.support.clear();
    buffers.support.extend((0..n).filter(|&y| policy[y] > 0.0));
    // g(start) holds for the policy only if cutting small masses and
    // rescaling left it unchanged, bit for bit.
    let mut g = match start_deviation
        .filter(|g| g.len() == n && policy.iter().zip(start).all(|(p, s)| p.to_bits() == s.to_bits()))
    {
        Some(start_g) => start_g.to_vec(),
        None => {
            let mut g = vec![0.0; n];
            deviation_into(pop, &policy, k, &mut g, scratch);
            g
        }
    };
    let mut steps = 0;
    // Every change of support is one round; a correct start needs none.
    // Each round starts from, and leaves, `g = g(policy)`.
    for _round in 0..(2 * n + 8) {
        let c = solve_on_support(pop, k, &mut policy, &mut g, scratch, buffers, &mut steps)?;
        let support = &mut buffers.support;
        let entering = (0..n)
            .filter(|y| !support.contains(y))
            .map(|y| (y, g[y] - c))
            .filter(|&(_, excess)| excess > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match entering {
            Some((y, excess)) if excess > tol.min(1e-12) => {
                support.push(y);
                support.sort_unstable();
            }
            _ => {
                let worst = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                return (worst - fair <= tol).then_some(NewtonResult { policy, deviation: g, steps });
            }
        }
    }
    None
}

/// Newton on the support system from `g = g(policy)`; returns `c`.
/// Responses whose mass would go negative leave `support` (their mass set
/// to 0). Leaves `g = g(policy)`.
fn solve_on_support(
    pop: &Population,
    k: usize,
    policy: &mut [f64],
    g: &mut [f64],
    scratch: &mut Scratch,
    buffers: &mut Buffers,
    steps: &mut usize,
) -> Option<f64> {
    let n = pop.responses;
    let Buffers { support, in_support, jacobian: jac, a, rhs, pivots } = buffers;
    let mut c = support.iter().map(|&y| policy[y] * g[y]).sum::<f64>();
    let mut best = f64::INFINITY;
    let mut stalled = 0;
    for _ in 0..MAX_NEWTON {
        let s = support.len();
        // The residual, negated: the right-hand side of the Newton step.
        rhs.clear();
        rhs.extend(support.iter().map(|&y| g[y] - c));
        rhs.push(support.iter().map(|&y| policy[y]).sum::<f64>() - 1.0);
        let size = rhs.iter().fold(0.0f64, |m, r| m.max(r.abs()));
        if size <= SOLVED {
            return Some(c);
        }
        // Rounding noise: a solved system cannot get any smaller.
        if size >= best * 0.5 {
            stalled += 1;
            if stalled >= 3 {
                return (best <= 1e-12).then_some(c);
            }
        } else {
            stalled = 0;
        }
        best = best.min(size);
        in_support.clear();
        in_support.resize(n, false);
        support.iter().for_each(|&y| in_support[y] = true);
        jacobian_on(pop, policy, k, Some(&in_support), jac);
        // Unknowns (π_S, c): rows g_y − c for y ∈ S, then Σ_S π − 1.
        let dim = s + 1;
        a.clear();
        a.resize(dim * dim, 0.0);
        for (i, &y) in support.iter().enumerate() {
            for (j, &z) in support.iter().enumerate() {
                a[i * dim + j] = jac[y * n + z];
            }
            a[i * dim + s] = -1.0;
            a[s * dim + i] = 1.0;
        }
        rhs.iter_mut().for_each(|r| *r = -*r);
        if !solve_square(a, dim, rhs, pivots) {
            return None;
        }
        let delta = &rhs[..];
        *steps += 1;
        // Full step; every response whose mass would go to 0 or below leaves
        // the support at once (one at a time would cost a Newton step each).
        let mut left = false;
        for (i, &y) in support.iter().enumerate() {
            policy[y] += delta[i];
            if policy[y] <= 0.0 {
                policy[y] = 0.0;
                left = true;
            }
        }
        c += delta[s];
        if left {
            support.retain(|&y| policy[y] > 0.0);
            if support.is_empty() {
                return None;
            }
            best = f64::INFINITY;
        }
        normalise_on(policy, support)?;
        deviation_into(pop, policy, k, g, scratch);
    }
    None
}

/// Systems of more unknowns than this are solved by LU (see [`solve_square`]).
const LU_FROM: usize = 64;

/// Solves the square support system `a · x = rhs` in place (x in `rhs`):
/// Householder QR up to [`LU_FROM`] unknowns, whose rank test the small,
/// sometimes degenerate supports of the stress set are tuned on; blocked
/// LU beyond, half the arithmetic and contiguous in memory (at 1,000
/// unknowns QR takes seconds, LU a fraction of one).
fn solve_square(a: &mut [f64], dim: usize, rhs: &mut [f64], pivots: &mut Vec<usize>) -> bool {
    if dim <= LU_FROM {
        return least_squares_in_place(a, dim, dim, rhs);
    }
    if !lu_factor_in_place(a, dim, pivots) {
        return false;
    }
    lu_solve_in_place(a, dim, pivots, rhs);
    rhs.iter().all(|x| x.is_finite())
}

fn normalise(policy: &mut [f64]) -> Option<()> {
    let total: f64 = policy.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return None;
    }
    policy.iter_mut().for_each(|p| *p /= total);
    Some(())
}

/// Rescales the support's mass to sum to 1 (Newton keeps Σ = 1 only to
/// rounding, and the ratio test can cut a step short).
fn normalise_on(policy: &mut [f64], support: &[usize]) -> Option<()> {
    let total: f64 = support.iter().map(|&y| policy[y]).sum();
    if !(total.is_finite() && total > 0.0) {
        return None;
    }
    support.iter().for_each(|&y| policy[y] /= total);
    Some(())
}
