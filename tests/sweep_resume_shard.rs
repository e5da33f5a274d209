//! Merged shards and killed-then-resumed runs produce
//! the same tables as one uninterrupted run.

mod common;
mod sweep_support;

use std::sync::atomic::AtomicUsize;

use sweep_support::*;
use ualign::sweep::{RunOptions, Shard};

const TABLES: [&str; 3] = ["cells.csv", "populations.csv", "history.csv"];

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let cfg = config(CONFIG);
    let whole = tmp("whole");
    let opts = RunOptions::default();
    let summary = run(&cfg, &whole, &opts, &SimpleRunner).unwrap();
    assert_eq!(summary.cells, 12);
    let mut shards = Vec::new();
    for i in 0..2 {
        let dir = tmp(&format!("shard{i}"));
        let opts = RunOptions { shard: Some(Shard { index: i, count: 2 }), ..Default::default() };
        assert_eq!(run(&cfg, &dir, &opts, &SimpleRunner).unwrap().cells, 6);
        shards.push(dir);
    }
    let merged = tmp("merged");
    ualign::sweep::merge(&shards, &merged).unwrap();
    for t in TABLES {
        assert_eq!(read(&whole, t), read(&merged, t), "{t} differs");
    }
    assert_eq!(read(&whole, "cells.csv").lines().count(), 13);
    // A merge that misses a shard names the missing cell.
    let err = ualign::sweep::merge(&shards[..1], &tmp("partial")).unwrap_err().to_string();
    assert!(err.contains("cell 1 of 12"), "{err}");
}

#[test]
fn killed_and_resumed_equals_uninterrupted() {
    let cfg = config(CONFIG);
    let whole = tmp("uninterrupted");
    let opts = RunOptions::default();
    run(&cfg, &whole, &opts, &SimpleRunner).unwrap();

    let dir = tmp("killed");
    let killer = AbortAfter { limit: 5, done: AtomicUsize::new(0) };
    assert!(run(&cfg, &dir, &opts, &killer).is_err());
    assert_eq!(std::fs::read_dir(dir.join("cells")).unwrap().count(), 5);
    // A write cut short by kill -9 leaves only a temporary file behind.
    std::fs::write(dir.join("cells/.000005.json.tmp-4242"), "{\"cell\": {\"ind").unwrap();
    // Without --resume the directory is refused.
    let err = run(&cfg, &dir, &opts, &SimpleRunner).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");
    let resume = RunOptions { resume: true, ..Default::default() };
    let summary = run(&cfg, &dir, &resume, &SimpleRunner).unwrap();
    assert_eq!((summary.cells_resumed, summary.cells_run), (5, 7));
    for t in TABLES {
        assert_eq!(read(&whole, t), read(&dir, t), "{t} differs");
    }
    assert!(!dir.join("cells/.000005.json.tmp-4242").exists());
    // Resuming with another config is refused.
    let other = config(&CONFIG.replace("iters = 300", "iters = 301"));
    let err = run(&other, &dir, &resume, &SimpleRunner).unwrap_err().to_string();
    assert!(err.contains("another config"), "{err}");
}

#[test]
fn same_config_reproduces_the_tables_byte_for_byte() {
    let cfg = config(CONFIG);
    let opts = RunOptions::default();
    let (a, b) = (tmp("repro-a"), tmp("repro-b"));
    run(&cfg, &a, &opts, &SimpleRunner).unwrap();
    run(&cfg, &b, &opts, &SimpleRunner).unwrap();
    for t in TABLES {
        assert_eq!(read(&a, t), read(&b, t));
    }
    let m: serde_json::Value = serde_json::from_str(&read(&a, "manifest.json")).unwrap();
    assert_eq!(m["complete"], true);
    assert_eq!(m["grid_cells"], 12);
    assert_eq!(m["seeds"], serde_json::json!([5]));
    assert!(m["config"].as_str().unwrap().contains("test sweep"));
}

/// The tables a run hands back (the figures draw from them) are those its
/// files read back as, for computed and resumed cells alike.
#[test]
fn the_tables_handed_back_are_the_files_as_read_back() {
    use ualign::results::population_points::PopulationPoints;
    use ualign::results::table::Table;
    let cfg = config(CONFIG);
    let dir = tmp("handed-back");
    let killer = AbortAfter { limit: 4, done: AtomicUsize::new(0) };
    assert!(run(&cfg, &dir, &RunOptions::default(), &killer).is_err());
    let summary = run(&cfg, &dir, &RunOptions { resume: true, ..Default::default() }, &SimpleRunner).unwrap();
    assert_eq!((summary.cells_resumed, summary.cells_run), (4, 8));
    let t = &summary.tables;
    for (name, table) in [("cells.csv", &t.cells), ("history.csv", &t.history)] {
        assert_eq!(&Table::read(&dir.join(name)).unwrap(), table, "{name}");
        assert!(!table.rows.is_empty(), "{name}");
    }
    let populations = Table::read(&dir.join("populations.csv")).unwrap();
    assert_eq!(PopulationPoints::read(&dir.join("populations.csv")).unwrap(), t.populations);
    assert_eq!(t.populations.rows.len(), populations.rows.len());
}
