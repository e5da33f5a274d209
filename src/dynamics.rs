//! Self-play dynamics (SPEC §4) on the CPU engine: projected gradient ascent,
//! multiplicative weights, optimistic PGA and extragradient, each tracking the
//! no-regret (time-average) output.

use serde::{Deserialize, Serialize};

use crate::metrics::Evaluation;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolveOptions {
    pub dynamics: Dynamics,
    /// Step size η.
    pub eta: f64,
    /// Iteration cap.
    pub iters: usize,
    /// Stop once `E_k(π_t) ≤ tol`.
    pub tol: f64,
    /// Number of metric checkpoints to record (log-spaced in the iteration).
    pub checkpoints: usize,
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
