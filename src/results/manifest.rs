//! `manifest.json`: what a results directory holds and how it was made.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};

/// Seconds and counts of a run (or of the shards of a merge).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Wall time of this invocation (for a merge: the sum over the shards).
    pub wall_s: f64,
    /// Sum of the per-cell wall times of all cells in this directory.
    pub cells_wall_s: f64,
    /// Cells computed by this invocation.
    pub cells_run: usize,
    /// Cells found finished on disk and reused (`--resume`).
    pub cells_resumed: usize,
    /// Unix time at start and end.
    pub started_unix: u64,
    pub finished_unix: u64,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub ualign_version: String,
    pub title: String,
    pub config_file: String,
    /// Hash of everything in the config that affects results; resume and
    /// merge refuse directories whose hash differs.
    pub config_hash: String,
    /// The config text, verbatim.
    pub config: String,
    /// Cells in the whole grid.
    pub grid_cells: usize,
    /// `[I, N]` when this directory holds shard I of N.
    pub shard: Option<[usize; 2]>,
    /// Cells this directory is responsible for.
    pub cells: usize,
    pub backend_requested: String,
    /// Backend and adapter that actually ran (e.g. `gpu: llvmpipe`), once known.
    pub backend_used: Vec<String>,
    /// The generator seeds used by the grid.
    pub seeds: Vec<u64>,
    /// Checkpoints per run (also the number of `history.csv` rows per cell).
    pub checkpoints: usize,
    /// Directories merged into this one.
    pub merged_from: Vec<String>,
    /// True once every cell of this directory is finished and the tables written.
    pub complete: bool,
    pub timings: Timings,
}

/// The manifest's path inside the results directory `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("manifest.json")
}

/// The manifest of the results directory `dir`, `None` when it has none.
pub fn read(dir: &Path) -> Result<Option<Manifest>> {
    let path = path(dir);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
    serde_json::from_str(&text).map(Some).map_err(|e| Error::Input {
        location: Location { file: Some(path.display().to_string()), line: Some(e.line()) },
        field: "manifest".into(),
        problem: format!("is not a ualign sweep manifest ({e})"),
        fix: "point at a directory written by `ualign sweep` or `ualign merge`".into(),
    })
}
