//! CPU twin of `shaders/dynamics_step.wgsl`: one self-play update of the
//! policy from the payoff vector `g = g(π)` (docs/theory.md).

use super::project_simplex::project_simplex;

/// The update rules a single step can apply. Extragradient is two of these
/// steps (a half step from `π_t`, then a full step from `π_t` with the
/// re-evaluated payoff), composed by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepRule {
    /// `π ← Proj_Δ(π + η g)`.
    Projected,
    /// `π ← π · exp(η g) / Z` (Hedge).
    Multiplicative,
    /// `π ← Proj_Δ(π + η (2 g − g_prev))`.
    OptimisticProjected,
}

/// Applies one update in place. `g_prev` is only read by the optimistic rule.
pub fn dynamics_step(rule: StepRule, policy: &mut [f64], g: &[f64], g_prev: &[f64], eta: f64, scratch: &mut Vec<f64>) {
    match rule {
        StepRule::Projected => {
            for (p, d) in policy.iter_mut().zip(g) {
                *p += eta * d;
            }
            project_simplex(policy, scratch);
        }
        StepRule::OptimisticProjected => {
            for ((p, d), d_prev) in policy.iter_mut().zip(g).zip(g_prev) {
                *p += eta * (2.0 * d - d_prev);
            }
            project_simplex(policy, scratch);
        }
        StepRule::Multiplicative => {
            // Shift by max g so exp never overflows; the shift cancels in Z.
            let top = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let mut total = 0.0;
            for (p, d) in policy.iter_mut().zip(g) {
                *p *= (eta * (d - top)).exp();
                total += *p;
            }
            for p in policy.iter_mut() {
                *p /= total;
            }
        }
    }
}
