//! The policies ualign compares the (k+1)-player equilibrium against (docs/theory.md):
//! NLHF (the k = 1 equilibrium, the maximal lottery), RLHF (a Bradley–Terry
//! reward fitted by maximum likelihood, then argmax or softmax) and uniform.

use rayon::prelude::*;
use serde::Serialize;

use crate::dynamics::Solution;
use crate::equilibrium::{self, Equilibrium, EquilibriumOptions};
use crate::error::{Error, Result};
use crate::maximal_lottery::{self, MaximalLottery};
use crate::metrics::evaluate_exact;
use crate::population::{check_k, Population};

mod bradley_terry;

pub use crate::population::pairwise::{pairwise, Pairwise};

/// The NLHF policy: the symmetric equilibrium of the two-player game with
/// payoff `M(x,y) = P(x≻y) − P(y≻x)`, i.e. a maximal lottery: `p ∈ Δ` with
/// `Σ_x p_x M(x,y) ≥ 0` for every `y`. When tied margins leave several, the
/// maximum-entropy one (see [`nlhf_lottery`]).
pub fn nlhf(pop: &Population) -> Vec<f64> {
    nlhf_lottery(pop).policy
}

/// The canonical maximal lottery with its uniqueness: the maximum-entropy
/// point of the set of maximal lotteries ([`crate::maximal_lottery`]), so the
/// NLHF policy never depends on the LP solver's path.
///
/// If that computation breaks down numerically, the simplex method's vertex
/// is used instead, polished: on the support `S` found by the LP, the
/// equilibrium solves `Σ_{x∈S} p_x M(x,y) = 0` (y ∈ S), `Σ p = 1` exactly,
/// which we solve by least squares in f64; the polished point is kept only if
/// it is still a maximal lottery (to 1e-12). Such a result has
/// `unique: false` (not certified).
pub fn nlhf_lottery(pop: &Population) -> MaximalLottery {
    nlhf_lottery_of(&Pairwise::of(pop))
}

/// [`nlhf_lottery`] from the population's pairwise preferences.
pub fn nlhf_lottery_of(pairwise: &Pairwise) -> MaximalLottery {
    maximal_lottery::canonical_or_vertex(&pairwise.margins())
}

/// Ridge strength of the Bradley–Terry fit. With a unanimous pair the MLE is
/// at infinity; the penalty `λ/2 ‖r‖²` keeps it finite (reward gaps of about
/// `ln(1/λ) ≈ 14` for unanimous pairs) and moves finite MLEs by `O(λ)`.
pub const BT_RIDGE: f64 = 1e-6;

/// Bradley–Terry rewards fitted to the population's pairwise preferences:
/// maximises `Σ_{x≠y} P(x≻y) log σ(r_x − r_y) − (λ/2)‖r‖²` ([`BT_RIDGE`]) by
/// damped Newton steps (the objective is strictly concave); mean zero.
///
/// Stopping is on the problem's own scale: once the Newton decrement
/// `gradᵀ H⁻¹ grad` (twice the predicted gain) is at the objective's rounding
/// level, the last full Newton step is taken without a line search. The line
/// search accepts a step within rounding noise of the Armijo bound, so it never
/// backtracks on noise. `P(y≻x)` is taken as `W − P(x≻y)` (`W` the total
/// weight, [`Pairwise::weight`]), which it is up to rounding for complete
/// rankings and Plackett–Luce types, and exactly for unanimous pairs.
pub fn rlhf_rewards(pop: &Population) -> Vec<f64> {
    bradley_terry::fit(&Pairwise::of(pop))
}

/// Rewards within this distance of the maximum count as tied for the argmax.
pub const ARGMAX_TIE: f64 = 1e-9;

/// The RLHF policy: with `beta = None` the argmax of [`rlhf_rewards`] (ties,
/// within [`ARGMAX_TIE`], share the mass uniformly); with `Some(β)` the
/// softmax `∝ exp(r/β)`. `β` must be finite and > 0.
pub fn rlhf_policy(pop: &Population, beta: Option<f64>) -> Result<Vec<f64>> {
    rlhf_policy_of(&Pairwise::of(pop), beta)
}

/// [`rlhf_policy`] from the population's pairwise preferences.
pub fn rlhf_policy_of(pairwise: &Pairwise, beta: Option<f64>) -> Result<Vec<f64>> {
    if let (None, Some(winner)) = (beta, clear_reward_leader(pairwise)) {
        return Ok((0..pairwise.n).map(|x| if x == winner { 1.0 } else { 0.0 }).collect());
    }
    let r = bradley_terry::fit(pairwise);
    let top = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    match beta {
        None => {
            let winners = r.iter().filter(|&&v| v >= top - ARGMAX_TIE).count() as f64;
            Ok(r.iter().map(|&v| if v >= top - ARGMAX_TIE { 1.0 / winners } else { 0.0 }).collect())
        }
        Some(beta) if beta.is_finite() && beta > 0.0 => {
            let e: Vec<f64> = r.iter().map(|v| ((v - top) / beta).exp()).collect();
            let total: f64 = e.iter().sum();
            Ok(e.iter().map(|v| v / total).collect())
        }
        Some(beta) => Err(Error::input("beta", format!("is {beta}"), "the softmax temperature must be finite and > 0")),
    }
}

/// Lead in fitted reward, far above [`ARGMAX_TIE`] and the fit's error,
/// that [`clear_reward_leader`] certifies.
const CLEAR_LEAD: f64 = 1e-6;

