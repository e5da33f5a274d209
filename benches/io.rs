//! Population I/O: parsing and writing JSON Lines of 4,096 populations
//! (n = 8, m = 16, impartial culture and Plackett–Luce), the per-population
//! cost behind `solve --populations` and `generate`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ualign::error::Location;
use ualign::population::generate::{generate_one, GenSpec, Model};
use ualign::population::json::{parse_jsonl, write_jsonl};

const COUNT: usize = 4096;

fn io(c: &mut Criterion) {
    let mut group = c.benchmark_group("population_io");
    group.throughput(Throughput::Elements(COUNT as u64));
    for model in [Model::Impartial, Model::Pl] {
        let spec = GenSpec { model, responses: 8, types: Some(16), count: COUNT, seed: 3, ..GenSpec::default() };
        let pops: Vec<_> = (0..COUNT).map(|i| generate_one(&spec, i).expect("valid spec")).collect();
        let mut text = Vec::new();
        write_jsonl(&pops, &mut text).expect("in-memory write");
        let text = String::from_utf8(text).expect("JSON is UTF-8");
        let name = model.name();
        group.bench_function(format!("parse/{name}_n8_m16_x{COUNT}"), |b| {
            b.iter(|| parse_jsonl(black_box(&text), &Location::file("bench.jsonl")).expect("valid JSON Lines"))
        });
        group.bench_function(format!("write/{name}_n8_m16_x{COUNT}"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(text.len());
                write_jsonl(black_box(&pops), &mut out).expect("in-memory write");
                out
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300));
    targets = io
}
criterion_main!(benches);
