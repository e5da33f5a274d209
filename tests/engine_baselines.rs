//! Baselines (docs/theory.md): pairwise preferences, NLHF, RLHF, uniform and compare.
mod common;

use common::{random_population, rng, weighted_cycle};
use ualign::baselines::{compare, nlhf, pairwise, rlhf_policy, rlhf_rewards, uniform, CompareRow};
use ualign::dynamics::SolveOptions;
use ualign::equilibrium::EquilibriumOptions;
use ualign::metrics::evaluate;
use ualign::{Error, Population, UserType};

#[test]
fn nlhf_is_the_maximal_lottery_to_rounding() {
    let p = nlhf(&weighted_cycle());
    let expected = [3.0 / 7.0, 1.0 / 7.0, 3.0 / 7.0];
    for (a, b) in p.iter().zip(expected) {
        assert!((a - b).abs() < 1e-14, "{p:?}");
    }
}

#[test]
fn nlhf_is_a_k1_equilibrium_on_random_populations() {
    let mut r = rng(31);
    for case in 0..60 {
        let n = 2 + case % 9;
        let pop = random_population(&mut r, n, 1 + case % 6, [0.0, 1.0, 0.5][case % 3]);
        let p = nlhf(&pop);
        let e = evaluate(&pop, &p, 1, None).unwrap();
        assert!(e.exploitability < 1e-12, "case {case}: E_1 = {:e}", e.exploitability);
    }
}

