//! Sweep configuration files (TOML).
//!
//! One flat table. Every grid parameter may be a single value or a list; a
//! list makes it an axis of the grid, and the grid is the product of all axes.
//! Settings that are not grid parameters (`title`, `backend`, `checkpoints`,
//! `rlhf_beta`) take a single value.
//!
//! ```toml
//! title = "equilibrium vs NLHF"
//! backend = "auto"          # auto (GPU if any, else CPU with a notice) | gpu | cpu
//! model = ["impartial", "condorcet"]   # or: preflib = ["data/votes.soc"]
//! responses = [4, 8]
//! types = 16
//! k = [1, 2, 4, 8]
//! populations = 64
//! seed = 1
//! ```
//!
//! Everything is checked before any work starts: an unknown key, an empty
//! list, a value out of range (e.g. more responses than the kernels support)
//! or a PrefLib file that does not parse is an error naming the file, the
//! line and the key. The settings of each generator are checked on the
//! expanded grid, so [`Config::load`] and [`Config::parse`] are completed in
//! `grid.rs` (which expands a config; this file never calls the grid).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dynamics::Dynamics;
use crate::engine::BackendChoice;
use crate::error::{Error, Location, Result};

/// Largest `n` of a sweep: every cell scores the NLHF and RLHF baselines and
/// polishes equilibria, which hold dense n x n matrices
/// ([`crate::limits::MAX_DENSE_RESPONSES`]). The GPU engine's own, tighter
/// limits (n ≤ 256, k ≤ 64) are checked when `--backend gpu` runs it; `auto`
/// sends cells beyond them to the CPU engine.
pub const MAX_RESPONSES: usize = crate::limits::MAX_DENSE_RESPONSES;
/// Largest number of user types per population (as the GPU engine's).
pub const MAX_TYPES: usize = crate::gpu::MAX_TYPES;
/// Largest `k`: the exact engine's limit.
pub const MAX_K: usize = crate::limits::MAX_K;
/// A guard against typos such as `populations = 1000000000`.
pub const MAX_CELLS: usize = 1_000_000;

/// The population generators by their config names.
pub const MODELS: [&str; 7] = ["impartial", "mallows", "pl", "bt", "cycle", "condorcet", "perturbed_cycle"];

/// Where a cell's populations come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Source {
    /// A synthetic generator (one of [`MODELS`]).
    Model(String),
    /// A PrefLib file: `written` as in the config, `path` resolved against the
    /// config's directory.
    Preflib {
        written: String,
        #[serde(skip_serializing)]
        path: PathBuf,
        /// `n` and `m` of the population the file holds.
        responses: usize,
        types: usize,
    },
}

/// The values of every grid axis (a single value is an axis of length 1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axes {
    pub source: Vec<Source>,
    pub responses: Vec<usize>,
    pub types: Vec<usize>,
    pub phi: Vec<f64>,
    pub sigma: Vec<f64>,
    pub margin: Vec<f64>,
    pub populations: Vec<usize>,
    pub seed: Vec<u64>,
    pub k: Vec<usize>,
    /// Empty when no `ell` was given (no `R_{k,ℓ}` columns are computed).
    pub ell: Vec<usize>,
    pub dynamics: Vec<Dynamics>,
    pub eta: Vec<f64>,
    pub iters: Vec<usize>,
    pub tol: Vec<f64>,
}

impl Axes {
    /// The number of values on each axis, in grid order (`ell` counts 1 when
    /// absent: the single "no ℓ" value).
    pub fn lengths(&self) -> [usize; 14] {
        [
            self.source.len(),
            self.responses.len(),
            self.types.len(),
            self.phi.len(),
            self.sigma.len(),
            self.margin.len(),
            self.populations.len(),
            self.seed.len(),
            self.k.len(),
            self.ell.len().max(1),
            self.dynamics.len(),
            self.eta.len(),
            self.iters.len(),
            self.tol.len(),
        ]
    }
}

