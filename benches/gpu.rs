//! Self-play throughput of the GPU engine against the CPU engine (the same
//! self-play loop, `cpu::selfplay`, on all cores with rayon), same workload,
//! same machine, same run; then one summary table.
//!
//! Cases (PGA with a small step, η = 0.001, tol = 0, so no population stops
//! early and every one runs every iteration on both engines; the rates count
//! the iterations the engines report having run): rankings n = 32, m = 64,
//! k = 4; Plackett–Luce n = 16, m = 8, k = 4; rankings n = 32, m = 64, k = 16;
//! rankings n = 128, m = 64, k = 4; at 4,096 populations on a hardware
//! adapter, and the first also at 65,536 (see `CASES`). One ranking
//! population-iteration is n·m type-response evaluations.
//!
//! The GPU engine is timed end to end (packing, upload, dispatches, read-back,
//! decoding) at the case's iterations per sample and again at a fifth of
//! them: the difference is the rate of the kernels alone ("marginal"). The
//! summary reads criterion's own estimates (`<criterion dir>/<group>/
//! {gpu,gpu_short,cpu}/<populations>/new/estimates.json`), lists where one
//! GPU call's wall time went ([`ualign::gpu::PhaseTimes`]), and adds the worst
//! exact f64 exploitability of equilibria the device computed (default
//! options).
//!
//! Sizes: `UALIGN_BENCH_COUNTS` (comma list of populations for every case;
//! default per case, or 32 on a software adapter such as lavapipe, which is
//! ~300× slower than a CPU), `UALIGN_BENCH_ITERS` (iterations per sample for
//! every case; default per case, at most 10 on software),
//! `UALIGN_BENCH_SOLVE` (populations solved for the equilibrium check;
//! default 256, 4 on software), `UALIGN_BENCH_CPU=0` skips the CPU engine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ualign::cpu::{checkpoint_schedule, selfplay};
use ualign::dynamics::{Dynamics, SolveOptions};
use ualign::gpu::{GpuEngine, PlKernel};
use ualign::{Population, UserType};

/// (name, n, m, k, Plackett–Luce types, populations and iterations per
/// sample on a hardware adapter). 100 iterations is the length of a typical
/// solve at these sizes (random ranking populations converge in one to a few
/// hundred PGA iterations at η = 0.5). Sized so that the whole bench, CPU
/// engine included (10 samples per measurement), takes a few minutes on a
/// 16-core machine.
const CASES: [(&str, usize, usize, usize, bool, &[usize], usize); 4] = [
    ("ranking_n32_m64_k4", 32, 64, 4, false, &[4096, 65536], 100),
    ("pl_n16_m8_k4", 16, 8, 4, true, &[4096], 10),
    ("ranking_n32_m64_k16", 32, 64, 16, false, &[4096], 100),
    ("ranking_n128_m64_k4", 128, 64, 4, false, &[4096], 100),
];

/// The step size of the throughput cases: small enough that no population
/// meets the device's tolerance floor within the iterations of a sample.
const BENCH_ETA: f64 = 0.001;

/// Plackett–Luce evaluations `g(π)` (n, m, k), each kernel forced in turn
/// (the per-lane products and the shared prefix/suffix series), so their
/// speeds compare in one run.
const PL_EVAL_CASES: [(usize, usize, usize); 3] = [(16, 8, 4), (32, 16, 8), (32, 8, 16)];

/// Iteration cap of the equilibrium check (random ranking populations of
/// these sizes converge in a few hundred PGA iterations).
const SOLVE_ITERS: usize = 5_000;

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

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One row of the summary.
struct Row {
    case: &'static str,
    count: usize,
    /// Population-iterations one sample runs: GPU (full and short) and CPU, as the engines report them.
    gpu_work: usize,
    gpu_short_work: usize,
    cpu_work: usize,
    /// Where one full GPU call's wall time went.
    phases: Option<ualign::gpu::PhaseTimes>,
    /// Type-response evaluations per population-iteration (n·m).
    evals: usize,
    /// `None`: refused by the device, with the reason.
    refused: Option<String>,
    /// Worst exact f64 E_k of the device's equilibria, how many converged, how many were solved.
    equilibria: Option<(f64, usize, usize)>,
}

/// Criterion's mean time of one sample, seconds.
fn seconds(dir: &Path, group: &str, engine: &str, count: usize) -> Option<f64> {
    let file = dir.join(group).join(engine).join(count.to_string()).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    Some(json["mean"]["point_estimate"].as_f64()? * 1e-9)
}

/// Work per second from criterion's estimate of one sample.
fn rate(dir: &Path, group: &str, engine: &str, count: usize, work: usize) -> Option<f64> {
    Some(work as f64 / seconds(dir, group, engine, count)?)
}

