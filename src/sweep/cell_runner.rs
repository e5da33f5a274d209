//! The real cell runner: generated (or PrefLib) populations, self-play on the
//! chosen engine, exact f64 evaluation of the equilibrium and the baselines.
//!
//! Backends: `cpu` is the exact f64 CPU engine on all cores; `gpu` is the
//! WGSL engine on any adapter (a hardware GPU first, then a software one such
//! as lavapipe), failing when there is none; `auto` (the default) decides as
//! `eval`/`solve` do (see [`crate::engine::AUTO_GPU_MIN_POPULATIONS`]), from
//! the largest cell. Auto skips software adapters on purpose: a software
//! rasteriser runs the same work slower than the native CPU engine.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::config::Config;
use super::grid::{gen_spec, Cell};
use super::outcome::{PolicyMetrics, PopulationOutcome};
use super::run::{run_with, CellRunner, Emit, RunOptions, Summary};
use crate::cpu::selfplay::Workspace;
use crate::dynamics::{Solution, SolveOptions};
use crate::engine::{BackendChoice, Engine, Workload};
use crate::equilibrium::{Equilibrium, EquilibriumOptions};
use crate::error::{Error, Result};
use crate::maximal_lottery::MaximalLottery;
use crate::metrics::{evaluate_on_valid, robust_alignment_ell, ELL_WORK_LIMIT};
use crate::population::generate::{generate_one, GenSpec};
use crate::population::{check_policy, Population};

/// The populations of a cell: population `i` is `generate_one(spec, i)`, or
/// the one population of the PrefLib file.
pub fn populations(cell: &Cell) -> Result<Vec<Population>> {
    let source = Source::of(cell)?;
    source.populations(0..source.count())
}

/// Where a cell's populations come from.
enum Source {
    Generated {
        spec: GenSpec,
        count: usize,
    },
    /// A PrefLib file's one population, loaded (and validated) once.
    Loaded(Population),
}

impl Source {
    fn of(cell: &Cell) -> Result<Source> {
        if let Some(path) = &cell.preflib_path {
            return Ok(Source::Loaded(crate::population::load::load_population(path)?));
        }
        let spec =
            gen_spec(cell).ok_or_else(|| Error::Other(format!("cell {}: unknown model {}", cell.index, cell.model)))?;
        Ok(Source::Generated { spec, count: cell.populations })
    }

    fn count(&self) -> usize {
        match self {
            Source::Generated { count, .. } => *count,
            Source::Loaded(_) => 1,
        }
    }

    /// Populations `range` (within `count`), generated in parallel.
    fn populations(&self, range: Range<usize>) -> Result<Vec<Population>> {
        range.into_par_iter().map(|i| self.population(i).map(Cow::into_owned)).collect()
    }

    /// Population `i` (`i < count`).
    fn population(&self, i: usize) -> Result<Cow<'_, Population>> {
        match self {
            Source::Generated { spec, .. } => generate_one(spec, i).map(Cow::Owned),
            Source::Loaded(pop) => Ok(Cow::Borrowed(pop)),
        }
    }
}

/// Populations a cell runs at a time, start to finish (generated, played,
/// polished, scored) before they are handed on to be saved, so the cell
/// file's writing and flushing to disk of one chunk overlap the next chunk,
/// and a cell holds its outcomes and at most one chunk's populations.
/// Large enough to fill a GPU batch.
const CHUNK: usize = 16_384;

/// The most populations one CPU task runs (a few milliseconds of work).
const TASK: usize = 64;

/// Runs cells with the CPU or GPU engine and the exact baselines.
pub struct EngineRunner {
    engine: Engine,
    checkpoints: usize,
    rlhf_beta: Option<f64>,
    /// Baseline policies of recent cells' populations, by population set.
    baselines: Mutex<Vec<(String, BaselinePolicies)>>,
    /// The population sets of more than one cell of the grid: only theirs
    /// are kept.
    shared: HashSet<String>,
}

/// A cell's baseline policies: an earlier cell's of the same populations,
/// or computed chunk by chunk (and kept if a later cell shares them).
enum CellBaselines {
    Cached(BaselinePolicies),
    Computed { keep: bool, all: Vec<Baselines> },
}

/// The NLHF and RLHF policies of each population of a cell. They depend on
/// the populations alone, so cells that differ only in k, dynamics, η, … (the
/// usual sweep axes) share one computation.
type BaselinePolicies = Arc<Vec<Baselines>>;

