//! The CPU deviation kernels, one population evaluation `g(π)` at a time:
//! Plackett–Luce (the prefix/suffix kernel against the first kernel, kept as
//! `cpu::deviation_pl_reference`, in the same run) and rankings, at
//! (n, m, k) = (16, 8, 4), (32, 8, 16), (32, 16, 8), (64, 64, 16), (256, 64, 64).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ualign::cpu::deviation_pl_reference::{deviation_pl_reference, ReferenceScratch};
use ualign::cpu::{self, PlGrid, Scratch};
use ualign::{Kind, Population, UserType};

/// The grid the first kernel shipped with (plain `log s`, 0.3 steps).
const PLAIN: PlGrid = PlGrid { step: 0.3, s_lo: 1e-14, tail: 40.0, taper: false };

fn population(rng: &mut impl Rng, n: usize, m: usize, pl: bool) -> Population {
    let types = (0..m)
        .map(|_| {
            let weight = 1.0 / m as f64;
            if pl {
                UserType::scores(weight, (0..n).map(|_| rng.random_range(-2.0..2.0)).collect())
            } else {
                let mut r: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    r.swap(i, rng.random_range(0..=i));
                }
                UserType::ranking(weight, r)
            }
        })
        .collect();
    Population::new(n, None, types).expect("valid population")
}

fn policy(rng: &mut impl Rng, n: usize) -> Vec<f64> {
    let raw: Vec<f64> = (0..n).map(|_| rng.random_range(0.05..1.0)).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|p| p / total).collect()
}

fn reference_deviation(pop: &Population, policy: &[f64], k: usize, out: &mut [f64], scratch: &mut ReferenceScratch) {
    out.fill(0.0);
    for t in &pop.types {
        if let Kind::Scores(s) = &t.kind {
            deviation_pl_reference(s, t.weight, policy, k, &PLAIN, out, scratch);
        }
    }
}

fn plackett_luce(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut group = c.benchmark_group("deviation_pl");
    for (n, m, k) in [(16, 8, 4), (32, 8, 16), (32, 16, 8), (64, 64, 16), (256, 64, 64)] {
        let pop = population(&mut rng, n, m, true);
        let pi = policy(&mut rng, n);
        let mut out = vec![0.0; n];
        let id = format!("n{n}_m{m}_k{k}");
        let mut scratch = Scratch::default();
        group.bench_function(BenchmarkId::new("prefix_suffix", &id), |b| {
            b.iter(|| cpu::deviation_into(black_box(&pop), black_box(&pi), k, &mut out, &mut scratch))
        });
        // The first kernel needs minutes per sample at the largest sizes.
        if n * k <= 32 * 16 {
            let mut scratch = ReferenceScratch::default();
            group.bench_function(BenchmarkId::new("reference", &id), |b| {
                b.iter(|| reference_deviation(black_box(&pop), black_box(&pi), k, &mut out, &mut scratch))
            });
        }
    }
    group.finish();
}

fn rankings(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut group = c.benchmark_group("deviation_ranking");
    for (n, m, k) in [(16, 8, 4), (16, 32, 4), (16, 32, 32), (32, 16, 8), (64, 64, 16), (256, 64, 64)] {
        let pop = population(&mut rng, n, m, false);
        let pi = policy(&mut rng, n);
        let mut out = vec![0.0; n];
        let mut scratch = Scratch::default();
        group.bench_function(format!("n{n}_m{m}_k{k}"), |b| {
            b.iter(|| cpu::deviation_into(black_box(&pop), black_box(&pi), k, &mut out, &mut scratch))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300));
    targets = plackett_luce, rankings
}
criterion_main!(benches);
