//! Heatmaps over two grid axes (the rate-gap figure) and the convergence
//! heatmap (iteration on a log axis × cells).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{short, sort_axis, Results};
use super::style::{colour_bar, font, text_on, tick, unit, viridis, DrawResult, MISSING};
use super::Figure;
use crate::error::{Error, Result};

/// Smallest value drawn on a log colour scale (exact zeros of E sit here).
const LOG_FLOOR: f64 = 1e-16;

/// A heatmap over two categorical axes.
pub struct Categorical {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<String>,
    pub y_ticks: Vec<String>,
    /// Colour values `[y][x]` (already log10'd when the scale is logarithmic).
    pub values: Vec<Vec<f64>>,
    /// Text written in each cell (original values), when the grid is small.
    pub notes: Option<Vec<Vec<String>>>,
    pub colour_label: String,
}

/// The layout both heatmaps share: title and subtitle on top, below them
/// the chart area and, on the right, a 170-pixel strip for the colour bar.
#[allow(clippy::type_complexity)]
pub fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> std::result::Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>), DrawingAreaErrorKind<DB::ErrorType>> {
    let area = root.titled(title, font(24.0))?;
    let area = area.titled(subtitle, font(16.0))?;
    Ok(area.split_horizontally(area.dim_in_pixel().0 as i32 - 170))
}

