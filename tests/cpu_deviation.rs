//! The CPU deviation kernels against the brute-force oracle (SPEC §8).
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
