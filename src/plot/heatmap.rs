//! Heatmaps over two grid axes (the rate-gap figure) and the convergence
//! heatmap (iteration on a log axis × cells).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{short, sort_axis, Results};
use super::style::{colour_scale, font, text_on, tick, unit, viridis, DrawResult, IMPOSSIBLE, MISSING, ZERO};
use super::Figure;
use crate::error::{Error, Result};

/// Smallest value drawn on the convergence heatmap's log colour scale
/// (exact zeros of E sit here).
const LOG_FLOOR: f64 = 1e-16;

/// Gaps and exploitabilities at most this far from zero are zero up to the
/// accuracy of the numbers in `cells.csv`: every metric there is evaluated
/// by the f64 CPU engine (GPU policies too are re-evaluated in f64), whose
/// win rates are exact up to rounding for ranking types (gaps of exact
/// equilibria come out between −1e-16 and 2e-16) and within its quadrature
/// error, below 1e-12, for Plackett–Luce types (`GRID_F64`). Smaller
/// magnitudes say nothing about the policy, so a log colour scale that
/// reached down to them would spend most of its colours on rounding noise.
pub const ROUNDING_FLOOR: f64 = 1e-12;

/// How a heatmap maps values to colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// log10 of the values above [`ROUNDING_FLOOR`]; for metrics that are
    /// never negative (gaps, exploitabilities).
    Log,
}

/// What one heatmap cell shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shade {
    /// No finite value (no cell there, an empty statistic, or inf): grey.
    Missing,
    /// |value| ≤ [`ROUNDING_FLOOR`] on a log scale: zero up to rounding, white.
    Zero,
    /// Below −[`ROUNDING_FLOOR`] on a log scale, a value the metric cannot
    /// take (an error of the engine): red, off the colour bar.
    Impossible,
    /// A position on the colour bar (log10 of the value on a log scale).
    Scaled(f64),
}

/// A heatmap over two categorical axes.
pub struct Categorical {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<String>,
    pub y_ticks: Vec<String>,
    /// Values `[y][x]` as written in `cells.csv` (the mean over the cells
    /// that share x and y); NaN where there is none.
    pub values: Vec<Vec<f64>>,
    /// The smallest of the values each mean is taken over, so that an
    /// impossible value is not averaged out of sight.
    pub lowest: Vec<Vec<f64>>,
    pub scale: Scale,
    /// The cells.csv column drawn.
    pub column: String,
    /// Whether each cell's value is written in it (when the grid is small).
    pub notes: bool,
    pub colour_label: String,
}

/// The layout both heatmaps share: title, subtitle and a warning (red,
/// when there is one) on top, below them the chart area and, on the right,
/// a 170-pixel strip for the colour bar.
#[allow(clippy::type_complexity)]
pub fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    warning: Option<&str>,
) -> std::result::Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>), DrawingAreaErrorKind<DB::ErrorType>> {
    let area = root.titled(title, font(24.0))?;
    let mut area = area.titled(subtitle, font(16.0))?;
    if let Some(w) = warning {
        area = area.titled(w, font(16.0).color(&IMPOSSIBLE))?;
    }
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
        let (main, bar) = layout(root, &self.title, &self.subtitle, impossible_warning(&[self]).as_deref())?;
        let range = self.range();
        self.draw_cells(&main, range, 20.0)?;
        colour_scale(&bar, range, &self.colour_label, &key(&[self]))
    }
}

/// What a figure's heatmaps say about their impossible values, if any.
pub fn impossible_warning(maps: &[&Categorical]) -> Option<String> {
    let count = maps.iter().map(|m| m.shades().filter(|s| *s == Shade::Impossible).count()).sum::<usize>();
    let column = &maps.first()?.column;
    (count > 0).then(|| {
        format!(
            "red: {count} cell(s) with a value below −{} (written in it), impossible for {column}: an engine error",
            tick(ROUNDING_FLOOR)
        )
    })
}

/// The colours of a figure's heatmaps that lie off the colour bar, with
/// what they mean: those that some cell uses.
pub fn key(maps: &[&Categorical]) -> Vec<(RGBColor, String)> {
    let used = |want: fn(&Shade) -> bool| maps.iter().any(|m| m.shades().any(|s| want(&s)));
    let mut out = Vec::new();
    if used(|s| *s == Shade::Zero) {
        out.push((ZERO, format!("0 (|v| ≤ {})", tick(ROUNDING_FLOOR))));
    }
    if used(|s| *s == Shade::Impossible) {
        out.push((IMPOSSIBLE, format!("< −{}: error", tick(ROUNDING_FLOOR))));
    }
    if used(|s| *s == Shade::Missing) {
        out.push((MISSING, "no finite value".into()));
    }
    out
}

