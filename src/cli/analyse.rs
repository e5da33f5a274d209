//! `eval`, `solve` and `compare`: one population as a table (or JSON), or a
//! batch as JSON Lines, streamed in input order chunk by chunk.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use ualign::baselines;
use ualign::dynamics::{check_options, SolveOptions};
use ualign::engine::{Engine, Workload};
use ualign::equilibrium::{self, EquilibriumOptions};
use ualign::error::{Error, Result};
use ualign::limits::MAX_K;
use ualign::metrics::{self, Evaluation};
use ualign::population::load::load_population_with_notes;
use ualign::population::stream::{Chunks, CHUNK};
use ualign::population::{check_k, normalised_policy, Population};

use super::output::{self, Out};
use super::records::{DynamicsRecord, EquilibriumRecord, EvalRecord};
use super::{format, BackendArgs, CompareArgs, EvalArgs, Input, SolveArgs};

/// What the command line names: one population (a table or JSON), or a
/// batch read chunk by chunk (JSON Lines).
enum Loaded {
    One(Population),
    Batch(Chunks),
}

fn load(input: &Input) -> Result<Loaded> {
    match (&input.population, &input.populations) {
        (Some(p), _) => {
            let (pop, notes) = load_population_with_notes(p)?;
            notes.iter().for_each(|line| output::note(&format!("ualign: {line}")));
            Ok(Loaded::One(pop))
        }
        (None, Some(p)) => Ok(Loaded::Batch(Chunks::open(p, CHUNK)?)),
        (None, None) => {
            Err(Error::input("--population", "is missing", "pass --population FILE or --populations FILE.jsonl"))
        }
    }
}

fn open_engine(b: &BackendArgs, work: Workload) -> Result<Engine> {
    if b.adapter.is_some() && ualign::engine::BackendChoice::from(b.backend) == ualign::engine::BackendChoice::Cpu {
        return Err(Error::input(
            "--adapter",
            format!(
                "only applies with --backend gpu, or auto (which uses a hardware GPU for self-play batches of {}+ populations)",
                ualign::engine::AUTO_GPU_MIN_POPULATIONS
            ),
            "drop --adapter, or use --backend gpu to run on that adapter",
        ));
    }
    let engine = Engine::select(b.backend.into(), b.adapter.as_deref(), work)?;
    print_notices(&engine);
    Ok(engine)
}

/// The engine's notices on stderr, each once.
fn print_notices(engine: &Engine) {
    for line in engine.take_notices() {
        output::note(&format!("ualign: {line}"));
    }
}

/// Runs `each` over a batch chunk by chunk; it writes one JSON line per
/// population in input order, flushed as each chunk finishes. The engine is opened
/// for the first chunk (`work` says for what, from its size); progress goes
/// to stderr every few seconds of a long run.
fn stream(
    mut chunks: Chunks,
    backend: &BackendArgs,
    work: impl Fn(usize) -> Workload,
    each: impl Fn(&Engine, &[Population], &mut Out) -> Result<()>,
) -> Result<()> {
    let Some(first) = chunks.next() else { return Ok(()) };
    let first = first?;
    let engine = open_engine(backend, work(first.len()))?;
    let mut out = Out::new();
    let started = Instant::now();
    let mut reported = started;
    let mut done = 0usize;
    let mut next = Some(Ok(first));
    while let Some(chunk) = next.take().or_else(|| chunks.next()) {
        let pops = chunk?;
        each(&engine, &pops, &mut out)?;
        out.flush()?;
        print_notices(&engine);
        done += pops.len();
        chunks.recycle(pops);
        if reported.elapsed() >= Duration::from_secs(5) {
            reported = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            output::note(&format!(
                "ualign: {done} populations done in {secs:.0} s ({:.0} per second)",
                done as f64 / secs
            ));
        }
    }
    Ok(())
}

