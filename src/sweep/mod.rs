//! Grid sweeps: many populations per cell, solved by self-play and
//! compared with the baselines, written as tables, figures and a manifest.
//!
//! - [`config`]: the TOML config, validated before any work;
//! - [`grid`]: expansion into numbered cells;
//! - [`shard`]: `--shard I/N` slices;
//! - [`run`]: the driver (resume, progress, atomic per-cell persistence);
//! - [`store`] / [`report`]: the results directory and its tables;
//! - [`merge`]: combining shard directories.

pub mod config;
pub mod engine;
pub mod grid;
pub mod merge;
pub mod outcome;
pub mod report;
pub mod run;
pub mod shard;
pub mod store;

pub use config::{Backend, Config};
pub use engine::{run, EngineRunner};
pub use grid::Cell;
pub use merge::merge;
pub use outcome::{CellRecord, PolicyMetrics, PopulationOutcome};
pub use run::{run_with, CellRunner, RunOptions, Summary};
pub use shard::Shard;
