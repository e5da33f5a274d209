//! Grid sweeps: many populations per cell, solved by self-play and
//! compared with the baselines, written as tables, figures and a manifest.
//!
//! - [`config`]: the TOML config, validated before any work;
//! - [`grid`]: expansion into numbered cells;
//! - [`shard`]: `--shard I/N` slices;
//! - [`outcome`]: what a cell's run records per population;
//! - [`run`]: the driver (resume, progress, atomic per-cell persistence);
//! - [`cell_runner`]: the engine-backed runner of one cell (populations,
//!   dynamics, equilibrium, baselines, metrics);
//! - [`store`] / [`report`]: writing the results directory and its tables
//!   (their schema is [`crate::results`]); [`history_stats`]: the
//!   checkpoint statistics behind `history.csv`; [`percentile`] and
//!   [`radix`]: the tables' percentiles and sort;
//! - [`merge`]: combining shard directories.
//!
//! A sweep writes tables only; the caller draws the figures from them
//! ([`RunOptions::figures`], e.g. `plot::default_figures_of`).

pub mod cell_runner;
pub mod config;
pub mod grid;
pub mod history_stats;
pub mod merge;
pub mod outcome;
pub mod percentile;
pub mod radix;
pub mod report;
pub mod run;
pub mod shard;
pub mod store;

pub use cell_runner::{run, EngineRunner};
pub use config::Config;
pub use grid::Cell;
pub use merge::merge;
pub use outcome::{CellRecord, PolicyMetrics, PopulationOutcome};
pub use run::{run_with, CellRunner, Emit, RunOptions, Summary};
pub use shard::Shard;
