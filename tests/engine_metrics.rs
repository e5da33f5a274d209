//! Metrics against the brute force and the identities and worked values of docs/theory.md.
mod common;

use common::{oracle, random_policy, random_population, rng};
use ualign::metrics::{evaluate, robust_alignment_ell};
use ualign::{Error, Population, UserType};

/// `max_T P(T ≻ π^{⊗k})` over ℓ-multisets by brute force.
fn oracle_best_multiset(pop: &Population, policy: &[f64], k: usize, ell: usize) -> f64 {
    let n = pop.responses;
    let mut best = f64::NEG_INFINITY;
    let mut members = vec![0usize; ell];
    loop {
        best = best.max(oracle::p_beats_product(pop, &members, policy, k));
        let Some(i) = (0..ell).rev().find(|&i| members[i] + 1 < n) else { return best };
        let next = members[i] + 1;
        members[i..].fill(next);
    }
}

fn cycle(n: usize) -> Population {
    let types =
        (0..n).map(|s| UserType::ranking(1.0 / n as f64, (0..n as u32).map(|i| (i + s as u32) % n as u32).collect()));
    Population::new(n, None, types.collect()).unwrap()
}

#[test]
fn robust_alignment_ell_matches_brute_force() {
    let mut r = rng(11);
    let (mut worst_rank, mut worst_pl): (f64, f64) = (0.0, 0.0);
    for case in 0..210 {
        let n = 2 + case % 3; // 2..4
        let k = 1 + (case / 3) % 5; // 1..5
        let ell = 1 + (case / 15) % (k + 1).min(3);
        let pl_fraction = [0.0, 1.0, 0.5][(case / 7) % 3];
        let pop = random_population(&mut r, n, 1 + case % 3, pl_fraction);
        let policy = random_policy(&mut r, n);
        let fast = robust_alignment_ell(&pop, &policy, k, ell).unwrap();
        let slow = 1.0 - oracle_best_multiset(&pop, &policy, k, ell);
        let err = (fast - slow).abs();
        if common::is_pl(&pop) {
            worst_pl = worst_pl.max(err);
            assert!(err < 1e-9, "case {case} (k={k}, ell={ell}): PL {fast} vs {slow}");
        } else {
            worst_rank = worst_rank.max(err);
            assert!(err < 1e-12, "case {case} (k={k}, ell={ell}): rankings {fast} vs {slow}");
        }
    }
    eprintln!("R_k,l worst error: rankings {worst_rank:e}, Plackett–Luce {worst_pl:e}");
}

#[test]
fn ell_one_is_robust_alignment_and_bounds_hold() {
    let mut r = rng(12);
    for case in 0..60 {
        let n = 2 + case % 5;
        let k = 1 + case % 6;
        let pop = random_population(&mut r, n, 3, [0.0, 1.0, 0.5][case % 3]);
        let policy = random_policy(&mut r, n);
        let e = evaluate(&pop, &policy, k, Some(1)).unwrap();
        assert!((e.robust_alignment_ell.unwrap() - e.robust_alignment).abs() < 1e-12, "case {case}");
        // Every product policy: R_{k,ℓ} ≤ k/(k+ℓ) (the opponent copies π).
        for ell in 1..=(k + 1).min(3) {
            let rl = robust_alignment_ell(&pop, &policy, k, ell).unwrap();
            assert!(rl <= k as f64 / (k + ell) as f64 + 1e-9, "case {case}: R_k,{ell} = {rl}");
        }
    }
}

#[test]
fn equilibrium_ell_lower_bound() {
    // Uniform is the NE of the Condorcet cycle: R_{k,ℓ} ≥ (k+1−ℓ)/(k+1).
    for n in [3, 4] {
        let pop = cycle(n);
        let policy = vec![1.0 / n as f64; n];
        for k in 1..=4 {
            for ell in 1..=(k + 1).min(3) {
                let rl = robust_alignment_ell(&pop, &policy, k, ell).unwrap();
                let lower = (k + 1 - ell) as f64 / (k + 1) as f64;
                assert!(
                    rl >= lower - 1e-12 && rl <= k as f64 / (k + ell) as f64 + 1e-12,
                    "n={n} k={k} ell={ell}: {rl}"
                );
            }
        }
    }
}

#[test]
fn sum_rule_and_exploitability_identity() {
    let mut r = rng(13);
    for case in 0..100 {
        let n = 2 + case % 7;
        let k = 1 + case % 8;
        let pop = random_population(&mut r, n, 1 + case % 4, [0.0, 1.0, 0.5][case % 3]);
        let policy = random_policy(&mut r, n);
        let e = evaluate(&pop, &policy, k, None).unwrap();
        let fair = 1.0 / (k as f64 + 1.0);
        assert!(e.sum_residual.abs() < 1e-12, "case {case}: sum rule residual {}", e.sum_residual);
        assert!((e.robust_alignment - (k as f64 * fair - e.exploitability)).abs() < 1e-15);
        assert!(e.exploitability >= -1e-12, "E_k must be >= 0");
        assert!(e.robust_alignment <= k as f64 * fair + 1e-12);
        for (g, w) in e.deviation.iter().zip(&e.win_rate) {
            assert_eq!(g + w, 1.0);
        }
    }
}

