//! CPU twin of `shaders/reduce_metrics.wgsl`: the metrics of docs/theory.md from a
//! policy and its deviation vector.

/// Probabilities at or below this count as outside the support (multiplicative
/// weights never reach an exact zero).
pub const SUPPORT_EPS: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reduced {
    /// `max_y g(π)(y)`: the best single-response deviation's win probability.
    pub max_deviation: f64,
    /// `E_k(π) = max_y g(π)(y) − 1/(k+1)`.
    pub exploitability: f64,
    /// `R_k(π) = 1 − max_y g(π)(y)`.
    pub robust_alignment: f64,
    /// `Σ_y π(y) g(π)(y) − 1/(k+1)`: zero up to rounding (the sum rule).
    pub sum_residual: f64,
    /// Number of responses with `π(y) > SUPPORT_EPS`.
    pub support: usize,
    /// Shannon entropy of π in nats.
    pub entropy: f64,
}

pub fn reduce_metrics(policy: &[f64], g: &[f64], k: usize) -> Reduced {
    let fair = 1.0 / (k as f64 + 1.0);
    let max_deviation = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let inner: f64 = policy.iter().zip(g).map(|(p, d)| p * d).sum();
    let entropy = -policy.iter().filter(|&&p| p > 0.0).map(|&p| p * p.ln()).sum::<f64>();
    Reduced {
        max_deviation,
        exploitability: max_deviation - fair,
        robust_alignment: 1.0 - max_deviation,
        sum_residual: inner - fair,
        support: policy.iter().filter(|&&p| p > SUPPORT_EPS).count(),
        entropy,
    }
}
