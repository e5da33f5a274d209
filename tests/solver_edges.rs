//! The solver where margins tie (clones: k = 1 by linear programming), a
//! policy that sums to 1 only within the tolerance, and the exit status of a
//! solve that does not converge.
mod common;

use std::process::Command;

use rand::Rng;
use ualign::equilibrium::{self, EquilibriumOptions, Method};
use ualign::{cpu, Population, UserType};

/// A population where responses `a` and `b` are clones: every type of `base`
/// is split into two halves that rank a and b next to each other, once in
/// each order (a and b take the place of `a` in the base ranking).
fn with_clone(base: &[(f64, Vec<u32>)], n: usize) -> Population {
    let (a, b) = (0u32, n as u32); // b is the new response
    let mut types = Vec::new();
    for (w, r) in base {
        let at = r.iter().position(|&y| y == a).unwrap();
        for pair in [[a, b], [b, a]] {
            let mut ranking = r[..at].to_vec();
            ranking.extend(pair);
            ranking.extend(&r[at + 1..]);
            types.push(UserType::ranking(w / 2.0, ranking));
        }
    }
    Population::new(n + 1, None, types).unwrap()
}

fn clone_populations() -> Vec<Population> {
    let mut rng = common::rng(91);
    let mut pops = Vec::new();
    for case in 0..270 {
        let n = 3 + case % 5;
        let base: Vec<(f64, Vec<u32>)> = if case % 3 == 0 {
            // A Condorcet cycle (cyclic shifts), perturbed weights.
            (0..n)
                .map(|s| {
                    let w = 1.0 + 0.2 * rng.random_range(-1.0..1.0);
                    (w, (0..n as u32).map(|i| (i + s as u32) % n as u32).collect())
                })
                .collect()
        } else {
            (0..2 + case % 6)
                .map(|_| {
                    let mut r: Vec<u32> = (0..n as u32).collect();
                    for i in (1..n).rev() {
                        r.swap(i, rng.random_range(0..=i));
                    }
                    (rng.random_range(0.1..1.0), r)
                })
                .collect()
        };
        let total: f64 = base.iter().map(|(w, _)| w).sum();
        let base: Vec<(f64, Vec<u32>)> = base.into_iter().map(|(w, r)| (w / total, r)).collect();
        pops.push(with_clone(&base, n));
    }
    pops
}

#[test]
fn k_1_on_clones_and_cycles_with_a_clone_is_solved_exactly() {
    let opts = EquilibriumOptions::default();
    let mut worst: f64 = 0.0;
    for (i, pop) in clone_populations().iter().enumerate() {
        let found = equilibrium::solve(pop, 1, &opts).unwrap();
        let g = cpu::deviation(pop, &found.policy, 1);
        let e = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - 0.5;
        assert!(found.converged && e <= 1e-9, "population {i}: E_1 = {e:e}, {:?}", found.method);
        assert_eq!(found.method, Method::MaximalLottery, "population {i}");
        worst = worst.max(e);
    }
    eprintln!("k = 1 on 270 clone populations: worst E_1 {worst:.1e}");
}

#[test]
fn k_1_equilibrium_is_the_nlhf_policy() {
    for pop in clone_populations().iter().take(40) {
        let found = equilibrium::solve(pop, 1, &EquilibriumOptions::default()).unwrap();
        assert_eq!(found.policy, ualign::baselines::nlhf(pop));
    }
}

fn ualign(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ualign")).args(args).output().expect("run ualign")
}

fn asset(name: &str) -> String {
    format!("{}/assets/populations/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_policy_summing_to_one_within_the_tolerance_is_rescaled() {
    let cycle = asset("condorcet3.json");
    let out =
        ualign(&["eval", "--population", &cycle, "--policy", "0.3333333,0.3333333,0.3333333", "--k", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = v["robust_alignment"].as_f64().unwrap();
    assert!(r <= 2.0 / 3.0 + 1e-15, "R_k = {r} above the bound");
    let sum: f64 = v["policy"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() <= 1e-15, "{sum}");
    // Outside the tolerance it is refused, naming the flag.
    let out = ualign(&["eval", "--population", &cycle, "--policy", "0.33,0.33,0.33", "--k", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy"));
}

#[test]
fn solve_that_does_not_converge_exits_3_after_printing_everything() {
    let cycle = asset("perturbed_cycle5.json");
    let out = ualign(&["solve", "--population", &cycle, "--k", "2", "--dynamics", "pga", "--iters", "10", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["converged"], false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 1 population(s) did not reach tol"));
    // Converged: exit 0.
    let out = ualign(&["solve", "--population", &cycle, "--k", "2"]);
    assert_eq!(out.status.code(), Some(0));
    // A batch: every line printed, then how many did not converge.
    let dir = std::env::temp_dir().join(format!("ualign-solver-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let batch = dir.join("b.jsonl");
    let line = std::fs::read_to_string(&cycle).unwrap().replace('\n', " ");
    let two = std::fs::read_to_string(asset("two_responses.json")).unwrap().replace('\n', " ");
    std::fs::write(&batch, format!("{line}\n{two}\n")).unwrap();
    let out =
        ualign(&["solve", "--populations", batch.to_str().unwrap(), "--k", "2", "--dynamics", "pga", "--iters", "10"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("of 2 population(s) did not reach tol"));
}

#[test]
fn dense_matrices_beyond_the_limit_are_refused_before_any_allocation() {
    let n = ualign::limits::MAX_DENSE_RESPONSES + 1;
    let pop = Population::new(n, None, vec![UserType::ranking(1.0, (0..n as u32).collect())]).unwrap();
    let err = equilibrium::solve(&pop, 2, &EquilibriumOptions::default()).unwrap_err().to_string();
    assert!(err.contains("8192") && err.contains("dense"), "{err}");
    let err = ualign::baselines::compare(&pop, 2, &EquilibriumOptions::default()).unwrap_err().to_string();
    assert!(err.contains("compare"), "{err}");
    // On the command line: one line and exit status 1, for every command that would need them.
    let dir = std::env::temp_dir().join(format!("ualign-dense-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.json");
    let text = ualign::population::json::to_json(&pop).to_string();
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    for args in [
        vec!["solve", "--population", f, "--k", "2"],
        vec!["compare", "--population", f, "--k-max", "2"],
        vec!["eval", "--population", f, "--policy", "nlhf", "--k", "2"],
    ] {
        let out = ualign(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("exceeds the limit 8192"), "{args:?}: {stderr}");
    }
    // Self-play needs no dense matrix.
    let out = ualign(&["solve", "--population", f, "--k", "2", "--dynamics", "pga", "--iters", "2"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn full_support_equilibria_of_large_perturbed_cycles_are_exact() {
    use ualign::equilibrium::stress::perturbed_cycle;
    for (n, k) in [(128, 2), (256, 2), (256, 4)] {
        let pop = perturbed_cycle(n, 0.1, 0, 0).unwrap();
        let found = equilibrium::solve(&pop, k, &EquilibriumOptions::default()).unwrap();
        let g = cpu::deviation(&pop, &found.policy, k);
        let e = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - 1.0 / (k as f64 + 1.0);
        assert!(found.converged && e <= 1e-9, "n = {n}, k = {k}: E_k = {e:e}");
        assert_eq!(found.method, Method::InteriorPoint, "n = {n}, k = {k}");
        let support = found.policy.iter().filter(|&&p| p > 0.0).count();
        assert!(support > n / 2, "n = {n}: support {support}");
    }
}
