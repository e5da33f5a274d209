//! The result tables, built from the saved cell records.
//!
//! - `cells.csv`: one row per cell: its parameters, then for the equilibrium
//!   (`eq`, over the populations whose equilibrium met the tolerance only:
//!   `eq_converged` counts them), the time-average output (`avg`) and
//!   each baseline (`nlhf`, `rlhf`, `uniform`): mean, median, the 5% tail on
//!   the bad side (5th percentile of R, 95th of E and gap) and the worst
//!   population. `gap = k/(k+1) − R_k`, which equals `E_k` for every product
//!   policy (docs/theory.md) and `Reg_T/T` for the time-average output. Then the
//!   dynamics' own convergence: the fraction of populations whose last
//!   iterate converged (`converged`), iterations to tolerance (over those)
//!   and `R_{k,ℓ}` with its bounds when the cell has ℓ. Appended after them:
//!   `eq_converged` (how many populations the `eq` columns average),
//!   `nlhf_unique` (fraction of populations whose maximal lottery is unique)
//!   and `R_k`, `E_k` of the dynamics' last iterate (`last_r_*`, `last_e_*`),
//!   whether or not it converged: a cycling cell shows there, as such.
//! - `populations.csv`: one row per population with its final metrics.
//! - `history.csv`: per cell, the checkpoint metrics across its populations on
//!   a log-spaced iteration grid (a population that stopped early keeps its
//!   final values).
//! - `timings.csv`: wall time per cell. The only table that is not
//!   reproducible; the other three are byte-identical for the same config,
//!   seed and backend.

use super::grid::PARAMETERS;
use super::history_stats::history_stats;
use super::outcome::{CellRecord, PolicyMetrics, PopulationOutcome};
use super::percentile::percentile;
use super::radix::sort_total;
use crate::dynamics::Checkpoint;
use crate::results::population_points::{written, PopulationPoints};
use crate::results::table::{csv_text, fmt_f64, push_f64, Table};
use rayon::prelude::*;

/// Mean, median, bad-side 5% tail and worst of a sample. `high_is_bad`
/// selects the side (E and gap: high is bad; R: low is bad).
pub fn summarize(values: &[f64], high_is_bad: bool) -> [f64; 4] {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    // The order of `sort_by(total_cmp)`; the mean sums in it.
    sort_total(&mut v);
    summarize_sorted(&v, high_is_bad)
}

