//! Argument parsing and dispatch. Every subcommand reads its input, calls the
//! library, and prints a table or JSON; errors bubble up as one line.

mod analyse;
mod experiments;
mod format;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use ualign::dynamics::{Dynamics, SolveOptions};
use ualign::engine::BackendChoice;
use ualign::equilibrium::EquilibriumOptions;
use ualign::Result;

#[derive(Parser)]
#[command(
    name = "ualign",
    version,
    about = "Asymptotic universal alignment through test-time scaling: \
win rates, (k+1)-player equilibria and baselines, on the GPU or the CPU"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a policy: g(π), win rates, R_k, E_k (and R_{k,ℓ}).
    Eval(EvalArgs),
    /// The symmetric Nash equilibrium of the (k+1)-player game (or --dynamics: self-play).
    Solve(SolveArgs),
    /// R_k for k = 1..K of NLHF, RLHF, uniform and the (k+1)-player equilibrium.
    Compare(CompareArgs),
    /// Write synthetic populations as JSON Lines.
    Generate(GenerateArgs),
    /// List GPU adapters, backends and the limits that matter.
    Info,
    /// Run a grid experiment (the bundled default sweep without CONFIG).
    Sweep(SweepArgs),
    /// Redraw a heatmap from saved sweep results.
    Heatmap(HeatmapArgs),
    /// Combine shard outputs into the files an unsharded run writes.
    Merge(MergeArgs),
}

/// Where the populations come from: one file, or a batch (JSON Lines).
#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
struct Input {
    /// A population: JSON, PrefLib .soc/.soi.
    #[arg(long, value_name = "FILE")]
    population: Option<PathBuf>,
    /// A batch of populations, one JSON object per line; prints JSON Lines.
    #[arg(long, value_name = "FILE.jsonl")]
    populations: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct BackendArgs {
    /// auto = a hardware GPU, then a software adapter, then the CPU engine.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    backend: BackendChoice,
    /// Use the adapter whose name contains this text (see `ualign info`).
    #[arg(long, value_name = "NAME")]
    adapter: Option<String>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct EvalArgs {
    #[command(flatten)]
    input: Input,
    /// The policy: comma-separated probabilities, or uniform | nlhf | rlhf.
    #[arg(long)]
    policy: String,
    /// Number of sampled responses.
    #[arg(long)]
    k: usize,
    /// Also report R_{k,ℓ} against ℓ-response opponents.
    #[arg(long)]
    ell: Option<usize>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Args, Clone)]
#[command(allow_negative_numbers = true)]
struct DynamicsArgs {
    /// Run these self-play dynamics (solve: instead of the equilibrium solver).
    #[arg(long, value_enum)]
    dynamics: Option<Dynamics>,
    /// Step size η.
    #[arg(long)]
    eta: Option<f64>,
    /// Iteration cap.
    #[arg(long)]
    iters: Option<usize>,
    /// Stop once E_k ≤ tol.
    #[arg(long)]
    tol: Option<f64>,
}

impl DynamicsArgs {
    /// The robust solver's options (`solve` without `--dynamics`): only
    /// `--tol` means something there.
    fn equilibrium_options(&self) -> Result<EquilibriumOptions> {
        for (flag, given) in [("--eta", self.eta.is_some()), ("--iters", self.iters.is_some())] {
            if given {
                return Err(ualign::Error::input(
                    flag,
                    "only applies to the self-play dynamics",
                    "add --dynamics pga|mwu|optimistic|extragradient, or drop it to use the equilibrium solver",
                ));
            }
        }
        let mut o = EquilibriumOptions::default();
        if let Some(t) = self.tol {
            o.tol = t;
        }
        Ok(o)
    }

    fn options(&self) -> SolveOptions {
        let mut o = SolveOptions::default();
        if let Some(d) = self.dynamics {
            o.dynamics = d;
        }
        if let Some(e) = self.eta {
            o.eta = e;
        }
        if let Some(i) = self.iters {
            o.iters = i;
        }
        if let Some(t) = self.tol {
            o.tol = t;
        }
        o
    }
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct SolveArgs {
    #[command(flatten)]
    input: Input,
    #[arg(long)]
    k: usize,
    #[command(flatten)]
    dynamics: DynamicsArgs,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct CompareArgs {
    #[command(flatten)]
    input: Input,
    /// Largest k.
    #[arg(long, default_value_t = 10)]
    k_max: usize,
    #[command(flatten)]
    dynamics: DynamicsArgs,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct GenerateArgs {
    #[arg(long, value_enum)]
    model: ualign::population::generate::Model,
    /// Number of responses n.
    #[arg(long)]
    responses: usize,
    /// Number of user types m (default: the model's natural size).
    #[arg(long)]
    types: Option<usize>,
    /// Number of populations.
    #[arg(long, default_value_t = 1)]
    count: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Mallows dispersion φ ∈ [0, 1].
    #[arg(long)]
    phi: Option<f64>,
    /// Standard deviation of Plackett–Luce scores.
    #[arg(long)]
    sigma: Option<f64>,
    /// Planted Condorcet winner margin ε ∈ (0, 1/2].
    #[arg(long)]
    margin: Option<f64>,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE.jsonl")]
    out: Option<PathBuf>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct SweepArgs {
    /// The grid (TOML); without it, the bundled assets/sweeps/default.toml.
    config: Option<PathBuf>,
    /// Results directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue an interrupted run in DIR, keeping every finished cell.
    #[arg(long)]
    resume: bool,
    /// Run only slice I of N of the grid (0-based), e.g. 0/4.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Override the config's backend.
    #[arg(long, value_enum)]
    backend: Option<BackendChoice>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct HeatmapArgs {
    /// A sweep results directory.
    dir: PathBuf,
    /// Grid axis on x (a column of cells.csv, e.g. k).
    #[arg(long)]
    x: String,
    /// Grid axis on y (e.g. responses).
    #[arg(long)]
    y: String,
    /// Colour: gap, robust_alignment, exploitability, … (a metric of cells.csv).
    #[arg(long, default_value = "gap")]
    metric: String,
    /// Output image, .png or .svg.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct MergeArgs {
    /// Shard output directories.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Eval(a) => analyse::eval(a),
        Command::Solve(a) => analyse::solve(a),
        Command::Compare(a) => analyse::compare(a),
        Command::Generate(a) => experiments::generate(a),
        Command::Info => experiments::info(),
        Command::Sweep(a) => experiments::sweep(a),
        Command::Heatmap(a) => experiments::heatmap(a),
        Command::Merge(a) => experiments::merge(a),
    }
}
