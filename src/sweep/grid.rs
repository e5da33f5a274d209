//! Grid expansion: the config's axes → an ordered list of cells.
//!
//! Cells are the product of the axes in a fixed nesting order (source outermost,
//! `tol` innermost) and are numbered in that order; the number is the cell's
//! identity on disk (`cells/000012.json`), in `--shard` slicing and in merge.
//! Parameters a generator ignores are blanked (φ only matters for Mallows, σ
//! for Plackett–Luce and Bradley–Terry, the margin for the planted Condorcet
//! winner and (as the relative weight noise) the perturbed cycle; `bt` has
//! one type, `cycle` and `perturbed_cycle` have n types; a PrefLib file fixes n, m
//! and holds one population), and cells that become identical are kept once,
//! so a grid over `model × phi` does not run the same impartial cells twice.
//! Cells with ℓ > k + 1 are skipped (R_{k,ℓ} is defined for ℓ ≤ k + 1).

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::config::{Config, Source, AXES};
use crate::dynamics::Dynamics;
use crate::error::{Error, Result};
use crate::population::generate::{GenSpec, Model};

/// One grid cell: how its populations are made and how they are solved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Position in the expanded grid (0-based).
    pub index: usize,
    /// Generator name, or `preflib`.
    pub model: String,
    /// The PrefLib file as written in the config.
    pub preflib: Option<String>,
    /// The PrefLib file resolved against the config's directory (not saved:
    /// it is machine-specific).
    #[serde(skip)]
    pub preflib_path: Option<PathBuf>,
    pub responses: Option<usize>,
    pub types: Option<usize>,
    pub phi: Option<f64>,
    pub sigma: Option<f64>,
    pub margin: Option<f64>,
    /// Populations solved in this cell.
    pub populations: usize,
    /// Generator seed; population `i` of every cell with the same generator
    /// parameters is the same population (paired comparisons across k,
    /// dynamics, …).
    pub seed: Option<u64>,
    pub k: usize,
    pub ell: Option<usize>,
    pub dynamics: Dynamics,
    pub eta: f64,
    pub iters: usize,
    pub tol: f64,
}

pub use crate::results::PARAMETERS;

impl Cell {
    /// The cell's parameter values as table text, in [`PARAMETERS`] order.
    pub fn parameter_values(&self) -> Vec<String> {
        use crate::results::table::{fmt_f64, fmt_opt};
        let opt = |x: Option<usize>| x.map(|v| v.to_string()).unwrap_or_default();
        vec![
            self.model.clone(),
            self.preflib.clone().unwrap_or_default(),
            opt(self.responses),
            opt(self.types),
            fmt_opt(self.phi),
            fmt_opt(self.sigma),
            fmt_opt(self.margin),
            self.populations.to_string(),
            self.seed.map(|s| s.to_string()).unwrap_or_default(),
            self.k.to_string(),
            opt(self.ell),
            dynamics_name(self.dynamics).to_string(),
            fmt_f64(self.eta),
            self.iters.to_string(),
            fmt_f64(self.tol),
        ]
    }

    /// The bound `k/(k+1)` on `R_k` of any product policy.
    pub fn bound(&self) -> f64 {
        self.k as f64 / (self.k as f64 + 1.0)
    }

    /// A short human description (progress lines, figure labels).
    pub fn describe(&self) -> String {
        let mut s = match &self.preflib {
            Some(f) => format!("#{} preflib {f}", self.index),
            None => format!("#{} {}", self.index, self.model),
        };
        if let Some(n) = self.responses {
            s += &format!(" n={n}");
        }
        if let Some(m) = self.types {
            s += &format!(" m={m}");
        }
        s += &format!(" k={}", self.k);
        if let Some(l) = self.ell {
            s += &format!(" ℓ={l}");
        }
        s + &format!(" {}", dynamics_name(self.dynamics))
    }
}

/// The config name of a dynamics (`pga`, `mwu`, …).
pub fn dynamics_name(d: Dynamics) -> &'static str {
    d.name()
}

