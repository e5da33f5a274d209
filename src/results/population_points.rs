//! The part of `populations.csv` that the figures read: per population `k`,
//! `iterations`, `regret` and `avg_r` (the regret figure draws a point per
//! population from them), typed. A sweep hands them over from memory instead
//! of the whole table (millions of cells of text); [`PopulationPoints::read`]
//! takes them from the file, keeping no other column.

use std::path::Path;

use super::table::invalid_table;
use crate::error::{Error, Result};

/// One population's values; `None` where the file's cell is not a number
/// (an empty cell: not applicable).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PopulationPoint {
    /// Index of the population's `k` text in [`PopulationPoints::k_values`].
    pub k: usize,
    pub iterations: Option<f64>,
    pub regret: Option<f64>,
    pub avg_r: Option<f64>,
}

/// The figures' columns of `populations.csv`, row by row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PopulationPoints {
    /// The distinct texts of the `k` column, in order of first appearance.
    pub k_values: Vec<String>,
    pub rows: Vec<PopulationPoint>,
}

/// A number as the figures read a cell: `None` for what would be written as
/// an empty cell (NaN), so that values from memory and from the file agree.
pub fn written(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

impl PopulationPoints {
    /// Appends a population whose `k` column reads `k`.
    pub fn push(&mut self, k: &str, iterations: Option<f64>, regret: Option<f64>, avg_r: Option<f64>) {
        // Rows come grouped by cell, so the last k is the usual match.
        let k = match self.k_values.iter().rposition(|v| v == k) {
            Some(i) => i,
            None => {
                self.k_values.push(k.to_string());
                self.k_values.len() - 1
            }
        };
        self.rows.push(PopulationPoint { k, iterations, regret, avg_r });
    }

    /// Reads the columns from a `populations.csv`. A column the file lacks is
    /// read from its first column, as the figures always have.
    pub fn read(path: &Path) -> Result<PopulationPoints> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(std::io::BufReader::new(file));
        let bad = |e| invalid_table(path, e);
        let header = r.headers().map_err(bad)?.clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap_or(0);
        let (kc, tc, rc, ac) = (col("k"), col("iterations"), col("regret"), col("avg_r"));
        let mut points = PopulationPoints::default();
        let mut record = csv::StringRecord::new();
        while r.read_record(&mut record).map_err(bad)? {
            let num = |c: usize| record[c].parse::<f64>().ok();
            points.push(&record[kc], num(tc), num(rc), num(ac));
        }
        Ok(points)
    }
}