impl Figure for Categorical {
    fn size(&self) -> (u32, u32) {
        (1100, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (main, bar) = layout(root, &self.title, &self.subtitle)?;
        let (lo, hi) = self.range();
        self.draw_cells(&main, lo, hi, 20.0)?;
        if lo.is_finite() {
            colour_bar(&bar, lo, hi, &self.colour_label)?;
        }
        Ok(())
    }
}

impl Categorical {
    /// The smallest and largest finite colour value (infinite when none).
    pub fn range(&self) -> (f64, f64) {
        let finite: Vec<f64> = self.values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    /// The cells, their notes and the category ticks on `area`, coloured on
    /// the scale `lo..hi` (shared by the panels of a faceted figure).
    pub fn draw_cells<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        lo: f64,
        hi: f64,
        label: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (nx, ny) = (self.x_ticks.len(), self.y_ticks.len());
        let y_area = 30 + 10 * self.y_ticks.iter().map(|t| t.chars().count()).max().unwrap_or(1).min(24) as u32;
        let mut chart = ChartBuilder::on(area)
            .margin(15)
            .x_label_area_size(3 * label as u32 + 10)
            .y_label_area_size(y_area + 30)
            .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .axis_desc_style(font(label))
            .draw()?;
        for (j, row) in self.values.iter().enumerate() {
            for (i, &v) in row.iter().enumerate() {
                let colour = if v.is_finite() { viridis(unit(v, lo, hi)) } else { MISSING };
                let rect = [(i as f64, j as f64), (i as f64 + 1.0, j as f64 + 1.0)];
                chart.draw_series(std::iter::once(Rectangle::new(rect, colour.filled())))?;
                chart.draw_series(std::iter::once(Rectangle::new(rect, WHITE.stroke_width(1))))?;
                if let Some(notes) = &self.notes {
                    let text = if v.is_finite() { notes[j][i].clone() } else { "n/a".into() };
                    let ink = text_on(unit(v, lo, hi));
                    let style = font(0.75 * label).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                    chart.draw_series(std::iter::once(Text::new(text, (i as f64 + 0.5, j as f64 + 0.5), style)))?;
                }
            }
        }
        // Category ticks, thinned so that labels never overlap.
        let (px_w, px_h) = chart.plotting_area().dim_in_pixel();
        let x_step =
            thin(nx, px_w as usize, 10 * self.x_ticks.iter().map(|t| t.chars().count()).max().unwrap_or(1) + 8);
        for i in (0..nx).step_by(x_step) {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            let style = font(0.8 * label).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw_text(&self.x_ticks[i], &style, (px - area.get_base_pixel().0, py + 8 - area.get_base_pixel().1))?;
        }
        for j in (0..ny).step_by(thin(ny, px_h as usize, 20)) {
            let (px, py) = chart.backend_coord(&(0.0, j as f64 + 0.5));
            let style = font(0.8 * label).pos(Pos::new(HPos::Right, VPos::Center));
            area.draw_text(&self.y_ticks[j], &style, (px - 8 - area.get_base_pixel().0, py - area.get_base_pixel().1))?;
        }
        Ok(())
    }
}

/// Every how many ticks to label so that labels of `px_per_label` pixels fit.
pub fn thin(count: usize, pixels: usize, px_per_label: usize) -> usize {
    let fit = (pixels / px_per_label.max(1)).max(1);
    count.div_ceil(fit).max(1)
}

/// Resolves a metric name: a cells.csv column, or a short form (`gap` →
/// `eq_gap_mean`, `nlhf_gap` → `nlhf_gap_mean`, `r` → `eq_r_mean`).
pub fn resolve_metric(res: &Results, metric: &str) -> Result<String> {
    for candidate in [metric.to_string(), format!("{metric}_mean"), format!("eq_{metric}_mean")] {
        if res.cells.column(&candidate).is_some() {
            return Ok(candidate);
        }
    }
    let numeric: Vec<&str> = res.cells.header.iter().skip(17).map(String::as_str).collect();
    Err(Error::input(
        "--metric",
        format!("\"{metric}\" is not a column of cells.csv"),
        format!(
            "use gap, e, r, nlhf_gap, rlhf_gap, uniform_gap or a column such as {}",
            numeric[..8.min(numeric.len())].join(", ")
        ),
    ))
}

/// Whether a metric is drawn on a log10 colour scale: exploitabilities and
/// gaps span many orders of magnitude (1e-12 at an equilibrium, 0.2 for NLHF).
fn log_scale(column: &str, values: &[f64]) -> bool {
    let gap_like = column.contains("gap") || column.contains("_e_") || column.starts_with("e_");
    gap_like && values.iter().all(|v| v.is_nan() || *v > -1e-12)
}

/// The rate-gap heatmap: `metric` (mean over the cells that share the x and
/// y values, when other axes vary too) over two grid axes.
pub fn rate_gap(res: &Results, x: &str, y: &str, metric: &str) -> Result<Categorical> {
    let column = resolve_metric(res, metric)?;
    for (flag, axis) in [("--x", x), ("--y", y)] {
        if res.cells.column(axis).is_none() || !crate::results::PARAMETERS.contains(&axis) {
            return Err(Error::input(
                flag,
                format!("\"{axis}\" is not a grid parameter"),
                format!("use one of {}", crate::results::PARAMETERS.join(", ")),
            ));
        }
    }
    let (mut xs, mut ys) = (res.distinct(x), res.distinct(y));
    sort_axis(&mut xs);
    sort_axis(&mut ys);
    let (xc, yc, mc) =
        (res.cells.column(x).unwrap_or(0), res.cells.column(y).unwrap_or(0), res.cells.column(&column).unwrap_or(0));
    let raw = res.cells.numbers(mc);
    let mut sum = vec![vec![0.0; xs.len()]; ys.len()];
    let mut count = vec![vec![0usize; xs.len()]; ys.len()];
    for (row, v) in res.cells.rows.iter().zip(&raw) {
        if v.is_nan() {
            continue;
        }
        let i = xs.iter().position(|s| *s == row[xc]).unwrap_or(0);
        let j = ys.iter().position(|s| *s == row[yc]).unwrap_or(0);
        sum[j][i] += v;
        count[j][i] += 1;
    }
    let mean: Vec<Vec<f64>> = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| s.iter().zip(c).map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN }).collect())
        .collect();
    let log = log_scale(&column, &raw);
    // Means below 1e-16 (f64 rounding at an exact equilibrium) keep their own
    // colour: the scale starts at the smallest positive mean, so the colour
    // bar covers every value written in the cells.
    let floor = mean.iter().flatten().copied().filter(|v| *v > 0.0).fold(LOG_FLOOR, f64::min);
    let values = mean.iter().map(|r| r.iter().map(|&v| if log { v.max(floor).log10() } else { v }).collect()).collect();
    let notes = (xs.len() * ys.len() <= 144 && xs.len() <= 12)
        .then(|| mean.iter().map(|r| r.iter().map(|&v| tick(v)).collect()).collect());
    let others: Vec<&str> = res.varying().into_iter().filter(|p| *p != x && *p != y).collect();
    let mut subtitle = res.fixed_description();
    if !others.is_empty() {
        subtitle = format!("mean over {}; {subtitle}", others.iter().map(|p| short(p)).collect::<Vec<_>>().join(", "));
    }
    if let Some(note) = equilibrium_note(res, &column) {
        subtitle = format!("{note}; {subtitle}");
    }
    Ok(Categorical {
        title: format!("{}: {column} over {} × {}", res.title, short(x), short(y)),
        subtitle,
        x_label: axis_name(x),
        y_label: axis_name(y),
        x_ticks: xs,
        y_ticks: ys,
        values,
        notes,
        colour_label: if log { format!("log10 {column}") } else { column },
    })
}

/// For an equilibrium column, when some populations' equilibrium did not
/// converge: how many of them the colours average (`eq_*` statistics cover
/// converged equilibria only).
fn equilibrium_note(res: &Results, column: &str) -> Option<String> {
    let (ec, pc) = (res.cells.column("eq_converged")?, res.cells.column("populations")?);
    let (eq, pops) = (res.cells.numbers(ec), res.cells.numbers(pc));
    let (converged, total) = (eq.iter().sum::<f64>(), pops.iter().sum::<f64>());
    (column.starts_with("eq_") && converged < total)
        .then(|| format!("equilibria over the {converged} of {total} populations that converged"))
}