/// A population's NLHF (maximal lottery) and RLHF policies.
type Baselines = (MaximalLottery, Vec<f64>);

/// Population sets whose baseline policies are kept (a few suffice: cells
/// sharing populations are adjacent in the grid's order).
const BASELINE_SETS: usize = 4;

/// What identifies a cell's populations: population `i` is
/// `generate_one(spec, i)` (or the PrefLib file).
fn population_key(cell: &Cell) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        cell.model,
        cell.preflib_path,
        cell.responses,
        cell.types,
        cell.phi,
        cell.sigma,
        cell.margin,
        cell.seed,
        cell.populations
    )
}

impl EngineRunner {
    /// Opens the backend; `notice` receives the one-line notice saying which
    /// engine was chosen.
    pub fn new(config: &Config, backend: BackendChoice, notice: &mut dyn FnMut(String)) -> Result<EngineRunner> {
        let cells = config.cells();
        let populations = cells.iter().map(|c| c.populations).max().unwrap_or(0);
        let engine = Engine::select(backend, None, Workload::SelfPlay { populations })?;
        engine.take_notices().into_iter().for_each(|line| notice(format!("sweep: {line}")));
        let mut seen = HashSet::new();
        let shared = cells.iter().map(population_key).filter(|key| !seen.insert(key.clone())).collect();
        Ok(EngineRunner {
            engine,
            checkpoints: config.checkpoints,
            rlhf_beta: config.rlhf_beta,
            baselines: Mutex::default(),
            shared,
        })
    }

    /// The baseline policies of the cell's population set, if a cell of the
    /// same populations computed them.
    fn cached_baselines(&self, key: &str) -> Option<BaselinePolicies> {
        let sets = self.baselines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sets.iter().find(|(k, _)| k == key).map(|(_, b)| b.clone())
    }

    /// Keeps a population set's baseline policies for the next cells.
    fn remember_baselines(&self, key: String, computed: BaselinePolicies) {
        let mut sets = self.baselines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if sets.len() == BASELINE_SETS {
            sets.remove(0);
        }
        sets.push((key, computed));
    }

    /// A population's NLHF and RLHF policies.
    fn baselines_of(&self, pop: &Population) -> Result<Baselines> {
        // One pairwise matrix feeds both baselines.
        let pairwise = crate::baselines::Pairwise::of(pop);
        let rlhf = crate::baselines::rlhf_policy_of(&pairwise, self.rlhf_beta)?;
        Ok((crate::baselines::nlhf_lottery_of(&pairwise), rlhf))
    }
}

