//! The results directory of a sweep and its bookkeeping.
//!
//! ```text
//! DIR/manifest.json    config, ualign version, backend/adapter, seeds, shard, timings
//! DIR/cells/NNNNNN.json  one finished cell each, written while it runs and named once complete
//!                        (a `CellRecord`; checkpoints as arrays, see `PopulationOutcome::history`)
//! DIR/cells.csv  populations.csv  history.csv   reproducible tables (from cells/)
//! DIR/timings.csv      wall time per cell (not reproducible)
//! DIR/figures/         default figures (PNG and SVG)
//! DIR/.ualign.lock     present while a run or merge writes into DIR
//! ```
//!
//! A run or merge only writes into a directory that is new, empty, or
//! already a ualign results directory (it has `manifest.json`), and only
//! while it holds the lock, so a user's files are never overwritten and two
//! runs never share a directory.
//!
//! The tables are always regenerated from `cells/`, so an uninterrupted run,
//! a killed-and-resumed run and a merge of shards all produce them from the
//! same bytes.

mod cell_file;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::config::Config;
use super::grid::Cell;
use super::outcome::{CellRecord, CellText};
use super::report;
use crate::error::{Error, Location, Result};
pub use crate::results::manifest::{self, Manifest, Timings};
use crate::results::population_points::PopulationPoints;
use crate::results::table::{is_temporary, write_atomic, write_atomic_with, Table};
pub use cell_file::CellFile;

