//! Symmetric Nash equilibria of the (k+1)-player alignment game (docs/theory.md),
//! found by a method that does not depend on the dynamics converging.
//!
//! [`solve`] first tries a fast path (500 steps of projected gradient
//! ascent, then Newton on the support), kept only when the f64
//! re-evaluation confirms `E_k ≤ tol`; otherwise it follows the branch of
//! symmetric logit quantal-response equilibria from the uniform policy
//! (λ = 0) towards λ → ∞
//! ([`homotopy`]), and finishes with Newton's method on the support
//! ([`newton`]): `E_k` ends at rounding level (about 1e-16). Every result is
//! re-evaluated in f64 and called `converged` only when the policy is finite,
//! on the simplex and has `E_k ≤ tol`. Should the path be lost (a singular
//! point it cannot step over), a chain of fallbacks follows: small-step
//! multiplicative weights and projected gradient ascent, each finished by the
//! same Newton method. `docs/equilibrium.md` gives the argument and the
//! measurements.
//!
//! [`polish`] turns any near-equilibrium (the last iterate of the dynamics,
//! an f32 policy from the GPU) into an exact one with the Newton finish
//! alone, and falls back to [`solve`] when that does not reach `tol`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dynamics::{self, Dynamics, SolveOptions};
use crate::error::Result;
use crate::metrics::{evaluate_exact, Evaluation};
use crate::population::{check_policy, Population};

pub mod homotopy;
pub mod interior;
pub mod jacobian;
#[doc(hidden)]
pub mod jacobian_avx512;
mod jacobian_blocks;
pub mod newton;
pub mod stress;

/// How an equilibrium was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// k = 1: the canonical maximal lottery of the pairwise margins, by
    /// linear programming (the k = 1 game is the NLHF game).
    MaximalLottery,
    /// Fast path: a short projected-gradient run, then Newton on the support.
    PgaPolish,
    /// The logit-QRE path, then Newton on the support.
    QreHomotopy,
    /// Large supports: a primal–dual interior-point method, then Newton on
    /// the support it reads off.
    InteriorPoint,
    /// Newton on the support from a given near-equilibrium ([`polish`]).
    Polish,
    /// Fallback: multiplicative weights with a small step, then Newton.
    MwuFallback,
    /// Fallback: projected gradient ascent with a small step, then Newton.
    PgaFallback,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquilibriumOptions {
    /// `converged` means `E_k ≤ tol` in the f64 re-evaluation.
    pub tol: f64,
    /// Predictor–corrector steps allowed on the QRE path.
    pub max_path_steps: usize,
    /// Try the verified PGA + Newton fast path before the homotopy.
    pub fast_path: bool,
}

impl Default for EquilibriumOptions {
    /// tol 1e-9 (the Newton finish usually lands near 1e-16), 20,000 path
    /// steps, fast path on.
    fn default() -> Self {
        EquilibriumOptions { tol: 1e-9, max_path_steps: 20_000, fast_path: true }
    }
}

/// A symmetric equilibrium (or, with `converged: false`, the best policy
/// every method together reached).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Equilibrium {
    pub policy: Vec<f64>,
    /// Exact f64 evaluation of `policy`.
    pub evaluation: Evaluation,
    /// Finite policy on the simplex with `E_k ≤ tol`.
    pub converged: bool,
    pub method: Method,
    /// Predictor–corrector steps of the QRE path or the interior-point method
    /// (0 for a pure polish).
    pub path_steps: usize,
    /// Newton iterations of the finish.
    pub newton_steps: usize,
    /// λ where the path handed over to Newton (0 for a pure polish).
    pub lambda: f64,
}

/// Checks `k` and the options (see [`crate::limits`]).
pub fn check_options(k: usize, opts: &EquilibriumOptions) -> Result<()> {
    crate::limits::check_equilibrium(k, opts.tol, opts.max_path_steps)
}

