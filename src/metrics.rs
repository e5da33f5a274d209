//! Metrics of a k-fold product policy (docs/theory.md): robust alignment,
//! exploitability, the sum rule, and robustness against ℓ-response opponents.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::population::{check_k, normalised_policy, Population};

mod ell;
pub use ell::{robust_alignment_ell, ELL_WORK_LIMIT};

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

/// Validates the inputs and evaluates `policy` with the exact f64 CPU engine;
/// with `ell = Some(ℓ)` also computes `R_{k,ℓ}` (see [`robust_alignment_ell`]).
///
/// Errors (`Error::Input`): `k = 0`, a policy of the wrong length, off the
/// simplex or with NaN/inf entries, `ℓ = 0` or `ℓ > k + 1`.
pub fn evaluate(pop: &Population, policy: &[f64], k: usize, ell: Option<usize>) -> Result<Evaluation> {
    check_k(k)?;
    pop.validate()?;
    evaluate_on_valid(pop, policy, k, ell)
}

/// [`evaluate`] for a population already validated (the other inputs are
/// still checked): callers that score several policies of one population
/// validate it once.
pub fn evaluate_on_valid(pop: &Population, policy: &[f64], k: usize, ell: Option<usize>) -> Result<Evaluation> {
    check_k(k)?;
    let policy = &normalised_policy(policy, pop.responses)?;
    if let Some(ell) = ell {
        check_ell(ell, k)?;
    }
    let mut evaluation = evaluate_exact(pop, policy, k);
    if let Some(ell) = ell {
        evaluation.ell = Some(ell);
        evaluation.robust_alignment_ell = Some(robust_alignment_ell(pop, policy, k, ell)?);
    }
    Ok(evaluation)
}

/// Checks the opponent's number of responses: `1 ≤ ℓ ≤ k + 1` (beyond k + 1
/// the opponent simply out-samples us and docs/theory.md says nothing about it).
pub fn check_ell(ell: usize, k: usize) -> Result<()> {
    if ell == 0 || ell > k + 1 {
        return Err(Error::input(
            "ell",
            format!("is {ell}, outside 1..={} for k = {k}", k + 1),
            "the opponent's number of responses must satisfy 1 <= ell <= k + 1",
        ));
    }
    Ok(())
}
