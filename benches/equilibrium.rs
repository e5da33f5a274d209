//! Population-solves per second of the equilibrium solver on the stress set
//! (`equilibrium::stress`), on the CPU engine (rayon over populations) and,
//! when an adapter is present, on the GPU (f32 self-play in bulk) followed
//! by the CPU's f64 polish. Each family of the set is benched in full;
//! `cargo run --release --example stress_report` times every population and
//! compares with projected gradient ascent.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use std::time::Duration;
use ualign::engine::{BackendChoice, Engine, Workload};
use ualign::equilibrium::{self, stress, EquilibriumOptions};

fn family(cases: &[stress::StressCase], prefix: &str) -> Vec<stress::StressCase> {
    cases.iter().filter(|c| c.label.starts_with(prefix) && c.population.responses <= 64 && c.k <= 8).cloned().collect()
}

fn bench(c: &mut Criterion) {
    let all = stress::stress_set(0).unwrap();
    let opts = EquilibriumOptions::default();
    let mut group = c.benchmark_group("equilibrium_cpu");
    group.sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(3));
    for name in ["cycle", "condorcet", "impartial"] {
        let cases = family(&all, name);
        group.throughput(Throughput::Elements(cases.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &cases, |b, cases| {
            b.iter(|| {
                cases.par_iter().for_each(|c| {
                    let eq = equilibrium::solve(&c.population, c.k, &opts).unwrap();
                    assert!(eq.converged, "{}", c.label);
                })
            })
        });
    }
    group.finish();

    // One dispatch per k: the planted winners at k = 3 (48 populations).
    let pops: Vec<_> = family(&all, "condorcet").into_iter().filter(|c| c.k == 3).map(|c| c.population).collect();
    // `--backend gpu`: any adapter, no CPU fallback.
    let work = Workload::SelfPlay { populations: pops.len() };
    let engine = match Engine::select(BackendChoice::Gpu, None, work) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("SKIPPED equilibrium_gpu_polish: no GPU adapter ({e})");
            return;
        }
    };
    eprintln!("equilibrium_gpu_polish on {}", engine.name());
    let mut group = c.benchmark_group("equilibrium_gpu_polish");
    group.sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(pops.len() as u64));
    group.bench_function("condorcet_k3", |b| {
        b.iter(|| {
            let found = engine.equilibrium_batch(&pops, 3, &opts).unwrap();
            assert!(found.iter().all(|e| e.converged));
        })
    });
    group.finish();
}

/// One full-support solve at large n: a perturbed Condorcet cycle with
/// m = n = 1,024 (every response in the support), k = 2 and 4, with its
/// E_k re-checked in f64. `cargo bench --bench equilibrium -- large_support`.
fn large_support(c: &mut Criterion) {
    let pop = stress::perturbed_cycle(1024, 0.1, 0, 0).unwrap();
    let opts = EquilibriumOptions::default();
    let mut group = c.benchmark_group("large_support");
    group.sample_size(10).warm_up_time(Duration::from_millis(1)).measurement_time(Duration::from_secs(30));
    for k in [2, 4] {
        group.bench_with_input(BenchmarkId::new("perturbed_cycle_n1024", k), &k, |b, &k| {
            b.iter(|| {
                let eq = equilibrium::solve(&pop, k, &opts).unwrap();
                let g = ualign::cpu::deviation(&pop, &eq.policy, k);
                let e = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - 1.0 / (k as f64 + 1.0);
                assert!(eq.converged && e <= 1e-9, "E_k = {e:e}");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, large_support);
criterion_main!(benches);
