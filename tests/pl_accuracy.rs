//! Plackett–Luce accuracy at every size the engine accepts (k ≤ 1,000,
//! n ≤ 256, score spreads 0–50), against references that share nothing
//! with the kernel's integral:
//!
//! - equal scores: a Plackett–Luce type with equal worths is the uniformly
//!   random ranking, so `g(y)` is the ranking closed form averaged over the
//!   set of responses below `y`, a uniformly random subset of a uniformly
//!   random size (enumerated); under the uniform policy it is `1/(k+1)`;
//! - n ≤ 4: the sum over every count vector of the k draws (multinomial
//!   probabilities in log space), with the tie convention applied directly;
//! - everything: the sum rule `Σ_y π(y) g(y) = 1/(k+1)`.
mod common;

use ualign::{cpu, Population, UserType};

fn pl_population(scores: Vec<f64>) -> Population {
    Population::new(scores.len(), None, vec![UserType::scores(1.0, scores)]).unwrap()
}

fn worst_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// `(1/(k+1)) Σ_{i=0..k} L^i B^{k−i}`: the ranking closed form of `g`, summed
/// term by term (every term non-negative).
fn ranking_form(low: f64, high: f64, k: usize) -> f64 {
    let mut sum = 0.0;
    let mut high_power = 1.0;
    for i in 0..=k {
        sum += high_power * low.powi((k - i) as i32);
        high_power *= high;
    }
    sum / (k as f64 + 1.0)
}

/// `g(y)` of the uniformly random ranking over `n ≤ 16` responses: the set
/// below `y` is each subset `S` of the others with probability
/// `1 / (n · C(n−1, |S|))`.
fn equal_scores_reference(policy: &[f64], k: usize) -> Vec<f64> {
    let n = policy.len();
    let mut binomial = vec![1.0f64; n];
    for size in 1..n {
        binomial[size] = binomial[size - 1] * (n - size) as f64 / size as f64;
    }
    (0..n)
        .map(|y| {
            let others: Vec<usize> = (0..n).filter(|&z| z != y).collect();
            (0u32..1 << (n - 1))
                .map(|mask| {
                    let below: f64 =
                        others.iter().enumerate().filter(|(b, _)| mask >> b & 1 == 1).map(|(_, &z)| policy[z]).sum();
                    let size = mask.count_ones() as usize;
                    ranking_form(below, below + policy[y], k) / (n as f64 * binomial[size])
                })
                .sum()
        })
        .collect()
}

/// `g(y)` for `n ≤ 4` by summing over every count vector `c` of the k draws:
/// probability `k!/Π c_z! Π π_z^{c_z}`, and `y` wins with the probability the
/// type chooses it among the distinct responses on offer, split over its
/// `c_y + 1` copies.
fn count_vector_reference(scores: &[f64], policy: &[f64], k: usize) -> Vec<f64> {
    let n = scores.len();
    let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let worth: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
    let ln_factorial: Vec<f64> = (0..=k)
        .scan(0.0, |acc, i| {
            if i > 0 {
                *acc += (i as f64).ln();
            }
            Some(*acc)
        })
        .collect();
    let mut g = vec![0.0; n];
    let mut counts = vec![0usize; n];
    fn visit(z: usize, left: usize, counts: &mut [usize], f: &mut dyn FnMut(&[usize])) {
        if z + 1 == counts.len() {
            counts[z] = left;
            f(counts);
            return;
        }
        for c in 0..=left {
            counts[z] = c;
            visit(z + 1, left - c, counts, f);
        }
    }
    visit(0, k, &mut counts, &mut |c| {
        let mut ln_p = ln_factorial[k];
        for z in 0..n {
            if c[z] > 0 {
                if policy[z] == 0.0 {
                    return;
                }
                ln_p += c[z] as f64 * policy[z].ln() - ln_factorial[c[z]];
            }
        }
        let p = ln_p.exp();
        let offered: f64 = (0..n).filter(|&z| c[z] > 0).map(|z| worth[z]).sum();
        for y in 0..n {
            let total = if c[y] > 0 { offered } else { offered + worth[y] };
            g[y] += p * worth[y] / total / (c[y] + 1) as f64;
        }
    });
    g
}

