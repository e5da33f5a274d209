//! Running a sweep: the cells of this shard, in order, each saved while it
//! runs (a chunk of populations at a time) and named once complete; then the
//! tables, the figures the caller draws from them ([`RunOptions::figures`],
//! e.g. `plot::default_figures_of`) and the manifest.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::config::Config;
use super::grid::Cell;
use super::outcome::{CellRecord, PopulationOutcome};
use super::shard::Shard;
use super::store::{config_hash, unix_now, Manifest, Store, Tables, Timings};
use crate::engine::BackendChoice;
use crate::error::{Error, Result};

/// Solves the populations of one cell. The sweep driver is generic over it so
/// that tests can drive the bookkeeping (resume, shards, merge) with a cheap
/// runner; [`super::EngineRunner`] is the real one.
pub trait CellRunner: Sync {
    /// Which engine runs the cells (recorded per cell and in the manifest).
    fn backend(&self) -> String;
    /// Checks the whole grid before any work (sizes the engine cannot handle).
    fn check(&self, _cells: &[Cell]) -> Result<()> {
        Ok(())
    }
    /// Computes the final metrics of each population of `cell` and hands
    /// them to `emit` in population order, a chunk at a time as they are
    /// computed (the driver saves each chunk; a runner may emit one chunk
    /// while it computes the next, hence `Send`).
    fn run_cell(&self, cell: &Cell, emit: &mut Emit<'_>) -> Result<()>;
}

/// Receives a cell's outcomes, a chunk at a time in population order.
pub type Emit<'a> = dyn FnMut(Vec<PopulationOutcome>) -> Result<()> + Send + 'a;

/// How to run a sweep.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Continue a previous run in the same directory, keeping finished cells.
    pub resume: bool,
    /// Run only this slice of the grid.
    pub shard: Option<Shard>,
    /// Override the config's backend.
    pub backend: Option<BackendChoice>,
    /// Report progress: a bar with ETA when stderr is a terminal, lines
    /// through `log` otherwise.
    pub progress: bool,
    /// Receives the run's notices and progress lines (the library never
    /// prints; the command line passes a function that writes to stderr).
    pub log: Option<fn(&str)>,
    /// Run a grid beyond [`crate::limits::MAX_SWEEP_CELLS`] cells or
    /// [`crate::limits::MAX_SWEEP_POPULATIONS`] populations (refused otherwise).
    pub large: bool,
    /// Draws figures from the tables once they are written (the command
    /// line passes the default figures), while the last cell is still being
    /// saved; the files it returns join [`Summary::files`].
    pub figures: Option<Figures>,
}

/// See [`RunOptions::figures`]: `(results directory, config, tables)`.
pub type Figures = fn(&Path, &Config, &Tables) -> Result<Vec<PathBuf>>;

/// What a run did.
#[derive(Clone, Debug)]
pub struct Summary {
    pub grid_cells: usize,
    /// Cells of this shard.
    pub cells: usize,
    pub cells_run: usize,
    pub cells_resumed: usize,
    pub backend: String,
    pub wall_s: f64,
    /// The tables and manifest written, then the figures.
    pub files: Vec<PathBuf>,
    /// The reproducible tables, as written (figures draw from them).
    pub tables: Tables,
}

