//! Self-play throughput of the GPU engine (population-iterations per second)
//! and, for the ratio, the CPU twin loop on all cores (rayon).
//!
//! Workloads: ranking populations n = 32, m = 64, k = 4 and
//! Plackett–Luce populations n = 16, m = 8, k = 4, at 4,096 and 65,536
//! populations. One ranking population-iteration is n·m = 2,048
//! type-response evaluations. `UALIGN_BENCH_ITERS` (default 20) sets the
//! iterations per sample; `UALIGN_BENCH_CPU=0` skips the CPU engine.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::time::Duration;
use ualign::cpu::{checkpoint_schedule, selfplay};
use ualign::dynamics::{Dynamics, SolveOptions};
use ualign::gpu::GpuEngine;
use ualign::{Population, UserType};

fn population(rng: &mut ChaCha8Rng, n: usize, m: usize, pl: bool) -> Population {
    let types = (0..m)
        .map(|_| {
            let w = rng.random_range(0.1..1.0);
            if pl {
                UserType::scores(w, (0..n).map(|_| rng.random_range(-2.0..2.0)).collect())
            } else {
                let mut r: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    r.swap(i, rng.random_range(0..=i));
                }
                UserType::ranking(w, r)
            }
        })
        .collect::<Vec<_>>();
    let total: f64 = types.iter().map(|t| t.weight).sum();
    let types = types.into_iter().map(|mut t| {
        t.weight /= total;
        t
    });
    Population::new(n, None, types.collect()).unwrap()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bench(c: &mut Criterion) {
    let engine = match GpuEngine::new(None, true) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("SKIPPED: no GPU adapter ({e})");
            return;
        }
    };
    eprintln!("GPU benchmark on adapter: {} ({})", engine.adapter_name(), engine.summary().backend);
    let iters = env_usize("UALIGN_BENCH_ITERS", 20);
    let with_cpu = env_usize("UALIGN_BENCH_CPU", 1) == 1;
    let k = 4;
    let mut group = c.benchmark_group("selfplay");
    group.sample_size(10).warm_up_time(Duration::from_millis(100)).measurement_time(Duration::from_secs(2));
    // A software adapter needs minutes per sample at 65,536 populations:
    // measure 4,096 there unless UALIGN_BENCH_COUNTS says otherwise.
    let default_counts = if engine.is_software() { "4096" } else { "4096,65536" };
    let counts: Vec<usize> = std::env::var("UALIGN_BENCH_COUNTS")
        .unwrap_or_else(|_| default_counts.to_string())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    for (name, n, m, pl) in [("ranking_n32_m64", 32, 64, false), ("pl_n16_m8", 16, 8, true)] {
        for &count in &counts {
            let mut rng = ChaCha8Rng::seed_from_u64(count as u64 + n as u64);
            let pops: Vec<Population> = (0..count).map(|_| population(&mut rng, n, m, pl)).collect();
            // tol = 0: every population runs all iterations.
            let opts = SolveOptions { dynamics: Dynamics::Pga, eta: 0.5, iters, tol: 0.0, checkpoints: 4 };
            // What the device refuses (llvmpipe's loop limit for PL self-play)
            // is reported, not benchmarked.
            if let Err(e) = engine.selfplay_batch(&pops[..1], k, &SolveOptions { iters: 1, ..opts.clone() }) {
                eprintln!("SKIPPED gpu/{name}/{count}: {e}");
                continue;
            }
            group.throughput(Throughput::Elements((count * iters) as u64));
            group.bench_function(BenchmarkId::new(format!("gpu/{name}"), count), |b| {
                b.iter(|| engine.selfplay_batch(&pops, k, &opts).unwrap())
            });
            if with_cpu {
                let schedule = checkpoint_schedule(iters, 4);
                group.bench_function(BenchmarkId::new(format!("cpu/{name}"), count), |b| {
                    b.iter(|| {
                        pops.par_iter()
                            .map(|p| selfplay(p, k, Dynamics::Pga, 0.5, iters, 0.0, &schedule).iterations)
                            .sum::<usize>()
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
