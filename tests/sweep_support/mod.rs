//! A small, self-contained cell runner for the sweep tests: random populations
//! from `tests/common`, plain projected gradient ascent with the exact CPU
//! kernels, and fixed stand-in baselines. It exercises the sweep's
//! bookkeeping (resume, shards, merge, tables, figures) without the engine.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ualign::cpu::{deviation, dynamics_step, reduce_metrics, StepRule};
use ualign::dynamics::Checkpoint;
use ualign::sweep::{Cell, CellRunner, Config, Emit, PolicyMetrics, PopulationOutcome, RunOptions, Summary};
use ualign::{Error, Population, Result};

use crate::common;

pub struct SimpleRunner;

fn metrics(pop: &Population, policy: &[f64], k: usize) -> PolicyMetrics {
    let r = reduce_metrics(policy, &deviation(pop, policy, k), k);
    PolicyMetrics { r: r.robust_alignment, e: r.exploitability, r_ell: None }
}

/// Log-spaced checkpoint iterations 1..=iters.
fn checkpoint_at(iters: usize, count: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..count)
        .map(|i| ((iters as f64).ln() * i as f64 / (count - 1).max(1) as f64).exp().round() as usize)
        .collect();
    out.dedup();
    out
}

pub fn population(cell: &Cell, i: usize) -> Population {
    let (n, m) = (cell.responses.unwrap(), cell.types.unwrap());
    let seed = cell.seed.unwrap_or(0) * 1_000_003 + (n * 7919 + m) as u64 * 131 + i as u64;
    let pl = if cell.model == "pl" { 1.0 } else { 0.0 };
    common::random_population(&mut common::rng(seed), n, m, pl)
}

pub fn solve(pop: &Population, cell: &Cell) -> PopulationOutcome {
    let (n, k) = (pop.responses, cell.k);
    let bound = k as f64 / (k as f64 + 1.0);
    let marks = checkpoint_at(cell.iters, 8);
    let mut policy = vec![1.0 / n as f64; n];
    let (mut sum_g, mut sum_inner) = (vec![0.0; n], 0.0);
    let mut scratch = Vec::new();
    let mut history = Vec::new();
    let mut converged = false;
    let mut t = 0;
    while t < cell.iters {
        t += 1;
        let g = deviation(pop, &policy, k);
        let red = reduce_metrics(&policy, &g, k);
        sum_g.iter_mut().zip(&g).for_each(|(s, x)| *s += x);
        sum_inner += policy.iter().zip(&g).map(|(p, x)| p * x).sum::<f64>();
        converged = red.exploitability <= cell.tol;
        if marks.contains(&t) || converged || t == cell.iters {
            let top = sum_g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            history.push(Checkpoint {
                iteration: t,
                exploitability: red.exploitability,
                robust_alignment: red.robust_alignment,
                average_robust_alignment: 1.0 - top / t as f64,
                average_regret: (top - sum_inner) / t as f64,
            });
        }
        if converged {
            break;
        }
        dynamics_step(StepRule::Projected, &mut policy, &g, &g, cell.eta, &mut scratch);
    }
    let top = sum_g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let last = history.last().unwrap();
    let red = reduce_metrics(&policy, &deviation(pop, &policy, k), k);
    let mut first = vec![0.0; n];
    first[0] = 1.0;
    PopulationOutcome {
        responses: n,
        types: pop.types.len(),
        iterations: t,
        converged,
        equilibrium: PolicyMetrics { r: last.robust_alignment, e: last.exploitability, r_ell: None },
        equilibrium_converged: Some(converged),
        last_iterate: Some(PolicyMetrics { r: last.robust_alignment, e: last.exploitability, r_ell: None }),
        nlhf_unique: None,
        average_r: 1.0 - top / t as f64,
        regret: top - sum_inner,
        support: red.support,
        entropy: red.entropy,
        nlhf: metrics(pop, &first, k),
        rlhf: metrics(pop, &first, k),
        uniform: metrics(pop, &vec![1.0 / n as f64; n], k),
        history,
    }
    .with_bound_check(bound)
}

trait BoundCheck {
    fn with_bound_check(self, bound: f64) -> Self;
}

impl BoundCheck for PopulationOutcome {
    /// Sanity: no product policy beats k/(k+1).
    fn with_bound_check(self, bound: f64) -> Self {
        assert!(self.equilibrium.r <= bound + 1e-12);
        self
    }
}

impl CellRunner for SimpleRunner {
    fn backend(&self) -> String {
        "test-cpu".into()
    }
    fn run_cell(&self, cell: &Cell, emit: &mut Emit<'_>) -> Result<()> {
        emit((0..cell.populations).map(|i| solve(&population(cell, i), cell)).collect())
    }
}

/// Fails (as a killed process would stop) after `limit` cells.
pub struct AbortAfter {
    pub limit: usize,
    pub done: AtomicUsize,
}

impl CellRunner for AbortAfter {
    fn backend(&self) -> String {
        "test-cpu".into()
    }
    fn run_cell(&self, cell: &Cell, emit: &mut Emit<'_>) -> Result<()> {
        if self.done.fetch_add(1, Ordering::SeqCst) >= self.limit {
            return Err(Error::Other("killed".into()));
        }
        SimpleRunner.run_cell(cell, emit)
    }
}

pub const CONFIG: &str = r#"
title = "test sweep"
backend = "cpu"
checkpoints = 8
model = ["impartial", "pl"]
responses = [3, 4]
types = 4
k = [1, 2, 3]
populations = 3
seed = 5
dynamics = "pga"
eta = 0.5
iters = 300
tol = 1e-9
"#;

pub fn config(text: &str) -> Config {
    Config::parse(text, Path::new("test.toml")).unwrap()
}

pub fn cells(config: &Config) -> Vec<Cell> {
    config.cells()
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn run(config: &Config, out: &Path, opts: &RunOptions, runner: &dyn CellRunner) -> Result<Summary> {
    ualign::sweep::run_with(config, &cells(config), out, opts, runner)
}

pub fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}
