//! Self-play on the device: the fused kernel against its CPU twin
//! (`cpu::selfplay`), equilibria re-evaluated in f64, limits and errors.
mod common;
mod gpu_util;

use common::{random_population, rng};
use ualign::cpu::{self, checkpoint_schedule};
use ualign::dynamics::{Dynamics, SolveOptions};
use ualign::metrics::evaluate;
use ualign::{Error, Population};

/// PL share of the random populations: none on a software adapter, where
/// one self-play iteration of most PL populations exceeds llvmpipe's loop
/// limit and is refused (`Error::Limit`); the deviation tests cover PL there.
fn pl(engine: &ualign::gpu::GpuEngine, fraction: f64) -> f64 {
    if engine.is_software() {
        0.0
    } else {
        fraction
    }
}

/// About 10× the differences measured on lavapipe after 12 iterations:
/// policies 2.4e-7 from the f64 twin; running sums and checkpoint values
/// 1.1e-6 (f32 rounding of sums of up to 12 terms of size ≤ 1).
const POLICY_TOL: f64 = 2e-6;
const SUM_TOL: f64 = 1e-5;

fn options(dynamics: Dynamics, eta: f64, iters: usize, tol: f64) -> SolveOptions {
    SolveOptions { dynamics, eta, iters, tol, checkpoints: 8 }
}

#[test]
fn fused_selfplay_follows_its_cpu_twin() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(31);
    let k = 3;
    // Small enough for one PL iteration to fit a software adapter's loop budget.
    let pops: Vec<Population> =
        (0..24).map(|i| random_population(&mut r, 3 + i % 9, 2 + i % 5, [0.0, 1.0, 0.5][i % 3])).collect();
    for dynamics in [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient] {
        // Few iterations and tol = 0: both run the same number of steps.
        let opts = options(dynamics, 0.5, 12, 0.0);
        let gpu = engine.selfplay_batch(&pops, k, &opts).unwrap();
        let schedule = checkpoint_schedule(opts.iters, opts.checkpoints);
        let (mut worst, mut sums) = (0.0f64, 0.0f64);
        assert_eq!(gpu.len(), pops.len());
        for (pop, run) in pops.iter().zip(&gpu) {
            let exact = cpu::selfplay(pop, k, dynamics.update(), opts.eta, opts.iters, 0.0, &schedule);
            assert_eq!(run.iterations, exact.iterations);
            assert_eq!(run.checkpoints.len(), exact.checkpoints.len());
            worst = worst.max(gpu_util::max_abs_diff(&run.policy, &exact.policy));
            sums = sums.max(gpu_util::max_abs_diff(&run.sum_g, &exact.sum_g)).max((run.inner - exact.inner).abs());
            for (a, b) in run.checkpoints.iter().zip(&exact.checkpoints) {
                assert_eq!(a.0, b.0);
                sums = sums.max((a.1 - b.1).abs()).max((a.2 - b.2).abs()).max((a.3 - b.3).abs());
            }
        }
        eprintln!("{dynamics:?}: after 12 iterations worst policy difference {worst:e}, sums and checkpoints {sums:e}");
        assert!(worst < POLICY_TOL, "{dynamics:?}: GPU and CPU self-play drift apart by {worst}");
        assert!(sums < SUM_TOL, "{dynamics:?}: running sums or checkpoints differ by {sums}");
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
        assert_eq!(solutions.len(), pops.len());
        for (i, (s, pop)) in solutions.iter().zip(&pops).enumerate() {
            // Re-evaluated here, independently of the engine's own verdict.
            let exploitability = evaluate(pop, &s.policy, k, None).unwrap().exploitability;
            assert!(
                s.converged && exploitability <= 1e-6,
                "k = {k}, population {i}: E_k = {exploitability:e} after {} iterations",
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
    let tol = 1e-4;
    for dynamics in [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient] {
        let opts = options(dynamics, 0.5, 3000, tol);
        let solutions = engine.solve_batch(&pops, 3, &opts).unwrap();
        assert_eq!(solutions.len(), pops.len());
        for (i, (s, pop)) in solutions.iter().zip(&pops).enumerate() {
            // Each population stops on its own: as if it were alone in the batch.
            let alone = engine.solve_batch(std::slice::from_ref(pop), 3, &opts).unwrap().remove(0);
            assert_eq!(s.iterations, alone.iterations, "{dynamics:?}, population {i}");
            assert_eq!(s.policy, alone.policy, "{dynamics:?}, population {i}");
            // A run that stopped early stopped at an ε-equilibrium (exact f64 check, f32 slack).
            let exploitability = evaluate(pop, &s.policy, 3, None).unwrap().exploitability;
            assert!(s.iterations == 3000 || exploitability <= tol + 1e-6, "{dynamics:?}: E_k = {exploitability:e}");
        }
        let its: Vec<usize> = solutions.iter().map(|s| s.iterations).collect();
        assert!(its.iter().any(|&t| t != its[0]), "{dynamics:?}: every population stopped together: {its:?}");
        eprintln!("{dynamics:?}: iterations {its:?}");
    }
}

#[test]
fn limits_are_clear_errors() {
    let Some(engine) = gpu_util::engine() else { return };
    let mut r = rng(34);
    let (max_n, max_k) = (ualign::gpu::MAX_RESPONSES, ualign::gpu::MAX_K);
    let big = random_population(&mut r, max_n + 1, 2, 0.0);
    let err = engine.check_limits(&[big.clone()], 3).unwrap_err();
    assert!(matches!(err, Error::Limit { limit, .. } if limit == ualign::gpu::MAX_RESPONSES), "{err}");
    assert!(err.to_string().contains("responses"), "{err}");
    let err = engine.deviation_batch(&[big], &[vec![1.0 / (max_n + 1) as f64; max_n + 1]], 3).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    let small = random_population(&mut r, 4, 2, 0.0);
    let err = engine.solve_batch(&[small.clone()], max_k + 1, &options(Dynamics::Pga, 0.5, 10, 0.0)).unwrap_err();
    assert!(matches!(err, Error::Limit { value, limit, .. } if value == max_k + 1 && limit == max_k), "{err}");
    assert!(err.to_string().contains('k'), "{err}");
    assert!(engine.check_limits(&[small.clone()], 0).is_err());
    let err = engine.solve_batch(&[small.clone()], 2, &options(Dynamics::Pga, -1.0, 10, 0.0)).unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err}");
    let err = engine.deviation_batch(&[small], &[vec![0.5, 0.5]], 2).unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err}");
    eprintln!(
        "limit error reads: {}",
        engine.check_limits(&[random_population(&mut r, max_n + 1, 1, 0.0)], 2).unwrap_err()
    );
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