/// Binomial coefficient as f64 (sizes only).
fn binomial(n: usize, r: usize) -> f64 {
    (0..r).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

impl CellRunner for EngineRunner {
    fn backend(&self) -> String {
        self.engine.name()
    }

    fn check(&self, cells: &[Cell]) -> Result<()> {
        for cell in cells {
            // The R_{k,ℓ} search visits C(n+ℓ−1, ℓ) multisets with work ≥ m·ℓ
            // each (the engine's own estimate is larger for Plackett–Luce
            // types and is enforced again per population).
            if let (Some(ell), Some(n), Some(m)) = (cell.ell, cell.responses, cell.types) {
                let work = binomial(n + ell - 1, ell) * (m * ell) as f64;
                if work > ELL_WORK_LIMIT as f64 {
                    return Err(Error::Limit {
                        what: format!("the R_k,l search of cell {} (n = {n}, m = {m}, l = {ell})", cell.index),
                        value: work as usize,
                        limit: ELL_WORK_LIMIT,
                        engine: "the exact R_k,l search".into(),
                        fix: "use a smaller ell or fewer responses in the config".into(),
                    });
                }
            }
        }
        if let Some(engine) = self.engine.strict_gpu() {
            // One representative population per distinct size and k.
            let mut seen = std::collections::HashSet::new();
            for cell in cells {
                if seen.insert((cell.responses, cell.types, cell.k, cell.preflib.clone())) {
                    let mut one = cell.clone();
                    one.populations = 1;
                    engine.check_limits(&populations(&one)?, cell.k)?;
                }
            }
        }
        Ok(())
    }

    fn run_cell(&self, cell: &Cell, emit: &mut Emit<'_>) -> Result<()> {
        let opts = SolveOptions {
            dynamics: cell.dynamics,
            eta: cell.eta,
            iters: cell.iters,
            tol: cell.tol,
            checkpoints: self.checkpoints,
        };
        let source = Source::of(cell)?;
        let key = population_key(cell);
        let mut baselines = match self.cached_baselines(&key) {
            Some(all) => CellBaselines::Cached(all),
            None => CellBaselines::Computed { keep: self.shared.contains(&key), all: Vec::new() },
        };
        // Each chunk is emitted (saved) while the next is computed: the
        // saving's parallel blocks fill the cores that the last populations
        // of a chunk leave idle, and its serial parts (the copies into the
        // cell's outcomes) overlap the computation.
        let mut computed: Option<Vec<PopulationOutcome>> = None;
        for start in (0..source.count()).step_by(CHUNK) {
            let range = start..(start + CHUNK).min(source.count());
            let (chunk, emitted) = rayon::join(
                || {
                    if self.engine.runs_on_cpu() {
                        self.chunk_on_cpu(cell, &source, range, &opts, &mut baselines)
                    } else {
                        self.chunk_in_batches(cell, &source, range, &opts, &mut baselines)
                    }
                },
                || computed.take().map_or(Ok(()), &mut *emit),
            );
            emitted?;
            computed = Some(chunk?);
        }
        computed.map_or(Ok(()), emit)?;
        if let CellBaselines::Computed { keep: true, all } = baselines {
            self.remember_baselines(key, Arc::new(all));
        }
        Ok(())
    }
}

impl EngineRunner {
    /// A chunk on the CPU engine: each population start to finish in one
    /// task (generated, played, polished, scored, then dropped), so that it
    /// stays in cache and no core waits for a slower population between
    /// stages. Generated and PrefLib populations are valid (see [`outcome`]),
    /// so the self-play skips its input check.
    fn chunk_on_cpu(
        &self,
        cell: &Cell,
        source: &Source,
        range: Range<usize>,
        opts: &SolveOptions,
        baselines: &mut CellBaselines,
    ) -> Result<Vec<PopulationOutcome>> {
        crate::dynamics::check_options(cell.k, opts)?;
        let (cached, keep) = match baselines {
            CellBaselines::Cached(all) => (Some(&all[..]), false),
            CellBaselines::Computed { keep, .. } => (None, *keep),
        };
        // Collected in place (an indexed collect, errors checked after), and
        // in tasks of at most TASK populations, so that no core waits long
        // for the last populations of the chunk.
        let done: Vec<Result<(PopulationOutcome, Option<Baselines>)>> = range
            .into_par_iter()
            .with_max_len(TASK)
            .map_init(Workspace::default, |ws, i| {
                let pop = source.population(i)?;
                let sol = crate::dynamics::run(&pop, cell.k, opts, ws)?;
                match cached {
                    Some(all) => Ok((outcome(cell, &pop, sol, &all[i])?, None)),
                    None => {
                        let computed = self.baselines_of(&pop)?;
                        Ok((outcome(cell, &pop, sol, &computed)?, Some(computed).filter(|_| keep)))
                    }
                }
            })
            .collect();
        let mut outcomes = Vec::with_capacity(done.len());
        for result in done {
            let (outcome, computed) = result?;
            outcomes.push(outcome);
            if let (CellBaselines::Computed { all, .. }, Some(computed)) = (&mut *baselines, computed) {
                all.push(computed);
            }
        }
        Ok(outcomes)
    }

    /// A chunk on the GPU engine: the chunk's self-play as one batch, then
    /// the exact f64 work per population on the CPU.
    fn chunk_in_batches(
        &self,
        cell: &Cell,
        source: &Source,
        range: Range<usize>,
        opts: &SolveOptions,
        baselines: &mut CellBaselines,
    ) -> Result<Vec<PopulationOutcome>> {
        let pops = source.populations(range.clone())?;
        let solutions = self.engine.solve_batch(&pops, cell.k, opts)?;
        let score = |chunk_baselines: &[Baselines]| {
            pops.par_iter()
                .zip(solutions)
                .zip(chunk_baselines)
                .map(|((pop, sol), baselines)| outcome(cell, pop, sol, baselines))
                .collect()
        };
        match baselines {
            CellBaselines::Cached(all) => score(&all[range]),
            CellBaselines::Computed { keep, all } => {
                let computed: Vec<Baselines> =
                    pops.par_iter().map(|pop| self.baselines_of(pop)).collect::<Result<_>>()?;
                let outcomes = score(&computed);
                if *keep {
                    all.extend(computed);
                }
                outcomes
            }
        }
    }
}

/// What a sweep reports for one population of a cell: its dynamics run, its
/// equilibrium and its baselines, all scored exactly in f64.
fn outcome(cell: &Cell, pop: &Population, sol: Solution, (nlhf, rlhf_policy): &Baselines) -> Result<PopulationOutcome> {
    let (n, k) = (pop.responses, cell.k);
    // Valid by construction when generated (`tests/generate.rs` checks every model
    // against the full validation), validated when loaded from a PrefLib file.
    let found = equilibrium_of(pop, k, &sol)?;
    let metrics = |policy: &[f64], ell: Option<usize>| -> Result<PolicyMetrics> {
        Ok(PolicyMetrics::from_evaluation(&evaluate_on_valid(pop, policy, k, ell)?))
    };
    // The solver's own f64 evaluation of its policy: `evaluate` would
    // recompute the same numbers after the same checks.
    check_policy(&found.policy, n)?;
    let (policy, equilibrium, equilibrium_converged) = (&found.policy, &found.evaluation, found.converged);
    let r_ell = cell.ell.map(|l| robust_alignment_ell(pop, policy, k, l)).transpose()?;
    Ok(PopulationOutcome {
        responses: n,
        types: pop.types.len(),
        iterations: sol.iterations,
        converged: sol.converged,
        equilibrium: PolicyMetrics { r: equilibrium.robust_alignment, e: equilibrium.exploitability, r_ell },
        equilibrium_converged: Some(equilibrium_converged),
        last_iterate: Some(PolicyMetrics::from_evaluation(&sol.evaluation)),
        nlhf_unique: Some(nlhf.unique),
        average_r: sol.average_robust_alignment,
        regret: sol.regret,
        support: equilibrium.support,
        entropy: equilibrium.entropy,
        nlhf: metrics(&nlhf.policy, cell.ell)?,
        rlhf: metrics(rlhf_policy, None)?,
        uniform: metrics(&crate::baselines::uniform(n), None)?,
        history: sol.history,
    })
}

/// The equilibrium a sweep reports for a population, and whether it is one
/// (met the tolerance): the only place the sweep decides it, so the
/// equilibrium columns and the dynamics' own convergence columns stay
/// separate. It is the equilibrium solver's answer started from the
/// dynamics' last iterate (a Newton polish where that iterate is near an
/// equilibrium, the full homotopy where the dynamics cycled), judged in f64
/// at the solver's tolerance 1e-9; one the solver could not certify is kept
/// out of the equilibrium statistics (see `report`).
fn equilibrium_of(pop: &Population, k: usize, sol: &Solution) -> Result<Equilibrium> {
    crate::equilibrium::polish_on_valid(
        pop,
        k,
        &sol.policy,
        Some(&sol.evaluation.deviation),
        &EquilibriumOptions::default(),
    )
}

/// Runs a sweep with the engine the config (or `opts.backend`) asks for.
/// The backend notices go to `opts.log`, and progress too when `opts.progress` is set.
pub fn run(config: &Config, out: &Path, opts: &RunOptions) -> Result<Summary> {
    let backend = opts.backend.unwrap_or(config.backend);
    let log = opts.log.unwrap_or(|_| {});
    // The size is said, and checked, before an engine is opened.
    let cells = config.cells();
    let mine: Vec<&Cell> = cells.iter().filter(|c| opts.shard.is_none_or(|s| s.owns(c.index))).collect();
    let populations: u128 = mine.iter().map(|c| c.populations as u128).sum();
    if opts.progress {
        let shard = opts.shard.map(|s| format!(" (shard {s} of a grid of {} cells)", cells.len())).unwrap_or_default();
        log(&format!("sweep: {} cells{shard}, {populations} populations", mine.len()));
    }
    crate::limits::check_sweep_size(mine.len(), populations, opts.large)
        .map_err(|e| e.located(&crate::error::Location::file(config.path.clone())))?;
    let runner = EngineRunner::new(config, backend, &mut |line| log(&line))?;
    if opts.progress {
        log(&format!("sweep: {} on {}", config.title, runner.backend()));
    }
    let summary = run_with(config, &cells, out, opts, &runner);
    // Work the device refused and ran on the CPU engine instead, said once.
    runner.engine.take_notices().iter().for_each(|line| log(&format!("sweep: {line}")));
    summary
}
