//! A sweep cell against `solve` on the same populations, as a user runs them:
//! whole `ualign` processes on all cores, CPU engine. The cell has 65,536
//! populations (impartial culture, n = 8, m = 16, k = 4, PGA, default
//! iterations) and computes everything a sweep reports (self-play, the
//! equilibrium polish, the NLHF, RLHF and uniform baselines, the tables,
//! the cell file and the figures); `solve --populations` reads the same
//! populations from JSON Lines and prints one JSON line per population.
//! Their ratio is the sweep's overhead over the solve.
//!
//! `UALIGN_BENCH_POPULATIONS` changes the count (e.g. 4096 for a quick look).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const UALIGN: &str = env!("CARGO_BIN_EXE_ualign");

fn populations() -> usize {
    std::env::var("UALIGN_BENCH_POPULATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(65_536)
}

fn run(args: &[&str], stdout: Stdio) {
    let status =
        Command::new(UALIGN).args(args).stdout(stdout).stderr(Stdio::null()).status().expect("the ualign binary runs");
    assert!(status.success(), "ualign {args:?} failed");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("the temporary directory has a UTF-8 path")
}

fn sweep_cell(c: &mut Criterion) {
    let count = populations();
    let dir: PathBuf = std::env::temp_dir().join(format!("ualign-bench-sweep-cell-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let pops = dir.join("pops.jsonl");
    let config = dir.join("cell.toml");
    let count_text = count.to_string();
    let generate = ["generate", "--model", "impartial", "--responses", "8", "--types", "16", "--count", &count_text];
    run(&[&generate[..], &["--seed", "1", "--out", path(&pops)]].concat(), Stdio::null());
    std::fs::write(
        &config,
        format!(
            "title = \"one cell\"\nbackend = \"cpu\"\nmodel = \"impartial\"\nresponses = 8\ntypes = 16\n\
             k = 4\ndynamics = \"pga\"\npopulations = {count}\nseed = 1\n"
        ),
    )
    .expect("config written");

    let mut group = c.benchmark_group("sweep_cell");
    group.throughput(Throughput::Elements(count as u64));
    let name = format!("impartial_n8_m16_k4_x{count}");
    group.bench_function(format!("solve/{name}"), |b| {
        b.iter(|| {
            let args = ["solve", "--populations", path(&pops), "--k", "4", "--backend", "cpu", "--dynamics", "pga"];
            run(&args, Stdio::null())
        })
    });
    let mut runs = 0;
    group.bench_function(format!("sweep/{name}"), |b| {
        b.iter_batched(
            || {
                // Each sweep writes into a directory of its own (a sweep never
                // overwrites one); removing the last one is not timed.
                runs += 1;
                let out = dir.join(format!("sweep-{runs}"));
                let _ = std::fs::remove_dir_all(dir.join(format!("sweep-{}", runs - 1)));
                out
            },
            |out| run(&["sweep", path(&config), "--out", path(&out), "--backend", "cpu"], Stdio::null()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    targets = sweep_cell
}
criterion_main!(benches);