/// `--policy`: probabilities separated by commas, or a named baseline.
fn parse_policy(text: &str, pop: &Population) -> Result<Vec<f64>> {
    let policy = match text.trim() {
        "uniform" => baselines::uniform(pop.responses),
        "nlhf" => {
            ualign::limits::check_dense_responses(pop.responses, "--policy nlhf")?;
            baselines::nlhf(pop)
        }
        "rlhf" => {
            ualign::limits::check_dense_responses(pop.responses, "--policy rlhf")?;
            baselines::rlhf_policy(pop, None)?
        }
        list => list
            .split(',')
            .enumerate()
            .map(|(i, s)| {
                s.trim().parse::<f64>().map_err(|_| {
                    Error::input(
                        format!("--policy[{i}]"),
                        format!("'{}' is not a number", s.trim()),
                        "give probabilities like 0.2,0.3,0.5 (or uniform, nlhf, rlhf)",
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?,
    };
    normalised_policy(&policy, pop.responses).map_err(Error::as_flag)
}

/// Evaluations of the policy `--policy` names, one per population.
fn evaluate(a: &EvalArgs, engine: &Engine, pops: &[Population]) -> Result<Vec<(Vec<f64>, Evaluation)>> {
    let policies = pops.iter().map(|p| parse_policy(&a.policy, p)).collect::<Result<Vec<_>>>()?;
    let deviations = engine.deviation_batch(pops, &policies, a.k)?;
    let mut evals = Vec::with_capacity(pops.len());
    for ((pop, policy), g) in pops.iter().zip(policies).zip(deviations) {
        let mut e = Evaluation::from_deviation(&policy, g, a.k);
        if let Some(ell) = a.ell {
            e.ell = Some(ell);
            e.robust_alignment_ell = Some(metrics::robust_alignment_ell(pop, &policy, a.k, ell)?);
        }
        evals.push((policy, e));
    }
    Ok(evals)
}

pub fn eval(a: EvalArgs) -> Result<()> {
    check_k(a.k).map_err(Error::as_flag)?;
    if let Some(ell) = a.ell {
        metrics::check_ell(ell, a.k).map_err(Error::as_flag)?;
    }
    match load(&a.input)? {
        Loaded::Batch(chunks) => stream(
            chunks,
            &a.backend,
            |_| Workload::Evaluate,
            |engine, pops, out| {
                let evals = evaluate(&a, engine, pops)?;
                out.json_lines(
                    &evals.iter().map(|(p, e)| EvalRecord::new(e, p, engine.precision())).collect::<Vec<_>>(),
                )
            },
        ),
        Loaded::One(pop) => {
            let engine = open_engine(&a.backend, Workload::Evaluate)?;
            let (policy, e) = evaluate(&a, &engine, std::slice::from_ref(&pop))?.remove(0);
            print_notices(&engine);
            if a.json {
                output::print(&(pretty(&EvalRecord::new(&e, &policy, engine.precision())) + "\n"))
            } else {
                output::print(&format::evaluation(&pop, &policy, &e))
            }
        }
    }
}

fn pretty(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).expect("a JSON record serialises")
}

fn self_play(populations: usize) -> Workload {
    Workload::SelfPlay { populations }
}

/// Counts the results of a solve or comparison and whether each converged,
/// and says on stderr how many did not (`compare` and `solve` share the exit
/// status).
struct Convergence {
    /// What is counted, e.g. "population(s)".
    what: &'static str,
    /// How the output marks an unconverged result.
    marked: &'static str,
    total: std::cell::Cell<usize>,
    unconverged: std::cell::Cell<usize>,
}

impl Convergence {
    fn new(what: &'static str, marked: &'static str) -> Self {
        Convergence { what, marked, total: Default::default(), unconverged: Default::default() }
    }

    /// Results of `solve`, one per population.
    fn of_populations() -> Self {
        Convergence::new("population(s)", "converged: false")
    }

    fn add(&self, converged: impl IntoIterator<Item = bool>) {
        for c in converged {
            self.total.set(self.total.get() + 1);
            self.unconverged.set(self.unconverged.get() + usize::from(!c));
        }
    }

    /// `true` when everything converged; otherwise one line on stderr.
    fn report(&self, tol: f64) -> bool {
        let (bad, total) = (self.unconverged.get(), self.total.get());
        if bad > 0 {
            output::note(&format!(
                "ualign: {bad} of {total} {} did not reach tol {tol:e} ({}); exit status {}",
                self.what,
                self.marked,
                super::EXIT_UNCONVERGED
            ));
        }
        bad == 0
    }
}

/// `solve` without `--dynamics`: the robust equilibrium solver.
fn solve_equilibrium(a: SolveArgs) -> Result<bool> {
    check_k(a.k).map_err(Error::as_flag)?;
    let opts = a.dynamics.equilibrium_options()?;
    equilibrium::check_options(a.k, &opts).map_err(Error::as_flag)?;
    let tally = Convergence::of_populations();
    match load(&a.input)? {
        Loaded::Batch(chunks) => stream(chunks, &a.backend, self_play, |engine, pops, out| {
            let found = engine.equilibrium_batch(pops, a.k, &opts)?;
            tally.add(found.iter().map(|f| f.converged));
            out.json_lines(&found.iter().map(EquilibriumRecord::new).collect::<Vec<_>>())
        })?,
        Loaded::One(pop) => {
            let engine = open_engine(&a.backend, self_play(1))?;
            let found = engine.equilibrium_batch(std::slice::from_ref(&pop), a.k, &opts)?.remove(0);
            tally.add([found.converged]);
            print_notices(&engine);
            if a.json {
                output::print(&(pretty(&EquilibriumRecord::new(&found)) + "\n"))?
            } else {
                output::print(&format::equilibrium(&pop, &found, &opts))?
            }
        }
    }
    Ok(tally.report(opts.tol))
}

/// `solve`; `Ok(false)` when some population did not converge (exit status
/// 3, as `compare`), after every result is printed.
pub fn solve(a: SolveArgs) -> Result<bool> {
    if a.dynamics.dynamics.is_none() {
        return solve_equilibrium(a);
    }
    let opts = a.dynamics.options();
    check_options(a.k, &opts).map_err(Error::as_flag)?;
    let tally = Convergence::of_populations();
    match load(&a.input)? {
        Loaded::Batch(chunks) => stream(chunks, &a.backend, self_play, |engine, pops, out| {
            let solutions = engine.solve_batch(pops, a.k, &opts)?;
            tally.add(solutions.iter().map(|s| s.converged));
            out.json_lines(&solutions.iter().map(|s| DynamicsRecord::new(s, &opts)).collect::<Vec<_>>())
        })?,
        Loaded::One(pop) => {
            let engine = open_engine(&a.backend, self_play(1))?;
            let solution = engine.solve_batch(std::slice::from_ref(&pop), a.k, &opts)?.remove(0);
            tally.add([solution.converged]);
            print_notices(&engine);
            if a.json {
                output::print(&(pretty(&DynamicsRecord::new(&solution, &opts)) + "\n"))?
            } else {
                output::print(&format::solution(&pop, &solution, &opts))?
            }
        }
    }
    Ok(tally.report(opts.tol))
}

/// `compare`'s JSON for one population: the rows, whether every
/// equilibrium row converged, and whether the NLHF policy is the only
/// maximal lottery (else it is the maximum-entropy one).
fn compare_json(k_max: usize, rows: &[baselines::CompareRow], nlhf_unique: bool) -> Value {
    let converged = rows.iter().all(|r| r.equilibrium_converged);
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("row serialises");
            v["converged"] = json!(r.equilibrium_converged);
            v
        })
        .collect();
    json!({ "k_max": k_max, "converged": converged, "nlhf_unique": nlhf_unique, "rows": rows })
}

/// How `compare` finds its equilibrium rows: the equilibrium solver, or the
/// self-play dynamics `--dynamics` names (whose last iterate may not be one).
enum Finder {
    Equilibrium(EquilibriumOptions),
    Dynamics(SolveOptions),
}

impl Finder {
    fn tol(&self) -> f64 {
        match self {
            Finder::Equilibrium(o) => o.tol,
            Finder::Dynamics(o) => o.tol,
        }
    }

    /// The equilibrium entry for `k` of every population.
    fn find(&self, engine: &Engine, pops: &[Population], k: usize) -> Result<Vec<baselines::Found>> {
        Ok(match self {
            Finder::Equilibrium(o) => engine.equilibrium_batch(pops, k, o)?.iter().map(Into::into).collect(),
            Finder::Dynamics(o) => engine.solve_batch(pops, k, o)?.iter().map(Into::into).collect(),
        })
    }
}

/// The comparison table of every population: equilibria for k ≥ 2 on the
/// engine, batched over populations; k = 1 (NLHF) and the baselines exactly
/// on the CPU.
fn comparisons(
    engine: &Engine,
    pops: &[Population],
    k_max: usize,
    finder: &Finder,
) -> Result<Vec<Vec<baselines::CompareRow>>> {
    for pop in pops {
        ualign::limits::check_dense_responses(pop.responses, "compare")?;
    }
    let mut by_k = Vec::with_capacity(k_max);
    for k in 2..=k_max {
        by_k.push(finder.find(engine, pops, k)?.into_iter());
    }
    let mut tables = Vec::with_capacity(pops.len());
    for pop in pops {
        let found: Vec<baselines::Found> =
            by_k.iter_mut().map(|it| it.next().expect("one equilibrium per population")).collect();
        tables.push(baselines::compare_from(pop, &found, finder.tol())?);
    }
    Ok(tables)
}

/// Prints the comparison; `Ok(false)` when some equilibrium row did not
/// converge (the caller exits with status 3).
pub fn compare(a: CompareArgs) -> Result<bool> {
    if a.k_max == 0 || a.k_max > MAX_K {
        return Err(Error::input("--k-max", format!("is {}", a.k_max), format!("use 1 <= --k-max <= {MAX_K}")));
    }
    let finder = if a.dynamics.dynamics.is_none() {
        let opts = a.dynamics.equilibrium_options()?;
        equilibrium::check_options(a.k_max, &opts).map_err(Error::as_flag)?;
        Finder::Equilibrium(opts)
    } else {
        let opts = a.dynamics.options();
        check_options(a.k_max, &opts).map_err(Error::as_flag)?;
        Finder::Dynamics(opts)
    };
    let k_max = a.k_max;
    let tally = Convergence::new("equilibrium row(s)", "marked *, converged: false");
    let count =
        |tables: &[Vec<baselines::CompareRow>]| tally.add(tables.iter().flatten().map(|r| r.equilibrium_converged));
    match load(&a.input)? {
        Loaded::Batch(chunks) => stream(chunks, &a.backend, self_play, |engine, pops, out| {
            let tables = comparisons(engine, pops, k_max, &finder)?;
            count(&tables);
            let lines: Vec<Value> = tables
                .iter()
                .zip(pops)
                .map(|(rows, pop)| compare_json(k_max, rows, baselines::nlhf_lottery(pop).unique))
                .collect();
            out.json_lines(&lines)
        })?,
        Loaded::One(pop) => {
            let engine = open_engine(&a.backend, self_play(1))?;
            let tables = comparisons(&engine, std::slice::from_ref(&pop), k_max, &finder)?;
            count(&tables);
            print_notices(&engine);
            let unique = baselines::nlhf_lottery(&pop).unique;
            if a.json {
                output::print(&(pretty(&compare_json(k_max, &tables[0], unique)) + "\n"))?
            } else {
                output::print(&format::comparison(&pop, &tables[0], unique))?
            }
        }
    }
    Ok(tally.report(finder.tol()))
}