/// Runs `config` into `out` with the given runner (see [`super::run`] for
/// the engine-backed entry point).
pub fn run_with(
    config: &Config,
    cells: &[Cell],
    out: &Path,
    opts: &RunOptions,
    runner: &dyn CellRunner,
) -> Result<Summary> {
    let started = Instant::now();
    let mine: Vec<&Cell> = cells.iter().filter(|c| opts.shard.is_none_or(|s| s.owns(c.index))).collect();
    let store = Store::new(out);
    let _lock = store.claim("--out")?;
    let hash = config_hash(config);
    let shard = opts.shard.map(|s| [s.index, s.count]);
    let existing = store.read_manifest()?;
    match (&existing, opts.resume) {
        (Some(_), false) => {
            return Err(Error::input(
                "--out",
                format!("{} already holds a sweep", out.display()),
                "pass --resume to continue it, or choose another --out directory",
            ))
        }
        (Some(m), true) if m.config_hash != hash || m.shard != shard => {
            return Err(Error::input(
                "--resume",
                format!("{} holds a sweep of another config or shard", out.display()),
                "resume with the same config and --shard, or choose another --out directory",
            ))
        }
        _ => {}
    }
    runner.check(cells)?;
    store.remove_temporaries();

    let done = if opts.resume { store.finished()? } else { Default::default() };
    // A damaged cell file (e.g. truncated by a full disk) is named now, not
    // after all the work.
    for cell in mine.iter().filter(|c| done.contains(&c.index)) {
        store.load(cell)?;
    }
    let todo: Vec<&Cell> = mine.iter().copied().filter(|c| !done.contains(&c.index)).collect();
    let resumed = mine.len() - todo.len();
    let backend = runner.backend();
    let mut manifest = Manifest {
        ualign_version: env!("CARGO_PKG_VERSION").into(),
        title: config.title.clone(),
        config_file: config.path.clone(),
        config_hash: hash,
        config: config.text.clone(),
        grid_cells: cells.len(),
        shard,
        cells: mine.len(),
        backend_requested: format!("{:?}", opts.backend.unwrap_or(config.backend)).to_lowercase(),
        backend_used: vec![backend.clone()],
        seeds: seeds(cells),
        checkpoints: config.checkpoints,
        merged_from: Vec::new(),
        complete: false,
        timings: Timings { started_unix: unix_now(), cells_resumed: resumed, ..Default::default() },
    };
    store.write_manifest(&manifest)?;

    let mut progress = Progress::new(opts.progress, opts.log, todo.len(), resumed);
    // The cells computed now are tabled from memory: a saved cell reads back
    // bit for bit (floats round-trip exactly), so only resumed ones are loaded.
    let mut computed = std::collections::HashMap::new();
    let mut last_file = None;
    for (i, cell) in todo.iter().enumerate() {
        let t0 = Instant::now();
        let mut file = store.cell_file(cell, &backend)?;
        let mut outcomes = Vec::with_capacity(cell.populations);
        runner.run_cell(cell, &mut |chunk| {
            file.push(&chunk)?;
            outcomes.extend(chunk);
            Ok(())
        })?;
        let wall_s = t0.elapsed().as_secs_f64();
        // The last cell is finished below, while the tables are built.
        if i + 1 < todo.len() {
            file.finish(wall_s)?;
        } else {
            last_file = Some((file, wall_s));
        }
        computed.insert(cell.index, CellRecord { cell: (*cell).clone(), backend: backend.clone(), outcomes, wall_s });
        progress.cell_done(cell);
    }
    progress.finish();

    let records =
        mine.iter().map(|c| computed.remove(&c.index).map_or_else(|| store.load(c), Ok)).collect::<Result<Vec<_>>>()?;
    // The last cell's file is finished while the tables are written and the
    // figures drawn; the manifest says complete only once it is on disk.
    let (saved, written) = std::thread::scope(|scope| {
        let saving = last_file.map(|(file, wall_s)| scope.spawn(move || file.finish(wall_s)));
        let written = store.write_tables(&records, config.checkpoints).map(|tables| {
            let figures = opts.figures.map_or(Ok(Vec::new()), |draw| draw(out, config, &tables));
            (tables, figures)
        });
        let saved = saving.map_or(Ok(()), |s| s.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        (saved, written)
    });
    saved?;
    let (tables, figures) = written?;
    let mut files: Vec<PathBuf> = ["cells.csv", "populations.csv", "history.csv", "timings.csv", "manifest.json"]
        .iter()
        .map(|f| out.join(f))
        .collect();
    manifest.backend_used = distinct(records.iter().map(|r| r.backend.clone()));
    manifest.complete = true;
    manifest.timings.cells_run = todo.len();
    manifest.timings.cells_wall_s = records.iter().map(|r| r.wall_s).sum();
    manifest.timings.wall_s = started.elapsed().as_secs_f64();
    manifest.timings.finished_unix = unix_now();
    store.write_manifest(&manifest)?;
    files.extend(figures?);
    drop_in_background(records);
    Ok(Summary {
        grid_cells: cells.len(),
        cells: mine.len(),
        cells_run: todo.len(),
        cells_resumed: resumed,
        backend,
        wall_s: manifest.timings.wall_s,
        files,
        tables,
    })
}

/// Frees the records on a thread of their own: a large sweep's outcomes are
/// a few allocations per population, and the caller need not wait for them.
/// (Where no thread can be started, the refused closure frees them here.)
fn drop_in_background(records: Vec<CellRecord>) {
    let _ = std::thread::Builder::new().name("ualign-free".into()).spawn(move || drop(records));
}

fn seeds(cells: &[Cell]) -> Vec<u64> {
    let mut s: Vec<u64> = cells.iter().filter_map(|c| c.seed).collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Progress on stderr: an indicatif bar with ETA on a terminal, one log line
/// per cell otherwise (batch jobs, CI, Slurm logs). Neither stops the run
/// when stderr fails: indicatif ignores its draw errors, and the log is the
/// caller's (the command line's drops them).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    log: Option<fn(&str)>,
    total: usize,
    done: usize,
    started: Instant,
}

impl Progress {
    fn new(enabled: bool, log: Option<fn(&str)>, total: usize, resumed: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let log = log.filter(|_| enabled);
        if let (Some(log), true) = (log, resumed > 0) {
            log(&format!("sweep: resuming, {resumed} cells already finished, {total} to go"));
        }
        let bar = (enabled && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} cells, ETA {eta} {msg}",
            )
            .expect("the template is valid");
            bar.set_style(style);
            bar
        });
        Progress { bar, log: log.filter(|_| !terminal), total, done: 0, started: Instant::now() }
    }

    fn cell_done(&mut self, cell: &Cell) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.set_message(cell.describe());
            bar.inc(1);
        } else if let Some(log) = self.log {
            let elapsed = self.started.elapsed().as_secs_f64();
            let eta = elapsed / self.done as f64 * (self.total - self.done) as f64;
            log(&format!(
                "sweep: cell {}/{} done ({}); elapsed {elapsed:.1} s, ETA {eta:.1} s",
                self.done,
                self.total,
                cell.describe()
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
