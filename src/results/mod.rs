//! The result files of a sweep, and the one place that knows their schema:
//! the column names ([`PARAMETERS`] and the metric columns the tables write),
//! the manifest and its timings ([`manifest`]), CSV tables ([`table`]) and
//! the columns of `populations.csv` that the figures read ([`population_points`]).
//! Sweeps write these files; plots read only them (never a sweep's types).
//!
//! ```text
//! DIR/manifest.json    config, ualign version, backend/adapter, seeds, shard, timings
//! DIR/cells/NNNNNN.json  one finished cell each, written while it runs and named once complete
//! DIR/cells.csv  populations.csv  history.csv   reproducible tables (from cells/)
//! DIR/timings.csv      wall time per cell (not reproducible)
//! DIR/figures/         default figures (PNG and SVG)
//! ```

pub mod float_text;
pub mod manifest;
pub mod population_points;
pub mod table;

pub use manifest::{Manifest, Timings};

/// Names of the grid parameters, in the column order of the result tables.
pub const PARAMETERS: [&str; 15] = [
    "model",
    "preflib",
    "responses",
    "types",
    "phi",
    "sigma",
    "margin",
    "populations",
    "seed",
    "k",
    "ell",
    "dynamics",
    "eta",
    "iters",
    "tol",
];
