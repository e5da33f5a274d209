//! Metrics of a k-fold product policy (SPEC §3, §6): robust alignment,
//! exploitability, the sum rule, and robustness against ℓ-response opponents.

use serde::Serialize;

/// Everything `ualign eval` reports about one policy. Field names are the
/// stable JSON names documented in the README.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub k: usize,
    /// `g(π)(y) = P(y ≻ π^{⊗k})` for every response y.
    pub deviation: Vec<f64>,
    /// `W(π, y) = 1 − g(π)(y)`.
    pub win_rate: Vec<f64>,
    /// `R_k(π) = 1 − max_y g(π)(y)`.
    pub robust_alignment: f64,
    /// `E_k(π) = max_y g(π)(y) − 1/(k+1)`.
    pub exploitability: f64,
    /// `Σ_y π(y) g(π)(y) − 1/(k+1)` (zero up to rounding).
    pub sum_residual: f64,
    /// Responses with `π(y) > 1e-9`.
    pub support: usize,
    /// Shannon entropy of π in nats.
    pub entropy: f64,
    /// `ℓ`, when `R_{k,ℓ}` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ell: Option<usize>,
    /// `R_{k,ℓ}(π)`, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robust_alignment_ell: Option<f64>,
}

impl Evaluation {
    /// Builds the evaluation from a deviation vector already computed (by the
    /// CPU or the GPU engine); the metrics are reduced in f64.
    pub fn from_deviation(policy: &[f64], deviation: Vec<f64>, k: usize) -> Self {
        let r = crate::cpu::reduce_metrics(policy, &deviation, k);
        Evaluation {
            k,
            win_rate: deviation.iter().map(|g| 1.0 - g).collect(),
            deviation,
            robust_alignment: r.robust_alignment,
            exploitability: r.exploitability,
            sum_residual: r.sum_residual,
            support: r.support,
            entropy: r.entropy,
            ell: None,
            robust_alignment_ell: None,
        }
    }
}

/// Evaluates an already-validated policy with the exact f64 CPU engine.
pub fn evaluate_exact(pop: &crate::Population, policy: &[f64], k: usize) -> Evaluation {
    Evaluation::from_deviation(policy, crate::cpu::deviation(pop, policy, k), k)
}
