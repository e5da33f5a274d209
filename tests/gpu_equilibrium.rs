//! Equilibria from the GPU: the device's f32 self-play, then the CPU's
//! Newton polish in f64 (and the full solver where the dynamics cycle).
mod gpu_util;

use ualign::engine::{BackendChoice, Engine, Workload, GPU_WARM_START};
use ualign::equilibrium::{self, stress::perturbed_cycle, EquilibriumOptions, Method};
use ualign::population::generate::{generate, GenSpec, Model};
use ualign::Population;

fn populations() -> Vec<Population> {
    let spec = GenSpec { model: Model::Impartial, responses: 12, count: 6, seed: 5, ..GenSpec::default() };
    let mut pops = generate(&spec).unwrap();
    pops.extend((0..4).map(|i| perturbed_cycle(5 + i, 0.1, 7, i).unwrap()));
    pops
}

#[test]
fn polish_makes_gpu_policies_exact() {
    let Some(gpu) = gpu_util::engine() else { return };
    let pops = populations();
    let opts = EquilibriumOptions::default();
    for k in [2, 3] {
        let runs = gpu.selfplay_batch(&pops, k, &GPU_WARM_START).unwrap();
        for (pop, run) in pops.iter().zip(&runs) {
            let f32_gap = ualign::metrics::evaluate_exact(pop, &run.policy, k).exploitability;
            let polished = equilibrium::polish(pop, k, &run.policy, &opts).unwrap();
            assert!(polished.converged && polished.evaluation.exploitability <= 1e-13, "k = {k}: {polished:?}");
            if f32_gap <= 1e-5 {
                // A near-equilibrium from the device needs Newton only.
                assert_eq!(polished.method, Method::Polish);
                assert!(polished.policy.iter().zip(&run.policy).all(|(a, b)| (a - b).abs() < 1e-3));
            }
        }
    }
}

#[test]
fn gpu_engine_equilibria_match_the_cpu_solver() {
    if gpu_util::engine().is_none() {
        return;
    }
    let engine = Engine::select(BackendChoice::Gpu, None, Workload::SelfPlay { populations: 6 }).unwrap();
    let pops = populations();
    let opts = EquilibriumOptions::default();
    let on_gpu = engine.equilibrium_batch(&pops, 2, &opts).unwrap();
    let cpu = Engine::select(BackendChoice::Cpu, None, Workload::SelfPlay { populations: 6 }).unwrap();
    let on_cpu = cpu.equilibrium_batch(&pops, 2, &opts).unwrap();
    for (g, c) in on_gpu.iter().zip(&on_cpu) {
        assert!(g.converged && c.converged);
        assert!(g.evaluation.exploitability <= 1e-12 && c.evaluation.exploitability <= 1e-12);
        assert!((g.evaluation.robust_alignment - 2.0 / 3.0).abs() <= 1e-12);
    }
    // The perturbed cycles have an interior equilibrium: both engines find it.
    for (g, c) in on_gpu.iter().zip(&on_cpu).skip(6) {
        assert!(g.policy.iter().zip(&c.policy).all(|(a, b)| (a - b).abs() < 1e-10), "{g:?} vs {c:?}");
    }
}

/// The device's f32 runs obey the same rule as the CPU's: a step that
/// leaves the simplex is an error naming η, never a (converged) policy.
#[test]
fn gpu_non_finite_steps_are_errors() {
    let Some(gpu) = gpu_util::engine() else { return };
    let pops: Vec<Population> = (0..3).map(|i| perturbed_cycle(5, 0.1, 7, i).unwrap()).collect();
    let opts = ualign::dynamics::SolveOptions {
        dynamics: ualign::dynamics::Dynamics::Mwu,
        eta: 1e4,
        iters: 200,
        tol: 1e-9,
        checkpoints: 4,
    };
    let err = gpu.solve_batch(&pops, 2, &opts).expect_err("MWU at eta 1e4 loses all mass in f32");
    assert!(err.to_string().starts_with("eta: is 10000.0"), "{err}");
}

/// At k = 1 the GPU path ends where the CPU solver does: the device's
/// self-play is only a start, and the canonical maximal lottery is solved
/// exactly on the CPU, also where tied margins leave a face of equilibria
/// (a Condorcet cycle with a clone of response 2), and where clones sit
/// below a Condorcet winner (half of each type ranks them each way round).
#[test]
fn gpu_engine_equilibria_at_k1_are_the_canonical_maximal_lottery() {
    use ualign::UserType;
    if gpu_util::engine().is_none() {
        return;
    }
    let split = |rankings: &[[u32; 4]]| {
        let w = 1.0 / rankings.len() as f64;
        let types = rankings.iter().map(|r| UserType::ranking(w, r.to_vec())).collect();
        Population::new(4, None, types).unwrap()
    };
    let cycle_clone = split(&[[0, 1, 2, 3], [0, 1, 3, 2], [1, 2, 3, 0], [1, 3, 2, 0], [2, 3, 0, 1], [3, 2, 0, 1]]);
    let clones = Population::new(
        5,
        None,
        vec![
            UserType::ranking(0.3, vec![4, 1, 2, 0, 3]),
            UserType::ranking(0.3, vec![4, 2, 1, 0, 3]),
            UserType::ranking(0.2, vec![0, 1, 2, 3, 4]),
            UserType::ranking(0.2, vec![0, 2, 1, 3, 4]),
        ],
    )
    .unwrap();
    let pops = vec![cycle_clone, clones];
    let engine = Engine::select(BackendChoice::Gpu, None, Workload::SelfPlay { populations: pops.len() }).unwrap();
    let found = engine.equilibrium_batch(&pops, 1, &EquilibriumOptions::default()).unwrap();
    for (pop, eq) in pops.iter().zip(&found) {
        assert!(eq.converged && eq.evaluation.exploitability <= 1e-12, "{eq:?}");
        assert_eq!(eq.method, Method::MaximalLottery);
        let nlhf = ualign::baselines::nlhf(pop);
        assert!(eq.policy.iter().zip(&nlhf).all(|(a, b)| (a - b).abs() <= 1e-12), "{:?} vs {nlhf:?}", eq.policy);
    }
}
