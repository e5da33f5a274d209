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

/// The tapered f64 grid keeps Plackett–Luce types at the rankings' 1e-12,
/// also for scores spread over tens of nats.
#[test]
fn plackett_luce_meets_the_ranking_bar() {
    use ualign::{Kind, Population, UserType};
    let mut r = rng(21);
    for case in 0..200 {
        let n = 2 + case % 4;
        let k = 1 + (case / 4) % 6;
        let stretch = [1.0, 3.0, 10.0][case % 3];
        let pop = random_population(&mut r, n, 1 + case % 3, 1.0);
        let types = pop
            .types
            .iter()
            .map(|t| match &t.kind {
                Kind::Scores(s) => UserType::scores(t.weight, s.iter().map(|v| v * stretch).collect()),
                Kind::Ranking(_) | Kind::WeakOrder(_) => unreachable!("a Plackett–Luce population"),
            })
            .collect();
        let pop = Population::new(n, None, types).unwrap();
        let policy = random_policy(&mut r, n);
        let fast = cpu::deviation(&pop, &policy, k);
        let slow = oracle::deviation(&pop, &policy, k);
        let err = fast.iter().zip(&slow).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-12, "case {case}: error {err}: {fast:?} vs {slow:?}");
    }
}

/// Beyond the oracle's reach, the prefix/suffix kernel on its tapered grid
/// agrees with the first kernel on the plain grid (both within 1e-12 of the
/// integral), including policies with zero entries.
#[test]
fn plackett_luce_matches_the_reference_kernel_at_large_n_and_k() {
    use rand::Rng;
    use ualign::cpu::deviation_pl_reference::{deviation_pl_reference, ReferenceScratch};
    let plain = cpu::PlGrid { step: 0.3, s_lo: 1e-14, tail: 40.0, taper: false };
    let mut r = rng(22);
    for (case, &(n, k)) in [(16, 4), (32, 16), (24, 32), (12, 64), (64, 8)].iter().enumerate() {
        let scores: Vec<f64> = (0..n).map(|_| r.random_range(-3.0..3.0)).collect();
        let mut policy = random_policy(&mut r, n);
        if case % 2 == 1 {
            policy[0] = 0.0;
            policy[n / 2] = 0.0;
            let total: f64 = policy.iter().sum();
            policy.iter_mut().for_each(|p| *p /= total);
        }
        let mut fast = vec![0.0; n];
        let mut slow = vec![0.0; n];
        cpu::deviation_pl(&scores, 0.7, &policy, k, &cpu::GRID_F64, &mut fast, &mut cpu::PlScratch::default());
        deviation_pl_reference(&scores, 0.7, &policy, k, &plain, &mut slow, &mut ReferenceScratch::default());
        let err = fast.iter().zip(&slow).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-12, "n {n} k {k}: error {err}");
    }
}

/// The ranking closed form's power sum against the plain sum of its terms,
/// for every k to 64, including p = 0 (L = B) and B = 0.
#[test]
fn power_sum_matches_the_sum_of_its_terms() {
    use rand::Rng;
    use ualign::cpu::deviation_ranking::power_sum;
    let mut r = rng(23);
    for k in 0..=64usize {
        for case in 0..50 {
            let b: f64 = if case == 0 { 0.0 } else { r.random_range(0.0..1.0) };
            let l = if case == 1 { b } else { b + r.random_range(0.0..1.0) * (1.0 - b) };
            let direct: f64 = (0..=k).map(|i| l.powi(i as i32) * b.powi((k - i) as i32)).sum();
            let fast = power_sum(l, b, k);
            assert!((fast - direct).abs() <= 1e-13 * direct.max(f64::MIN_POSITIVE), "k {k}: {fast} vs {direct}");
        }
    }
}

/// The portable Plackett–Luce path (no AVX2/FMA), the four-lane AVX2 path
/// and the dispatched one (eight lanes with AVX-512 where the CPU has it)
/// compute the same sums: they agree to rounding, for group sizes 1 to 9
/// (partial vector groups and two groups included), literal and general k,
/// and k on both sides of the blocked convolutions (full and partial blocks).
#[test]
fn plackett_luce_portable_path_matches_the_dispatched_one() {
    use rand::Rng;
    let mut r = rng(24);
    for (case, &(n, m, k)) in
        [(5, 1, 3), (9, 3, 4), (16, 4, 8), (12, 5, 11), (20, 6, 16), (7, 2, 30), (10, 9, 9), (14, 8, 7), (11, 7, 13)]
            .iter()
            .enumerate()
    {
        let scores: Vec<Vec<f64>> = (0..m).map(|_| (0..n).map(|_| r.random_range(-4.0..4.0)).collect()).collect();
        let types: Vec<(f64, &[f64])> = scores.iter().map(|s| (1.0 / m as f64, s.as_slice())).collect();
        let mut policy = random_policy(&mut r, n);
        if case % 2 == 0 {
            policy[1] = 0.0;
            let total: f64 = policy.iter().sum();
            policy.iter_mut().for_each(|p| *p /= total);
        }
        let mut fast = vec![0.0; n];
        let mut avx2 = vec![0.0; n];
        let mut portable = vec![0.0; n];
        let mut scratch = cpu::PlScratch::default();
        cpu::deviation_pl_types(&types, &policy, k, &cpu::GRID_F64, &mut fast, &mut scratch);
        cpu::deviation_pl::deviation_pl_types_avx2(&types, &policy, k, &cpu::GRID_F64, &mut avx2, &mut scratch);
        cpu::deviation_pl::deviation_pl_types_portable(&types, &policy, k, &cpu::GRID_F64, &mut portable, &mut scratch);
        for (name, other) in [("AVX2", &avx2), ("portable", &portable)] {
            let err = fast.iter().zip(other).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(err < 1e-14, "{name}: n {n} m {m} k {k}: {err}");
        }
        // The sum rule Σ π(y) g(y) = 1/(k+1) holds for every population.
        let sum: f64 = policy.iter().zip(&fast).map(|(p, g)| p * g).sum();
        assert!((sum - 1.0 / (k as f64 + 1.0)).abs() < 1e-12, "n {n} m {m} k {k}: sum rule {sum}");
    }
}

