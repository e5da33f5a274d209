//! The robust equilibrium solver against known equilibria (docs/theory.md, "Worked values"), the
//! families where self-play fails, and the stress set.

mod common;

use ualign::dynamics::{self, Dynamics, SolveOptions};
use ualign::equilibrium::{self, stress, EquilibriumOptions, Method};
use ualign::population::generate::{generate_one, GenSpec, Model};
use ualign::{Population, UserType};

fn opts() -> EquilibriumOptions {
    EquilibriumOptions::default()
}

/// The default options and the homotopy alone (no fast path).
fn both_ways() -> [EquilibriumOptions; 2] {
    [opts(), EquilibriumOptions { fast_path: false, ..opts() }]
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
        for o in both_ways() {
            let eq = equilibrium::solve(&pop, 2, &o).unwrap();
            assert!(eq.converged, "{eq:?}");
            assert!((eq.policy[0] - (3.0 * alpha - 1.0)).abs() < 1e-12, "alpha {alpha}: {:?}", eq.policy);
        }
    }
}

#[test]
fn bradley_terry_2_1_at_k3() {
    let pop = Population::new(2, None, vec![UserType::scores(1.0, vec![2f64.ln(), 0.0])]).unwrap();
    for o in both_ways() {
        let eq = equilibrium::solve(&pop, 3, &o).unwrap();
        assert!(eq.converged, "{eq:?}");
        assert!((eq.policy[0] - 0.807418).abs() < 5e-7, "{:?}", eq.policy);
        for k in [1, 2] {
            let eq = equilibrium::solve(&pop, k, &o).unwrap();
            assert!(eq.converged && (eq.policy[0] - 1.0).abs() < 1e-12, "k = {k}: {:?}", eq.policy);
        }
    }
}

/// PGA (the dynamics' default) cycles here, so the fast path fails and the
/// homotopy must find the equilibrium.
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

/// Plackett–Luce mixtures: the homotopy with finite-difference Jacobians
/// (fast path off, so it is the homotopy that is tested).
#[test]
fn plackett_luce_mixtures_by_homotopy() {
    let spec = GenSpec { model: Model::Pl, responses: 6, types: Some(4), count: 4, seed: 11, ..GenSpec::default() };
    let homotopy = EquilibriumOptions { fast_path: false, ..opts() };
    for (i, pop) in ualign::population::generate::generate(&spec).unwrap().iter().enumerate() {
        for k in [2, 4] {
            let eq = equilibrium::solve(pop, k, &homotopy).unwrap();
            assert_eq!(eq.method, Method::QreHomotopy);
            assert!(eq.converged && eq.evaluation.exploitability <= 1e-9, "population {i}, k = {k}: {eq:?}");
        }
    }
}

/// A step size too large for f64 is an error naming η, for every dynamics;
/// it never comes back as a policy, let alone a converged one.
#[test]
fn non_finite_steps_are_errors() {
    let pop = cycle_weights(&[0.22, 0.19, 0.20, 0.19, 0.20]);
    let cases = [
        (Dynamics::Mwu, 1e4),
        (Dynamics::Mwu, 1e300),
        (Dynamics::Pga, 1e300),
        (Dynamics::Optimistic, 1e300),
        (Dynamics::Extragradient, 1e300),
    ];
    for (dynamics, eta) in cases {
        let opts = SolveOptions { dynamics, eta, iters: 1000, ..SolveOptions::default() };
        let err = dynamics::solve(&pop, 2, &opts).expect_err(&format!("{dynamics:?} at eta {eta}"));
        let text = err.to_string();
        assert!(text.starts_with("eta: is ") && text.contains("left the probability simplex"), "{text}");
        let batch = dynamics::solve_batch(std::slice::from_ref(&pop), 2, &opts);
        assert!(batch[0].is_err());
    }
    // A reasonable step still runs, and a run is converged only on the simplex.
    let ok = dynamics::solve(&pop, 2, &SolveOptions { dynamics: Dynamics::Mwu, eta: 1.0, ..SolveOptions::default() })
        .unwrap();
    assert!(ok.policy.iter().all(|p| p.is_finite()));
}

