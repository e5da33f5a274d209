//! Per-population cost of the sweep's baselines on one thread: the pairwise
//! matrix, the NLHF maximal lottery and the RLHF policy, each from a shared
//! `Pairwise` as `sweep` computes them, on impartial cultures and
//! Plackett–Luce mixtures (m = 16 types). The RLHF argmax policy is read from
//! the win totals where they single out a response (the fit decides near
//! ties); the softmax policy (β = 1) always takes the Bradley–Terry fit.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use ualign::baselines::{nlhf_lottery_of, rlhf_policy_of, Pairwise};
use ualign::population::generate::{generate_one, GenSpec, Model};
use ualign::Population;

fn populations(model: Model, n: usize, count: usize) -> Vec<Population> {
    let spec = GenSpec { model, responses: n, types: Some(16), count, seed: 1, ..GenSpec::default() };
    (0..count).map(|i| generate_one(&spec, i).unwrap()).collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("baselines");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for (model, n, count) in [(Model::Impartial, 8, 4096), (Model::Pl, 8, 4096), (Model::Impartial, 64, 64)] {
        let pops = populations(model, n, count);
        let pairs: Vec<Pairwise> = pops.iter().map(Pairwise::of).collect();
        group.throughput(Throughput::Elements(count as u64));
        let case = format!("{model}_n{n}");
        group.bench_with_input(BenchmarkId::new("pairwise", &case), &pops, |b, pops| {
            b.iter(|| pops.iter().map(|p| black_box(Pairwise::of(p)).weight).sum::<f64>())
        });
        group.bench_with_input(BenchmarkId::new("nlhf", &case), &pairs, |b, pairs| {
            b.iter(|| pairs.iter().map(|p| black_box(nlhf_lottery_of(p)).policy[0]).sum::<f64>())
        });
        group.bench_with_input(BenchmarkId::new("rlhf", &case), &pairs, |b, pairs| {
            b.iter(|| pairs.iter().map(|p| black_box(rlhf_policy_of(p, None).unwrap())[0]).sum::<f64>())
        });
        group.bench_with_input(BenchmarkId::new("rlhf_softmax", &case), &pairs, |b, pairs| {
            b.iter(|| pairs.iter().map(|p| black_box(rlhf_policy_of(p, Some(1.0)).unwrap())[0]).sum::<f64>())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
