//! Self-play dynamics (docs/theory.md) on the CPU engine: projected gradient ascent,
//! multiplicative weights, optimistic PGA and extragradient, each tracking the
//! no-regret (time-average) output.
//!
//! These are the dynamics as such, for studying self-play (last-iterate
//! convergence, regret); the equilibrium itself comes from
//! [`equilibrium::solve`](crate::equilibrium::solve), which does not depend
//! on any of them converging.
//!
//! # Defaults (f64 CPU engine, tol = 1e-9)
//! Projected gradient ascent with η = 1 converges last-iterate on most random
//! ranking and Plackett–Luce populations at k ≥ 2, typically in 50–130
//! iterations, but not on all: it settles into a cycle on perturbed Condorcet
//! cycles at small k (e.g. n = 5, weights (0.22, 0.19, 0.20, 0.19, 0.20),
//! k = 2) and on some planted Condorcet winners, and at k = 1 (the NLHF game)
//! it can cycle on any Condorcet cycle. Such a run ends at the cap of 100,000
//! iterations with `converged: false`. Multiplicative weights and η = 0.1
//! converge more often but far more slowly. A step so large that an iterate
//! leaves the simplex in f64 (NaN, inf, or all mass rounded away) is an
//! error naming η, never a result.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cpu::selfplay::{checkpoint_schedule, on_simplex, SelfPlayRun, Update, Workspace};
use crate::cpu::StepRule;
use crate::error::{Error, Result};
use crate::metrics::Evaluation;
use crate::population::Population;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dynamics {
    /// Projected gradient ascent.
    Pga,
    /// Multiplicative weights (Hedge).
    Mwu,
    /// Optimistic projected gradient ascent.
    Optimistic,
    /// Extragradient (half step, re-evaluate, step from π_t).
    Extragradient,
}

impl Dynamics {
    /// Every dynamics, in the order the command line lists them.
    pub const ALL: [Dynamics; 4] = [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient];

    /// The name used on the command line, in configs and in results.
    pub fn name(self) -> &'static str {
        match self {
            Dynamics::Pga => "pga",
            Dynamics::Mwu => "mwu",
            Dynamics::Optimistic => "optimistic",
            Dynamics::Extragradient => "extragradient",
        }
    }

    /// The CPU kernel's update for these dynamics.
    pub fn update(self) -> Update {
        match self {
            Dynamics::Pga => Update::Step(StepRule::Projected),
            Dynamics::Mwu => Update::Step(StepRule::Multiplicative),
            Dynamics::Optimistic => Update::Step(StepRule::OptimisticProjected),
            Dynamics::Extragradient => Update::Extragradient,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolveOptions {
    pub dynamics: Dynamics,
    /// Step size η.
    pub eta: f64,
    /// Iteration cap.
    pub iters: usize,
    /// Stop once `E_k(π_t) ≤ tol` (0: never stop early).
    pub tol: f64,
    /// Number of metric checkpoints to record (log-spaced in the iteration).
    pub checkpoints: usize,
}

impl Default for SolveOptions {
    /// PGA, η = 1, at most 100,000 iterations, tol 1e-9, 16 checkpoints:
    /// chosen by experiment (see the module docs).
    fn default() -> Self {
        SolveOptions { dynamics: Dynamics::Pga, eta: 1.0, iters: 100_000, tol: 1e-9, checkpoints: 16 }
    }
}

/// The metrics at one checkpoint of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub iteration: usize,
    /// `E_k(π_t)` of the last iterate.
    pub exploitability: f64,
    /// `R_k(π_t)` of the last iterate.
    pub robust_alignment: f64,
    /// `R(μ_t)` of the time-average output (mixture of products).
    pub average_robust_alignment: f64,
    /// `Reg_t / t`.
    pub average_regret: f64,
}

/// The outcome of one self-play run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Solution {
    /// The last iterate π_T.
    pub policy: Vec<f64>,
    /// Iterations performed (T).
    pub iterations: usize,
    /// Whether `E_k(π_T) ≤ tol`.
    pub converged: bool,
    /// f64 evaluation of the last iterate.
    pub evaluation: Evaluation,
    /// `R(μ_T)` of the time-average output.
    pub average_robust_alignment: f64,
    /// `Reg_T = max_y Σ_t g_t(y) − Σ_t ⟨π_t, g_t⟩`.
    pub regret: f64,
    /// Metrics at the checkpoints.
    pub history: Vec<Checkpoint>,
}

/// Checks `k` and the options for every engine (see [`crate::limits`]);
/// every problem is one `Error::Input` line.
pub fn check_options(k: usize, opts: &SolveOptions) -> Result<()> {
    crate::limits::check_solve(k, opts.eta, opts.iters, opts.tol)
}

