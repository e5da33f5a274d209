//! The JSON objects `eval` and `solve` print, as typed records serialised
//! straight to text (a batch prints one per line).
//!
//! Each record lists its keys in alphabetical order, the order the JSON has
//! always had, so the text is the same byte for byte as building a
//! `serde_json::Value` and printing it, without the tree (the tests check
//! this against exactly that construction).

use serde::Serialize;

use ualign::dynamics::{Dynamics, Solution, SolveOptions};
use ualign::equilibrium::{Equilibrium, Method};
use ualign::metrics::Evaluation;

/// `eval`: the evaluation, the policy, and the precision it was computed in.
#[derive(Serialize)]
pub struct EvalRecord<'a> {
    deviation: &'a [f64],
    #[serde(skip_serializing_if = "Option::is_none")]
    ell: Option<usize>,
    entropy: f64,
    exploitability: f64,
    k: usize,
    policy: &'a [f64],
    precision: &'a str,
    robust_alignment: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    robust_alignment_ell: Option<f64>,
    sum_residual: f64,
    support: usize,
    win_rate: &'a [f64],
}

impl<'a> EvalRecord<'a> {
    pub fn new(e: &'a Evaluation, policy: &'a [f64], precision: &'a str) -> Self {
        EvalRecord {
            deviation: &e.deviation,
            ell: e.ell,
            entropy: e.entropy,
            exploitability: e.exploitability,
            k: e.k,
            policy,
            precision,
            robust_alignment: e.robust_alignment,
            robust_alignment_ell: e.robust_alignment_ell,
            sum_residual: e.sum_residual,
            support: e.support,
            win_rate: &e.win_rate,
        }
    }
}

/// `solve --dynamics`: the last iterate's evaluation and the run.
#[derive(Serialize)]
pub struct DynamicsRecord<'a> {
    average_robust_alignment: f64,
    converged: bool,
    deviation: &'a [f64],
    dynamics: Dynamics,
    #[serde(skip_serializing_if = "Option::is_none")]
    ell: Option<usize>,
    entropy: f64,
    eta: f64,
    exploitability: f64,
    iterations: usize,
    k: usize,
    policy: &'a [f64],
    regret: f64,
    robust_alignment: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    robust_alignment_ell: Option<f64>,
    solver: &'static str,
    sum_residual: f64,
    support: usize,
    win_rate: &'a [f64],
}

impl<'a> DynamicsRecord<'a> {
    pub fn new(s: &'a Solution, opts: &SolveOptions) -> Self {
        let e = &s.evaluation;
        DynamicsRecord {
            average_robust_alignment: s.average_robust_alignment,
            converged: s.converged,
            deviation: &e.deviation,
            dynamics: opts.dynamics,
            ell: e.ell,
            entropy: e.entropy,
            eta: opts.eta,
            exploitability: e.exploitability,
            iterations: s.iterations,
            k: e.k,
            policy: &s.policy,
            regret: s.regret,
            robust_alignment: e.robust_alignment,
            robust_alignment_ell: e.robust_alignment_ell,
            solver: "dynamics",
            sum_residual: e.sum_residual,
            support: e.support,
            win_rate: &e.win_rate,
        }
    }
}

/// `solve` (the equilibrium solver): the equilibrium's evaluation and how
/// it was found.
#[derive(Serialize)]
pub struct EquilibriumRecord<'a> {
    converged: bool,
    deviation: &'a [f64],
    #[serde(skip_serializing_if = "Option::is_none")]
    ell: Option<usize>,
    entropy: f64,
    exploitability: f64,
    k: usize,
    lambda: f64,
    method: Method,
    newton_steps: usize,
    path_steps: usize,
    policy: &'a [f64],
    robust_alignment: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    robust_alignment_ell: Option<f64>,
    solver: &'static str,
    sum_residual: f64,
    support: usize,
    win_rate: &'a [f64],
}