/// [`summarize`] of values already sorted by `total_cmp`, without NaN.
fn summarize_sorted(v: &[f64], high_is_bad: bool) -> [f64; 4] {
    if v.is_empty() {
        return [f64::NAN; 4];
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let median = percentile(v, 0.5);
    if high_is_bad {
        [mean, median, percentile(v, 0.95), v[v.len() - 1]]
    } else {
        [mean, median, percentile(v, 0.05), v[0]]
    }
}

const METHODS: [&str; 3] = ["nlhf", "rlhf", "uniform"];

fn stat_columns(prefix: &str, metric: &str, high_is_bad: bool) -> Vec<String> {
    let tail = if high_is_bad { "p95" } else { "p05" };
    ["mean", "median", tail, "worst"].iter().map(|s| format!("{prefix}_{metric}_{s}")).collect()
}

fn method_columns(prefix: &str) -> Vec<String> {
    let mut c = stat_columns(prefix, "r", false);
    c.extend(stat_columns(prefix, "e", true));
    c.extend(stat_columns(prefix, "gap", true));
    c
}

/// The header of `cells.csv`.
pub fn cells_header() -> Vec<String> {
    let mut h: Vec<String> = std::iter::once("cell").chain(PARAMETERS).map(String::from).collect();
    h.push("bound".into());
    h.extend(method_columns("eq"));
    h.extend(stat_columns("avg", "r", false));
    h.extend(stat_columns("avg", "gap", true));
    for m in METHODS {
        h.extend(method_columns(m));
    }
    for c in ["converged", "iters_to_tol_mean", "iters_to_tol_median", "iters_to_tol_max", "iters_max"] {
        h.push(c.into());
    }
    for c in ["eq_r_ell_mean", "eq_r_ell_worst", "nlhf_r_ell_mean", "ell_upper", "ell_lower"] {
        h.push(c.into());
    }
    h.push("eq_converged".into());
    h.push("nlhf_unique".into());
    h.extend(stat_columns("last", "r", false));
    h.extend(stat_columns("last", "e", true));
    h
}

fn push_stats(row: &mut Vec<String>, s: [f64; 4]) {
    row.extend(s.iter().map(|&x| fmt_f64(x)));
}

fn push_method(row: &mut Vec<String>, outs: &[&PolicyMetrics], bound: f64) {
    let r: Vec<f64> = outs.iter().map(|m| m.r).collect();
    let e: Vec<f64> = outs.iter().map(|m| m.e).collect();
    let gap: Vec<f64> = r.iter().map(|r| bound - r).collect();
    push_stats(row, summarize(&r, false));
    push_stats(row, summarize(&e, true));
    push_stats(row, summarize(&gap, true));
}

/// One `cells.csv` row.
pub fn cell_row(rec: &CellRecord) -> Vec<String> {
    let c = &rec.cell;
    let o = &rec.outcomes;
    let bound = c.bound();
    // Only equilibria that met the tolerance enter the equilibrium columns.
    let equilibria: Vec<&PopulationOutcome> = o.iter().filter(|p| p.equilibrium_converged()).collect();
    let mut row = vec![c.index.to_string()];
    row.extend(c.parameter_values());
    row.push(fmt_f64(bound));
    push_method(&mut row, &equilibria.iter().map(|p| &p.equilibrium).collect::<Vec<_>>(), bound);
    let avg: Vec<f64> = o.iter().map(|p| p.average_r).collect();
    push_stats(&mut row, summarize(&avg, false));
    push_stats(&mut row, summarize(&avg.iter().map(|r| bound - r).collect::<Vec<_>>(), true));
    let pick: [fn(&PopulationOutcome) -> &PolicyMetrics; 3] = [|p| &p.nlhf, |p| &p.rlhf, |p| &p.uniform];
    for f in pick {
        push_method(&mut row, &o.iter().map(f).collect::<Vec<_>>(), bound);
    }
    let converged: Vec<f64> = o.iter().filter(|p| p.converged).map(|p| p.iterations as f64).collect();
    row.push(fmt_f64(converged.len() as f64 / o.len().max(1) as f64));
    let it = summarize(&converged, true);
    row.extend([fmt_f64(it[0]), fmt_f64(it[1]), fmt_f64(it[3])]);
    row.push(o.iter().map(|p| p.iterations).max().unwrap_or(0).to_string());
    match c.ell {
        Some(ell) => {
            let eq: Vec<f64> = equilibria.iter().filter_map(|p| p.equilibrium.r_ell).collect();
            let nl: Vec<f64> = o.iter().filter_map(|p| p.nlhf.r_ell).collect();
            let (s, n) = (summarize(&eq, false), summarize(&nl, false));
            let (k, l) = (c.k as f64, ell as f64);
            row.extend([
                fmt_f64(s[0]),
                fmt_f64(s[3]),
                fmt_f64(n[0]),
                fmt_f64(k / (k + l)),
                fmt_f64((k + 1.0 - l) / (k + 1.0)),
            ]);
        }
        None => row.extend(std::iter::repeat_n(String::new(), 5)),
    }
    row.push(equilibria.len().to_string());
    let known: Vec<bool> = o.iter().filter_map(|p| p.nlhf_unique).collect();
    let unique = known.iter().filter(|&&u| u).count() as f64 / known.len() as f64;
    row.push(if known.is_empty() { String::new() } else { fmt_f64(unique) });
    push_stats(&mut row, summarize(&o.iter().map(|p| p.last_iterate().r).collect::<Vec<_>>(), false));
    push_stats(&mut row, summarize(&o.iter().map(|p| p.last_iterate().e).collect::<Vec<_>>(), true));
    row
}

/// `cells.csv` for records sorted by cell index.
pub fn cells_table(records: &[CellRecord]) -> Table {
    let mut t = Table::new(cells_header());
    for rec in records {
        t.push(cell_row(rec));
    }
    t
}

/// The header of `populations.csv`.
fn populations_header() -> Vec<String> {
    let mut h: Vec<String> = ["cell", "population"].into_iter().chain(PARAMETERS).map(String::from).collect();
    h.retain(|c| c != "populations");
    for c in [
        "n",
        "m",
        "iterations",
        "converged",
        "eq_r",
        "eq_e",
        "eq_gap",
        "avg_r",
        "avg_gap",
        "regret",
        "support",
        "entropy",
        "eq_r_ell",
        "nlhf_r",
        "nlhf_e",
        "nlhf_r_ell",
        "rlhf_r",
        "rlhf_e",
        "uniform_r",
        "uniform_e",
        "eq_converged",
        "last_r",
        "last_e",
        "nlhf_unique",
    ] {
        h.push(c.into());
    }
    h
}

/// Rows of `populations.csv` formatted per block, in parallel.
const BLOCK: usize = 4096;
/// Blocks held in memory at once.
const GROUP: usize = 4 * BLOCK;

/// Writes `populations.csv` into `out`. A row per population is too many
/// cells to hold as a [`Table`] of strings: blocks of rows are formatted in
/// parallel straight into bytes, a group of blocks at a time, quoted as
/// [`Table::to_csv`] quotes them (only the parameters can need it).
pub fn write_populations_csv(records: &[CellRecord], out: &mut impl std::io::Write) -> std::io::Result<()> {
    // Quoting a record into memory does not fail; should it, it fails the write.
    let csv_text = |record: Vec<String>| csv_text([record]).map_err(std::io::Error::other);
    out.write_all(&csv_text(populations_header())?)?;
    // The blocks' text, reused from one group to the next: buffers this
    // large are returned to the system when freed, and paid for again page
    // by page.
    let mut blocks: Vec<Vec<u8>> = (0..GROUP / BLOCK).map(|_| Vec::with_capacity(BLOCK * 400)).collect();
    for rec in records {
        let mut params = rec.cell.parameter_values();
        params.remove(PARAMETERS.iter().position(|&p| p == "populations").expect("populations is a parameter"));
        // The parameters' text ends with the record's line end: a comma in a row.
        let mut params = csv_text(params)?;
        *params.last_mut().expect("a record ends with a line end") = b',';
        let bound = rec.cell.bound();
        for (g, group) in rec.outcomes.chunks(GROUP).enumerate() {
            let block = |(b, (text, chunk)): (usize, (&mut Vec<u8>, &[PopulationOutcome]))| {
                text.clear();
                for (j, p) in chunk.iter().enumerate() {
                    population_row(text, rec.cell.index, g * GROUP + b * BLOCK + j, &params, bound, p);
                }
            };
            let used = group.len().div_ceil(BLOCK);
            blocks[..used].par_iter_mut().zip(group.par_chunks(BLOCK)).enumerate().for_each(block);
            blocks[..used].iter().try_for_each(|text| out.write_all(text))?;
        }
    }
    Ok(())
}

/// One row of `populations.csv`, after `params` (the cell's parameters as
/// CSV, comma included).
fn population_row(out: &mut Vec<u8>, cell: usize, i: usize, params: &[u8], bound: f64, p: &PopulationOutcome) {
    push_usize(out, cell);
    out.push(b',');
    push_usize(out, i);
    out.push(b',');
    out.extend_from_slice(params);
    for n in [p.responses, p.types, p.iterations] {
        push_usize(out, n);
        out.push(b',');
    }
    push_bool(out, p.converged);
    let numbers = [
        Some(p.equilibrium.r),
        Some(p.equilibrium.e),
        Some(bound - p.equilibrium.r),
        Some(p.average_r),
        Some(bound - p.average_r),
        Some(p.regret),
    ];
    push_numbers(out, &numbers);
    out.push(b',');
    push_usize(out, p.support);
    push_numbers(out, &[Some(p.entropy), p.equilibrium.r_ell, Some(p.nlhf.r), Some(p.nlhf.e), p.nlhf.r_ell]);
    push_numbers(out, &[Some(p.rlhf.r), Some(p.rlhf.e), Some(p.uniform.r), Some(p.uniform.e)]);
    out.push(b',');
    push_bool(out, p.equilibrium_converged());
    push_numbers(out, &[Some(p.last_iterate().r), Some(p.last_iterate().e)]);
    out.push(b',');
    if let Some(u) = p.nlhf_unique {
        push_bool(out, u);
    }
    out.push(b'\n');
}

/// `n` as `{}` writes it.
fn push_usize(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `b` as `{}` writes it.
fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// `,x` for each number, as [`crate::results::table::fmt_opt`] writes it.
fn push_numbers(out: &mut Vec<u8>, numbers: &[Option<f64>]) {
    for x in numbers {
        out.push(b',');
        push_f64(out, x.unwrap_or(f64::NAN));
    }
}

/// The columns of `populations.csv` that the figures read, as the file
/// reads back.
pub fn population_points(records: &[CellRecord]) -> PopulationPoints {
    let mut points = PopulationPoints::default();
    for rec in records {
        let k = rec.cell.k.to_string();
        for p in &rec.outcomes {
            points.push(&k, Some(p.iterations as f64), written(p.regret), written(p.average_r));
        }
    }
    points
}

/// Log-spaced iteration grid from the first to the last checkpoint
/// (`points` values, duplicates after rounding removed).
fn iteration_grid(first: usize, last: usize, points: usize) -> Vec<usize> {
    let mut grid = Vec::new();
    if first == 0 {
        grid.push(0);
    }
    let (lo, hi) = ((first.max(1)) as f64, (last.max(1)) as f64);
    for i in 0..points {
        let t = if points == 1 { hi } else { (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (points - 1) as f64).exp() };
        let t = (t.round() as usize).clamp(first.max(1), last.max(1));
        if grid.last() != Some(&t) {
            grid.push(t);
        }
    }
    grid
}

/// `history.csv`: `points` log-spaced iterations per cell.
pub fn history_table(records: &[CellRecord], points: usize) -> Table {
    let h = [
        "cell",
        "iteration",
        "running",
        "e_mean",
        "e_median",
        "e_worst",
        "r_mean",
        "avg_r_mean",
        "avg_gap_mean",
        "avg_gap_worst",
    ];
    let mut t = Table::new(h.iter().map(|s| s.to_string()).collect());
    for rec in records {
        let hists: Vec<&[Checkpoint]> =
            rec.outcomes.iter().filter(|p| !p.history.is_empty()).map(|p| p.history.as_slice()).collect();
        let Some(first) = hists.iter().map(|h| h[0].iteration).min() else { continue };
        // Read once: each history is an allocation of its own.
        let mut ends: Vec<usize> = hists.iter().map(|h| h[h.len() - 1].iteration).collect();
        ends.sort_unstable();
        let last = ends.last().copied().unwrap_or(first);
        let grid = iteration_grid(first, last, points);
        for (&it, s) in grid.iter().zip(history_stats(&hists, &grid, rec.cell.bound())) {
            // Over each population's latest checkpoint at or before `it`.
            if s.populations == 0 {
                continue;
            }
            let running = ends.len() - ends.partition_point(|&end| end < it);
            t.push(vec![
                rec.cell.index.to_string(),
                it.to_string(),
                running.to_string(),
                fmt_f64(s.e_mean),
                fmt_f64(s.e_median),
                fmt_f64(s.e_worst),
                fmt_f64(s.r_mean),
                fmt_f64(s.avg_r_mean),
                fmt_f64(s.gap_mean),
                fmt_f64(s.gap_worst),
            ]);
        }
    }
    t
}

/// `timings.csv` (not reproducible by nature).
pub fn timings_table(records: &[CellRecord]) -> Table {
    let mut t = Table::new(["cell", "backend", "populations", "wall_s"].iter().map(|s| s.to_string()).collect());
    for rec in records {
        t.push(vec![
            rec.cell.index.to_string(),
            rec.backend.clone(),
            rec.outcomes.len().to_string(),
            fmt_f64(rec.wall_s),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::super::grid::Cell;
    use super::*;

    #[test]
    fn summary_sides_and_percentiles() {
        let v = [3.0, 1.0, 2.0, 4.0, 5.0];
        assert_eq!(summarize(&v, false), [3.0, 3.0, 1.2, 1.0]);
        assert_eq!(summarize(&v, true), [3.0, 3.0, 4.8, 5.0]);
        assert!(summarize(&[], true)[0].is_nan());
    }

    fn metrics(r: f64, e: f64, r_ell: Option<f64>) -> PolicyMetrics {
        PolicyMetrics { r, e, r_ell }
    }

    /// The rows written straight as bytes read back as the cells a table of
    /// strings holds ([`fmt_f64`], [`fmt_opt`], the parameters), and are
    /// quoted exactly as [`Table::to_csv`] quotes them.
    #[test]
    fn populations_csv_is_the_table_of_formatted_cells() {
        use crate::results::table::fmt_opt;
        let cell: Cell = serde_json::from_str(
            r#"{"index":7,"model":"preflib","preflib":"a,b \"q\".soc","responses":4,"types":4,"phi":0.5,
                "populations":5000,"k":3,"ell":2,"dynamics":"pga","eta":1.0,"iters":100,"tol":1e-9}"#,
        )
        .unwrap();
        let edge = [0.0, -0.0, 1.0, 1e-4, 9.99e-5, 1e15, 9.9e14, -2.5e-11, 5e-324, f64::INFINITY, f64::NAN, 0.1 + 0.2];
        let outcomes: Vec<PopulationOutcome> = (0..20_000)
            .map(|i| {
                let x = |j: usize| edge[(i + j) % edge.len()] * if (i / 12) % 2 == 0 { 1.0 } else { 0.37 };
                PopulationOutcome {
                    responses: 4,
                    types: 4,
                    iterations: i * 13,
                    converged: i % 3 == 0,
                    equilibrium: metrics(x(0), x(1), (i % 2 == 0).then(|| x(2))),
                    equilibrium_converged: (i % 5 != 0).then_some(i % 7 == 0),
                    last_iterate: (i % 4 == 0).then(|| metrics(x(3), x(4), None)),
                    nlhf_unique: (i % 3 != 0).then_some(i % 2 == 0),
                    average_r: x(5),
                    regret: x(6),
                    support: i % 5,
                    entropy: x(7),
                    nlhf: metrics(x(8), x(9), (i % 3 == 0).then(|| x(10))),
                    rlhf: metrics(x(11), x(0), None),
                    uniform: metrics(x(1), x(2), None),
                    history: Vec::new(),
                }
            })
            .collect();
        let rec = CellRecord { cell, backend: "cpu".into(), wall_s: 1.0, outcomes };
        let mut bytes = Vec::new();
        write_populations_csv(std::slice::from_ref(&rec), &mut bytes).unwrap();
        let dir = std::env::temp_dir().join(format!("ualign-populations-{}", std::process::id()));
        let path = dir.join("populations.csv");
        crate::results::table::write_atomic(&path, &bytes).unwrap();
        let table = Table::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(table.to_csv().unwrap(), bytes, "quoted as the csv writer quotes");
        assert_eq!(table.header, populations_header());
        let mut params = rec.cell.parameter_values();
        params.remove(PARAMETERS.iter().position(|&p| p == "populations").unwrap());
        let bound = rec.cell.bound();
        for (i, (p, row)) in rec.outcomes.iter().zip(&table.rows).enumerate() {
            let mut want = vec![rec.cell.index.to_string(), i.to_string()];
            want.extend(params.iter().cloned());
            want.extend([
                p.responses.to_string(),
                p.types.to_string(),
                p.iterations.to_string(),
                p.converged.to_string(),
                fmt_f64(p.equilibrium.r),
                fmt_f64(p.equilibrium.e),
                fmt_f64(bound - p.equilibrium.r),
                fmt_f64(p.average_r),
                fmt_f64(bound - p.average_r),
                fmt_f64(p.regret),
                p.support.to_string(),
                fmt_f64(p.entropy),
                fmt_opt(p.equilibrium.r_ell),
                fmt_f64(p.nlhf.r),
                fmt_f64(p.nlhf.e),
                fmt_opt(p.nlhf.r_ell),
                fmt_f64(p.rlhf.r),
                fmt_f64(p.rlhf.e),
                fmt_f64(p.uniform.r),
                fmt_f64(p.uniform.e),
                p.equilibrium_converged().to_string(),
                fmt_f64(p.last_iterate().r),
                fmt_f64(p.last_iterate().e),
                p.nlhf_unique.map(|u| u.to_string()).unwrap_or_default(),
            ]);
            assert_eq!(row, &want, "population {i}");
        }
        assert_eq!(table.rows.len(), rec.outcomes.len());
        assert_eq!(table.rows[0][3], "a,b \"q\".soc");
        // The figures' columns, from memory, are those the file reads back as.
        let points = population_points(std::slice::from_ref(&rec));
        let from_file = dir.join("again.csv");
        crate::results::table::write_atomic(&from_file, &bytes).unwrap();
        let read = PopulationPoints::read(&from_file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let bits = |p: &PopulationPoints| {
            let opt = |x: Option<f64>| x.map(f64::to_bits);
            p.rows.iter().map(|r| (r.k, opt(r.iterations), opt(r.regret), opt(r.avg_r))).collect::<Vec<_>>()
        };
        assert_eq!((bits(&points), &points.k_values), (bits(&read), &read.k_values));
    }

    #[test]
    fn integers_are_written_as_display_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 65_535, 1 << 40, usize::MAX - 1, usize::MAX] {
            let mut out = b"x".to_vec();
            push_usize(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn iteration_grid_is_increasing_and_spans_the_run() {
        let g = iteration_grid(1, 1000, 10);
        assert_eq!((g[0], *g.last().unwrap()), (1, 1000));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(iteration_grid(0, 5, 20)[..2], [0, 1]);
    }
}