/// A parsed and validated sweep configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// The file it came from (for messages and relative PrefLib paths).
    pub path: String,
    /// The TOML text as given (recorded verbatim in the manifest).
    pub text: String,
    pub title: String,
    pub backend: BackendChoice,
    /// How many metric checkpoints each run records (log-spaced).
    pub checkpoints: usize,
    /// RLHF baseline: `None` = argmax of the Bradley–Terry reward, else `softmax(r/β)`.
    pub rlhf_beta: Option<f64>,
    pub axes: Axes,
}

/// The default solver settings for keys the config leaves out.
#[derive(Clone, Debug)]
pub struct SolverDefaults {
    pub dynamics: Dynamics,
    pub eta: f64,
    pub iters: usize,
    pub tol: f64,
}

impl Default for SolverDefaults {
    fn default() -> Self {
        let o = crate::dynamics::SolveOptions::default();
        SolverDefaults { dynamics: o.dynamics, eta: o.eta, iters: o.iters, tol: o.tol }
    }
}

const SETTINGS: [&str; 4] = ["title", "backend", "checkpoints", "rlhf_beta"];
/// The keys a config may give as grid axes: exactly the grid's parameters.
pub(super) const AXES: [&str; 15] = crate::results::PARAMETERS;

impl Config {
    /// Parses config text and checks every key and value on its own (the
    /// generator settings are checked on the grid by [`Config::parse`]);
    /// `path` names it in messages and anchors relative PrefLib paths.
    pub(super) fn parse_keys(text: &str, path: &Path) -> Result<Config> {
        let file = path.display().to_string();
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of_offset(text, s.start));
            Error::Input {
                location: Location { file: Some(file.clone()), line },
                field: "toml".into(),
                problem: e.message().trim().replace('\n', " "),
                fix: "fix the TOML syntax (see assets/sweeps/default.toml for an example)".into(),
            }
        })?;
        let p = Parser { text, file: &file, table: &table };
        p.check_keys()?;
        let defaults = SolverDefaults::default();
        let base = path.parent().unwrap_or(Path::new("."));

        let mut source: Vec<Source> = p.strings("model")?.into_iter().map(Source::Model).collect();
        for s in &source {
            if let Source::Model(m) = s {
                if !MODELS.contains(&m.as_str()) {
                    return Err(p.err(
                        "model",
                        format!("unknown model \"{m}\""),
                        format!("use one of {}", MODELS.join(", ")),
                    ));
                }
            }
        }
        for written in p.strings("preflib")? {
            let path = base.join(&written);
            let pop = crate::population::load::load_population(&path).map_err(|e| {
                p.err(
                    "preflib",
                    e.to_string(),
                    "give a valid PrefLib .soc/.soi/.toc/.toi file (paths are relative to the config)".into(),
                )
            })?;
            let (responses, types) = (pop.responses, pop.types.len());
            if responses > MAX_RESPONSES || types > MAX_TYPES {
                return Err(p.err(
                    "preflib",
                    format!("{written} has {responses} responses and {types} orders, beyond the limits ({MAX_RESPONSES} responses, {MAX_TYPES} types)"),
                    "use a smaller election".into(),
                ));
            }
            source.push(Source::Preflib { written, path, responses, types });
        }
        if source.is_empty() {
            return Err(p.err(
                "model",
                "no population source given".into(),
                "add model = \"impartial\" (or a list of models) or preflib = \"FILE.soc\"".into(),
            ));
        }

        let axes = Axes {
            source,
            responses: p.ints("responses", &[8], 1, MAX_RESPONSES, "a sweep's dense baselines and solver support")?,
            types: p.ints("types", &[16], 1, MAX_TYPES, "ualign supports")?,
            phi: p.floats("phi", 0.5, |x| (0.0..=1.0).contains(&x), "a dispersion in [0, 1]")?,
            sigma: p.floats("sigma", 1.0, |x| x > 0.0 && x.is_finite(), "a positive, finite score spread")?,
            margin: p.floats("margin", 0.1, |x| x > 0.0 && x <= 0.5, "a margin in (0, 0.5]")?,
            populations: p.ints("populations", &[32], 1, 1 << 24, "a sweep allows")?,
            seed: p.ints("seed", &[0], 0, usize::MAX, "a seed allows")?.into_iter().map(|s| s as u64).collect(),
            k: p.ints("k", &[1, 2, 4], 1, MAX_K, "the exact engine supports")?,
            ell: p.ints("ell", &[], 1, MAX_K + 1, "k + 1 allows")?,
            dynamics: p.dynamics(defaults.dynamics)?,
            eta: p.floats("eta", defaults.eta, |x| x > 0.0 && x.is_finite(), "a positive, finite step size")?,
            iters: p.ints("iters", &[defaults.iters], 1, crate::limits::MAX_ITERS, "ualign allows")?,
            tol: p.floats("tol", defaults.tol, |x| x >= 0.0 && x.is_finite(), "a tolerance >= 0")?,
        };
        if let Some(&ell) = axes.ell.iter().max() {
            let kmax = *axes.k.iter().max().expect("k has a value");
            if ell > kmax + 1 {
                return Err(p.err(
                    "ell",
                    format!("ℓ = {ell} exceeds k + 1 = {} for every k in the grid", kmax + 1),
                    "use 1 <= ell <= k + 1 (cells with ell > k + 1 are skipped)".into(),
                ));
            }
        }
        let config = Config {
            path: file.clone(),
            text: text.to_string(),
            title: p.string_setting("title")?.unwrap_or_else(|| default_title(path)),
            backend: p.backend()?,
            checkpoints: p.ints("checkpoints", &[24], 2, 10_000, "a run records")?[0],
            rlhf_beta: match p.table.get("rlhf_beta") {
                None => None,
                Some(_) => Some(p.floats("rlhf_beta", 1.0, |x| x > 0.0 && x.is_finite(), "a positive temperature")?[0]),
            },
            axes,
        };
        let cells = config.cell_count_bound();
        if cells > MAX_CELLS as u128 {
            return Err(Error::Input {
                location: Location::file(file),
                field: "grid".into(),
                problem: format!("has {cells} cells (more than {MAX_CELLS})"),
                fix: "shorten the lists or split the sweep into several configs".into(),
            });
        }
        Ok(config)
    }

    /// The product of the axis lengths (an upper bound on the number of cells:
    /// parameters a generator ignores collapse).
    pub fn cell_count_bound(&self) -> u128 {
        self.axes.lengths().iter().map(|&n| n as u128).product()
    }

    /// An input error located at `key`'s line in this config.
    pub fn error_at(&self, key: &str, problem: String, fix: String) -> Error {
        Error::Input {
            location: Location { file: Some(self.path.clone()), line: key_line(&self.text, key) },
            field: key.into(),
            problem,
            fix,
        }
    }
}