impl<'a> EquilibriumRecord<'a> {
    pub fn new(q: &'a Equilibrium) -> Self {
        let e = &q.evaluation;
        EquilibriumRecord {
            converged: q.converged,
            deviation: &e.deviation,
            ell: e.ell,
            entropy: e.entropy,
            exploitability: e.exploitability,
            k: e.k,
            lambda: q.lambda,
            method: q.method,
            newton_steps: q.newton_steps,
            path_steps: q.path_steps,
            policy: &q.policy,
            robust_alignment: e.robust_alignment,
            robust_alignment_ell: e.robust_alignment_ell,
            solver: "equilibrium",
            sum_residual: e.sum_residual,
            support: e.support,
            win_rate: &e.win_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The oracle: the `serde_json::Value` each record replaces, built as
    //! the JSON was built before (the evaluation serialised to a value, the
    //! other keys inserted), printed compact and pretty.

    use serde_json::{json, Value};

    use super::*;
    use ualign::dynamics::Checkpoint;

    fn evaluation(ell: bool) -> Evaluation {
        Evaluation {
            k: 4,
            deviation: vec![0.19999999975044916, 0.1841388977153188, -0.0, 1e-300, 0.1 + 0.2],
            win_rate: vec![0.8000000002495509, 0.8158611022846812, 1.0, 1.0, 0.7],
            robust_alignment: 0.7999999991347007,
            exploitability: 8.652992766755574e-10,
            sum_residual: -2.220446049250313e-16,
            support: 3,
            entropy: 1.522851133019925,
            ell: ell.then_some(2),
            robust_alignment_ell: ell.then_some(0.6666666666666666),
        }
    }

    fn assert_same_text(record: &impl Serialize, oracle: &Value) {
        assert_eq!(serde_json::to_string(record).unwrap(), oracle.to_string());
        assert_eq!(serde_json::to_string_pretty(record).unwrap(), serde_json::to_string_pretty(oracle).unwrap());
    }

    const POLICY: [f64; 5] = [0.11786212217536407, 0.0, 0.5, 0.3821378778246359, 0.0];

    #[test]
    fn an_eval_record_prints_as_its_value_did() {
        for ell in [false, true] {
            let e = evaluation(ell);
            let mut v = serde_json::to_value(&e).unwrap();
            v["policy"] = json!(POLICY);
            v["precision"] = json!("f32");
            assert_same_text(&EvalRecord::new(&e, &POLICY, "f32"), &v);
        }
    }

    #[test]
    fn a_dynamics_record_prints_as_its_value_did() {
        for (ell, dynamics) in [(false, Dynamics::Pga), (true, Dynamics::Extragradient)] {
            let s = Solution {
                policy: POLICY.to_vec(),
                iterations: 83,
                converged: ell,
                evaluation: evaluation(ell),
                average_robust_alignment: 0.7980194306635013,
                regret: 0.16438725492940165,
                history: Vec::<Checkpoint>::new(),
            };
            let opts = SolveOptions { dynamics, eta: 0.25, ..SolveOptions::default() };
            let mut v = serde_json::to_value(&s.evaluation).unwrap();
            v["policy"] = json!(s.policy);
            v["iterations"] = json!(s.iterations);
            v["converged"] = json!(s.converged);
            v["average_robust_alignment"] = json!(s.average_robust_alignment);
            v["regret"] = json!(s.regret);
            v["solver"] = json!("dynamics");
            v["dynamics"] = json!(opts.dynamics);
            v["eta"] = json!(opts.eta);
            assert_same_text(&DynamicsRecord::new(&s, &opts), &v);
        }
    }

    #[test]
    fn an_equilibrium_record_prints_as_its_value_did() {
        for (ell, method) in [(false, Method::QreHomotopy), (true, Method::PgaPolish)] {
            let q = Equilibrium {
                policy: POLICY.to_vec(),
                evaluation: evaluation(ell),
                converged: !ell,
                method,
                path_steps: 12,
                newton_steps: 3,
                lambda: 41.5,
            };
            let mut v = serde_json::to_value(&q.evaluation).unwrap();
            v["policy"] = json!(q.policy);
            v["converged"] = json!(q.converged);
            v["solver"] = json!("equilibrium");
            v["method"] = json!(q.method);
            v["path_steps"] = json!(q.path_steps);
            v["newton_steps"] = json!(q.newton_steps);
            v["lambda"] = json!(q.lambda);
            assert_same_text(&EquilibriumRecord::new(&q), &v);
        }
    }
}