/// Expands the config into its cells (see the module docs for the order and
/// the collapsing rules). `preflib_size` gives `(n, m)` of a PrefLib source.
pub fn expand(config: &Config, preflib_size: &dyn Fn(&Source) -> (usize, usize)) -> Vec<Cell> {
    let a = &config.axes;
    let ells: Vec<Option<usize>> = if a.ell.is_empty() { vec![None] } else { a.ell.iter().map(|&l| Some(l)).collect() };
    let lens = a.lengths();
    let total: usize = lens.iter().product();
    let mut seen = HashSet::new();
    let mut cells = Vec::new();
    for flat in 0..total {
        // Mixed-radix digits of `flat`, the last axis varying fastest.
        let mut d = [0usize; 14];
        let mut rest = flat;
        for (digit, len) in d.iter_mut().zip(lens).rev() {
            *digit = rest % len;
            rest /= len;
        }
        let (k, ell) = (a.k[d[8]], ells[d[9]]);
        if matches!(ell, Some(l) if l > k + 1) {
            continue;
        }
        let mut cell = Cell {
            index: 0,
            model: String::new(),
            preflib: None,
            preflib_path: None,
            responses: Some(a.responses[d[1]]),
            types: Some(a.types[d[2]]),
            phi: Some(a.phi[d[3]]),
            sigma: Some(a.sigma[d[4]]),
            margin: Some(a.margin[d[5]]),
            populations: a.populations[d[6]],
            seed: Some(a.seed[d[7]]),
            k,
            ell,
            dynamics: a.dynamics[d[10]],
            eta: a.eta[d[11]],
            iters: a.iters[d[12]],
            tol: a.tol[d[13]],
        };
        apply_source(&mut cell, &a.source[d[0]], preflib_size);
        if seen.insert(serde_json::to_string(&cell).expect("cells serialise")) {
            cell.index = cells.len();
            cells.push(cell);
        }
    }
    cells
}

/// Sets the source and blanks the parameters it ignores.
fn apply_source(cell: &mut Cell, source: &Source, preflib_size: &dyn Fn(&Source) -> (usize, usize)) {
    match source {
        Source::Preflib { written, path, .. } => {
            let (n, m) = preflib_size(source);
            cell.model = "preflib".into();
            cell.preflib = Some(written.clone());
            cell.preflib_path = Some(path.clone());
            cell.responses = Some(n);
            cell.types = Some(m);
            cell.phi = None;
            cell.sigma = None;
            cell.margin = None;
            cell.populations = 1;
            cell.seed = None;
        }
        Source::Model(model) => {
            cell.model = model.clone();
            let n = cell.responses;
            let (phi, sigma, margin) = match model.as_str() {
                "mallows" => (true, false, false),
                "pl" | "bt" => (false, true, false),
                "condorcet" | "perturbed_cycle" => (false, false, true),
                _ => (false, false, false),
            };
            if !phi {
                cell.phi = None;
            }
            if !sigma {
                cell.sigma = None;
            }
            if !margin {
                cell.margin = None;
            }
            match model.as_str() {
                "bt" => cell.types = Some(1),
                "cycle" | "perturbed_cycle" => cell.types = n,
                _ => {}
            }
        }
    }
}

/// The generator spec of a synthetic cell (`None` for a PrefLib cell).
pub fn gen_spec(cell: &Cell) -> Option<GenSpec> {
    let model: Model = serde_json::from_value(serde_json::Value::String(cell.model.clone())).ok()?;
    let d = GenSpec::default();
    Some(GenSpec {
        model,
        responses: cell.responses?,
        types: cell.types,
        count: cell.populations,
        seed: cell.seed.unwrap_or(0),
        phi: cell.phi.unwrap_or(d.phi),
        sigma: cell.sigma.unwrap_or(d.sigma),
        margin: cell.margin.unwrap_or(d.margin),
    })
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &std::path::Path) -> Result<Config> {
        let problem = if path.is_dir() {
            Some("is a directory, not a sweep config")
        } else if !path.exists() {
            Some("does not exist")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::input(
                "CONFIG",
                format!("{} {problem}", path.display()),
                "name a TOML grid file such as assets/sweeps/default.toml (a results directory goes after --out)",
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        Config::parse(&text, path)
    }

    /// Parses and validates config text; `path` names it in messages and
    /// anchors relative PrefLib paths. Every generator setting of the grid
    /// is valid (e.g. a planted Condorcet winner needs n ≥ 2): checked here
    /// so that no cell fails mid-sweep.
    pub fn parse(text: &str, path: &std::path::Path) -> Result<Config> {
        let config = Config::parse_keys(text, path)?;
        let mut seen = HashSet::new();
        for cell in config.cells() {
            let Some(spec) = gen_spec(&cell) else { continue };
            if !seen.insert(format!("{spec:?}")) {
                continue;
            }
            if let Err(Error::Input { field, problem, fix, .. }) = spec.validate() {
                let key = if AXES.contains(&field.as_str()) { field } else { "model".to_string() };
                return Err(config.error_at(&key, format!("{problem} (model {})", cell.model), fix));
            }
        }
        Ok(config)
    }

    /// The grid's cells (see [`expand`]).
    pub fn cells(&self) -> Vec<Cell> {
        expand(self, &|source| match source {
            Source::Preflib { responses, types, .. } => (*responses, *types),
            Source::Model(_) => (0, 0),
        })
    }
}