fn default_title(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "sweep".into())
}

/// 1-based line of a byte offset.
fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// 1-based line where `key = …` is set (top-level, unquoted keys).
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix(key).or_else(|| l.strip_prefix(&format!("\"{key}\"")));
            matches!(l.map(|rest| rest.trim_start().starts_with('=')), Some(true))
        })
        .map(|i| i + 1)
}

struct Parser<'a> {
    text: &'a str,
    file: &'a str,
    table: &'a toml::Table,
}

impl Parser<'_> {
    fn err(&self, key: &str, problem: String, fix: String) -> Error {
        Error::Input {
            location: Location { file: Some(self.file.to_string()), line: key_line(self.text, key) },
            field: key.into(),
            problem,
            fix,
        }
    }

    fn check_keys(&self) -> Result<()> {
        for key in self.table.keys() {
            if !SETTINGS.contains(&key.as_str()) && !AXES.contains(&key.as_str()) {
                return Err(self.err(
                    key,
                    "unknown key".into(),
                    format!("use one of {} (grid) or {} (settings)", AXES.join(", "), SETTINGS.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// The values of `key` as a list (a single value is a list of one).
    /// `None` when absent; an empty list is an error (it empties the grid).
    fn values(&self, key: &str) -> Result<Option<Vec<&toml::Value>>> {
        let Some(v) = self.table.get(key) else { return Ok(None) };
        let list: Vec<&toml::Value> = match v {
            toml::Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        if list.is_empty() {
            return Err(self.err(
                key,
                "is an empty list, which empties the grid".into(),
                format!("give {key} at least one value or leave it out"),
            ));
        }
        Ok(Some(list))
    }

    fn strings(&self, key: &str) -> Result<Vec<String>> {
        let Some(list) = self.values(key)? else { return Ok(Vec::new()) };
        list.into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s.clone()),
                other => Err(self.err(key, format!("expected a string, found {other}"), "quote the value".into())),
            })
            .collect()
    }

    fn string_setting(&self, key: &str) -> Result<Option<String>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(key, format!("expected a string, found {other}"), "quote the value".into())),
        }
    }

    fn ints(&self, key: &str, default: &[usize], lo: usize, hi: usize, what: &str) -> Result<Vec<usize>> {
        let Some(list) = self.values(key)? else { return Ok(default.to_vec()) };
        let fix = || format!("give {key} as an integer in {lo}..={hi} or a list of them");
        let mut out = Vec::new();
        for v in list {
            let toml::Value::Integer(i) = v else {
                return Err(self.err(key, format!("expected an integer, found {v}"), fix()));
            };
            if *i < 0 || (*i as u128) < lo as u128 {
                return Err(self.err(key, format!("{i} is below the minimum {lo}"), fix()));
            }
            if *i as u128 > hi as u128 {
                return Err(self.err(key, format!("{i} exceeds the limit {hi} {what}"), fix()));
            }
            out.push(*i as usize);
        }
        dedup_check(self, key, &out)?;
        Ok(out)
    }

    fn floats(&self, key: &str, default: f64, ok: impl Fn(f64) -> bool, what: &str) -> Result<Vec<f64>> {
        let Some(list) = self.values(key)? else { return Ok(vec![default]) };
        let mut out = Vec::new();
        for v in list {
            let x = match v {
                toml::Value::Float(f) => *f,
                toml::Value::Integer(i) => *i as f64,
                other => {
                    return Err(self.err(key, format!("expected a number, found {other}"), format!("give {what}")))
                }
            };
            if !ok(x) {
                return Err(self.err(key, format!("{x} is out of range"), format!("give {what}")));
            }
            out.push(x);
        }
        let bits: Vec<u64> = out.iter().map(|x| x.to_bits()).collect();
        dedup_check(self, key, &bits)?;
        Ok(out)
    }

    fn dynamics(&self, default: Dynamics) -> Result<Vec<Dynamics>> {
        let names = self.strings("dynamics")?;
        if names.is_empty() {
            return Ok(vec![default]);
        }
        let out: Vec<Dynamics> = names
            .iter()
            .map(|n| {
                serde_json::from_value(serde_json::Value::String(n.clone())).map_err(|_| {
                    self.err(
                        "dynamics",
                        format!("unknown dynamics \"{n}\""),
                        "use pga, mwu, optimistic or extragradient".into(),
                    )
                })
            })
            .collect::<Result<_>>()?;
        dedup_check(self, "dynamics", &out)?;
        Ok(out)
    }

    fn backend(&self) -> Result<BackendChoice> {
        match self.string_setting("backend")? {
            None => Ok(BackendChoice::Auto),
            Some(name) => serde_json::from_value(serde_json::Value::String(name.clone()))
                .map_err(|_| self.err("backend", format!("unknown backend \"{name}\""), "use auto, gpu or cpu".into())),
        }
    }
}

/// A value listed twice would run the same cells twice.
fn dedup_check<T: PartialEq + std::fmt::Debug>(p: &Parser, key: &str, values: &[T]) -> Result<()> {
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(p.err(key, "lists a value twice".into(), format!("remove the repeated value from {key}")));
        }
    }
    Ok(())
}