impl Categorical {
    /// What the cell at `[j][i]` shows.
    pub fn shade(&self, j: usize, i: usize) -> Shade {
        let v = self.values[j][i];
        match self.scale {
            Scale::Log if self.lowest[j][i] < -ROUNDING_FLOOR => Shade::Impossible,
            _ if !v.is_finite() => Shade::Missing,
            Scale::Linear => Shade::Scaled(v),
            Scale::Log if v.abs() <= ROUNDING_FLOOR => Shade::Zero,
            Scale::Log => Shade::Scaled(v.log10()),
        }
    }

    fn shades(&self) -> impl Iterator<Item = Shade> + '_ {
        self.values.iter().enumerate().flat_map(move |(j, r)| (0..r.len()).map(move |i| self.shade(j, i)))
    }

    /// The smallest and largest position on the colour bar, if any cell
    /// has one.
    pub fn range(&self) -> Option<(f64, f64)> {
        self.shades().fold(None, |acc, s| match (acc, s) {
            (None, Shade::Scaled(v)) => Some((v, v)),
            (Some((lo, hi)), Shade::Scaled(v)) => Some((f64::min(lo, v), f64::max(hi, v))),
            (acc, _) => acc,
        })
    }

    /// The text written in the cell at `[j][i]`: its value, "0" when zero
    /// up to rounding, and the impossible value itself where there is one.
    pub fn note(&self, j: usize, i: usize) -> String {
        let v = self.values[j][i];
        match self.shade(j, i) {
            Shade::Zero => "0".into(),
            Shade::Impossible => tick(self.lowest[j][i]),
            Shade::Missing if v.is_nan() => "n/a".into(),
            Shade::Missing => (if v > 0.0 { "inf" } else { "-inf" }).into(),
            _ => tick(v),
        }
    }

    /// The cells, their notes and the category ticks on `area`, coloured on
    /// the scale `range` (shared by the panels of a faceted figure).
    pub fn draw_cells<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        range: Option<(f64, f64)>,
        label: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (lo, hi) = range.unwrap_or((0.0, 1.0));
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
        for j in 0..ny {
            for i in 0..nx {
                let (colour, ink) = match self.shade(j, i) {
                    Shade::Scaled(v) => (viridis(unit(v, lo, hi)), text_on(unit(v, lo, hi))),
                    Shade::Zero => (ZERO, BLACK),
                    Shade::Impossible => (IMPOSSIBLE, WHITE),
                    Shade::Missing => (MISSING, BLACK),
                };
                let rect = [(i as f64, j as f64), (i as f64 + 1.0, j as f64 + 1.0)];
                chart.draw_series(std::iter::once(Rectangle::new(rect, colour.filled())))?;
                // White cells need a visible edge; the others a white one.
                let edge = if colour == ZERO { MISSING } else { WHITE };
                chart.draw_series(std::iter::once(Rectangle::new(rect, edge.stroke_width(1))))?;
                if self.notes {
                    let style = font(0.75 * label).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                    let at = (i as f64 + 0.5, j as f64 + 0.5);
                    chart.draw_series(std::iter::once(Text::new(self.note(j, i), at, style)))?;
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
    Err(Error::input("--metric", format!("\"{metric}\" is not a column of cells.csv"), metric_hint(res)))
}

/// The fix of a bad `--metric`: the short names and some numeric columns.
fn metric_hint(res: &Results) -> String {
    let numeric: Vec<&str> = res.cells.header.iter().skip(17).map(String::as_str).collect();
    format!(
        "use gap, e, r, nlhf_gap, rlhf_gap, uniform_gap or a column such as {}",
        numeric[..8.min(numeric.len())].join(", ")
    )
}

/// Checks what a heatmap of `metric` over `x` × `y` asks of `res`: two
/// different grid parameters and a numeric column with at least one finite
/// value. Returns the column's name.
pub fn check(res: &Results, x: &str, y: &str, metric: &str) -> Result<String> {
    check_axes(res, &[("--x", x), ("--y", y)])?;
    let column = resolve_metric(res, metric)?;
    let c = res.cells.column(&column).unwrap_or(0);
    if let Some(text) = res.cells.rows.iter().map(|r| &r[c]).find(|v| !v.is_empty() && v.parse::<f64>().is_err()) {
        return Err(Error::input(
            "--metric",
            format!("\"{column}\" is not numeric (cells.csv holds \"{text}\" there)"),
            metric_hint(res),
        ));
    }
    if !has_values(res, &column) {
        return Err(Error::input(
            "--metric",
            format!("\"{column}\" has no finite value in these cells (all empty, NaN or inf)"),
            format!("colour by a column this sweep computed; {}", metric_hint(res)),
        ));
    }
    Ok(column)
}

/// Whether some cell has a finite value in `column`.
pub fn has_values(res: &Results, column: &str) -> bool {
    res.cells.column(column).is_some_and(|c| res.cells.numbers(c).iter().any(|v| v.is_finite()))
}

/// Each `(flag, axis)` names a grid parameter that no earlier flag named.
pub fn check_axes(res: &Results, axes: &[(&str, &str)]) -> Result<()> {
    for (n, &(flag, axis)) in axes.iter().enumerate() {
        if res.cells.column(axis).is_none() || !crate::results::PARAMETERS.contains(&axis) {
            return Err(Error::input(
                flag,
                format!("\"{axis}\" is not a grid parameter"),
                format!("use one of {}", crate::results::PARAMETERS.join(", ")),
            ));
        }
        if let Some((earlier, _)) = axes[..n].iter().find(|(_, a)| *a == axis) {
            return Err(Error::input(
                flag,
                format!("\"{axis}\" is already {earlier}"),
                "give each axis a different grid parameter, e.g. --x k --y responses",
            ));
        }
    }
    Ok(())
}

/// Whether a metric is drawn on a log10 colour scale: exploitabilities and
/// gaps, never negative, span many orders of magnitude (1e-10 at a solver's
/// tolerance, 0.3 for NLHF).
fn log_scale(column: &str) -> bool {
    column.contains("gap") || column.contains("_e_") || column.starts_with("e_")
}

/// A tick label for an axis value (blank where a model ignores the axis).
fn tick_label(value: &str) -> String {
    if value.is_empty() {
        "none".into()
    } else {
        value.into()
    }
}

/// The rate-gap heatmap: `metric` (mean over the cells that share the x and
/// y values, when other axes vary too) over two grid axes. Gaps and
/// exploitabilities use a log colour scale over the values above
/// [`ROUNDING_FLOOR`]; smaller magnitudes are shown as zero, negative ones
/// beyond it as impossible (see [`Shade`]).
pub fn rate_gap(res: &Results, x: &str, y: &str, metric: &str) -> Result<Categorical> {
    let column = check(res, x, y, metric)?;
    Ok(heatmap_of(res, x, y, &column))
}

/// [`rate_gap`] of a column already checked (on these cells or a superset:
/// a panel of a faceted figure may have no value).
pub fn heatmap_of(res: &Results, x: &str, y: &str, column: &str) -> Categorical {
    let (mut xs, mut ys) = (res.distinct(x), res.distinct(y));
    sort_axis(&mut xs);
    sort_axis(&mut ys);
    let (xc, yc, mc) =
        (res.cells.column(x).unwrap_or(0), res.cells.column(y).unwrap_or(0), res.cells.column(column).unwrap_or(0));
    let raw = res.cells.numbers(mc);
    let mut sum = vec![vec![0.0; xs.len()]; ys.len()];
    let mut count = vec![vec![0usize; xs.len()]; ys.len()];
    let mut lowest = vec![vec![f64::INFINITY; xs.len()]; ys.len()];
    for (row, v) in res.cells.rows.iter().zip(&raw) {
        if v.is_nan() {
            continue;
        }
        let i = xs.iter().position(|s| *s == row[xc]).unwrap_or(0);
        let j = ys.iter().position(|s| *s == row[yc]).unwrap_or(0);
        sum[j][i] += v;
        count[j][i] += 1;
        lowest[j][i] = lowest[j][i].min(*v);
    }
    let values: Vec<Vec<f64>> = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| s.iter().zip(c).map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN }).collect())
        .collect();
    let scale = if log_scale(column) { Scale::Log } else { Scale::Linear };
    let others: Vec<&str> = res.varying().into_iter().filter(|p| *p != x && *p != y).collect();
    let mut subtitle = res.fixed_description();
    if !others.is_empty() {
        subtitle = format!("mean over {}; {subtitle}", others.iter().map(|p| short(p)).collect::<Vec<_>>().join(", "));
    }
    if let Some(note) = equilibrium_note(res, column) {
        subtitle = format!("{note}; {subtitle}");
    }
    Categorical {
        title: format!("{}: {column} over {} × {}", res.title, short(x), short(y)),
        subtitle,
        x_label: axis_name(x),
        y_label: axis_name(y),
        notes: xs.len() * ys.len() <= 144 && xs.len() <= 12,
        x_ticks: xs.iter().map(|v| tick_label(v)).collect(),
        y_ticks: ys.iter().map(|v| tick_label(v)).collect(),
        values,
        lowest,
        scale,
        column: column.to_string(),
        colour_label: match scale {
            Scale::Log => format!("log10 {column} (above {})", tick(ROUNDING_FLOOR)),
            Scale::Linear => column.to_string(),
        },
    }
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
        let (main, bar) = layout(root, &self.title, &self.subtitle, None)?;
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
        let range = lo.is_finite().then_some((lo, hi));
        colour_scale(&bar, range, "log10 median E_k (last iterate)", &[])?;
        Ok(())
    }
}
