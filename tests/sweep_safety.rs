//! A results directory never loses files: a foreign directory is refused,
//! two runs cannot share one, a damaged cell is named before any work, and
//! re-runs of one shard merge while real disagreements are refused.

mod common;
mod sweep_support;

use std::sync::atomic::{AtomicUsize, Ordering};

use sweep_support::*;
use ualign::sweep::{Cell, CellRunner, Emit, RunOptions, Shard};
use ualign::Result;

fn quick() -> RunOptions {
    RunOptions::default()
}

/// Counts the cells it is asked to compute.
struct Counting(AtomicUsize);

impl CellRunner for Counting {
    fn backend(&self) -> String {
        "test-cpu".into()
    }
    fn run_cell(&self, cell: &Cell, emit: &mut Emit<'_>) -> Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        SimpleRunner.run_cell(cell, emit)
    }
}

#[test]
fn a_non_empty_directory_without_results_is_refused_and_left_alone() {
    let dir = tmp("foreign");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), "precious").unwrap();
    let err = run(&config(CONFIG), &dir, &quick(), &SimpleRunner).unwrap_err().to_string();
    assert!(err.contains("holds no ualign results"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "nothing was written");
    let shard = tmp("foreign-shard");
    run(&config(CONFIG), &shard, &quick(), &SimpleRunner).unwrap();
    let err = ualign::sweep::merge(&[shard], &dir).unwrap_err().to_string();
    assert!(err.contains("holds no ualign results"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("thesis.tex")).unwrap(), "precious");
}

#[test]
fn a_directory_in_use_is_refused_and_a_killed_runs_lock_is_taken_over() {
    let dir = tmp("locked");
    std::fs::create_dir_all(&dir).unwrap();
    // This test process is alive: its lock holds.
    std::fs::write(dir.join(".ualign.lock"), format!("{}\n", std::process::id())).unwrap();
    let err = run(&config(CONFIG), &dir, &quick(), &SimpleRunner).unwrap_err().to_string();
    assert!(err.contains("in use by another ualign run"), "{err}");
    assert!(!dir.join("manifest.json").exists());
    // A process id that cannot exist: the lock of a killed run.
    std::fs::write(dir.join(".ualign.lock"), "4294967295\n").unwrap();
    run(&config(CONFIG), &dir, &quick(), &SimpleRunner).unwrap();
    assert!(!dir.join(".ualign.lock").exists(), "the lock goes with the run");
}

#[test]
fn a_truncated_cell_is_named_before_any_work() {
    let dir = tmp("truncated");
    run(&config(CONFIG), &dir, &quick(), &AbortAfter { limit: 4, done: AtomicUsize::new(0) }).unwrap_err();
    let cell = dir.join("cells/000002.json");
    let text = std::fs::read_to_string(&cell).unwrap();
    std::fs::write(&cell, &text[..text.len() / 2]).unwrap();
    let counting = Counting(AtomicUsize::new(0));
    let resume = RunOptions { resume: true, ..quick() };
    let err = run(&config(CONFIG), &dir, &resume, &counting).unwrap_err().to_string();
    assert!(err.contains("000002.json") && err.contains("not a finished cell"), "{err}");
    assert_eq!(counting.0.load(Ordering::SeqCst), 0, "no cell computed before the check");
}

#[test]
fn reruns_of_one_shard_merge_and_real_disagreements_are_refused() {
    let cfg = config(CONFIG);
    let shard = |i| RunOptions { shard: Some(Shard { index: i, count: 2 }), ..quick() };
    let (a, again, b) = (tmp("dup-a"), tmp("dup-again"), tmp("dup-b"));
    run(&cfg, &a, &shard(0), &SimpleRunner).unwrap();
    run(&cfg, &again, &shard(0), &SimpleRunner).unwrap();
    run(&cfg, &b, &shard(1), &SimpleRunner).unwrap();
    // The re-run differs only in wall times.
    let cell = again.join("cells/000000.json");
    let mut rec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cell).unwrap()).unwrap();
    rec["wall_s"] = serde_json::json!(123.0);
    std::fs::write(&cell, rec.to_string()).unwrap();
    let merged = tmp("dup-merged");
    ualign::sweep::merge(&[a.clone(), again.clone(), b.clone()], &merged).unwrap();
    assert_eq!(read(&merged, "cells.csv").lines().count(), 13);
    // A changed result is a real disagreement.
    rec["outcomes"][0]["iterations"] = serde_json::json!(7);
    std::fs::write(&cell, rec.to_string()).unwrap();
    let err = ualign::sweep::merge(&[a, again, b], &tmp("dup-refused")).unwrap_err().to_string();
    assert!(err.contains("cell 0 differs"), "{err}");
}
