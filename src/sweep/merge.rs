//! `ualign merge DIR… --out DIR`: combine shard outputs into the files an
//! unsharded run writes. Cell files are copied byte for byte and the tables
//! regenerated from them, so the merged `cells.csv`, `populations.csv` and
//! `history.csv` equal those of a single run.

use std::path::{Path, PathBuf};

use super::outcome::CellRecord;
use super::store::{unix_now, Manifest, Store, Timings};
use crate::error::{Error, Location, Result};
use crate::results::table::write_atomic;

/// Merges finished sweep directories (typically the shards of one config)
/// into `out`: cells, tables and manifest (figures are drawn from the
/// tables by the caller, see `plot::default_figures`).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<()> {
    if dirs.is_empty() {
        return Err(Error::input("DIR", "no directories to merge", "name the shard output directories"));
    }
    let mut manifests = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Error::input(
                "DIR",
                format!("{} does not exist or is not a directory", dir.display()),
                "name the --out directories of the `ualign sweep --shard I/N` runs",
            ));
        }
        let m = Store::new(dir).read_manifest()?.ok_or_else(|| {
            Error::input(
                "DIR",
                format!("{} holds no manifest.json", dir.display()),
                "name directories written by `ualign sweep`",
            )
        })?;
        if !m.complete {
            return Err(Error::input(
                "DIR",
                format!("the sweep in {} is not finished", dir.display()),
                "finish it with `ualign sweep … --resume` before merging",
            ));
        }
        manifests.push(m);
    }
    let first = &manifests[0];
    for (m, dir) in manifests.iter().zip(dirs) {
        if m.config_hash != first.config_hash || m.grid_cells != first.grid_cells {
            return Err(Error::input(
                "DIR",
                format!("{} ran another config than {}", dir.display(), dirs[0].display()),
                "merge only the shards of one config",
            ));
        }
    }
    let mut cleanup = RemoveOnFailure::new(out);
    let target = Store::new(out);
    let _lock = target.claim("--out")?;
    if target.read_manifest()?.is_some() {
        return Err(Error::input(
            "--out",
            format!("{} already holds a sweep", out.display()),
            "merge into a new or empty directory",
        ));
    }

    let stores: Vec<Store> = dirs.iter().map(|d| Store::new(d)).collect();
    let finished: Vec<_> = stores.iter().map(|s| s.finished()).collect::<Result<_>>()?;
    let mut records = Vec::with_capacity(first.grid_cells);
    for index in 0..first.grid_cells {
        let holders: Vec<usize> = (0..stores.len()).filter(|&s| finished[s].contains(&index)).collect();
        let Some(&h) = holders.first() else {
            return Err(Error::input(
                "DIR",
                format!("cell {index} of {} is in none of the directories", first.grid_cells),
                "merge every shard (--shard 0/N … N-1/N) of the sweep",
            ));
        };
        let bytes = stores[h].cell_bytes(index)?;
        for &other in &holders[1..] {
            if !same_results(&bytes, &stores[other].cell_bytes(index)?) {
                return Err(Error::input(
                    "DIR",
                    format!("cell {index} differs between {} and {}", dirs[h].display(), dirs[other].display()),
                    "merge shards from one backend and one ualign version",
                ));
            }
        }
        let rec: CellRecord = serde_json::from_slice(&bytes).map_err(|e| Error::Input {
            location: Location { file: Some(stores[h].cell_path(index).display().to_string()), line: Some(e.line()) },
            field: "cell".into(),
            problem: format!("is not a finished cell ({e})"),
            fix: "re-run that shard with --resume after deleting the file".into(),
        })?;
        write_atomic(&target.cell_path(index), &bytes)?;
        records.push(rec);
    }
    target.write_tables(&records, first.checkpoints)?;

    let mut backends: Vec<String> = Vec::new();
    for b in manifests.iter().flat_map(|m| m.backend_used.iter()) {
        if !backends.contains(b) {
            backends.push(b.clone());
        }
    }
    let sum = |f: fn(&Timings) -> f64| manifests.iter().map(|m| f(&m.timings)).sum::<f64>();
    let manifest = Manifest {
        shard: None,
        cells: first.grid_cells,
        backend_used: backends,
        merged_from: dirs.iter().map(|d| d.display().to_string()).collect(),
        complete: true,
        timings: Timings {
            wall_s: sum(|t| t.wall_s),
            cells_wall_s: records.iter().map(|r| r.wall_s).sum(),
            cells_run: manifests.iter().map(|m| m.timings.cells_run).sum(),
            cells_resumed: manifests.iter().map(|m| m.timings.cells_resumed).sum(),
            started_unix: manifests.iter().map(|m| m.timings.started_unix).min().unwrap_or(0),
            finished_unix: unix_now(),
        },
        ..first.clone()
    };
    target.write_manifest(&manifest)?;
    cleanup.done = true;
    Ok(())
}

/// Removes what a failed merge wrote, so that the same command can be run
/// again: the whole `--out` directory when the merge created it, its
/// contents when it was empty before, nothing when it already held files.
struct RemoveOnFailure {
    dir: PathBuf,
    created: bool,
    was_empty: bool,
    done: bool,
}

impl RemoveOnFailure {
    fn new(dir: &Path) -> Self {
        let was_empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false);
        RemoveOnFailure { dir: dir.to_path_buf(), created: !dir.exists(), was_empty, done: false }
    }
}

impl Drop for RemoveOnFailure {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.created {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else if self.was_empty {
            for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            }
        }
    }
}

/// Two copies of a cell agree when they differ at most in wall time (a
/// re-run of the same shard) or in how the file is laid out (checkpoints as
/// arrays or, written before, as objects); anything else is a real
/// disagreement.
fn same_results(a: &[u8], b: &[u8]) -> bool {
    let results =
        |bytes: &[u8]| serde_json::from_slice::<CellRecord>(bytes).ok().map(|rec| CellRecord { wall_s: 0.0, ..rec });
    a == b || matches!((results(a), results(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_agree_across_wall_time_and_checkpoint_layout_only() {
        let cell = r#"{"index":0,"model":"impartial","responses":3,"types":3,"populations":1,"seed":1,"k":1,"dynamics":"pga","eta":1.0,"iters":10,"tol":1e-9}"#;
        let record = |wall: f64, checkpoint: &str, regret: f64| {
            let m = r#"{"r":0.5,"e":0.25,"r_ell":null}"#;
            format!(
                r#"{{"cell":{cell},"backend":"cpu","wall_s":{wall},"outcomes":[{{"responses":3,"types":3,"iterations":10,"converged":true,"equilibrium":{m},"average_r":0.5,"regret":{regret},"support":2,"entropy":0.7,"nlhf":{m},"rlhf":{m},"uniform":{m},"history":[{checkpoint}]}}]}}"#
            )
            .into_bytes()
        };
        let object = r#"{"iteration":10,"exploitability":0.25,"robust_alignment":0.5,"average_robust_alignment":0.5,"average_regret":0.01}"#;
        let array = "[10,0.25,0.5,0.5,0.01]";
        let rec = record(1.0, array, 0.1);
        assert!(serde_json::from_slice::<CellRecord>(&rec).is_ok(), "{}", String::from_utf8_lossy(&rec));
        assert!(same_results(&rec, &record(2.5, array, 0.1)));
        assert!(same_results(&rec, &record(2.5, object, 0.1)));
        assert!(!same_results(&rec, &record(1.0, array, 0.2)));
        assert!(!same_results(&rec, &record(1.0, "[10,0.25,0.5,0.5,0.02]", 0.1)));
    }
}
