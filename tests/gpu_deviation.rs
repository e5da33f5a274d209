//! The deviation kernels on the GPU (f32) against the exact CPU engine (f64):
//! docs/theory.md asks 1e-5 absolute on g.
mod common;
mod gpu_util;

use common::{random_policy, random_population, rng};
use rand::Rng;
use ualign::{cpu, Population};

const TOLERANCE: f64 = 1e-5;

/// Runs one GPU batch and compares every vector with the CPU engine;
/// returns the worst error over (ranking-only, with PL) populations.
fn compare(pops: &[Population], policies: &[Vec<f64>], k: usize) -> (f64, f64) {
    let Some(engine) = gpu_util::engine() else { return (0.0, 0.0) };
    let gpu = match engine.deviation_batch(pops, policies, k) {
        Ok(g) => g,
        // lavapipe ends long shader loops: big PL work is refused there, never truncated.
        Err(e @ ualign::Error::Limit { .. }) if engine.is_software() => {
            eprintln!("refused on the software adapter (as documented): {e}");
            return (0.0, 0.0);
        }
        Err(e) => panic!("{e}"),
    };
    let (mut worst_rank, mut worst_pl) = (0.0f64, 0.0f64);
    for (i, (pop, policy)) in pops.iter().zip(policies).enumerate() {
        let exact = cpu::deviation(pop, policy, k);
        let err = gpu_util::max_abs_diff(&gpu[i], &exact);
        assert!(
            err <= TOLERANCE,
            "population {i} (n = {}, m = {}, k = {k}): GPU error {err:e}\npolicy {policy:?}\nGPU {:?}\nCPU {exact:?}",
            pop.responses,
            pop.types.len(),
            gpu[i]
        );
        if common::is_pl(pop) {
            worst_pl = worst_pl.max(err);
        } else {
            worst_rank = worst_rank.max(err);
        }
    }
    (worst_rank, worst_pl)
}

#[test]
fn gpu_matches_cpu_on_2000_small_random_populations() {
    if gpu_util::engine().is_none() {
        return;
    }
    let mut r = rng(11);
    let mut total = 0;
    let (mut worst_rank, mut worst_pl) = (0.0f64, 0.0f64);
    // One batch per k (the kernel's k is per dispatch); n, m and the type mix vary inside.
    for k in 1..=16 {
        let count = 130;
        let mut pops = Vec::new();
        let mut policies = Vec::new();
        // PL work per lane must fit llvmpipe's loop budget (see gpu::SOFTWARE_LOOP_BUDGET).
        let pl_n_max = (1900 / (2 + 2 * k + k * (k + 1) / 2)).clamp(2, 16);
        for case in 0..count {
            let n = if case % 3 == 0 { r.random_range(1..=16) } else { r.random_range(1..=pl_n_max) };
            let m = r.random_range(1..=12);
            let pl_fraction = [0.0, 1.0, 0.5][case % 3];
            let pop = random_population(&mut r, n, m, pl_fraction);
            policies.push(random_policy(&mut r, n));
            pops.push(pop);
        }
        let (a, b) = compare(&pops, &policies, k);
        worst_rank = worst_rank.max(a);
        worst_pl = worst_pl.max(b);
        total += count;
    }
    assert!(total >= 2000);
    eprintln!("{total} populations: worst |GPU − CPU| rankings {worst_rank:e}, with PL types {worst_pl:e}");
}

#[test]
fn gpu_matches_cpu_at_the_largest_tested_sizes() {
    if gpu_util::engine().is_none() {
        return;
    }
    let mut r = rng(12);
    // n up to 64, m up to 128, k up to 16: rankings, PL and mixtures.
    for &(n, m, k, pl_fraction) in
        &[(64, 128, 16, 0.0), (64, 128, 16, 0.5), (64, 32, 16, 1.0), (33, 128, 9, 0.3), (64, 128, 4, 1.0)]
    {
        let pops: Vec<Population> = (0..3).map(|_| random_population(&mut r, n, m, pl_fraction)).collect();
        let policies: Vec<Vec<f64>> = (0..3).map(|_| random_policy(&mut r, n)).collect();
        let (a, b) = compare(&pops, &policies, k);
        eprintln!("n = {n}, m = {m}, k = {k}, PL fraction {pl_fraction}: worst error rankings {a:e}, PL {b:e}");
    }
}

#[test]
fn gpu_handles_the_kernel_limits_n_256_and_k_64() {
    if gpu_util::engine().is_none() {
        return;
    }
    let mut r = rng(13);
    let pops = vec![random_population(&mut r, 256, 64, 0.0), random_population(&mut r, 200, 3, 0.0)];
    let policies: Vec<Vec<f64>> = pops.iter().map(|p| random_policy(&mut r, p.responses)).collect();
    compare(&pops, &policies, 64);
    // PL at k = 64: EGF coefficients stay in [0, 1] in f32.
    let pops = vec![random_population(&mut r, 12, 2, 1.0)];
    let policies = vec![random_policy(&mut r, 12)];
    compare(&pops, &policies, 64);
}

#[test]
fn sum_rule_holds_on_the_gpu() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(14);
    for k in [1, 3, 8] {
        let pops: Vec<Population> = (0..40).map(|i| random_population(&mut r, 2 + i % 20, 1 + i % 7, 0.4)).collect();
        let policies: Vec<Vec<f64>> = pops.iter().map(|p| random_policy(&mut r, p.responses)).collect();
        let g = engine.deviation_batch(&pops, &policies, k).unwrap();
        for (gi, pi) in g.iter().zip(&policies) {
            let inner: f64 = gi.iter().zip(pi).map(|(a, b)| a * b).sum();
            assert!((inner - 1.0 / (k as f64 + 1.0)).abs() < 1e-5, "sum rule: {inner} at k = {k}");
        }
    }
}
