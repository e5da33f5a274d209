//! Argument parsing and dispatch. Every subcommand reads its input, calls the
//! library, and prints a table or JSON; errors bubble up as one line.

mod analyse;
mod choices;
mod experiments;
mod format;
mod out_file;
mod output;
mod records;

pub use output::{is_closed_pipe, note};

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use choices::{BackendArg, DynamicsArg, ModelArg};
use ualign::dynamics::SolveOptions;
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
    ///
    /// Exit status 3 (after printing everything) when the solver did not
    /// reach its tolerance for some k: those rows are marked `*` and are not
    /// equilibria (`converged: false` in JSON). Input errors exit with 1.
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
    /// A population: JSON, PrefLib .soc/.soi/.toc/.toi.
    #[arg(long, value_name = "FILE")]
    population: Option<PathBuf>,
    /// A batch of populations, one JSON object per line; prints JSON Lines.
    #[arg(long, value_name = "FILE.jsonl")]
    populations: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct BackendArgs {
    /// Engine: auto = the exact CPU engine, except self-play batches of 4,096+
    /// populations on a hardware GPU (never a software adapter such as
    /// lavapipe); gpu = any GPU adapter, software included, or an error;
    /// cpu = the exact f64 engine on all cores.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Use the GPU adapter whose name contains this text (see `ualign info`)
    /// [default: the first hardware adapter]. Only with --backend gpu or
    /// auto (auto then considers only that adapter); an error with cpu.
    #[arg(long, value_name = "NAME")]
    adapter: Option<String>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct EvalArgs {
    #[command(flatten)]
    input: Input,
    /// The policy: comma-separated probabilities summing to 1 within 1e-6 (then
    /// rescaled to sum to 1 exactly), or uniform | nlhf | rlhf.
    #[arg(long, allow_hyphen_values = true)]
    policy: String,
    /// Number of responses sampled from the policy (1 to 1,000).
    #[arg(long)]
    k: usize,
    /// Also report R_{k,ℓ} against ℓ-response opponents, 1 <= ℓ <= k + 1
    /// [default: off].
    #[arg(long)]
    ell: Option<usize>,
    /// Print one JSON object instead of a table (a batch always prints JSON Lines).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Args, Clone)]
#[command(allow_negative_numbers = true)]
struct DynamicsArgs {
    /// Run these self-play dynamics (solve: instead of the equilibrium
    /// solver; compare: for the equilibrium rows) [default: the equilibrium
    /// solver for solve and compare, pga elsewhere].
    #[arg(long, value_enum)]
    dynamics: Option<DynamicsArg>,
    /// Step size η > 0 [default: 1].
    #[arg(long)]
    eta: Option<f64>,
    /// Iteration cap, 1 to 100,000,000; 1e5 notation works [default: 100000].
    #[arg(long, value_parser = whole_number)]
    iters: Option<usize>,
    /// Tolerance on the exploitability E_k [default: 1e-9]. The equilibrium
    /// solver (no --dynamics) needs tol > 0. With --dynamics: stop at the
    /// first iterate with E_k ≤ tol, and 0 never stops early. The same on
    /// every engine (a GPU that cannot resolve it says so).
    #[arg(long)]
    tol: Option<f64>,
}

/// A count written out (100000) or in scientific notation (1e5).
fn whole_number(text: &str) -> std::result::Result<usize, String> {
    if let Ok(n) = text.parse::<usize>() {
        return Ok(n);
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < usize::MAX as f64 => Ok(x as usize),
        _ => Err(format!("'{text}' is not a whole number (write e.g. 100000 or 1e5)")),
    }
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
            if !(t.is_finite() && t > 0.0) {
                return Err(ualign::Error::input(
                    "--tol",
                    format!("is {t}, but the equilibrium solver needs a tolerance > 0 (0 = never stop early applies only to --dynamics)"),
                    "use e.g. --tol 1e-12, or add --dynamics pga|mwu|optimistic|extragradient to run self-play for all --iters",
                ));
            }
            o.tol = t;
        }
        Ok(o)
    }

    fn options(&self) -> SolveOptions {
        let mut o = SolveOptions::default();
        if let Some(d) = self.dynamics {
            o.dynamics = d.into();
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
    /// Number of responses sampled from the policy (1 to 1,000).
    #[arg(long)]
    k: usize,
    #[command(flatten)]
    dynamics: DynamicsArgs,
    /// Print one JSON object instead of a table (a batch always prints JSON Lines).
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
    /// Largest k (1 to 1,000).
    #[arg(long, default_value_t = 10)]
    k_max: usize,
    #[command(flatten)]
    dynamics: DynamicsArgs,
    /// Print one JSON object instead of a table (a batch always prints JSON Lines).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct GenerateArgs {
    /// Generator: impartial culture, mallows, pl (Plackett–Luce), bt
    /// (Bradley–Terry), cycle (Condorcet cycles), perturbed_cycle (cycles
    /// with noisy weights, see --margin), condorcet (planted winner).
    #[arg(long, value_enum)]
    model: ModelArg,
    /// Number of responses n.
    #[arg(long)]
    responses: usize,
    /// Number of user types m (default: the model's natural size).
    #[arg(long)]
    types: Option<usize>,
    /// Number of populations.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Random seed: the same seed gives the same populations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Mallows dispersion φ ∈ [0, 1] (mallows only) [default: 0.5].
    #[arg(long)]
    phi: Option<f64>,
    /// Standard deviation of Plackett–Luce scores (pl, bt) [default: 1].
    #[arg(long)]
    sigma: Option<f64>,
    /// Planted Condorcet winner margin ε ∈ (0, 1/2] (condorcet); for
    /// perturbed_cycle, the relative weight noise (weights ∝ 1 + ε·u, u
    /// uniform on [−1, 1)) [default: 0.1].
    #[arg(long)]
    margin: Option<f64>,
    /// Write here instead of standard output [default: standard output].
    /// An existing FILE is refused unless --force is given; the file is
    /// written under a temporary name and renamed once complete.
    #[arg(long, value_name = "FILE.jsonl")]
    out: Option<PathBuf>,
    /// Replace the --out file if it exists [default: refuse].
    #[arg(long, requires = "out")]
    force: bool,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct SweepArgs {
    /// The grid (TOML); without it, the bundled assets/sweeps/default.toml.
    /// Every key (grid axes, `title`, `backend`, `checkpoints`, `rlhf_beta`)
    /// is described in README.md, section "Sweeps and figures".
    config: Option<PathBuf>,
    /// Results directory: new, empty, or one written by ualign
    /// [default: out/NAME, NAME the config file's stem or "default"].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue an interrupted run in DIR, keeping every finished cell.
    #[arg(long)]
    resume: bool,
    /// Run only slice I of N of the grid (0-based), e.g. 0/4.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Override the config's backend (auto | gpu | cpu, as for solve)
    /// [default: the config's `backend`, else auto].
    #[arg(long, value_enum)]
    backend: Option<BackendArg>,
    /// Run a grid of more than 10,000 cells or 1,000,000 populations (of
    /// this shard), refused without it: about 1.8 kB of disk and 1.3 kB of
    /// memory per population. The counts are printed before any work.
    #[arg(long)]
    large: bool,
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
    /// Colour: a column of cells.csv, or a short name expanded to NAME_mean
    /// or eq_NAME_mean: gap (eq_gap_mean), r (eq_r_mean), e (eq_e_mean),
    /// nlhf_r_mean, eq_e_worst, iters_to_tol_max, …
    #[arg(long, default_value = "gap")]
    metric: String,
    /// Small multiples: one panel per value of this grid axis (columns);
    /// needs --facet-y too (--where works with or without facets).
    #[arg(long, requires = "facet_y")]
    facet_x: Option<String>,
    /// One row of panels per value of this grid axis.
    #[arg(long, requires = "facet_x")]
    facet_y: Option<String>,
    /// Only the cells with PARAMETER=VALUE (repeatable), e.g. model=condorcet.
    #[arg(long = "where", value_name = "PARAMETER=VALUE")]
    filters: Vec<String>,
    /// Output image, .png or .svg. An existing FILE is refused unless
    /// --force is given; the file is written under a temporary name and
    /// renamed once complete.
    #[arg(long)]
    out: PathBuf,
    /// Replace the --out file if it exists [default: refuse].
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct MergeArgs {
    /// Shard output directories.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Directory for the merged results: new or empty.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Exit status of `compare` when some equilibrium row did not converge
/// (distinct from 1, which means the command failed).
pub const EXIT_UNCONVERGED: u8 = 3;

/// Runs a command; `Ok(false)` means it finished but reports a result that
/// is not what was asked for (see [`EXIT_UNCONVERGED`]).
pub fn run(cli: Cli) -> Result<bool> {
    let done = match cli.command {
        Command::Compare(a) => return analyse::compare(a),
        Command::Eval(a) => analyse::eval(a),
        Command::Solve(a) => return analyse::solve(a),
        Command::Generate(a) => experiments::generate(a),
        Command::Info => experiments::info(),
        Command::Sweep(a) => experiments::sweep(a),
        Command::Heatmap(a) => experiments::heatmap(a),
        Command::Merge(a) => experiments::merge(a),
    };
    done.map(|()| true)
}