/// FNV-1a, 64 bit: a stable, platform-independent hash for config identity.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Identity of a config's results: grid, backend, checkpoints, RLHF β.
pub fn config_hash(config: &Config) -> String {
    let identity = serde_json::json!({
        "axes": config.axes,
        "backend": config.backend,
        "checkpoints": config.checkpoints,
        "rlhf_beta": config.rlhf_beta,
    });
    format!("{:016x}", fnv1a(identity.to_string().as_bytes()))
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The reproducible tables of a results directory, as written.
#[derive(Clone, Debug)]
pub struct Tables {
    pub cells: Table,
    /// Of `populations.csv` (a row per population), only what the figures
    /// draw.
    pub populations: PopulationPoints,
    pub history: Table,
}

/// A results directory.
pub struct Store {
    pub dir: PathBuf,
}

/// The lock file's name inside a results directory.
pub const LOCK_FILE: &str = ".ualign.lock";

/// A lock left by a run that was killed (its process is gone), where the
/// system lists processes under /proc; elsewhere a lock is always honoured.
fn lock_is_stale(path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(path) else { return false };
    let Ok(pid) = text.trim().parse::<u32>() else { return false };
    Path::new("/proc/self").exists() && !Path::new("/proc").join(pid.to_string()).exists()
}

/// Holds a results directory for one run; dropping it removes the lock.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl Store {
    pub fn new(dir: &Path) -> Self {
        Store { dir: dir.to_path_buf() }
    }

    /// Takes the directory for one run or merge: creates it if needed,
    /// refuses a non-empty directory that is not a ualign results directory
    /// (`flag` names the option that chose it), and takes the lock.
    pub fn claim(&self, flag: &str) -> Result<Lock> {
        let dir = &self.dir;
        if dir.exists() && !dir.is_dir() {
            return Err(Error::input(
                flag,
                format!("{} is a file, not a directory", dir.display()),
                "choose a new or empty directory for the results",
            ));
        }
        fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut entries = fs::read_dir(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        if entries.next().is_some() && !self.manifest_path().exists() && !self.dir.join(LOCK_FILE).exists() {
            return Err(Error::input(
                flag,
                format!("{} is not empty and holds no ualign results (no manifest.json)", dir.display()),
                "choose a new or empty directory, so that no file of yours is overwritten",
            ));
        }
        let path = dir.join(LOCK_FILE);
        if lock_is_stale(&path) {
            let _ = fs::remove_file(&path);
        }
        match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                use std::io::Write;
                let _ = writeln!(file, "{}", std::process::id());
                Ok(Lock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let pid = fs::read_to_string(&path).unwrap_or_default();
                Err(Error::input(
                    flag,
                    format!("{} is in use by another ualign run (process {})", dir.display(), pid.trim()),
                    format!(
                        "wait for it to finish, or choose another directory; if no run is active, delete {}",
                        path.display()
                    ),
                ))
            }
            Err(e) => Err(Error::io(path.display().to_string(), e)),
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        manifest::path(&self.dir)
    }

    pub fn cells_dir(&self) -> PathBuf {
        self.dir.join("cells")
    }

    pub fn cell_path(&self, index: usize) -> PathBuf {
        self.cells_dir().join(format!("{index:06}.json"))
    }

    pub fn read_manifest(&self) -> Result<Option<Manifest>> {
        manifest::read(&self.dir)
    }

    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let text = serde_json::to_string_pretty(m).map_err(|e| Error::Other(e.to_string()))? + "\n";
        write_atomic(&self.manifest_path(), text.as_bytes())
    }

    /// Starts saving a cell that is about to run: its populations are
    /// written as they are computed ([`CellFile::push`]), and the file takes
    /// its name only once [`CellFile::finish`] has it all on disk.
    pub fn cell_file(&self, cell: &Cell, backend: &str) -> Result<CellFile> {
        CellFile::create(&self.cell_path(cell.index), CellText::head(cell, backend))
    }

    /// The raw bytes of a saved cell (merge copies them unchanged).
    pub fn cell_bytes(&self, index: usize) -> Result<Vec<u8>> {
        let path = self.cell_path(index);
        fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))
    }

    /// Loads a saved cell and checks it belongs to `expected`.
    pub fn load(&self, expected: &Cell) -> Result<CellRecord> {
        let path = self.cell_path(expected.index);
        let file = path.display().to_string();
        let text = fs::read_to_string(&path).map_err(|e| Error::io(file.clone(), e))?;
        let mut rec: CellRecord = serde_json::from_str(&text).map_err(|e| Error::Input {
            location: Location { file: Some(file.clone()), line: Some(e.line()) },
            field: "cell".into(),
            problem: format!("is not a finished cell ({e})"),
            fix: "delete the file and resume to recompute the cell".into(),
        })?;
        rec.cell.preflib_path = expected.preflib_path.clone();
        if rec.cell != *expected {
            return Err(Error::Input {
                location: Location::file(file),
                field: "cell".into(),
                problem: "holds a cell with other parameters than this config's".into(),
                fix: "use a fresh --out directory for a changed config".into(),
            });
        }
        Ok(rec)
    }

    /// Indices of the cells finished on disk (temporaries are ignored).
    pub fn finished(&self) -> Result<BTreeSet<usize>> {
        let dir = self.cells_dir();
        let mut done = BTreeSet::new();
        let Ok(entries) = fs::read_dir(&dir) else { return Ok(done) };
        for entry in entries {
            let path = entry.map_err(|e| Error::io(dir.display().to_string(), e))?.path();
            if is_temporary(&path) {
                continue;
            }
            let index = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json"));
            if let Some(i) = index.and_then(|s| s.parse::<usize>().ok()) {
                done.insert(i);
            }
        }
        Ok(done)
    }

    /// Deletes temporaries left by a killed run.
    pub fn remove_temporaries(&self) {
        for dir in [self.dir.clone(), self.cells_dir()] {
            if let Ok(entries) = fs::read_dir(&dir) {
                for path in entries.flatten().map(|e| e.path()).filter(|p| is_temporary(p)) {
                    let _ = fs::remove_file(path);
                }
            }
        }
    }

    /// Writes `cells.csv`, `populations.csv`, `history.csv` and `timings.csv`
    /// from records sorted by cell index, and returns the first three (what
    /// the figures draw; of `populations.csv` the figures' columns). The
    /// tables are independent, so they are built and written in parallel.
    pub fn write_tables(&self, records: &[CellRecord], checkpoints: usize) -> Result<Tables> {
        let write = |name: &str, table: Table| table.write(&self.dir.join(name)).map(|()| table);
        let write_populations = || {
            write_atomic_with(&self.dir.join("populations.csv"), |file| report::write_populations_csv(records, file))?;
            Ok(report::population_points(records))
        };
        let ((cells, populations), (history, timings)) = rayon::join(
            || rayon::join(|| write("cells.csv", report::cells_table(records)), write_populations),
            || {
                rayon::join(
                    || write("history.csv", report::history_table(records, checkpoints)),
                    || write("timings.csv", report::timings_table(records)),
                )
            },
        );
        timings?;
        Ok(Tables { cells: cells?, populations: populations?, history: history? })
    }
}