/// The symmetric equilibrium of `pop` at `k`: QRE homotopy, Newton finish,
/// fallbacks; see the module docs. `converged: false` only if every method
/// failed (the result is then the policy with the smallest `E_k` found).
pub fn solve(pop: &Population, k: usize, opts: &EquilibriumOptions) -> Result<Equilibrium> {
    check_options(k, opts)?;
    crate::limits::check_dense_responses(pop.responses, "the equilibrium solver")?;
    pop.validate()?;
    Ok(solve_valid(pop, k, opts))
}

/// [`solve`] for many populations in parallel; results in input order.
pub fn solve_batch(pops: &[Population], k: usize, opts: &EquilibriumOptions) -> Vec<Result<Equilibrium>> {
    pops.par_iter().map(|pop| solve(pop, k, opts)).collect()
}

/// Newton on the support from `start` (any policy near an equilibrium); if
/// that does not reach `E_k ≤ tol`, the result of [`solve`].
pub fn polish(pop: &Population, k: usize, start: &[f64], opts: &EquilibriumOptions) -> Result<Equilibrium> {
    pop.validate()?;
    polish_on_valid(pop, k, start, None, opts)
}

/// [`polish`] for a population known to be valid (the other inputs are
/// still checked), from a start whose `g(start)` the caller may already
/// have (`start_deviation`, e.g. [`Solution`](crate::dynamics::Solution)'s
/// evaluation): the sweep polishes the last iterates of its self-play.
pub fn polish_on_valid(
    pop: &Population,
    k: usize,
    start: &[f64],
    start_deviation: Option<&[f64]>,
    opts: &EquilibriumOptions,
) -> Result<Equilibrium> {
    check_options(k, opts)?;
    crate::limits::check_dense_responses(pop.responses, "the equilibrium solver")?;
    if start.len() != pop.responses || start.iter().any(|p| !p.is_finite()) {
        check_policy(start, pop.responses)?;
    }
    // At k = 1 the start is ignored: the exact maximal lottery, so a face of
    // tied equilibria gives the NLHF policy wherever Newton would land.
    if k > 1 {
        if let Some(done) = newton::support_newton(pop, k, start, start_deviation, opts.tol) {
            let found = finish_newton(k, opts, done, Method::Polish, 0, 0.0);
            if found.converged {
                return Ok(found);
            }
        }
    }
    Ok(solve_valid(pop, k, opts))
}

/// [`polish`] for many populations and their starting policies, in parallel.
pub fn polish_batch(
    pops: &[Population],
    k: usize,
    starts: &[Vec<f64>],
    opts: &EquilibriumOptions,
) -> Vec<Result<Equilibrium>> {
    pops.par_iter().zip(starts).map(|(pop, start)| polish(pop, k, start, opts)).collect()
}

/// The fast path's dynamics: PGA, η = 1, at most 500 iterations.
const FAST_PATH: SolveOptions =
    SolveOptions { dynamics: Dynamics::Pga, eta: 1.0, iters: 500, tol: 1e-8, checkpoints: 0 };
/// Responses from which the interior-point method runs before the homotopy
/// (below, the homotopy is fast and its stress set is the tested one).
const INTERIOR_FROM: usize = 64;

/// E_k below which the fast path's last iterate is handed to Newton.
const FAST_PATH_HANDOVER: f64 = 1e-3;

