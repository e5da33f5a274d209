//! `eval`, `solve` and `compare`: one population as a table (or JSON), or a
//! batch as JSON Lines in input order.

use serde_json::{json, Value};

use ualign::baselines;
use ualign::dynamics::{check_options, Solution, SolveOptions};
use ualign::engine::Engine;
use ualign::equilibrium::{self, Equilibrium};
use ualign::error::{Error, Result};
use ualign::metrics::{self, Evaluation};
use ualign::population::{check_k, check_policy, json as popjson, Population};

use super::format;
use super::{BackendArgs, CompareArgs, EvalArgs, Input, SolveArgs};

/// The populations named on the command line, and whether it was a batch.
fn load(input: &Input) -> Result<(Vec<Population>, bool)> {
    match (&input.population, &input.populations) {
        (Some(p), _) => Ok((vec![popjson::load_population(p)?], false)),
        (None, Some(p)) => Ok((popjson::load_populations(p)?, true)),
        (None, None) => {
            Err(Error::input("--population", "is missing", "pass --population FILE or --populations FILE.jsonl"))
        }
    }
}

fn open_engine(b: &BackendArgs) -> Result<Engine> {
    let (engine, notice) = Engine::select(b.backend, b.adapter.as_deref(), true)?;
    eprintln!("ualign: {notice}");
    Ok(engine)
}

/// `--policy`: probabilities separated by commas, or a named baseline.
fn parse_policy(text: &str, pop: &Population) -> Result<Vec<f64>> {
    let policy = match text.trim() {
        "uniform" => baselines::uniform(pop.responses),
        "nlhf" => baselines::nlhf(pop),
        "rlhf" => baselines::rlhf_policy(pop, None)?,
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
    check_policy(&policy, pop.responses).map_err(Error::as_flag)?;
    Ok(policy)
}

fn print_json_lines(values: impl IntoIterator<Item = Value>) {
    for v in values {
        println!("{v}");
    }
}

pub fn eval(a: EvalArgs) -> Result<()> {
    check_k(a.k).map_err(Error::as_flag)?;
    let (pops, batch) = load(&a.input)?;
    if let Some(ell) = a.ell {
        metrics::check_ell(ell, a.k).map_err(Error::as_flag)?;
    }
    let policies = pops.iter().map(|p| parse_policy(&a.policy, p)).collect::<Result<Vec<_>>>()?;
    let engine = open_engine(&a.backend)?;
    let deviations = engine.deviation_batch(&pops, &policies, a.k)?;
    let mut evals = Vec::with_capacity(pops.len());
    for ((pop, policy), g) in pops.iter().zip(&policies).zip(deviations) {
        let mut e = Evaluation::from_deviation(policy, g, a.k);
        if let Some(ell) = a.ell {
            e.ell = Some(ell);
            e.robust_alignment_ell = Some(metrics::robust_alignment_ell(pop, policy, a.k, ell)?);
        }
        evals.push(e);
    }
    if batch {
        print_json_lines(evals.iter().zip(&policies).map(|(e, p)| eval_json(e, p)));
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&eval_json(&evals[0], &policies[0])).unwrap());
    } else {
        print!("{}", format::evaluation(&pops[0], &policies[0], &evals[0]));
    }
    Ok(())
}

fn eval_json(e: &Evaluation, policy: &[f64]) -> Value {
    let mut v = serde_json::to_value(e).expect("evaluation serialises");
    v["policy"] = json!(policy);
    v
}

fn solution_json(s: &Solution) -> Value {
    let mut v = serde_json::to_value(&s.evaluation).expect("evaluation serialises");
    v["policy"] = json!(s.policy);
    v["iterations"] = json!(s.iterations);
    v["converged"] = json!(s.converged);
    v["average_robust_alignment"] = json!(s.average_robust_alignment);
    v["regret"] = json!(s.regret);
    v
}

/// A dynamics run, labelled as such in JSON.
fn dynamics_json(s: &Solution, opts: &SolveOptions) -> Value {
    let mut v = solution_json(s);
    v["solver"] = json!("dynamics");
    v["dynamics"] = json!(opts.dynamics);
    v["eta"] = json!(opts.eta);
    v
}

/// `solve` without `--dynamics`: the robust equilibrium solver.
fn solve_equilibrium(a: SolveArgs) -> Result<()> {
    check_k(a.k).map_err(Error::as_flag)?;
    let opts = a.dynamics.equilibrium_options()?;
    equilibrium::check_options(a.k, &opts).map_err(Error::as_flag)?;
    let (pops, batch) = load(&a.input)?;
    let engine = open_engine(&a.backend)?;
    let found = engine.equilibrium_batch(&pops, a.k, &opts)?;
    if batch {
        print_json_lines(found.iter().map(equilibrium_json));
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&equilibrium_json(&found[0])).unwrap());
    } else {
        print!("{}", format::equilibrium(&pops[0], &found[0], &opts));
    }
    Ok(())
}

fn equilibrium_json(e: &Equilibrium) -> Value {
    let mut v = serde_json::to_value(&e.evaluation).expect("evaluation serialises");
    v["policy"] = json!(e.policy);
    v["converged"] = json!(e.converged);
    v["solver"] = json!("equilibrium");
    v["method"] = json!(e.method);
    v["path_steps"] = json!(e.path_steps);
    v["newton_steps"] = json!(e.newton_steps);
    v["lambda"] = json!(e.lambda);
    v
}

pub fn solve(a: SolveArgs) -> Result<()> {
    if a.dynamics.dynamics.is_none() {
        return solve_equilibrium(a);
    }
    check_k(a.k).map_err(Error::as_flag)?;
    let opts = a.dynamics.options();
    check_options(a.k, &opts).map_err(Error::as_flag)?;
    let (pops, batch) = load(&a.input)?;
    let engine = open_engine(&a.backend)?;
    let solutions = engine.solve_batch(&pops, a.k, &opts)?;
    if batch {
        print_json_lines(solutions.iter().map(|s| dynamics_json(s, &opts)));
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&dynamics_json(&solutions[0], &opts)).unwrap());
    } else {
        print!("{}", format::solution(&pops[0], &solutions[0], &opts));
    }
    Ok(())
}

pub fn compare(a: CompareArgs) -> Result<()> {
    if a.k_max == 0 {
        return Err(Error::input("--k-max", "is 0", "use --k-max 1 or more"));
    }
    let opts = a.dynamics.options();
    check_options(1, &opts).map_err(Error::as_flag)?;
    let (pops, batch) = load(&a.input)?;
    let engine = open_engine(&a.backend)?;
    // Equilibria for k >= 2 on the chosen engine, batched over populations;
    // k = 1 (NLHF) and the baselines exactly on the CPU.
    let mut by_k: Vec<std::vec::IntoIter<Solution>> = Vec::with_capacity(a.k_max);
    for k in 2..=a.k_max {
        by_k.push(engine.solve_batch(&pops, k, &opts)?.into_iter());
    }
    let mut tables = Vec::with_capacity(pops.len());
    for pop in &pops {
        let solved: Vec<Solution> = by_k.iter_mut().map(|it| it.next().expect("one solution per population")).collect();
        tables.push(baselines::compare_from(pop, &solved, opts.tol)?);
    }
    if batch {
        print_json_lines(tables.iter().map(|rows| json!({ "k_max": a.k_max, "rows": rows })));
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&json!({ "k_max": a.k_max, "rows": tables[0] })).unwrap());
    } else {
        print!("{}", format::comparison(&pops[0], &tables[0]));
    }
    Ok(())
}