#[test]
fn copies_never_help_and_antisymmetry() {
    let mut r = rng(14);
    for case in 0..40 {
        let n = 2 + case % 5;
        let pop = random_population(&mut r, n, 3, [0.0, 1.0, 0.5][case % 3]);
        let pair = |a: usize| {
            let mut p = vec![0.0; n];
            p[a] = 1.0;
            ualign::cpu::deviation(&pop, &p, 1)
        };
        for a in 0..n {
            let g1 = pair(a);
            for k in 2..=5 {
                let mut point = vec![0.0; n];
                point[a] = 1.0;
                let gk = ualign::cpu::deviation(&pop, &point, k);
                for b in 0..n {
                    if b == a {
                        // P(a ≻ a^{×k}) = 1/(k+1) (k copies vs one copy of the same response).
                        assert!((gk[a] - 1.0 / (k as f64 + 1.0)).abs() < 1e-12);
                    } else {
                        // P(b ≻ a^{×k}) = P(b ≻ a): copies never help.
                        assert!((gk[b] - g1[b]).abs() < 1e-9, "case {case} a={a} b={b} k={k}");
                    }
                }
            }
            for b in 0..n {
                // P(b ≻ a) + P(a ≻ b) = 1, and P(a ≻ a) = 1/2.
                assert!((g1[b] + pair(b)[a] - 1.0).abs() < 1e-9, "case {case}");
            }
        }
    }
}

#[test]
fn condorcet_cycle_worked_values() {
    let pop = cycle(3);
    for k in 1..=8 {
        let uniform = evaluate(&pop, &[1.0 / 3.0; 3], k, None).unwrap();
        assert!(uniform.exploitability.abs() < 1e-12, "uniform is the NE for k = {k}");
        let point = evaluate(&pop, &[1.0, 0.0, 0.0], k, None).unwrap();
        assert!((point.robust_alignment - 1.0 / 3.0).abs() < 1e-12, "δ_0 has R = 1/3 for k = {k}");
    }
    for (k, expected) in [(1, 5.0 / 12.0), (2, 7.0 / 12.0), (3, 5.0 / 8.0)] {
        let e = evaluate(&pop, &[0.5, 0.5, 0.0], k, None).unwrap();
        assert!((e.robust_alignment - expected).abs() < 1e-12, "k = {k}: {}", e.robust_alignment);
    }
}

#[test]
fn two_responses_worked_value() {
    // A fraction α prefers a: for k = 2 the NE puts 3α − 1 on a.
    for alpha in [0.4, 0.5, 0.55, 0.6, 0.65] {
        let pop = Population::new(
            2,
            None,
            vec![UserType::ranking(alpha, vec![0, 1]), UserType::ranking(1.0 - alpha, vec![1, 0])],
        )
        .unwrap();
        let a = 3.0 * alpha - 1.0;
        let e = evaluate(&pop, &[a, 1.0 - a], 2, None).unwrap();
        assert!(e.exploitability.abs() < 1e-12, "α = {alpha}: E = {}", e.exploitability);
    }
}

#[test]
fn bad_inputs_are_input_errors() {
    let pop = cycle(3);
    let good = [0.2, 0.3, 0.5];
    let bad: Vec<(Vec<f64>, usize, Option<usize>)> = vec![
        (good.to_vec(), 0, None),
        (good.to_vec(), 2, Some(4)),
        (good.to_vec(), 2, Some(0)),
        (vec![0.5, 0.5], 2, None),
        (vec![0.2, 0.3, 0.6], 2, None),
        (vec![f64::NAN, 0.5, 0.5], 2, None),
        (vec![-0.1, 0.6, 0.5], 2, None),
        (vec![f64::INFINITY, 0.0, 0.0], 2, None),
    ];
    for (policy, k, ell) in bad {
        let err = evaluate(&pop, &policy, k, ell).unwrap_err();
        assert!(matches!(err, Error::Input { .. }), "{policy:?} k={k} ell={ell:?}: {err}");
        let line = err.to_string();
        assert!(!line.contains('\n') && line.contains("; "), "one line with a fix: {line}");
    }
    assert!(evaluate(&pop, &good, 2, Some(3)).is_ok(), "ℓ = k + 1 is allowed");
}

#[test]
fn ell_search_beyond_the_limit_is_a_limit_error() {
    let mut r = rng(15);
    let pop = random_population(&mut r, 40, 30, 1.0);
    let policy = vec![1.0 / 40.0; 40];
    let err = robust_alignment_ell(&pop, &policy, 12, 8).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
}
