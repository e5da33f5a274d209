//! Self-play (docs/theory.md): default convergence, the planted Condorcet winner, the
//! no-regret identity, checkpoints, batches and bad options.
mod common;

use common::{oracle, random_population, rng};
use rand::Rng;
use ualign::baselines::{nlhf, pairwise};
use ualign::cpu::checkpoint_schedule;
use ualign::dynamics::{solve, solve_batch, Dynamics, SolveOptions};
use ualign::metrics::evaluate;
use ualign::{Error, Population, UserType};

const ALL: [Dynamics; 4] = [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient];

#[test]
fn default_solve_reaches_1e_9_for_k_2_to_8() {
    let mut r = rng(21);
    let opts = SolveOptions::default();
    for k in 2..=8 {
        for (kind, pl_fraction, n, m) in
            [("rankings", 0.0, 8, 24), ("plackett-luce", 1.0, 5, 3), ("mixture", 0.5, 6, 6)]
        {
            for _ in 0..2 {
                let pop = random_population(&mut r, n, m, pl_fraction);
                let s = solve(&pop, k, &opts).unwrap();
                assert!(
                    s.converged,
                    "{kind} k={k}: E = {:e} after {} iterations",
                    s.evaluation.exploitability, s.iterations
                );
                assert!(s.evaluation.exploitability <= 1e-9);
                // Re-evaluated independently, R_k = k/(k+1) to within the tolerance.
                let e = evaluate(&pop, &s.policy, k, None).unwrap();
                assert!((e.robust_alignment - k as f64 / (k as f64 + 1.0)).abs() <= 1e-9 + 1e-15);
            }
        }
    }
}

/// Weight 1/2 + ε on rankings with the winner (response 0) first, 1/2 − ε on
/// rankings with it last; the other responses in random orders.
fn planted_winner(r: &mut impl Rng, n: usize, eps: f64) -> Population {
    let mut types = Vec::new();
    for (group, weight) in [(true, 0.5 + eps), (false, 0.5 - eps)] {
        for _ in 0..3 {
            let mut rest: Vec<u32> = (1..n as u32).collect();
            for i in (1..rest.len()).rev() {
                rest.swap(i, r.random_range(0..=i));
            }
            let ranking = if group { [vec![0], rest].concat() } else { [rest, vec![0]].concat() };
            types.push(UserType::ranking(weight / 3.0, ranking));
        }
    }
    Population::new(n, None, types).unwrap()
}

#[test]
fn planted_condorcet_winner_nlhf_stays_while_equilibrium_reaches_bound() {
    let mut r = rng(22);
    for (n, eps) in [(4, 0.05), (6, 0.1)] {
        let pop = planted_winner(&mut r, n, eps);
        let pairs = pairwise(&pop);
        let winner_vs_runner_up = (1..n).map(|y| pairs[0][y]).fold(f64::INFINITY, f64::min);
        assert!((winner_vs_runner_up - (0.5 + eps)).abs() < 1e-12);
        let nl = nlhf(&pop);
        assert!((nl[0] - 1.0).abs() < 1e-12, "NLHF plays the Condorcet winner: {nl:?}");
        for k in 1..=10 {
            let bound = k as f64 / (k as f64 + 1.0);
            let nl_r = evaluate(&pop, &nl, k, None).unwrap().robust_alignment;
            // δ_w against w itself scores k/(k+1): binding only at k = 1.
            assert!((nl_r - winner_vs_runner_up.min(bound)).abs() < 1e-12, "k={k}: NLHF R = {nl_r}");
            if k >= 2 {
                let s = solve(&pop, k, &SolveOptions::default()).unwrap();
                assert!(s.converged && (s.evaluation.robust_alignment - bound).abs() <= 1e-9, "k={k}: {s:?}");
                assert!(s.evaluation.robust_alignment > nl_r + 0.05, "k={k}: the equilibrium beats NLHF clearly");
            }
        }
    }
}

#[test]
fn no_regret_output_matches_independent_mixture_of_products() {
    let mut r = rng(23);
    for (case, &dynamics) in ALL.iter().cycle().take(8).enumerate() {
        let n = 3 + case % 2;
        let k = 1 + case % 3;
        let pop = random_population(&mut r, n, 3, [0.0, 0.5][case / 4]);
        let horizon = 25;
        let opts = SolveOptions { dynamics, eta: 0.7, iters: horizon, tol: 0.0, checkpoints: 5 };
        let s = solve(&pop, k, &opts).unwrap();
        assert_eq!(s.iterations, horizon);
        let bound = k as f64 / (k as f64 + 1.0);
        assert!((s.average_robust_alignment - (bound - s.regret / horizon as f64)).abs() < 1e-12);
        // R(μ_T) from scratch: the brute-force deviation of each iterate π_t
        // (re-run to t iterations; the dynamics are deterministic), averaged.
        let mut mean = vec![0.0; n];
        for t in 1..=horizon {
            let pi_t = solve(&pop, k, &SolveOptions { iters: t, ..opts.clone() }).unwrap().policy;
            for (acc, g) in mean.iter_mut().zip(oracle::deviation(&pop, &pi_t, k)) {
                *acc += g / horizon as f64;
            }
        }
        let independent = 1.0 - mean.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let tol = if common::is_pl(&pop) { 1e-9 } else { 1e-12 };
        assert!(
            (s.average_robust_alignment - independent).abs() < tol,
            "{dynamics:?}: {} vs {independent}",
            s.average_robust_alignment
        );
        let last = s.history.last().unwrap();
        assert!((last.average_robust_alignment - s.average_robust_alignment).abs() < 1e-15);
        assert!((last.average_regret * horizon as f64 - s.regret).abs() < 1e-12);
    }
}