#[test]
fn equal_scores_under_the_uniform_policy_give_one_over_k_plus_one() {
    // Many equal scores (errors up to 3.9e-7 with the old grid), large k, and n = 256.
    let mut worst: f64 = 0.0;
    for (n, k) in [(24, 100), (64, 100), (128, 100), (64, 171), (8, 1000), (64, 1000), (256, 300), (256, 64)] {
        let pop = pl_population(vec![0.0; n]);
        let g = cpu::deviation(&pop, &vec![1.0 / n as f64; n], k);
        let exact = 1.0 / (k as f64 + 1.0);
        let err = g.iter().map(|v| (v - exact).abs()).fold(0.0, f64::max);
        assert!(err <= 1e-14, "n = {n}, k = {k}: error {err:.2e}");
        worst = worst.max(err);
    }
    eprintln!("equal scores, uniform policy: worst error {worst:.1e}");
}

#[test]
fn equal_scores_match_the_uniformly_random_ranking_under_any_policy() {
    let mut rng = common::rng(71);
    let mut worst: f64 = 0.0;
    for case in 0..24 {
        let n = [3, 6, 9, 12][case % 4];
        let k = [1, 2, 7, 40, 171, 500, 1000][case % 7];
        let policy = common::random_policy(&mut rng, n);
        let g = cpu::deviation(&pl_population(vec![1.5; n]), &policy, k);
        worst = worst.max(worst_gap(&g, &equal_scores_reference(&policy, k)));
    }
    eprintln!("equal scores, any policy: worst error {worst:.1e}");
    assert!(worst <= 1e-13, "worst error {worst:.2e}");
}

#[test]
fn few_responses_match_the_sum_over_count_vectors_at_every_k() {
    use rand::Rng;
    let mut rng = common::rng(72);
    let mut worst: f64 = 0.0;
    for case in 0..30 {
        let n = [2, 3, 4][case % 3];
        let k = match n {
            2 => [1, 3, 171, 600, 1000][case % 5],
            3 => [2, 30, 171, 400, 1000][case % 5],
            _ => [5, 40, 120, 171, 200][case % 5],
        };
        let spread = [0.0, 0.3, 2.0, 10.0, 30.0, 50.0][case % 6];
        let scores: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..=spread)).collect();
        let policy = common::random_policy(&mut rng, n);
        let g = cpu::deviation(&pl_population(scores.clone()), &policy, k);
        let err = worst_gap(&g, &count_vector_reference(&scores, &policy, k));
        assert!(err <= 1e-12, "n = {n}, k = {k}, spread {spread}: error {err:.2e}");
        worst = worst.max(err);
    }
    eprintln!("n <= 4, k <= 1,000, spreads 0-50: worst error {worst:.1e}");
}

#[test]
fn two_responses_at_k_171_and_beyond_are_finite_and_exact() {
    // Worths (2, 1), the bundled bt_2_1 population: k! overflows f64 from k = 171.
    let scores = vec![2f64.ln(), 0.0];
    for k in [170, 171, 200, 1000] {
        let g = cpu::deviation(&pl_population(scores.clone()), &[0.5, 0.5], k);
        let exact = count_vector_reference(&scores, &[0.5, 0.5], k);
        assert!(g.iter().all(|v| v.is_finite()), "k = {k}: {g:?}");
        assert!(worst_gap(&g, &exact) <= 1e-14, "k = {k}: {g:?} against {exact:?}");
    }
}

#[test]
fn the_sum_rule_holds_up_to_n_256_and_k_1000_with_spreads_up_to_50() {
    use rand::Rng;
    let mut rng = common::rng(73);
    let mut worst: f64 = 0.0;
    let cases =
        [(256, 40, 50.0), (256, 100, 1.0), (128, 300, 8.0), (64, 1000, 50.0), (64, 1000, 0.5), (16, 1000, 20.0)];
    for (n, k, spread) in cases {
        let scores: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..=spread)).collect();
        let policy = common::random_policy(&mut rng, n);
        let g = cpu::deviation(&pl_population(scores), &policy, k);
        assert!(g.iter().all(|v| v.is_finite() && *v >= 0.0 && *v <= 1.0), "n = {n}, k = {k}");
        let residual: f64 = g.iter().zip(&policy).map(|(g, p)| g * p).sum::<f64>() - 1.0 / (k as f64 + 1.0);
        assert!(residual.abs() <= 1e-13, "n = {n}, k = {k}, spread {spread}: sum rule off by {residual:.2e}");
        worst = worst.max(residual.abs());
    }
    eprintln!("worst sum-rule residual: {worst:.1e}");
}
