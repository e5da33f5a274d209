//! Self-play on the device: the fused kernel against its CPU twin
//! (`cpu::selfplay`), equilibria re-evaluated in f64, limits and errors.
mod common;
mod gpu_util;

use common::{random_population, rng};
use ualign::cpu::{self, checkpoint_schedule};
use ualign::dynamics::{Dynamics, SolveOptions};
use ualign::{Error, Population};

/// PL share of the random populations: none on a software adapter, where
/// one self-play iteration of PL types exceeds llvmpipe's loop limit and is
/// refused (`Error::Limit`); the deviation tests cover PL there.
fn pl(engine: &ualign::gpu::GpuEngine, fraction: f64) -> f64 {
    if engine.is_software() {
        0.0
    } else {
        fraction
    }
}

fn options(dynamics: Dynamics, eta: f64, iters: usize, tol: f64) -> SolveOptions {
    SolveOptions { dynamics, eta, iters, tol, checkpoints: 8 }
}

#[test]
fn fused_selfplay_follows_its_cpu_twin() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(31);
    let k = 3;
    let pops: Vec<Population> =
        (0..24).map(|i| random_population(&mut r, 3 + i % 9, 2 + i % 5, pl(engine, [0.0, 1.0, 0.5][i % 3]))).collect();
    for dynamics in [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient] {
        // Few iterations and tol = 0: both run the same number of steps.
        let opts = options(dynamics, 0.5, 12, 0.0);
        let gpu = engine.selfplay_batch(&pops, k, &opts).unwrap();
        let schedule = checkpoint_schedule(opts.iters, opts.checkpoints);
        let mut worst = 0.0f64;
        for (pop, run) in pops.iter().zip(&gpu) {
            let exact = cpu::selfplay(pop, k, dynamics, opts.eta, opts.iters, 0.0, &schedule);
            assert_eq!(run.iterations, exact.iterations);
            assert_eq!(run.checkpoints.len(), exact.checkpoints.len());
            worst = worst.max(gpu_util::max_abs_diff(&run.policy, &exact.policy));
            assert!(gpu_util::max_abs_diff(&run.sum_g, &exact.sum_g) < 1e-4);
            assert!((run.inner - exact.inner).abs() < 1e-4);
            for (a, b) in run.checkpoints.iter().zip(&exact.checkpoints) {
                assert_eq!(a.0, b.0);
                assert!(
                    (a.1 - b.1).abs() < 1e-5 && (a.2 - b.2).abs() < 1e-4 && (a.3 - b.3).abs() < 1e-4,
                    "{a:?} vs {b:?}"
                );
            }
        }
        eprintln!("{dynamics:?}: worst policy difference after 12 iterations {worst:e}");
        assert!(worst < 1e-4, "{dynamics:?}: GPU and CPU self-play drift apart by {worst}");
    }
}

#[test]
fn gpu_equilibria_have_tiny_exploitability_in_f64() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(32);
    for k in 2..=8 {
        // Rankings up to n = 16; PL types kept small so lavapipe (one
        // iteration per few dispatches for PL) finishes in seconds.
        let pops: Vec<Population> = (0..12)
            .map(|i| match i % 4 {
                0 | 1 => random_population(&mut r, 3 + (i * 5) % 14, 2 + i % 7, 0.0),
                _ => random_population(&mut r, 3 + i % 2, 2, pl(engine, 0.5)),
            })
            .collect();
        let opts = options(Dynamics::Pga, 1.0, 20_000, 0.0);
        let solutions = engine.solve_batch(&pops, k, &opts).unwrap();
        for (i, s) in solutions.iter().enumerate() {
            assert!(
                s.converged && s.evaluation.exploitability <= 1e-6,
                "k = {k}, population {i}: E_k = {:e} after {} iterations",
                s.evaluation.exploitability,
                s.iterations
            );
            // The no-regret output: R(μ_T) = k/(k+1) − Reg_T / T.
            let bound = k as f64 / (k as f64 + 1.0);
            assert!((s.average_robust_alignment - (bound - s.regret / s.iterations as f64)).abs() < 1e-5);
            assert_eq!(s.history.first().map(|c| c.iteration), Some(1));
            assert_eq!(s.history.last().map(|c| c.iteration), Some(s.iterations));
        }
        let worst = solutions.iter().map(|s| s.evaluation.exploitability).fold(0.0, f64::max);
        let iters = solutions.iter().map(|s| s.iterations).max().unwrap();
        eprintln!("k = {k}: worst f64 E_k {worst:e}, at most {iters} iterations");
    }
}

#[test]
fn every_dynamics_runs_on_the_device_and_stops_per_population() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(33);
    let pops: Vec<Population> = (0..6).map(|i| random_population(&mut r, 4 + i, 3, pl(engine, 0.3))).collect();
    for dynamics in [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient] {
        let solutions = engine.solve_batch(&pops, 3, &options(dynamics, 0.5, 3000, 1e-4)).unwrap();
        for s in &solutions {
            assert!(s.iterations <= 3000);
            if s.converged {
                assert!(s.evaluation.exploitability <= 1e-4 + 1e-6);
            } else {
                assert_eq!(s.iterations, 3000);
            }
            assert!((s.policy.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let its: Vec<usize> = solutions.iter().map(|s| s.iterations).collect();
        eprintln!("{dynamics:?}: iterations {its:?}");
    }
}

#[test]
fn limits_are_clear_errors() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(34);
    let big = random_population(&mut r, 257, 2, 0.0);
    let err = engine.check_limits(&[big.clone()], 3).unwrap_err();
    assert!(matches!(err, Error::Limit { limit: 256, .. }), "{err}");
    assert!(err.to_string().contains("responses"), "{err}");
    let err = engine.deviation_batch(&[big], &[vec![1.0 / 257.0; 257]], 3).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    let small = random_population(&mut r, 4, 2, 0.0);
    let err = engine.solve_batch(&[small.clone()], 65, &options(Dynamics::Pga, 0.5, 10, 0.0)).unwrap_err();
    assert!(matches!(err, Error::Limit { value: 65, limit: 64, .. }), "{err}");
    assert!(err.to_string().contains('k'), "{err}");
    assert!(engine.check_limits(&[small.clone()], 0).is_err());
    let err = engine.solve_batch(&[small.clone()], 2, &options(Dynamics::Pga, -1.0, 10, 0.0)).unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err}");
    let err = engine.deviation_batch(&[small], &[vec![0.5, 0.5]], 2).unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err}");
    eprintln!("limit error reads: {}", engine.check_limits(&[random_population(&mut r, 257, 1, 0.0)], 2).unwrap_err());
}

#[test]
fn chunks_of_many_populations_keep_input_order() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(35);
    let pops: Vec<Population> = (0..300).map(|i| random_population(&mut r, 2 + i % 30, 1 + i % 4, 0.0)).collect();
    let policies: Vec<Vec<f64>> = pops.iter().map(|p| vec![1.0 / p.responses as f64; p.responses]).collect();
    let g = engine.deviation_batch(&pops, &policies, 2).unwrap();
    for (i, pop) in pops.iter().enumerate() {
        assert_eq!(g[i].len(), pop.responses);
        assert!(gpu_util::max_abs_diff(&g[i], &cpu::deviation(pop, &policies[i], 2)) < 1e-5);
    }
}