fn main() {
    let dir = std::env::var_os("CRITERION_HOME").map(PathBuf::from).unwrap_or_else(|| "target/criterion".into());
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    ualign::gpu::quiet_wayland_probe();
    let mut engine = match GpuEngine::new(None, true) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("SKIPPED: no GPU adapter ({e})");
            return;
        }
    };
    let software = engine.is_software();
    let iters_override: Option<usize> = std::env::var("UALIGN_BENCH_ITERS").ok().and_then(|v| v.parse().ok());
    let solve = env_or("UALIGN_BENCH_SOLVE", if software { 4 } else { 256 });
    let with_cpu = env_or("UALIGN_BENCH_CPU", 1) == 1;
    let counts_override: Option<Vec<usize>> = std::env::var("UALIGN_BENCH_COUNTS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .or_else(|| software.then(|| vec![32]));
    let mut rows = Vec::new();
    for (case, n, m, k, pl, case_counts, case_iters) in CASES {
        let counts = counts_override.clone().unwrap_or_else(|| case_counts.to_vec());
        let iters = iters_override.unwrap_or(if software { case_iters.min(10) } else { case_iters });
        let short_iters = (iters / 5).max(1);
        let mut group = c.benchmark_group(case);
        group.sample_size(10).warm_up_time(Duration::from_millis(100)).measurement_time(Duration::from_secs(1));
        for &count in &counts {
            let mut rng = ChaCha8Rng::seed_from_u64((count + n + k) as u64);
            let pops: Vec<Population> = (0..count).map(|_| population(&mut rng, n, m, pl)).collect();
            let opts = SolveOptions { dynamics: Dynamics::Pga, eta: BENCH_ETA, iters, tol: 0.0, checkpoints: 4 };
            let short = SolveOptions { iters: short_iters, ..opts.clone() };
            let mut row = Row {
                case,
                count,
                gpu_work: 0,
                gpu_short_work: 0,
                cpu_work: 0,
                phases: None,
                evals: n * m,
                refused: None,
                equilibria: None,
            };
            // What the device refuses (llvmpipe's loop limit for PL self-play) is reported, not measured.
            if let Err(e) = engine.selfplay_batch(&pops[..1], k, &SolveOptions { iters: 1, ..opts.clone() }) {
                row.refused = Some(e.to_string());
                rows.push(row);
                continue;
            }
            // The work of one sample, as the engine reports it, and where its time goes.
            let ran = |runs: Vec<ualign::cpu::SelfPlayRun>| runs.iter().map(|r| r.iterations).sum::<usize>();
            row.gpu_work = ran(engine.selfplay_batch(&pops, k, &opts).unwrap());
            row.phases = Some(engine.last_phase_times());
            row.gpu_short_work = ran(engine.selfplay_batch(&pops, k, &short).unwrap());
            group.throughput(Throughput::Elements(row.gpu_work as u64));
            group.bench_function(BenchmarkId::new("gpu", count), |b| {
                b.iter(|| engine.selfplay_batch(&pops, k, &opts).unwrap())
            });
            group.throughput(Throughput::Elements(row.gpu_short_work as u64));
            group.bench_function(BenchmarkId::new("gpu_short", count), |b| {
                b.iter(|| engine.selfplay_batch(&pops, k, &short).unwrap())
            });
            if with_cpu {
                let schedule = checkpoint_schedule(iters, 4);
                let cpu_run = || {
                    pops.par_iter()
                        .map(|p| selfplay(p, k, Dynamics::Pga.update(), BENCH_ETA, iters, 0.0, &schedule).iterations)
                        .sum::<usize>()
                };
                row.cpu_work = cpu_run();
                group.throughput(Throughput::Elements(row.cpu_work as u64));
                group.bench_function(BenchmarkId::new("cpu", count), |b| b.iter(cpu_run));
            }
            if count == counts[0] {
                // Equilibria by the device (default options, at most SOLVE_ITERS
                // iterations), re-evaluated exactly in f64.
                let sample = &pops[..solve.min(count)];
                let opts = SolveOptions { iters: SOLVE_ITERS, ..SolveOptions::default() };
                let solutions = engine.solve_batch(sample, k, &opts).unwrap();
                let worst = solutions.iter().map(|s| s.evaluation.exploitability).fold(0.0, f64::max);
                let converged = solutions.iter().filter(|s| s.converged).count();
                row.equilibria = Some((worst, converged, sample.len()));
            }
            rows.push(row);
        }
        group.finish();
    }
    let mut pl_rows = Vec::new();
    for (n, m, k) in PL_EVAL_CASES {
        let case = format!("pl_eval_n{n}_m{m}_k{k}");
        let count = counts_override.as_ref().map_or(1024, |c| c[0]);
        let mut rng = ChaCha8Rng::seed_from_u64((count + n + k) as u64);
        let pops: Vec<Population> = (0..count).map(|_| population(&mut rng, n, m, true)).collect();
        let policies: Vec<Vec<f64>> = pops
            .iter()
            .map(|_| {
                let raw: Vec<f64> = (0..n).map(|_| rng.random_range(0.05..1.0)).collect();
                let total: f64 = raw.iter().sum();
                raw.iter().map(|v| v / total).collect()
            })
            .collect();
        let mut group = c.benchmark_group(&case);
        group.sample_size(10).warm_up_time(Duration::from_millis(100)).measurement_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements(count as u64));
        let mut rates = Vec::new();
        for (name, kernel) in [("per_lane", PlKernel::PerLane), ("shared", PlKernel::Shared)] {
            engine.set_pl_kernel(kernel);
            if let Err(e) = engine.deviation_batch(&pops[..1], &policies[..1], k) {
                rates.push(format!("refused ({e})"));
                continue;
            }
            group.bench_function(BenchmarkId::new(name, count), |b| {
                b.iter(|| engine.deviation_batch(&pops, &policies, k).unwrap())
            });
            rates.push(rate(&dir, &case, name, count, count).map_or("-".into(), |r| format!("{r:.3e}")));
        }
        engine.set_pl_kernel(PlKernel::Auto);
        group.finish();
        pl_rows.push((case, count, rates));
    }
    c.final_summary();
    println!();
    println!(
        "== GPU check summary: adapter '{}' ({}), CPU engine on {} threads ==",
        engine.adapter_name(),
        engine.summary().backend,
        rayon::current_num_threads()
    );
    println!(
        "{:<22} {:>11} {:>14} {:>18} {:>18} {:>14} {:>8} {:>26}",
        "case",
        "populations",
        "GPU pop-iter/s",
        "GPU type-resp ev/s",
        "kernels alone ev/s",
        "CPU pop-iter/s",
        "GPU/CPU",
        "equilibria: worst f64 E"
    );
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3e}"));
    for row in &rows {
        if let Some(why) = &row.refused {
            println!("{:<22} {:>11} refused by the device: {why}", row.case, row.count);
            continue;
        }
        let gpu = rate(&dir, row.case, "gpu", row.count, row.gpu_work);
        let cpu = rate(&dir, row.case, "cpu", row.count, row.cpu_work);
        // Extra population-iterations over extra seconds between the full and the short call.
        let marginal =
            match (seconds(&dir, row.case, "gpu", row.count), seconds(&dir, row.case, "gpu_short", row.count)) {
                (Some(full), Some(short)) if full > short => {
                    Some((row.gpu_work - row.gpu_short_work) as f64 / (full - short) * row.evals as f64)
                }
                _ => None,
            };
        let ratio = match (gpu, cpu) {
            (Some(g), Some(c)) => format!("{:.3}", g / c),
            _ => "-".into(),
        };
        let eq = row.equilibria.map_or("-".into(), |(e, conv, solved)| format!("{e:.1e} ({conv}/{solved} conv.)"));
        println!(
            "{:<22} {:>11} {:>14} {:>18} {:>18} {:>14} {:>8} {:>26}",
            row.case,
            row.count,
            show(gpu),
            show(gpu.map(|g| g * row.evals as f64)),
            show(marginal),
            show(cpu),
            ratio,
            eq
        );
    }
    println!();
    println!("Where one GPU call's wall time went (ms), at the case's iterations per sample:");
    println!(
        "{:<22} {:>11} {:>8} {:>8} {:>9} {:>10} {:>8} {:>11}",
        "case", "populations", "pack", "upload", "kernels", "read-back", "decode", "dispatches"
    );
    for row in &rows {
        if let Some(t) = row.phases {
            let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e3);
            println!(
                "{:<22} {:>11} {:>8} {:>8} {:>9} {:>10} {:>8} {:>11}",
                row.case,
                row.count,
                ms(t.pack),
                ms(t.upload),
                ms(t.kernels),
                ms(t.read_back),
                ms(t.decode),
                t.dispatches
            );
        }
    }
    println!();
    println!("{:<22} {:>11} {:>22} {:>22}", "PL evaluation", "populations", "per-lane pop-eval/s", "shared pop-eval/s");
    for (case, count, rates) in pl_rows {
        println!("{case:<22} {count:>11} {:>22} {:>22}", rates[0], rates[1]);
    }
}