/// The response whose fitted Bradley–Terry reward exceeds every other's by
/// more than [`CLEAR_LEAD`], read from the win totals without the fit; `None`
/// when the totals are too close to tell (the fit then decides).
///
/// The fit compares every pair with the same total weight `W`, taking
/// `W − P(x≻y)` for `P(y≻x)` (see [`rlhf_rewards`]), so its optimum solves
/// `w_x = W Σ_{y≠x} σ(r_x − r_y) + λ r_x` for every x, where `w_x` is x's
/// total win probability as the fit reads it: `P(x≻y)` for `y > x`,
/// `W − P(y≻x)` for `y < x`. For two responses x and z, each term of
/// `w_x − w_z` has the sign of `r_x − r_z`: the rewards are ordered exactly
/// as the totals are (Zermelo's result for complete paired comparisons, kept
/// by the ridge). And since `σ' ≤ 1/4`, `w_x − w_z ≤ (nW/4 + λ)(r_x − r_z)`:
/// a lead of the totals by more than `(nW/4 + λ)·CLEAR_LEAD` is a lead of the
/// rewards by more than `CLEAR_LEAD`, so the argmax policy is that response
/// alone. The totals are sums of `n` terms, so their rounding is below
/// `n·1e-9` of that margin. (This is the fit's own answer wherever the fit
/// converges, as its Newton steps do on every population the tests try.)
fn clear_reward_leader(pairwise: &Pairwise) -> Option<usize> {
    let (n, p, w) = (pairwise.n, &pairwise.p, pairwise.weight);
    let total = |x: usize| (0..x).map(|y| w - p[y * n + x]).chain((x + 1..n).map(|y| p[x * n + y])).sum::<f64>();
    let (mut first, mut second) = ((0, f64::NEG_INFINITY), f64::NEG_INFINITY);
    for (x, t) in (0..n).map(|x| (x, total(x))) {
        if t > first.1 {
            second = first.1;
            first = (x, t);
        } else {
            second = second.max(t);
        }
    }
    let margin = (n as f64 * w / 4.0 + BT_RIDGE) * CLEAR_LEAD;
    (first.1 - second > margin).then_some(first.0)
}

/// The uniform policy over `n` responses.
pub fn uniform(n: usize) -> Vec<f64> {
    vec![1.0 / n as f64; n]
}

/// One row of `ualign compare`: `R_k` of each policy at one k.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareRow {
    pub k: usize,
    /// `k/(k+1)`, the best any product policy can do.
    pub bound: f64,
    /// `R_k` of the (k+1)-player equilibrium found by `solve` (k = 1: the NLHF LP solution).
    pub equilibrium: f64,
    /// Whether that equilibrium met the tolerance (`E_k ≤ tol`).
    pub equilibrium_converged: bool,
    /// `R_k` of the NLHF policy (the k = 1 equilibrium sampled k times).
    pub nlhf: f64,
    /// `R_k` of the RLHF argmax policy.
    pub rlhf: f64,
    /// `R_k` of the uniform policy.
    pub uniform: f64,
}

/// `R_k` of the equilibrium and the baselines for `k = 1..=k_max`, finding
/// the equilibria with the equilibrium solver on the CPU engine (in
/// parallel over k).
pub fn compare(pop: &Population, k_max: usize, opts: &EquilibriumOptions) -> Result<Vec<CompareRow>> {
    crate::limits::check_dense_responses(pop.responses, "compare")?;
    check_k(k_max).map_err(|_| Error::input("k_max", "is 0", "compare at least k = 1: use --k-max 1 or more"))?;
    let found = (2..=k_max)
        .into_par_iter()
        .map(|k| equilibrium::solve(pop, k, opts).map(|e| Found::from(&e)))
        .collect::<Result<Vec<_>>>()?;
    compare_from(pop, &found, opts.tol)
}

/// One `k ≥ 2` equilibrium entry of [`compare`]: its `R_k` and whether it
/// is an equilibrium to the solver's tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub robust_alignment: f64,
    pub converged: bool,
}

impl From<&Equilibrium> for Found {
    fn from(e: &Equilibrium) -> Found {
        Found { robust_alignment: e.evaluation.robust_alignment, converged: e.converged }
    }
}

impl From<&Solution> for Found {
    /// The last iterate of the dynamics: an equilibrium only if it converged.
    fn from(s: &Solution) -> Found {
        Found { robust_alignment: s.evaluation.robust_alignment, converged: s.converged }
    }
}

/// The rows of [`compare`] from equilibria found by any engine: `found[i]`
/// is the entry for `k = i + 2`. At k = 1 the equilibrium is the exact NLHF
/// solution (the maximal lottery, from an LP).
pub fn compare_from(pop: &Population, found: &[Found], tol: f64) -> Result<Vec<CompareRow>> {
    let nlhf_policy = nlhf(pop);
    let rlhf_policy = rlhf_policy(pop, None)?;
    let uniform_policy = uniform(pop.responses);
    let k_max = found.len() + 1;
    (1..=k_max)
        .into_par_iter()
        .map(|k| {
            let (equilibrium, converged) = if k == 1 {
                let e = evaluate_exact(pop, &nlhf_policy, 1);
                (e.robust_alignment, e.exploitability <= tol.max(1e-12))
            } else {
                (found[k - 2].robust_alignment, found[k - 2].converged)
            };
            Ok(CompareRow {
                k,
                bound: k as f64 / (k as f64 + 1.0),
                equilibrium,
                equilibrium_converged: converged,
                nlhf: evaluate_exact(pop, &nlhf_policy, k).robust_alignment,
                rlhf: evaluate_exact(pop, &rlhf_policy, k).robust_alignment,
                uniform: evaluate_exact(pop, &uniform_policy, k).robust_alignment,
            })
        })
        .collect()
}
