//! CPU twin of `shaders/selfplay.wgsl`: the self-play loop exactly as the
//! fused GPU kernel runs it, in f64. It is also the CPU engine's loop
//! (`dynamics::solve` drives it through a reusable [`Workspace`]); the GPU
//! tests hold it against the kernel. Both return a raw [`SelfPlayRun`],
//! which the driver (`dynamics`) turns into a `Solution`.
//!
//! Iteration t = 1, 2, …: evaluate `g_t = g(π_t)`, add it to the time
//! average (Σ_t g_t and Σ_t ⟨π_t, g_t⟩), record a checkpoint when t is
//! scheduled, stop when `E_k(π_t) ≤ tol` or `t = T`, else update
//! `π_t → π_{t+1}`; an update that leaves the simplex (NaN, inf, no mass)
//! ends the run with that policy, which the callers turn into an error. The returned policy is the last evaluated iterate, so the
//! reported metrics are those of the policy returned. Extragradient counts
//! the base iterates π_t (its extrapolated points are not played).

use super::{deviation_into, dynamics_step, project_simplex, Scratch, StepRule};
use crate::population::Population;

/// How one self-play iteration updates the policy: a single [`StepRule`]
/// from `g(π_t)`, or extragradient (a projected half step, `g` re-evaluated
/// there, then a projected step from `π_t` with that payoff).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    Step(StepRule),
    Extragradient,
}

/// What a self-play run leaves behind (the GPU engine reads the same
/// quantities back from its state buffer).
#[derive(Clone, Debug, PartialEq)]
pub struct SelfPlayRun {
    /// π_T, the last evaluated iterate.
    pub policy: Vec<f64>,
    /// T, the number of evaluated iterates.
    pub iterations: usize,
    /// Whether the run stopped on `E_k(π_T) ≤ tol`.
    pub stopped_on_tol: bool,
    /// `max_y g_T(y)`.
    pub max_g: f64,
    /// `Σ_t g_t(y)` for every y.
    pub sum_g: Vec<f64>,
    /// `Σ_t ⟨π_t, g_t⟩`.
    pub inner: f64,
    /// (t, max_y g_t, max_y Σ_{s≤t} g_s, Σ_{s≤t} ⟨π_s, g_s⟩) at scheduled t.
    pub checkpoints: Vec<(usize, f64, f64, f64)>,
}

/// Per-run buffers, reused across the runs of one thread so the iteration
/// loop never allocates.
#[derive(Default, Clone, Debug)]
pub struct Workspace {
    g: Vec<f64>,
    g_prev: Vec<f64>,
    g_half: Vec<f64>,
    base: Vec<f64>,
    sort: Vec<f64>,
    scratch: Scratch,
}

impl Workspace {
    /// `g(π_T)` of the last run's returned policy (empty before any run).
    pub fn deviation(&self) -> &[f64] {
        &self.g
    }

    /// [`selfplay`] with this workspace's buffers.
    #[allow(clippy::too_many_arguments)]
    pub fn selfplay(
        &mut self,
        pop: &Population,
        k: usize,
        update: Update,
        eta: f64,
        iters: usize,
        tol: f64,
        schedule: &[usize],
    ) -> SelfPlayRun {
        let n = pop.responses;
        for v in [&mut self.g, &mut self.g_prev, &mut self.g_half, &mut self.base] {
            v.clear();
            v.resize(n, 0.0);
        }
        let Workspace { g, g_prev, g_half, base, sort, scratch } = self;
        let fair = 1.0 / (k as f64 + 1.0);
        let mut policy = vec![1.0 / n as f64; n];
        let mut sum_g = vec![0.0; n];
        let mut inner = 0.0;
        let mut checkpoints = Vec::with_capacity(schedule.len());
        let mut next = 0;
        let mut t = 0;
        loop {
            deviation_into(pop, &policy, k, g, scratch);
            t += 1;
            // One pass: Σ_t g_t, ⟨π_t, g_t⟩ (summed on its own, then added, as
            // the kernel's reduction does) and max_y g_t.
            let mut max_g = f64::NEG_INFINITY;
            let mut played = 0.0;
            for ((s, &d), &p) in sum_g.iter_mut().zip(g.iter()).zip(&policy) {
                *s += d;
                played += p * d;
                max_g = max_g.max(d);
            }
            inner += played;
            if next < schedule.len() && schedule[next] == t {
                checkpoints.push((t, max_g, sum_g.iter().cloned().fold(f64::NEG_INFINITY, f64::max), inner));
                next += 1;
            }
            let stopped_on_tol = max_g - fair <= tol;
            if stopped_on_tol || t >= iters {
                return SelfPlayRun { policy, iterations: t, stopped_on_tol, max_g, sum_g, inner, checkpoints };
            }
            match update {
                // Only the optimistic rule reads the previous payoff (g_1 at t = 1).
                Update::Step(rule) => {
                    let previous = if t == 1 { &*g } else { &*g_prev };
                    dynamics_step(rule, &mut policy, g, previous, eta, sort);
                }
                Update::Extragradient => {
                    base.copy_from_slice(&policy);
                    dynamics_step(StepRule::Projected, &mut policy, g, g, eta, sort);
                    deviation_into(pop, &policy, k, g_half, scratch);
                    policy.iter_mut().zip(base.iter()).zip(g_half.iter()).for_each(|((p, b), d)| *p = b + eta * d);
                    project_simplex(&mut policy, sort);
                }
            }
            // A step too large for f64 (NaN, inf, or all mass rounded away)
            // ends the run here; the caller reports it as an error.
            if !on_simplex(&policy) {
                return SelfPlayRun { policy, iterations: t, stopped_on_tol: false, max_g, sum_g, inner, checkpoints };
            }
            g_prev.copy_from_slice(g);
        }
    }
}

/// Whether `policy` is a finite point of the simplex (to rounding): what
/// every iterate of the dynamics must be.
pub fn on_simplex(policy: &[f64]) -> bool {
    let total: f64 = policy.iter().sum();
    policy.iter().all(|p| p.is_finite() && *p >= 0.0) && (total - 1.0).abs() <= 1e-6
}

/// `count` log-spaced checkpoint iterations in `1..=iters`, first and last
/// included, ascending and distinct. The final iteration of a run is
/// recorded as well, wherever it stops (see `dynamics`, which builds the history).
pub fn checkpoint_schedule(iters: usize, count: usize) -> Vec<usize> {
    if count == 0 || iters == 0 {
        return Vec::new();
    }
    if count == 1 {
        return vec![iters];
    }
    let top = (iters as f64).ln();
    let mut out: Vec<usize> =
        (0..count).map(|i| ((top * i as f64 / (count - 1) as f64).exp().round() as usize).clamp(1, iters)).collect();
    out.dedup();
    *out.last_mut().unwrap() = iters;
    out
}

/// Self-play from the uniform policy: stops at the first t with
/// `E_k(π_t) ≤ tol` (so `tol = -∞` never stops early) or at `t = iters`,
/// recording checkpoints at the `schedule`d iterations.
pub fn selfplay(
    pop: &Population,
    k: usize,
    update: Update,
    eta: f64,
    iters: usize,
    tol: f64,
    schedule: &[usize],
) -> SelfPlayRun {
    Workspace::default().selfplay(pop, k, update, eta, iters, tol, schedule)
}