fn solve_valid(pop: &Population, k: usize, opts: &EquilibriumOptions) -> Equilibrium {
    if pop.responses == 1 {
        return finish(pop, k, opts, vec![1.0], Method::QreHomotopy, 0, 0, 0.0);
    }
    // k = 1 is the two-player NLHF game: its symmetric equilibria are the
    // maximal lotteries, found exactly by a linear program even where tied
    // margins (clones) leave a whole face of them, which slows Newton and the
    // homotopy to a crawl. The NLHF policy (the canonical maximum-entropy one,
    // or a polished vertex where that breaks down), re-evaluated.
    if k == 1 {
        let margins = crate::population::pairwise::Pairwise::of(pop).margins();
        let lottery = crate::maximal_lottery::canonical_or_vertex(&margins);
        let found = finish(pop, k, opts, lottery.policy, Method::MaximalLottery, 0, 0, 0.0);
        if found.converged {
            return found;
        }
    }
    // Fast path: a short PGA run usually lands next to an equilibrium with
    // its support exactly found; it counts only once Newton has made it
    // exact and the f64 re-evaluation confirms it. Otherwise the homotopy.
    if let Some(run) = opts.fast_path.then(|| dynamics::solve(pop, k, &FAST_PATH).ok()).flatten() {
        if run.evaluation.exploitability <= FAST_PATH_HANDOVER {
            if let Some(done) = newton::support_newton(pop, k, &run.policy, Some(&run.evaluation.deviation), opts.tol) {
                let found = finish_newton(k, opts, done, Method::PgaPolish, 0, 0.0);
                if found.converged {
                    return found;
                }
            }
        }
    }
    // Many responses: the interior-point method needs a few dozen dense
    // steps whatever the support, where the homotopy's path grows with n
    // (a perturbed cycle of 1,024 responses took it over 30 minutes).
    if pop.responses >= INTERIOR_FROM {
        let interior = interior::solve(pop, k, opts.tol);
        if let Some(done) = interior.finish {
            let found = finish_newton(k, opts, done, Method::InteriorPoint, interior.iterations, 0.0);
            if found.converged {
                return found;
            }
        }
    }
    let path = homotopy::follow(pop, k, opts.tol, opts.max_path_steps);
    let mut best = match path.finish {
        Some(done) => finish_newton(k, opts, done, Method::QreHomotopy, path.steps, path.lambda),
        None => finish(pop, k, opts, path.policy, Method::QreHomotopy, path.steps, 0, path.lambda),
    };
    // Fallbacks: convergent-in-practice small steps, each finished by Newton.
    for (dynamics, eta, method) in
        [(Dynamics::Mwu, 0.5, Method::MwuFallback), (Dynamics::Pga, 0.05, Method::PgaFallback)]
    {
        if best.converged {
            break;
        }
        let warm = SolveOptions { dynamics, eta, iters: 200_000, tol: 1e-6, checkpoints: 0 };
        let Ok(run) = dynamics::solve(pop, k, &warm) else { continue };
        let candidate = match newton::support_newton(pop, k, &run.policy, Some(&run.evaluation.deviation), opts.tol) {
            Some(done) => finish_newton(k, opts, done, method, 0, 0.0),
            None => finish(pop, k, opts, run.policy, method, 0, 0, 0.0),
        };
        if candidate.converged || candidate.evaluation.exploitability < best.evaluation.exploitability {
            best = candidate;
        }
    }
    best
}

/// Re-evaluates `policy` in f64 and decides `converged`.
#[allow(clippy::too_many_arguments)]
fn finish(
    pop: &Population,
    k: usize,
    opts: &EquilibriumOptions,
    policy: Vec<f64>,
    method: Method,
    path_steps: usize,
    newton_steps: usize,
    lambda: f64,
) -> Equilibrium {
    let evaluation = evaluate_exact(pop, &policy, k);
    let converged = is_equilibrium(&policy, &evaluation, opts.tol);
    Equilibrium { policy, evaluation, converged, method, path_steps, newton_steps, lambda }
}

/// [`finish`] for a Newton result, from the exact `g` Newton computed last
/// at its policy (the same numbers a re-evaluation would give).
fn finish_newton(
    k: usize,
    opts: &EquilibriumOptions,
    done: newton::NewtonResult,
    method: Method,
    path_steps: usize,
    lambda: f64,
) -> Equilibrium {
    let evaluation = Evaluation::from_deviation(&done.policy, done.deviation, k);
    let converged = is_equilibrium(&done.policy, &evaluation, opts.tol);
    Equilibrium { policy: done.policy, evaluation, converged, method, path_steps, newton_steps: done.steps, lambda }
}

/// A finite policy on the simplex whose exact `E_k` is within `tol`.
pub fn is_equilibrium(policy: &[f64], evaluation: &Evaluation, tol: f64) -> bool {
    let total: f64 = policy.iter().sum();
    policy.iter().all(|p| p.is_finite() && *p >= 0.0)
        && (total - 1.0).abs() <= 1e-9
        && evaluation.exploitability.is_finite()
        && evaluation.exploitability <= tol
}
