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
