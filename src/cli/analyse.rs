//! `eval`, `solve` and `compare`: one population as a table (or JSON), or a
//! batch as JSON Lines in input order.

use serde_json::{json, Value};

use ualign::baselines;
use ualign::dynamics::{check_options, Solution};
use ualign::engine::Engine;
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

pub fn solve(a: SolveArgs) -> Result<()> {
    check_k(a.k).map_err(Error::as_flag)?;
    let opts = a.dynamics.options();
    check_options(a.k, &opts).map_err(Error::as_flag)?;
    let (pops, batch) = load(&a.input)?;
    let engine = open_engine(&a.backend)?;
    let solutions = engine.solve_batch(&pops, a.k, &opts)?;
    if batch {
        print_json_lines(solutions.iter().map(solution_json));
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&solution_json(&solutions[0])).unwrap());
    } else {
        print!("{}", format::solution(&pops[0], &solutions[0], &opts));
    }
    Ok(())
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

/// Prints the comparison; `Ok(false)` when some equilibrium row did not
/// converge (the caller exits with status 3).
pub fn compare(a: CompareArgs) -> Result<bool> {
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
    let unique: Vec<bool> = pops.iter().map(|p| baselines::nlhf_lottery(p).unique).collect();
    if batch {
        print_json_lines(tables.iter().zip(&unique).map(|(rows, &u)| compare_json(a.k_max, rows, u)));
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&compare_json(a.k_max, &tables[0], unique[0])).unwrap());
    } else {
        print!("{}", format::comparison(&pops[0], &tables[0], unique[0]));
    }
    let unconverged = tables.iter().flatten().filter(|r| !r.equilibrium_converged).count();
    if unconverged > 0 {
        eprintln!(
            "ualign: {unconverged} equilibrium row(s) did not reach tol {:e} (marked *, converged: false); \
             exit status {}",
            opts.tol,
            super::EXIT_UNCONVERGED
        );
    }
    Ok(unconverged == 0)
}