/// Self-play from the uniform policy (docs/theory.md) with the exact f64 CPU engine.
///
/// Iterates are numbered `t = 1..T`, `π_1` uniform. Each iterate is evaluated
/// (`g_t = g(π_t)`), added to the no-regret sums `Σ_t g_t` and `Σ_t ⟨π_t, g_t⟩`,
/// and the run stops at the first `t` with `E_k(π_t) ≤ tol`, or at `t = iters`.
/// `tol = 0` turns early stopping off (an exact equilibrium can round to
/// `E_k ≤ 0`, and benchmarks need a fixed iteration count); `converged` still
/// reports `E_k(π_T) ≤ tol`.
/// For extragradient only the base iterates `π_t` enter the no-regret output
/// (the half-step evaluation is an extra gradient query, not a played policy).
pub fn solve(pop: &Population, k: usize, opts: &SolveOptions) -> Result<Solution> {
    check_options(k, opts)?;
    pop.validate()?;
    run(pop, k, opts, &mut Workspace::default())
}

/// [`solve`] for many populations in parallel on all cores; the results are
/// in input order. Bad options fail every entry with the same error.
pub fn solve_batch(pops: &[Population], k: usize, opts: &SolveOptions) -> Vec<Result<Solution>> {
    // Checking the options per entry costs nothing and gives every entry its own error.
    pops.par_iter()
        .map_init(Workspace::default, |ws, pop| {
            check_options(k, opts)?;
            pop.validate()?;
            run(pop, k, opts, ws)
        })
        .collect()
}

/// The self-play loop on validated inputs: [`cpu::selfplay`](crate::cpu::selfplay)'s loop (the
/// twin of the fused GPU kernel) in `ws`, turned into a [`Solution`] with the
/// payoff `g(π_T)` it already computed. `tol = 0` turns early stopping off.
/// An iterate that leaves the simplex is an error ([`diverged`]).
pub fn run(pop: &Population, k: usize, opts: &SolveOptions, ws: &mut Workspace) -> Result<Solution> {
    let schedule = checkpoint_schedule(opts.iters, opts.checkpoints);
    let stop_tol = if opts.tol > 0.0 { opts.tol } else { f64::NEG_INFINITY };
    let run = ws.selfplay(pop, k, opts.dynamics.update(), opts.eta, opts.iters, stop_tol, &schedule);
    if !on_simplex(&run.policy) {
        return Err(diverged(opts, run.iterations));
    }
    let evaluation = Evaluation::from_deviation(&run.policy, ws.deviation().to_vec(), k);
    Ok(Solution::from_evaluated_run(run, evaluation, k, opts.tol))
}

/// The error for a run whose step at iteration `t` left the simplex
/// (non-finite numbers, or every mass rounded to 0): the step size is too
/// large for the arithmetic, whatever the engine.
pub fn diverged(opts: &SolveOptions, t: usize) -> Error {
    let name = opts.dynamics.name();
    Error::input(
        "eta",
        format!(
            "is {:?}: the {name} step after iteration {t} left the probability simplex (NaN, inf or no mass left)",
            opts.eta
        ),
        "use a smaller step size (the dynamics default to 1)",
    )
}

impl Solution {
    /// The solution of a raw self-play run (either engine's): the final policy re-evaluated exactly in
    /// f64, the time-average output and the checkpoint history (the final
    /// iteration appended when it was not scheduled). `converged` is a finite
    /// policy on the simplex with `E_k ≤ converged_tol` in that exact evaluation.
    pub fn from_run(run: SelfPlayRun, pop: &Population, k: usize, converged_tol: f64) -> Solution {
        let evaluation = crate::metrics::evaluate_exact(pop, &run.policy, k);
        Solution::from_evaluated_run(run, evaluation, k, converged_tol)
    }

    /// [`from_run`](Self::from_run) with the exact evaluation of
    /// the final policy already at hand (the CPU loop has `g(π_T)`).
    pub fn from_evaluated_run(run: SelfPlayRun, evaluation: Evaluation, k: usize, converged_tol: f64) -> Solution {
        let fair = 1.0 / (k as f64 + 1.0);
        let t = run.iterations.max(1) as f64;
        let max_sum = run.sum_g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        // Room for the final checkpoint too: a sweep keeps every population's history.
        let mut history: Vec<Checkpoint> = Vec::with_capacity(run.checkpoints.len() + 1);
        history.extend(
            run.checkpoints.iter().map(|&(it, max_g, max_sum, inner)| checkpoint(it, max_g, max_sum, inner, fair)),
        );
        if history.last().map(|c| c.iteration) != Some(run.iterations) {
            history.push(checkpoint(run.iterations, run.max_g, max_sum, run.inner, fair));
        }
        Solution {
            converged: on_simplex(&run.policy) && evaluation.exploitability <= converged_tol,
            evaluation,
            policy: run.policy,
            iterations: run.iterations,
            average_robust_alignment: 1.0 - max_sum / t,
            regret: max_sum - run.inner,
            history,
        }
    }
}

fn checkpoint(iteration: usize, max_g: f64, max_sum: f64, inner: f64, fair: f64) -> Checkpoint {
    let t = iteration as f64;
    Checkpoint {
        iteration,
        exploitability: max_g - fair,
        robust_alignment: 1.0 - max_g,
        average_robust_alignment: 1.0 - max_sum / t,
        average_regret: (max_sum - inner) / t,
    }
}
