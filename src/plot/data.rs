//! Reading saved results back for drawing (figures never recompute anything).

use std::path::Path;

use crate::error::{Error, Result};
use crate::results::population_points::PopulationPoints;
use crate::results::table::Table;
use crate::results::PARAMETERS;

/// The tables of a results directory.
pub struct Results {
    pub title: String,
    pub cells: Table,
    pub history: Table,
    /// Only the columns of `populations.csv` that the figures draw.
    pub populations: PopulationPoints,
}

impl Results {
    pub fn load(dir: &Path) -> Result<Results> {
        let need = |name: &str| {
            let path = dir.join(name);
            if !path.exists() {
                return Err(Error::input(
                    "DIR",
                    format!("{} has no {name}", dir.display()),
                    "point at a directory written by `ualign sweep` or `ualign merge`",
                ));
            }
            Ok(path)
        };
        let cells = Table::read(&need("cells.csv")?)?;
        let history = Table::read(&need("history.csv")?)?;
        let populations = PopulationPoints::read(&need("populations.csv")?)?;
        let title = crate::results::manifest::read(dir)?.map(|m| m.title).unwrap_or_else(|| dir.display().to_string());
        Ok(Results { title, cells, history, populations })
    }

    /// Grid parameters that take more than one value across the cells
    /// (blanks, where a model ignores the parameter, do not count).
    pub fn varying(&self) -> Vec<&'static str> {
        PARAMETERS.iter().copied().filter(|p| self.distinct(p).iter().filter(|v| !v.is_empty()).count() > 1).collect()
    }

    /// `key=value` for every parameter that is the same in all cells (and
    /// set): what was held fixed, for figure subtitles.
    pub fn fixed_description(&self) -> String {
        let mut parts = Vec::new();
        for p in PARAMETERS {
            let d: Vec<String> = self.distinct(p).into_iter().filter(|v| !v.is_empty()).collect();
            if d.len() == 1 {
                parts.push(format!("{}={}", short(p), d[0]));
            }
        }
        parts.join(", ")
    }

    /// Distinct values of a cells.csv column, in the order they first appear.
    pub fn distinct(&self, column: &str) -> Vec<String> {
        let Some(c) = self.cells.column(column) else { return Vec::new() };
        let mut out: Vec<String> = Vec::new();
        for r in &self.cells.rows {
            if !out.contains(&r[c]) {
                out.push(r[c].clone());
            }
        }
        out
    }

    /// A cells.csv value.
    pub fn value(&self, row: usize, column: &str) -> String {
        self.cells.column(column).map(|c| self.cells.rows[row][c].clone()).unwrap_or_default()
    }

    /// `p=v` pairs of the given parameters for one cell row (legend labels).
    pub fn label(&self, row: usize, params: &[&str]) -> String {
        params
            .iter()
            .filter(|p| !self.value(row, p).is_empty())
            .map(|p| format!("{}={}", short(p), self.value(row, p)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Short display names of parameters (n, m as in docs/theory.md).
pub fn short(p: &str) -> &str {
    match p {
        "responses" => "n",
        "types" => "m",
        "populations" => "pops",
        "ell" => "ℓ",
        "phi" => "φ",
        "sigma" => "σ",
        "eta" => "η",
        other => other,
    }
}

/// Sorts axis values numerically when they all are numbers, else keeps the
/// order of first appearance.
pub fn sort_axis(values: &mut [String]) {
    if values.iter().all(|v| v.parse::<f64>().is_ok()) {
        values.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    }
}
