//! Self-play throughput of the CPU engine: 1,024 ranking populations,
//! n = 16 responses, m = 32 types, k = 4, a fixed number of iterations
//! (tol = 0, so no run stops early), all cores. Reported as population-iterations/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ualign::dynamics::{solve_batch, Dynamics, SolveOptions};
use ualign::{Population, UserType};

const POPULATIONS: usize = 1024;
const RESPONSES: usize = 16;
const TYPES: usize = 32;
const K: usize = 4;
const ITERS: usize = 200;

fn ranking_population(rng: &mut impl Rng) -> Population {
    let weights: Vec<f64> = (0..TYPES).map(|_| rng.random_range(0.05..1.0)).collect();
    let total: f64 = weights.iter().sum();
    let types = weights
        .iter()
        .map(|w| {
            let mut r: Vec<u32> = (0..RESPONSES as u32).collect();
            for i in (1..RESPONSES).rev() {
                r.swap(i, rng.random_range(0..=i));
            }
            UserType::ranking(w / total, r)
        })
        .collect();
    Population::new(RESPONSES, None, types).expect("valid population")
}

fn selfplay(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let pops: Vec<Population> = (0..POPULATIONS).map(|_| ranking_population(&mut rng)).collect();
    let mut group = c.benchmark_group("cpu_selfplay");
    group.throughput(Throughput::Elements((POPULATIONS * ITERS) as u64));
    for dynamics in [Dynamics::Pga, Dynamics::Mwu, Dynamics::Optimistic, Dynamics::Extragradient] {
        let opts = SolveOptions { dynamics, eta: 1.0, iters: ITERS, tol: 0.0, checkpoints: 16 };
        let name = format!("{dynamics:?}/n{RESPONSES}_m{TYPES}_k{K}_x{POPULATIONS}").to_lowercase();
        group.bench_function(name, |b| b.iter(|| black_box(solve_batch(black_box(&pops), K, &opts))));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = selfplay
}
criterion_main!(benches);
