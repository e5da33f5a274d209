//! The CPU deviation kernels against the brute-force oracle (docs/theory.md).
mod common;

use common::{oracle, random_policy, random_population, rng};
use ualign::cpu;

#[test]
fn deviation_matches_brute_force_on_random_populations() {
    let mut r = rng(7);
    let mut worst_rank: f64 = 0.0;
    let mut worst_pl: f64 = 0.0;
    for case in 0..240 {
        let n = 2 + case % 4; // 2..5
        let k = 1 + (case / 4) % 5; // 1..5
        let m = 1 + case % 3;
        let pl_fraction = [0.0, 1.0, 0.5][case % 3];
        let pop = random_population(&mut r, n, m, pl_fraction);
        let policy = random_policy(&mut r, n);
        let fast = cpu::deviation(&pop, &policy, k);
        let slow = oracle::deviation(&pop, &policy, k);
        let err = fast.iter().zip(&slow).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        if common::is_pl(&pop) {
            worst_pl = worst_pl.max(err);
            assert!(err < 1e-9, "case {case}: PL error {err}: {fast:?} vs {slow:?}");
        } else {
            worst_rank = worst_rank.max(err);
            assert!(err < 1e-12, "case {case}: ranking error {err}: {fast:?} vs {slow:?}");
        }
    }
    eprintln!("worst error: rankings {worst_rank:e}, Plackett–Luce {worst_pl:e}");
}

/// Widely spread scores (up to the 80-nat limit) need the longest grids.
#[test]
fn plackett_luce_stays_exact_for_widely_spread_scores() {
    use rand::Rng;
    let mut r = rng(11);
    for case in 0..40 {
        let n = 2 + case % 3;
        let k = 1 + case % 4;
        let span = [5.0, 20.0, 40.0, 79.0][case % 4];
        let scores: Vec<f64> = (0..n)
            .map(|i| {
                if i == 0 {
                    0.0
                } else if i == 1 {
                    -span
                } else {
                    r.random_range(-span..0.0)
                }
            })
            .collect();
        let pop = ualign::Population::new(n, None, vec![ualign::UserType::scores(1.0, scores)]).unwrap();
        let policy = random_policy(&mut r, n);
        let fast = cpu::deviation(&pop, &policy, k);
        let slow = oracle::deviation(&pop, &policy, k);
        let err = fast.iter().zip(&slow).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-9, "case {case} span {span}: error {err}");
    }
}

/// The coarser grid of the f32 GPU kernel must leave room under its 1e-5 budget.
#[test]
fn the_f32_grid_alone_costs_less_than_a_microunit() {
    let mut r = rng(12);
    for case in 0..60 {
        let n = 2 + case % 4;
        let k = 1 + case % 5;
        let pop = random_population(&mut r, n, 2, 1.0);
        let policy = random_policy(&mut r, n);
        let mut coarse = vec![0.0; n];
        let mut scratch = cpu::PlScratch::default();
        for t in &pop.types {
            if let ualign::Kind::Scores(s) = &t.kind {
                cpu::deviation_pl(s, t.weight, &policy, k, &cpu::GRID_F32, &mut coarse, &mut scratch);
            }
        }
        let exact = oracle::deviation(&pop, &policy, k);
        let err = coarse.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-6, "case {case}: f32-grid error {err}");
    }
}