/// Rankings longer than one chunk of the ranking pass (and ragged ends) give
/// bit for bit the one-response-at-a-time closed form `weight ·
/// power_sum(L, B, k) / (k + 1)`, for Horner's and the doubling range of k.
#[test]
fn chunked_ranking_pass_equals_the_closed_form_per_response() {
    use rand::seq::SliceRandom;
    use ualign::cpu::deviation_ranking::{deviation_ranking, power_sum};
    let mut r = rng(29);
    let mut compared = 0;
    for n in [1, 7, 8, 9, 16, 23, 40] {
        for k in [1, 2, 4, 8, 9, 16, 17, 33, 64] {
            let policy = random_policy(&mut r, n);
            let mut ranking: Vec<u32> = (0..n as u32).collect();
            ranking.shuffle(&mut r);
            let mut got = vec![0.25; n];
            deviation_ranking(&ranking, 0.7, &policy, k, &mut got);
            let mut want = vec![0.25; n];
            let mut below = 0.0;
            for &y in ranking.iter().rev() {
                let at_or_below = below + policy[y as usize];
                want[y as usize] += 0.7 / (k as f64 + 1.0) * power_sum(at_or_below, below, k);
                below = at_or_below;
            }
            assert_eq!(got, want, "n = {n}, k = {k}");
            compared += 1;
        }
    }
    assert_eq!(compared, 63);
}

/// The AVX-512 register kernel for populations of at most 16 responses
/// against the one-type-at-a-time ranking pass: every n to 16 (padded
/// registers), Horner's, the k = 4 and the doubling power sums, mixed
/// populations, and one scratch reused across populations (its cached
/// inverse rankings must be refreshed, never trusted).
#[test]
fn avx512_ranking_kernel_matches_the_ranking_pass() {
    use ualign::cpu::deviation_ranking::deviation_ranking;
    use ualign::cpu::deviation_ranking_avx512::{available, rankings_into, Done};
    use ualign::Kind;
    if !available(16) {
        eprintln!("no AVX-512F on this CPU: the register kernel is not used here");
        assert_eq!(
            rankings_into(
                &random_population(&mut rng(1), 4, 2, 0.0),
                &[0.25; 4],
                2,
                &mut [0.0; 4],
                &mut Default::default()
            ),
            Done::Nothing
        );
        return;
    }
    let mut r = rng(30);
    let mut scratch = Default::default();
    for case in 0..300 {
        let n = 1 + case % 16;
        let k = [1, 2, 3, 4, 5, 8, 13, 16, 17, 32, 64][case % 11];
        let m = 1 + case % 7;
        let pl_fraction = [0.0, 0.0, 0.4][case % 3];
        let pop = random_population(&mut r, n, m, pl_fraction);
        let policy = random_policy(&mut r, n);
        let mut got = vec![0.5; n];
        let done = rankings_into(&pop, &policy, k, &mut got, &mut scratch);
        let mut want = vec![0.5; n];
        for t in &pop.types {
            if let Kind::Ranking(ranking) = &t.kind {
                deviation_ranking(ranking, t.weight, &policy, k, &mut want);
            }
        }
        let expected =
            if pop.types.iter().all(|t| matches!(t.kind, Kind::Ranking(_))) { Done::All } else { Done::Rankings };
        assert_eq!(done, expected, "case {case}");
        for (y, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-14 * b.abs(), "case {case} n {n} k {k} y {y}: {a} vs {b}");
        }
    }
    // A population changed in place keeps the address of its types, which
    // the scratch takes as a hint only: the cached rankings are still
    // compared, so the result follows the change.
    let mut pop = random_population(&mut r, 9, 5, 0.0);
    let policy = random_policy(&mut r, 9);
    for swap in 0..4 {
        if let Kind::Ranking(ranking) = &mut pop.types[swap % 5].kind {
            ranking.swap(0, 8 - swap);
        }
        let mut got = vec![0.0; 9];
        assert_eq!(rankings_into(&pop, &policy, 4, &mut got, &mut scratch), Done::All);
        let mut want = vec![0.0; 9];
        for t in &pop.types {
            if let Kind::Ranking(ranking) = &t.kind {
                deviation_ranking(ranking, t.weight, &policy, 4, &mut want);
            }
        }
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-14 * b.abs(), "after in-place change {swap}: {a} vs {b}");
        }
    }
    // Slices shorter than n are left to the bounds-checked pass.
    let pop = random_population(&mut r, 12, 3, 0.0);
    assert_eq!(rankings_into(&pop, &[0.1; 10], 2, &mut [0.0; 12], &mut scratch), Done::Nothing);
    assert_eq!(rankings_into(&pop, &[1.0 / 12.0; 12], 2, &mut [0.0; 11], &mut scratch), Done::Nothing);
}