#[test]
fn checkpoints_are_log_spaced_and_include_first_and_last() {
    let schedule = checkpoint_schedule(1000, 4);
    assert_eq!(schedule, vec![1, 10, 100, 1000]);
    let mut r = rng(24);
    let pop = random_population(&mut r, 6, 5, 0.0);
    let opts = SolveOptions { iters: 500, tol: 0.0, checkpoints: 8, ..SolveOptions::default() };
    let s = solve(&pop, 3, &opts).unwrap();
    let its: Vec<usize> = s.history.iter().map(|c| c.iteration).collect();
    assert_eq!(its.first(), Some(&1));
    assert_eq!(its.last(), Some(&500));
    assert!(its.windows(2).all(|w| w[0] < w[1]), "{its:?}");
    // A run that stops early still records its last iteration.
    let early = solve(&pop, 3, &SolveOptions { checkpoints: 8, ..SolveOptions::default() }).unwrap();
    assert!(early.converged);
    assert_eq!(early.history.last().unwrap().iteration, early.iterations);
    assert!(early.history.last().unwrap().exploitability <= 1e-9);
}

#[test]
fn every_dynamics_converges_last_iterate_for_k_2() {
    let mut r = rng(25);
    for &dynamics in &ALL {
        let eta = if dynamics == Dynamics::Mwu { 4.0 } else { 1.0 };
        let opts = SolveOptions { dynamics, eta, iters: 200_000, tol: 1e-9, checkpoints: 0 };
        for _ in 0..3 {
            let pop = random_population(&mut r, 6, 10, 0.0);
            let s = solve(&pop, 2, &opts).unwrap();
            assert!(s.converged, "{dynamics:?}: E = {:e}", s.evaluation.exploitability);
        }
    }
}

/// k = 1 is the NLHF game. On the weighted Condorcet cycle of docs/theory.md ("Worked values") its
/// equilibrium is the maximal lottery (3/7, 1/7, 3/7): projected gradient
/// ascent cycles around it and is reported as not converged, while
/// extragradient converges to it.
#[test]
fn k_one_pga_cycles_on_a_condorcet_cycle_and_extragradient_converges() {
    let pop = common::weighted_cycle();
    let lottery = [3.0 / 7.0, 1.0 / 7.0, 3.0 / 7.0];
    let pga = SolveOptions { dynamics: Dynamics::Pga, iters: 2000, ..SolveOptions::default() };
    let s = solve(&pop, 1, &pga).unwrap();
    assert!(!s.converged && s.iterations == 2000, "PGA at k = 1 should not converge: {s:?}");
    // The late iterates go round the cycle: each response leads at some point,
    // and none comes near the equilibrium.
    let mut leaders = [false; 3];
    for t in 1900..=2000 {
        let pi = solve(&pop, 1, &SolveOptions { iters: t, ..pga.clone() }).unwrap().policy;
        let e = evaluate(&pop, &pi, 1, None).unwrap().exploitability;
        assert!(e > 1e-3, "t = {t}: PGA came within E = {e:e} of the equilibrium");
        let lead = (0..3).max_by(|&a, &b| pi[a].total_cmp(&pi[b])).unwrap();
        leaders[lead] = true;
    }
    assert_eq!(leaders, [true; 3], "PGA's late iterates should cycle through all three responses");
    let eg = SolveOptions { dynamics: Dynamics::Extragradient, eta: 0.5, ..SolveOptions::default() };
    let s = solve(&pop, 1, &eg).unwrap();
    assert!(s.converged, "extragradient at k = 1: E = {:e}", s.evaluation.exploitability);
    for (p, q) in s.policy.iter().zip(lottery) {
        assert!((p - q).abs() < 1e-6, "extragradient reached {:?}, the maximal lottery is {lottery:?}", s.policy);
    }
}

#[test]
fn batch_matches_single_runs_in_order() {
    let mut r = rng(26);
    let pops: Vec<Population> = (0..12).map(|i| random_population(&mut r, 4 + i % 4, 6, [0.0, 0.5][i % 2])).collect();
    let opts = SolveOptions { iters: 300, ..SolveOptions::default() };
    let batch = solve_batch(&pops, 3, &opts);
    assert_eq!(batch.len(), pops.len());
    for (pop, got) in pops.iter().zip(batch) {
        assert_eq!(got.unwrap(), solve(pop, 3, &opts).unwrap());
    }
}

#[test]
fn bad_options_are_input_errors() {
    let mut r = rng(27);
    let pop = random_population(&mut r, 4, 3, 0.0);
    let d = SolveOptions::default();
    let bad = [
        (0, d.clone()),
        (2, SolveOptions { eta: 0.0, ..d.clone() }),
        (2, SolveOptions { eta: -1.0, ..d.clone() }),
        (2, SolveOptions { eta: f64::NAN, ..d.clone() }),
        (2, SolveOptions { eta: f64::INFINITY, ..d.clone() }),
        (2, SolveOptions { iters: 0, ..d.clone() }),
        (2, SolveOptions { tol: -1e-3, ..d.clone() }),
        (2, SolveOptions { tol: f64::NAN, ..d.clone() }),
    ];
    for (k, opts) in bad {
        let err = solve(&pop, k, &opts).unwrap_err();
        assert!(matches!(err, Error::Input { .. }), "k={k} {opts:?}: {err}");
        assert!(!err.to_string().contains('\n'));
        for result in solve_batch(std::slice::from_ref(&pop), k, &opts) {
            assert!(matches!(result, Err(Error::Input { .. })));
        }
    }
}
