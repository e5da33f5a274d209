//! Twin tests: each WGSL kernel against its CPU twin in src/cpu/.
mod common;
mod gpu_util;

use common::{random_policy, random_population, rng};
use rand::Rng;
use ualign::cpu::{self, StepRule};
use ualign::gpu::MAX_RESPONSES;

#[test]
fn project_simplex_twin() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(21);
    let mut vectors: Vec<Vec<f64>> = (0..300)
        .map(|i| {
            let n = 1 + (i * 7) % MAX_RESPONSES;
            let scale = [0.1, 1.0, 5.0][i % 3];
            (0..n).map(|_| r.random_range(-scale..scale)).collect()
        })
        .collect();
    vectors.push(vec![0.25; 4]); // ties, already on the simplex
    vectors.push(vec![3.0, 3.0, -1.0, 3.0]); // ties above the threshold
    vectors.push(vec![-2.0; 7]);
    let gpu = engine.project_batch(&vectors).unwrap();
    let mut sort = Vec::new();
    let mut worst = 0.0f64;
    for (v, g) in vectors.iter().zip(&gpu) {
        let mut exact = v.clone();
        cpu::project_simplex(&mut exact, &mut sort);
        worst = worst.max(gpu_util::max_abs_diff(g, &exact));
    }
    eprintln!("projection: worst |GPU − CPU| = {worst:e}");
    assert!(worst < 2e-6, "projection error {worst}");
}

#[test]
fn dynamics_step_twin() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(22);
    for rule in [StepRule::Projected, StepRule::Multiplicative, StepRule::OptimisticProjected] {
        let ns: Vec<usize> = (0..200).map(|i| 1 + (i * 13) % MAX_RESPONSES).collect();
        let policies: Vec<Vec<f64>> = ns.iter().map(|&n| random_policy(&mut r, n)).collect();
        let g: Vec<Vec<f64>> = ns.iter().map(|&n| (0..n).map(|_| r.random_range(0.0..1.0)).collect()).collect();
        let g_prev: Vec<Vec<f64>> = ns.iter().map(|&n| (0..n).map(|_| r.random_range(0.0..1.0)).collect()).collect();
        let eta = 0.7;
        let gpu = engine.step_batch(rule, &policies, &g, &g_prev, eta).unwrap();
        let mut sort = Vec::new();
        let mut worst = 0.0f64;
        for i in 0..ns.len() {
            let mut exact = policies[i].clone();
            cpu::dynamics_step(rule, &mut exact, &g[i], &g_prev[i], eta, &mut sort);
            worst = worst.max(gpu_util::max_abs_diff(&gpu[i], &exact));
        }
        eprintln!("{rule:?}: worst |GPU − CPU| = {worst:e}");
        assert!(worst < 2e-6, "{rule:?} error {worst}");
    }
}

#[test]
fn reduce_metrics_twin() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(23);
    let k = 3;
    let pops: Vec<_> = (0..100).map(|i| random_population(&mut r, 1 + (i * 11) % MAX_RESPONSES, 3, 0.0)).collect();
    let policies: Vec<Vec<f64>> = pops.iter().map(|p| random_policy(&mut r, p.responses)).collect();
    let g: Vec<Vec<f64>> = pops.iter().zip(&policies).map(|(p, pi)| cpu::deviation(p, pi, k)).collect();
    let gpu = engine.reduce_batch(&policies, &g, k).unwrap();
    for i in 0..pops.len() {
        let exact = cpu::reduce_metrics(&policies[i], &g[i], k);
        let got = gpu[i];
        assert!((got.max_deviation - exact.max_deviation).abs() < 1e-6, "{got:?} vs {exact:?}");
        assert!((got.exploitability - exact.exploitability).abs() < 1e-6, "{got:?} vs {exact:?}");
        assert!((got.robust_alignment - exact.robust_alignment).abs() < 1e-6, "{got:?} vs {exact:?}");
        assert!((got.sum_residual - exact.sum_residual).abs() < 2e-6, "{got:?} vs {exact:?}");
        assert_eq!(got.support, exact.support, "{got:?} vs {exact:?}");
        assert!((got.entropy - exact.entropy).abs() < 1e-4, "{got:?} vs {exact:?}");
    }
}
