//! The robust equilibrium solver against known equilibria (SPEC §9), the
//! families where self-play fails, and the stress set.

use ualign::dynamics::{self, SolveOptions};
use ualign::equilibrium::{self, stress, EquilibriumOptions, Method};
use ualign::population::generate::{generate_one, GenSpec, Model};
use ualign::{Population, UserType};

fn opts() -> EquilibriumOptions {
    EquilibriumOptions::default()
}

fn cycle_weights(weights: &[f64]) -> Population {
    let n = weights.len();
    let types = (0..n).map(|s| UserType::ranking(weights[s], (0..n).map(|i| ((i + s) % n) as u32).collect())).collect();
    Population::new(n, None, types).unwrap()
}

#[test]
fn two_responses_k2_puts_3alpha_minus_1_on_a() {
    for alpha in [0.4, 0.5, 0.55, 0.6] {
        let pop = Population::new(
            2,
            None,
            vec![UserType::ranking(alpha, vec![0, 1]), UserType::ranking(1.0 - alpha, vec![1, 0])],
        )
        .unwrap();
        let eq = equilibrium::solve(&pop, 2, &opts()).unwrap();
        assert!(eq.converged, "{eq:?}");
        assert!((eq.policy[0] - (3.0 * alpha - 1.0)).abs() < 1e-12, "alpha {alpha}: {:?}", eq.policy);
    }
}

#[test]
fn bradley_terry_2_1_at_k3() {
    let pop = Population::new(2, None, vec![UserType::scores(1.0, vec![2f64.ln(), 0.0])]).unwrap();
    let eq = equilibrium::solve(&pop, 3, &opts()).unwrap();
    assert!(eq.converged, "{eq:?}");
    assert!((eq.policy[0] - 0.807418).abs() < 5e-7, "{:?}", eq.policy);
    for k in [1, 2] {
        let eq = equilibrium::solve(&pop, k, &opts()).unwrap();
        assert!(eq.converged && (eq.policy[0] - 1.0).abs() < 1e-12, "k = {k}: {:?}", eq.policy);
    }
}

/// PGA (the dynamics' default) cycles here; the robust solver must not.
#[test]
fn perturbed_cycle_n5_k2() {
    let pop = cycle_weights(&[0.22, 0.19, 0.20, 0.19, 0.20]);
    let pga = dynamics::solve(&pop, 2, &SolveOptions { iters: 20_000, ..SolveOptions::default() }).unwrap();
    assert!(!pga.converged, "PGA was expected to cycle on this population");
    let eq = equilibrium::solve(&pop, 2, &opts()).unwrap();
    assert!(eq.converged, "{eq:?}");
    assert_eq!(eq.method, Method::QreHomotopy);
    assert!(eq.evaluation.exploitability <= 1e-9);
    assert!((eq.evaluation.robust_alignment - 2.0 / 3.0).abs() <= 1e-9);
}

#[test]
fn planted_condorcet_winner_n5_margin_02_k3() {
    let spec = GenSpec { model: Model::Condorcet, responses: 5, margin: 0.2, ..GenSpec::default() };
    for index in 0..8 {
        let pop = generate_one(&spec, index).unwrap();
        let eq = equilibrium::solve(&pop, 3, &opts()).unwrap();
        assert!(eq.converged && eq.evaluation.exploitability <= 1e-9, "population {index}: {eq:?}");
    }
}

#[test]
fn polish_finishes_a_rough_policy_exactly() {
    let pop = cycle_weights(&[0.22, 0.19, 0.20, 0.19, 0.20]);
    let exact = equilibrium::solve(&pop, 2, &opts()).unwrap();
    // An f32-like perturbation of the equilibrium.
    let rough: Vec<f64> = exact.policy.iter().map(|&p| (p as f32) as f64 * (1.0 + 1e-5)).collect();
    let total: f64 = rough.iter().sum();
    let rough: Vec<f64> = rough.iter().map(|p| p / total).collect();
    let polished = equilibrium::polish(&pop, 2, &rough, &opts()).unwrap();
    assert_eq!(polished.method, Method::Polish);
    assert!(polished.converged && polished.evaluation.exploitability <= 1e-13, "{polished:?}");
    assert!(polished.policy.iter().zip(&exact.policy).all(|(a, b)| (a - b).abs() < 1e-10));
}

#[test]
#[ignore]
fn stress_set_all_converge() {
    let cases = stress::stress_set(0).unwrap();
    let mut worst: f64 = 0.0;
    for c in &cases {
        let t = std::time::Instant::now();
        let eq = equilibrium::solve(&c.population, c.k, &opts()).unwrap();
        eprintln!(
            "{:50} E={:.1e} steps={} newton={} lambda={:.1} {:?} {:.3}s",
            c.label,
            eq.evaluation.exploitability,
            eq.path_steps,
            eq.newton_steps,
            eq.lambda,
            eq.method,
            t.elapsed().as_secs_f64()
        );
        assert!(eq.converged, "{}", c.label);
        worst = worst.max(eq.evaluation.exploitability);
    }
}