/// Axis titles with the symbols of docs/theory.md.
pub fn axis_name(p: &str) -> String {
    match p {
        "k" => "k (responses sampled)".into(),
        "responses" => "n (candidate responses)".into(),
        "types" => "m (user types)".into(),
        "ell" => "ℓ (opponent responses)".into(),
        "phi" => "φ (Mallows dispersion)".into(),
        "sigma" => "σ (score spread)".into(),
        "eta" => "η (step size)".into(),
        other => other.into(),
    }
}

/// The convergence heatmap: one row per cell, iteration on a log axis,
/// colour = log10 of the median `E_k` of the last iterate.
pub struct Convergence {
    pub title: String,
    pub subtitle: String,
    pub rows: Vec<String>,
    /// Per row: (iteration, log10 median E_k) at its checkpoints.
    pub series: Vec<Vec<(f64, f64)>>,
    pub max_iteration: f64,
}

pub fn convergence(res: &Results) -> Result<Convergence> {
    let h = &res.history;
    let col = |name: &str| h.column(name).ok_or_else(|| Error::Other(format!("history.csv lacks the column {name}")));
    let (cc, ic, ec) = (col("cell")?, col("iteration")?, col("e_median")?);
    let varying = res.varying();
    let cell_col = res.cells.column("cell").unwrap_or(0);
    let mut rows = Vec::new();
    let mut series = Vec::new();
    for (r, cell) in res.cells.rows.iter().enumerate() {
        let points: Vec<(f64, f64)> = h
            .rows
            .iter()
            .filter(|hr| hr[cc] == cell[cell_col])
            .filter_map(|hr| Some((hr[ic].parse::<f64>().ok()?, hr[ec].parse::<f64>().ok()?)))
            .filter(|(it, _)| *it >= 1.0)
            .map(|(it, e)| (it, e.max(LOG_FLOOR).log10()))
            .collect();
        let label = res.label(r, &varying);
        rows.push(if label.is_empty() { format!("cell {}", cell[cell_col]) } else { label });
        series.push(points);
    }
    let max_iteration = series.iter().flatten().map(|p| p.0).fold(1.0, f64::max);
    Ok(Convergence {
        title: format!("{}: convergence of the last iterate", res.title),
        subtitle: res.fixed_description(),
        rows,
        series,
        max_iteration,
    })
}

impl Figure for Convergence {
    fn size(&self) -> (u32, u32) {
        (1200, (260 + 24 * self.rows.len()).clamp(560, 1800) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (main, bar) = layout(root, &self.title, &self.subtitle)?;
        let ny = self.rows.len();
        let y_area = 30 + 9 * self.rows.iter().map(|t| t.chars().count()).max().unwrap_or(1).min(48) as u32;
        // The last checkpoint's colour extends half a log-step past it.
        let x_hi = self.max_iteration * 1.25;
        let mut chart = ChartBuilder::on(&main)
            .margin(15)
            .x_label_area_size(70)
            .y_label_area_size(y_area)
            .build_cartesian_2d((1.0..x_hi).log_scale(), 0.0..ny as f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_labels(0)
            .x_label_formatter(&|v| tick(*v))
            .label_style(font(16.0))
            .x_desc("iteration t (log scale)")
            .y_desc("cell")
            .axis_desc_style(font(20.0))
            .draw()?;
        let all: Vec<f64> = self.series.iter().flatten().map(|p| p.1).collect();
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (j, pts) in self.series.iter().enumerate() {
            // Row 0 at the top, in the order of cells.csv.
            let y = (ny - 1 - j) as f64;
            for (p, &(it, v)) in pts.iter().enumerate() {
                let next = pts.get(p + 1).map(|q| q.0).unwrap_or(x_hi);
                let rect = [(it, y), (next, y + 1.0)];
                chart.draw_series(std::iter::once(Rectangle::new(rect, viridis(unit(v, lo, hi)).filled())))?;
            }
        }
        let (_, px_h) = chart.plotting_area().dim_in_pixel();
        for j in (0..ny).step_by(thin(ny, px_h as usize, 18)) {
            let (px, py) = chart.backend_coord(&(1.0, (ny - 1 - j) as f64 + 0.5));
            let style = font(14.0).pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(&self.rows[j], &style, (px - 8, py))?;
        }
        if lo.is_finite() {
            colour_bar(&bar, lo, hi, "log10 median E_k (last iterate)")?;
        }
        Ok(())
    }
}