#[test]
fn pairwise_is_exact_and_antisymmetric() {
    let mut r = rng(32);
    let pop = random_population(&mut r, 5, 4, 0.5);
    let p = pairwise(&pop);
    for x in 0..5 {
        assert_eq!(p[x][x], 0.5);
        for y in 0..5 {
            assert!((p[x][y] + p[y][x] - 1.0).abs() < 1e-12);
            if x != y {
                assert!((p[x][y] - common::oracle::p_beats(&pop, &[x], &[y])).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn two_responses_worked_values() {
    // NLHF puts 1 on a whenever α > 1/2; the k = 2 equilibrium puts 3α − 1 on a.
    for alpha in [0.45, 0.55, 0.6] {
        let pop = Population::new(
            2,
            None,
            vec![UserType::ranking(alpha, vec![0, 1]), UserType::ranking(1.0 - alpha, vec![1, 0])],
        )
        .unwrap();
        let p = nlhf(&pop);
        let winner = if alpha > 0.5 { 0 } else { 1 };
        assert!((p[winner] - 1.0).abs() < 1e-14, "α = {alpha}: {p:?}");
        let s = ualign::dynamics::solve(&pop, 2, &SolveOptions::default()).unwrap();
        assert!((s.policy[0] - (3.0 * alpha - 1.0)).abs() < 1e-7, "α = {alpha}: {:?}", s.policy);
        let rows = compare(&pop, 3, &EquilibriumOptions::default()).unwrap();
        // NLHF stays at max(α, 1−α) (capped by k/(k+1) at k = 1).
        for row in &rows {
            assert!((row.nlhf - alpha.max(1.0 - alpha).min(row.bound)).abs() < 1e-12, "{row:?}");
        }
    }
}

#[test]
fn bradley_terry_worked_values() {
    // One Bradley–Terry type, worths (2, 1): the NE is δ_0 for k = 1, 2 and puts 0.807418 on 0 at k = 3.
    let pop = Population::new(2, None, vec![UserType::scores(1.0, vec![2f64.ln(), 0.0])]).unwrap();
    for k in [1, 2] {
        assert!(evaluate(&pop, &[1.0, 0.0], k, None).unwrap().exploitability <= 1e-12, "k = {k}");
    }
    let s = ualign::dynamics::solve(&pop, 3, &SolveOptions::default()).unwrap();
    assert!(s.converged);
    assert!((s.policy[0] - 0.807418).abs() < 5e-7, "{:?}", s.policy);
    // The fitted reward gap of a single Bradley–Terry type is its log-worth gap.
    let r = rlhf_rewards(&pop);
    assert!((r[0] - r[1] - 2f64.ln()).abs() < 1e-5, "{r:?}");
    assert!(r.iter().sum::<f64>().abs() < 1e-12);
}

#[test]
fn rlhf_policies() {
    // A symmetric Condorcet cycle has equal rewards: the argmax is uniform.
    let cycle = Population::new(
        3,
        None,
        (0..3u32).map(|s| UserType::ranking(1.0 / 3.0, (0..3).map(|i| (i + s) % 3).collect())).collect(),
    )
    .unwrap();
    assert_eq!(rlhf_policy(&cycle, None).unwrap(), uniform(3));
    // Unanimous preferences: the ridge keeps rewards finite and ordered.
    let unanimous = Population::new(3, None, vec![UserType::ranking(1.0, vec![2, 0, 1])]).unwrap();
    let r = rlhf_rewards(&unanimous);
    assert!(r.iter().all(|v| v.is_finite()) && r[2] > r[0] && r[0] > r[1], "{r:?}");
    assert_eq!(rlhf_policy(&unanimous, None).unwrap(), vec![0.0, 0.0, 1.0]);
    let soft = rlhf_policy(&unanimous, Some(1e3)).unwrap();
    assert!((soft.iter().sum::<f64>() - 1.0).abs() < 1e-12 && soft[2] > soft[0] && soft[0] > soft[1]);
    for beta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(rlhf_policy(&unanimous, Some(beta)), Err(Error::Input { .. })), "β = {beta}");
    }
}

#[test]
fn compare_rows_are_consistent() {
    let mut r = rng(33);
    let pop = random_population(&mut r, 6, 8, 0.3);
    let rows: Vec<CompareRow> = compare(&pop, 5, &EquilibriumOptions::default()).unwrap();
    assert_eq!(rows.iter().map(|r| r.k).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    for row in &rows {
        assert!(row.equilibrium_converged);
        assert!((row.equilibrium - row.bound).abs() <= 1e-9, "{row:?}");
        for baseline in [row.nlhf, row.rlhf, row.uniform] {
            assert!(baseline <= row.bound + 1e-12, "{row:?}");
        }
    }
    let json = serde_json::to_string(&rows[0]).unwrap();
    for field in ["\"k\"", "\"bound\"", "\"equilibrium\"", "\"nlhf\"", "\"rlhf\"", "\"uniform\""] {
        assert!(json.contains(field), "{json}");
    }
    assert!(matches!(compare(&pop, 0, &EquilibriumOptions::default()), Err(Error::Input { .. })));
}

/// The fitted rewards are the ridge maximum-likelihood point: the gradient of
/// the objective (recomputed here from its definition) vanishes to rounding,
/// for mixed, unanimous and few-type populations alike.
#[test]
fn rlhf_rewards_are_stationary() {
    use ualign::baselines::BT_RIDGE;
    let mut r = rng(31);
    for case in 0..60 {
        let n = 2 + case % 9;
        let m = [1, 2, 16][case % 3];
        let pop = random_population(&mut r, n, m, [0.0, 0.5, 1.0][case % 3]);
        let p = pairwise(&pop);
        let rewards = rlhf_rewards(&pop);
        let mean: f64 = rewards.iter().sum::<f64>() / n as f64;
        // The objective is shift-invariant except for the ridge, whose optimum has mean zero.
        assert!(mean.abs() < 1e-12, "case {case}: mean {mean}");
        for x in 0..n {
            let mut g = -BT_RIDGE * rewards[x];
            for y in 0..n {
                if x != y {
                    let s = 1.0 / (1.0 + (rewards[y] - rewards[x]).exp());
                    g += p[x][y] * (1.0 - s) - p[y][x] * s;
                }
            }
            assert!(g.abs() < 1e-10, "case {case}: gradient {g} at response {x}: {rewards:?}");
        }
    }
}