fn ualign(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ualign")).args(args).output().unwrap()
}

/// `solve` without `--dynamics` is the equilibrium solver and says so; with
/// it, the dynamics run as asked and are labelled as dynamics.
#[test]
fn cli_solve_default_is_the_equilibrium_solver() {
    let dir = std::env::temp_dir().join(format!("ualign-equilibrium-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cycle5.json");
    std::fs::write(
        &file,
        r#"{"responses":5,"types":[{"weight":0.22,"ranking":[0,1,2,3,4]},{"weight":0.19,"ranking":[1,2,3,4,0]},
        {"weight":0.20,"ranking":[2,3,4,0,1]},{"weight":0.19,"ranking":[3,4,0,1,2]},{"weight":0.20,"ranking":[4,0,1,2,3]}]}"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = ualign(&["solve", "--population", path, "--k", "2", "--backend", "cpu", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["solver"], "equilibrium");
    assert_eq!(v["converged"], true);
    assert!(v["exploitability"].as_f64().unwrap() <= 1e-9);

    let out = ualign(&["solve", "--population", path, "--k", "2", "--backend", "cpu", "--json", "--dynamics", "pga"]);
    assert_eq!(out.status.code(), Some(3), "PGA cycles here: not converged, exit status 3");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["solver"].as_str(), v["dynamics"].as_str()), (Some("dynamics"), Some("pga")));
    assert_eq!(v["converged"], false, "PGA cycles on this population");

    let out =
        ualign(&["solve", "--population", path, "--k", "2", "--backend", "cpu", "--dynamics", "mwu", "--eta", "1e4"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("eta: is 10000.0") && err.contains("smaller step size"), "{err}");
    assert!(out.stdout.is_empty());

    let out = ualign(&["solve", "--population", path, "--k", "2", "--eta", "0.5"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--eta"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Solves every case and checks `converged` and `E_k ≤ 1e-9` in f64.
/// Both with the fast path and with the homotopy alone (the guarantee).
fn check_stress(cases: &[stress::StressCase]) {
    for fast_path in [true, false] {
        let opts = EquilibriumOptions { fast_path, ..opts() };
        for c in cases {
            let eq = equilibrium::solve(&c.population, c.k, &opts).unwrap();
            let exact = ualign::metrics::evaluate_exact(&c.population, &eq.policy, c.k);
            assert!(eq.converged && exact.exploitability <= 1e-9, "{}: {eq:?}", c.label);
            if !fast_path {
                // The guarantee: the homotopy, or from 64 responses the
                // interior-point method that runs before it.
                assert!(
                    matches!(eq.method, Method::QreHomotopy | Method::InteriorPoint),
                    "{}: {:?}",
                    c.label,
                    eq.method
                );
            }
        }
    }
}

/// The whole stress set (514 populations), both ways.
#[test]
fn stress_set_converges() {
    let cases = stress::stress_set(0).unwrap();
    assert_eq!(cases.len(), 514);
    check_stress(&cases);
}

/// The Jacobian of `g` against central differences of the exact f64 `g`
/// (rankings in closed form, Plackett–Luce by its own differences), and the
/// support-restricted Jacobian Newton uses: bit for bit the full one on
/// support × support.
#[test]
fn jacobian_matches_differences_of_g_and_its_support_restriction_is_exact() {
    use ualign::equilibrium::jacobian::{jacobian, jacobian_on};
    let mut rng = common::rng(41);
    for case in 0..24 {
        let n = 2 + case % 7;
        let k = [1, 2, 4, 5, 9][case % 5];
        let pop = common::random_population(&mut rng, n, 3 + case % 4, [0.0, 0.5][case % 2]);
        // An interior policy, so the differences stay on the domain.
        let mut policy: Vec<f64> = (0..n).map(|_| 0.2 + rand::Rng::random_range(&mut rng, 0.0..1.0)).collect();
        let total: f64 = policy.iter().sum();
        policy.iter_mut().for_each(|p| *p /= total);
        let mut full = Vec::new();
        jacobian(&pop, &policy, k, &mut full);
        let h = 1e-5;
        for z in 0..n {
            let (mut up, mut down) = (policy.clone(), policy.clone());
            up[z] += h;
            down[z] -= h;
            let (gu, gd) = (ualign::cpu::deviation(&pop, &up, k), ualign::cpu::deviation(&pop, &down, k));
            for y in 0..n {
                let diff = (gu[y] - gd[y]) / (2.0 * h);
                assert!(
                    (full[y * n + z] - diff).abs() < 1e-6,
                    "case {case} J[{y}][{z}] = {} vs {diff}",
                    full[y * n + z]
                );
            }
        }
        // Zero mass off a support, as Newton keeps it.
        let support: Vec<bool> = (0..n).map(|y| y % 3 != 1).collect();
        policy.iter_mut().zip(&support).for_each(|(p, &s)| *p = if s { *p } else { 0.0 });
        let total: f64 = policy.iter().sum();
        policy.iter_mut().for_each(|p| *p /= total);
        jacobian(&pop, &policy, k, &mut full);
        let mut restricted = Vec::new();
        jacobian_on(&pop, &policy, k, Some(&support), &mut restricted);
        for y in (0..n).filter(|&y| support[y]) {
            for z in (0..n).filter(|&z| support[z]) {
                assert_eq!(restricted[y * n + z].to_bits(), full[y * n + z].to_bits(), "case {case} J[{y}][{z}]");
            }
        }
    }
}

/// The Jacobian's AVX-512 register pass (rankings of up to 16 responses,
/// k ≤ 8) is bit for bit the scalar pass, with and without a support, on
/// ranking and mixed populations.
#[test]
fn jacobian_register_pass_is_the_scalar_pass_bit_for_bit() {
    if !ualign::equilibrium::jacobian_avx512::available(16, 4) {
        eprintln!("no AVX-512F on this CPU: the register pass is not used here");
        return;
    }
    // Every n to 16 with every k to 8, rankings only and mixed with Plackett–Luce.
    let cases = (1..=16).flat_map(|n| (1..=8).flat_map(move |k| [(n, k, 0.0), (n, k, 0.3)]));
    assert_jacobian_passes_agree(43, cases, |case| 1 + case % 13);
}

/// The blocked pass for many responses (from 64: blocks of rows kept in
/// cache) is bit for bit the scalar pass, with and without a support, on
/// ranking and mixed populations, and with sizes that leave a partial block.
#[test]
fn jacobian_blocked_pass_is_the_scalar_pass_bit_for_bit() {
    let cases = [(64, 1, 0.0), (70, 2, 0.0), (97, 4, 0.3), (130, 9, 0.0), (64, 3, 0.5), (81, 2, 0.0)];
    assert_jacobian_passes_agree(47, cases.into_iter(), |case| 3 + 7 * case);
}

/// The Jacobian as the solver builds it (`jacobian_on`) against the scalar
/// pass (`jacobian_portable`), bit for bit, on random populations of the
/// given `(n, k, Plackett–Luce fraction)` with `types(case)` types each.
fn assert_jacobian_passes_agree(
    seed: u64,
    cases: impl Iterator<Item = (usize, usize, f64)>,
    types: impl Fn(usize) -> usize,
) {
    use ualign::equilibrium::jacobian::{jacobian_on, jacobian_portable};
    let mut rng = common::rng(seed);
    for (case, (n, k, pl_fraction)) in cases.enumerate() {
        let pop = common::random_population(&mut rng, n, types(case), pl_fraction);
        let policy = common::random_policy(&mut rng, n);
        let support: Vec<bool> = policy.iter().map(|&p| p > 0.0).collect();
        for restrict in [None, Some(support.as_slice())] {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            jacobian_on(&pop, &policy, k, restrict, &mut fast);
            jacobian_portable(&pop, &policy, k, restrict, &mut slow);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&slow), "case {case}: n {n} k {k}");
        }
    }
}
