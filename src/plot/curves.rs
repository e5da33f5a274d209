//! Line figures: scaling curves (R_k against k), convergence curves (last
//! iterate against time average), the regret identity, and ℓ-response rates.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{short, Results};
use plotters::element::DashedPathElement;

use super::style::{font, line_colour, tick, DrawResult, IMPOSSIBLE};
use super::Figure;
use crate::error::Result;

/// Most panels one figure holds (more groups are listed as left out).
const MAX_PANELS: usize = 6;
/// Most lines one convergence-curve panel holds.
const MAX_LINES: usize = 6;

/// How a line's points are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stroke {
    Solid,
    /// Dashes of [`DASH`] pixels with gaps of [`GAP`], in the plot and in
    /// the legend alike.
    Dashed,
    /// Points only (a scatter).
    Points,
}

/// Dash and gap lengths of a dashed line, in pixels.
pub const DASH: u32 = 10;
pub const GAP: u32 = 6;

/// The shape marking a line's data points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
}

#[derive(Clone)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub colour: RGBColor,
    pub stroke: Stroke,
    /// Stroke width in pixels.
    pub width: u32,
    /// Marks on the data points (shape and size in pixels).
    pub marker: Option<(Marker, u32)>,
}

impl Line {
    /// What the legend shows of the line: its label and look.
    fn key(&self) -> (String, (u8, u8, u8), Stroke, u32, Option<(Marker, u32)>) {
        (self.label.clone(), self.colour.rgb(), self.stroke, self.width, self.marker)
    }
}

/// One panel of a line figure.
pub struct Panel {
    pub title: String,
    pub lines: Vec<Line>,
    pub log_x: bool,
    pub log_y: bool,
    /// x takes integer values only (k): label integers only.
    pub integer_x: bool,
}

/// A figure of one or more line panels sharing axis titles, with one legend
/// below the panels (outside every plotting area).
pub struct Lines {
    pub title: String,
    pub subtitle: String,
    /// What the figure leaves out (values that are not finite numbers), in
    /// red under the subtitle; empty when nothing is left out.
    pub note: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<Panel>,
}

/// Height of one legend row, in pixels.
const LEGEND_ROW: u32 = 28;
/// Length of a legend's line sample.
pub const SAMPLE: i32 = 58;

impl Lines {
    /// Width of the figure in pixels.
    pub fn width(&self) -> u32 {
        if self.panels.len() > 1 {
            1500
        } else {
            1100
        }
    }

    /// The legend's entries: each distinct label and look, in the order
    /// of first appearance.
    pub fn legend(&self) -> Vec<&Line> {
        let mut out: Vec<&Line> = Vec::new();
        for l in self.panels.iter().flat_map(|p| &p.lines) {
            if !out.iter().any(|o| o.key() == l.key()) {
                out.push(l);
            }
        }
        out
    }

    /// Legend columns, the width of one, and rows (from a generous 9 pixels
    /// per character of the 15-pixel font).
    fn legend_grid(&self) -> (usize, u32, usize) {
        let entries = self.legend();
        let longest = entries.iter().map(|l| l.label.chars().count()).max().unwrap_or(0) as u32;
        let entry = SAMPLE as u32 + 24 + 9 * longest;
        let cols = ((self.width() - 40) / entry).clamp(1, entries.len().max(1) as u32) as usize;
        (cols, entry, entries.len().div_ceil(cols))
    }

    /// Where each legend entry's line sample starts (its left end, on its
    /// centre line), in pixels from the top left of the legend strip, which
    /// spans the figure's width under the panels.
    pub fn legend_samples(&self) -> Vec<(i32, i32)> {
        let (cols, entry, _) = self.legend_grid();
        let left = (self.width() as i32 - (cols as u32 * entry) as i32).max(0) / 2;
        (0..self.legend().len())
            .map(|n| {
                let x = left + ((n % cols) as u32 * entry) as i32;
                (x, 8 + ((n / cols) as u32 * LEGEND_ROW + LEGEND_ROW / 2) as i32)
            })
            .collect()
    }

    /// Height of the strip that holds the legend.
    pub fn legend_height(&self) -> u32 {
        let (_, _, rows) = self.legend_grid();
        if rows == 0 {
            0
        } else {
            20 + LEGEND_ROW * rows as u32
        }
    }
}

impl Figure for Lines {
    fn size(&self) -> (u32, u32) {
        let cols = if self.panels.len() > 1 { 2 } else { 1 };
        let rows = self.panels.len().div_ceil(cols);
        let note = if self.note.is_empty() { 0 } else { 24 };
        (self.width(), (120 + 560 * rows) as u32 + self.legend_height() + note)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let area = root.titled(&self.title, font(24.0))?;
        let mut area = area.titled(&self.subtitle, font(16.0))?;
        if !self.note.is_empty() {
            area = area.titled(&self.note, font(16.0).color(&IMPOSSIBLE))?;
        }
        let (_, h) = area.dim_in_pixel();
        let (plots, legend) = area.split_vertically(h - self.legend_height());
        let cols = if self.panels.len() > 1 { 2 } else { 1 };
        let rows = self.panels.len().div_ceil(cols);
        for (panel, sub) in self.panels.iter().zip(plots.split_evenly((rows, cols))) {
            draw_panel(&sub, panel, &self.x_label, &self.y_label)?;
        }
        self.draw_legend(&legend)
    }
}

impl Lines {
    /// The legend: per entry a sample drawn with the line's own stroke,
    /// width, dash pattern and marker, then its label.
    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let entries = self.legend();
        if entries.is_empty() {
            return Ok(());
        }
        let (cols, entry, rows) = self.legend_grid();
        let left = self.legend_samples()[0].0;
        area.draw(&Rectangle::new(
            [(left - 10, 4), (left + (cols as u32 * entry) as i32, 12 + (LEGEND_ROW * rows as u32) as i32)],
            BLACK.mix(0.4).stroke_width(1),
        ))?;
        for (l, (x, y)) in entries.iter().zip(self.legend_samples()) {
            let style = l.colour.stroke_width(l.width);
            let ends = vec![(x, y), (x + SAMPLE, y)];
            match l.stroke {
                Stroke::Solid => area.draw(&PathElement::new(ends, style))?,
                Stroke::Dashed => area.draw(&DashedPathElement::new(ends.into_iter(), DASH, GAP, style))?,
                Stroke::Points => {
                    area.draw(&Circle::new((x + SAMPLE / 2, y), 4, l.colour.mix(POINT_OPACITY).filled()))?
                }
            }
            if let Some((shape, size)) = l.marker {
                let at = (x + SAMPLE / 2, y);
                let fill = l.colour.filled();
                match shape {
                    Marker::Circle => area.draw(&Circle::new(at, size, fill))?,
                    Marker::Square => {
                        let s = size as i32;
                        area.draw(&(EmptyElement::at(at) + Rectangle::new([(-s, -s), (s, s)], fill)))?
                    }
                    Marker::Triangle => area.draw(&TriangleMarker::new(at, size, fill))?,
                }
            }
            area.draw_text(&l.label, &font(15.0), (x + SAMPLE + 12, y - 8))?;
        }
        Ok(())
    }
}

fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (if log { 1e-3 } else { 0.0 }, 1.0);
    }
    if log {
        (lo / 2.0, hi * 2.0)
    } else {
        let pad = ((hi - lo) * 0.06).max(1e-3);
        (lo - pad, hi + pad)
    }
}

/// Draws a panel: first the solid lines and scatters, then the dashed ones
/// (bounds and references, thin, on top so that a curve on a bound leaves
/// the bound visible and shows around it), then the markers, in the order
/// of the lines (the first drawn largest, so that coinciding markers nest).
fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel, xl: &str, yl: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = bounds(p.lines.iter().flat_map(|l| l.points.iter().map(|q| q.0)), p.log_x);
    let (y0, y1) = bounds(p.lines.iter().flat_map(|l| l.points.iter().map(|q| q.1)), p.log_y);
    let mut builder = ChartBuilder::on(area);
    builder.margin(18).caption(&p.title, font(19.0)).x_label_area_size(60).y_label_area_size(85);
    // The points a panel can draw: finite, and positive on a log axis.
    let shown = |l: &Line| -> Vec<(f64, f64)> {
        l.points
            .iter()
            .copied()
            .filter(|q| q.0.is_finite() && q.1.is_finite())
            .filter(|q| (!p.log_x || q.0 > 0.0) && (!p.log_y || q.1 > 0.0))
            .collect()
    };
    // The four coordinate combinations are distinct types in plotters.
    macro_rules! finish {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_label_formatter(&|v| if p.integer_x && v.fract() != 0.0 { String::new() } else { tick(*v) })
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(16.0))
                .x_desc(xl)
                .y_desc(yl)
                .axis_desc_style(font(18.0))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for layer in [Stroke::Points, Stroke::Solid, Stroke::Dashed] {
                for l in p.lines.iter().filter(|l| l.stroke == layer) {
                    let pts = shown(l);
                    let style = l.colour.stroke_width(l.width);
                    match l.stroke {
                        Stroke::Points => {
                            let stacks = pixel_stacks(pts.iter().map(|q| (*q, chart.backend_coord(q))));
                            let colour = l.colour;
                            chart.draw_series(stacks.into_iter().map(|(q, count)| {
                                Circle::new(q, 4, colour.mix(stack_opacity(POINT_OPACITY, count)).filled())
                            }))?;
                        }
                        Stroke::Dashed => {
                            chart.draw_series(DashedLineSeries::new(pts, DASH, GAP, style))?;
                        }
                        Stroke::Solid => {
                            chart.draw_series(LineSeries::new(pts, style))?;
                        }
                    }
                }
            }
            for l in &p.lines {
                let Some((shape, size)) = l.marker else { continue };
                let fill = l.colour.filled();
                let pts = shown(l);
                match shape {
                    Marker::Circle => chart.draw_series(pts.into_iter().map(|q| Circle::new(q, size, fill)))?,
                    Marker::Square => {
                        let s = size as i32;
                        let square = |q| EmptyElement::at(q) + Rectangle::new([(-s, -s), (s, s)], fill);
                        chart.draw_series(pts.into_iter().map(square))?
                    }
                    Marker::Triangle => {
                        chart.draw_series(pts.into_iter().map(|q| TriangleMarker::new(q, size, fill)))?
                    }
                };
            }
        }};
    }
    match (p.log_x, p.log_y) {
        (false, false) => finish!(builder.build_cartesian_2d(x0..x1, y0..y1)?),
        (true, false) => finish!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?),
        (false, true) => finish!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?),
        (true, true) => finish!(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?),
    }
    Ok(())
}

/// Opacity of one scatter point.
const POINT_OPACITY: f64 = 0.6;

/// A scatter's points grouped by the pixel they are drawn at, in order of
/// first appearance: (the first point, how many land there). Points on one
/// pixel draw the same circle, and `count` copies of a colour at opacity
/// `a` composite as one at `1 − (1 − a)^count` in whatever order, so one
/// circle per pixel draws the same picture, except on the anti-aliased rim
/// of a stack, which stays one circle's rim instead of darkening with each
/// copy. A sweep's scatter of a point per population then costs what its
/// distinct pixels do, and its SVG holds a circle per pixel (130 for the
/// 65,536 populations of one impartial-culture cell) rather than per
/// population.
fn pixel_stacks(points: impl Iterator<Item = ((f64, f64), (i32, i32))>) -> Vec<((f64, f64), u32)> {
    let mut at = std::collections::HashMap::new();
    let mut stacks: Vec<((f64, f64), u32)> = Vec::new();
    for (point, pixel) in points {
        let slot = *at.entry(pixel).or_insert_with(|| {
            stacks.push((point, 0));
            stacks.len() - 1
        });
        stacks[slot].1 += 1;
    }
    stacks
}

/// The opacity of `count` copies of a colour of opacity `a` drawn over each
/// other.
fn stack_opacity(a: f64, count: u32) -> f64 {
    1.0 - (1.0 - a).powi(count as i32)
}

/// Rows of cells.csv grouped by every varying parameter except `except`,
/// in order of first appearance: (group label, row indices).
fn groups(res: &Results, except: &[&str]) -> Vec<(String, Vec<usize>)> {
    let keys: Vec<&str> = res.varying().into_iter().filter(|p| !except.contains(p)).collect();
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for r in 0..res.cells.rows.len() {
        let label = res.label(r, &keys);
        match out.iter_mut().find(|g| g.0 == label) {
            Some(g) => g.1.push(r),
            None => out.push((label, vec![r])),
        }
    }
    out
}

fn num(res: &Results, row: usize, col: &str) -> f64 {
    res.value(row, col).parse().unwrap_or(f64::NAN)
}

/// How many values of each column a figure leaves out because they are not
/// finite numbers (empty, NaN or ±inf), for the figure's note.
#[derive(Default)]
struct Dropped(std::collections::BTreeMap<String, usize>);

impl Dropped {
    /// Whether `v` can be drawn; counts it against `column` when not.
    fn keep(&mut self, column: &str, v: f64) -> bool {
        if !v.is_finite() {
            *self.0.entry(column.to_string()).or_default() += 1;
        }
        v.is_finite()
    }

    /// The note saying what was left out of `file` (empty if nothing).
    fn note(&self, file: &str) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let each: Vec<String> = self.0.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
        format!("not drawn: values of {file} that are not finite numbers (empty, NaN or inf): {}", each.join(", "))
    }
}

/// `(k, mean of column)` over the rows, averaged per k, sorted by k; values
/// that are not finite numbers are left out and counted in `dropped`.
fn by_k(res: &Results, rows: &[usize], col: &str, dropped: &mut Dropped) -> Vec<(f64, f64)> {
    let mut acc: Vec<(f64, f64, usize)> = Vec::new();
    for &r in rows {
        let (k, v) = (num(res, r, "k"), num(res, r, col));
        if !dropped.keep(col, v) {
            continue;
        }
        match acc.iter_mut().find(|a| a.0 == k) {
            Some(a) => {
                a.1 += v;
                a.2 += 1;
            }
            None => acc.push((k, v, 1)),
        }
    }
    acc.sort_by(|a, b| a.0.total_cmp(&b.0));
    acc.into_iter().map(|(k, s, n)| (k, s / n as f64)).collect()
}

/// A measured curve: a solid line of `width` pixels, its points marked.
fn curve(label: &str, points: Vec<(f64, f64)>, colour: usize, (width, marker): (u32, (Marker, u32))) -> Line {
    Line {
        label: label.into(),
        points,
        colour: line_colour(colour),
        stroke: Stroke::Solid,
        width,
        marker: Some(marker),
    }
}

/// Widths and markers of up to three curves that may coincide (on a cycle
/// the equilibrium, NLHF and RLHF all do): decreasing, and drawn in this
/// order, so that each stays visible around the ones drawn after it.
const NESTED: [(u32, (Marker, u32)); 3] =
    [(8, (Marker::Circle, 8)), (4, (Marker::Square, 5)), (2, (Marker::Triangle, 5))];

/// A bound or reference line: thin and dashed, drawn over the curves.
fn reference(label: &str, points: Vec<(f64, f64)>, colour: usize) -> Line {
    Line { label: label.into(), points, colour: line_colour(colour), stroke: Stroke::Dashed, width: 2, marker: None }
}

/// One panel per group of cells (see [`groups`]), the first [`MAX_PANELS`]
/// of them: `panel(title, rows)` draws a group under its title (the group
/// label, "all cells" when nothing else varies). Also returns the note for
/// the figure title that says how many groups were left out (empty if none).
fn grouped_panels(
    res: &Results,
    except: &[&str],
    mut panel: impl FnMut(String, Vec<usize>) -> Panel,
) -> (Vec<Panel>, String) {
    let gs = groups(res, except);
    let total = gs.len();
    let note = if total > MAX_PANELS { format!(" (first {MAX_PANELS} of {total} groups)") } else { String::new() };
    let panels = gs
        .into_iter()
        .take(MAX_PANELS)
        .map(|(label, rows)| panel(if label.is_empty() { "all cells".into() } else { label }, rows))
        .collect();
    (panels, note)
}

/// Scaling curves: mean `R_k` against k for the equilibrium, NLHF and RLHF,
/// with the bounds k/(k+1) and 1/2; one panel per combination of the other
/// varying parameters.
pub fn scaling(res: &Results) -> Result<Lines> {
    let mut dropped = Dropped::default();
    let (panels, note) = grouped_panels(res, &["k", "ell"], |title, rows| {
        let ks: Vec<f64> = by_k(res, &rows, "bound", &mut dropped).iter().map(|p| p.0).collect();
        let mut by = |column: &str| by_k(res, &rows, column, &mut dropped);
        Panel {
            title,
            lines: vec![
                curve("equilibrium (converged populations)", by("eq_r_mean"), 0, NESTED[0]),
                curve("NLHF (maximal lottery)", by("nlhf_r_mean"), 1, NESTED[1]),
                curve("RLHF (Bradley–Terry)", by("rlhf_r_mean"), 2, NESTED[2]),
                reference("bound k/(k+1)", ks.iter().map(|&k| (k, k / (k + 1.0))).collect(), 7),
                reference("1/2", ks.iter().map(|&k| (k, 0.5)).collect(), 6),
            ],
            log_x: false,
            log_y: false,
            integer_x: true,
        }
    });
    Ok(Lines {
        title: format!("{}: robust alignment R_k against k{}", res.title, note),
        subtitle: format!("mean over populations; {}", res.fixed_description()),
        note: dropped.note("cells.csv"),
        x_label: "k (responses sampled)".into(),
        y_label: "R_k (worst-case win rate)".into(),
        panels,
    })
}

/// Convergence curves: mean `E_k` of the last iterate (solid) and the
/// time-average gap `k/(k+1) − R(μ_t) = Reg_t/t` (dashed), per cell, against
/// the iteration. Panels group cells by the parameters other than dynamics
/// and η, so the dynamics are compared within a panel.
pub fn curves(res: &Results) -> Result<Lines> {
    let h = &res.history;
    let col = |n: &str| h.column(n).unwrap_or(0);
    let (cc, ic, ec, gc) = (col("cell"), col("iteration"), col("e_mean"), col("avg_gap_mean"));
    let within = ["dynamics", "eta", "k"];
    let line_keys: Vec<&str> = res.varying().into_iter().filter(|p| within.contains(p)).collect();
    let mut dropped = Dropped::default();
    let (panels, note) = grouped_panels(res, &within, |title, rows| {
        let mut lines = Vec::new();
        for (i, &r) in rows.iter().take(MAX_LINES).enumerate() {
            let id = res.value(r, "cell");
            let mut pts = |c: usize| -> Vec<(f64, f64)> {
                h.rows
                    .iter()
                    .filter(|hr| hr[cc] == id)
                    .filter_map(|hr| Some((hr[ic].parse().ok()?, hr[c].parse::<f64>().unwrap_or(f64::NAN))))
                    .filter(|(t, v)| *t >= 1.0 && dropped.keep(&h.header[c], *v))
                    .map(|(t, v)| (t, v.max(1e-16)))
                    .collect()
            };
            let name = res.label(r, &line_keys);
            let name = if name.is_empty() { format!("cell {id}") } else { name };
            let (last, average) = (pts(ec), pts(gc));
            let colour = line_colour(i);
            let line =
                |label: String, points, stroke, width| Line { label, points, colour, stroke, width, marker: None };
            lines.push(line(format!("{name}: last iterate E_k"), last, Stroke::Solid, 3));
            lines.push(line(format!("{name}: time average Reg_t/t"), average, Stroke::Dashed, 2));
        }
        Panel { title, lines, log_x: true, log_y: true, integer_x: false }
    });
    Ok(Lines {
        title: format!("{}: last iterate vs time average{}", res.title, note),
        subtitle: format!("mean over populations; {}", res.fixed_description()),
        note: dropped.note("history.csv"),
        x_label: "iteration t".into(),
        y_label: "gap to k/(k+1)".into(),
        panels,
    })
}

/// The no-regret identity: `k/(k+1) − Reg_T/T` (from the regret) against the
/// measured `R(μ_T)` of the time-average output, one point per population,
/// coloured by k.
pub fn regret(res: &Results) -> Result<Lines> {
    let p = &res.populations;
    let mut ks = p.k_values.clone();
    super::data::sort_axis(&mut ks);
    let mut lines: Vec<Line> = Vec::new();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut dropped = Dropped::default();
    for (i, kv) in ks.iter().enumerate() {
        let index = p.k_values.iter().position(|v| v == kv);
        let k: Option<f64> = kv.parse().ok();
        let pts: Vec<(f64, f64)> = p
            .rows
            .iter()
            .filter(|row| Some(row.k) == index)
            .filter_map(|row| {
                let (k, t) = (k?, row.iterations?);
                let (reg, measured) = (row.regret?, row.avg_r?);
                Some((measured, k / (k + 1.0) - reg / t))
            })
            .filter(|q| dropped.keep("avg_r", q.0) && dropped.keep("regret", q.1))
            .collect();
        for q in &pts {
            lo = lo.min(q.0);
            hi = hi.max(q.0);
        }
        lines.push(Line {
            label: format!("k={kv}"),
            points: pts,
            colour: line_colour(i),
            stroke: Stroke::Points,
            width: 1,
            marker: None,
        });
    }
    let mut panel =
        Panel { title: "one point per population".into(), lines, log_x: false, log_y: false, integer_x: false };
    if lo.is_finite() {
        panel.lines.insert(0, reference("y = x", vec![(lo, lo), (hi, hi)], 7));
    }
    Ok(Lines {
        title: format!("{}: no-regret identity R(μ_T) = k/(k+1) − Reg_T/T", res.title),
        subtitle: res.fixed_description(),
        note: dropped.note("populations.csv"),
        x_label: "measured R(μ_T) of the time-average output".into(),
        y_label: "k/(k+1) − Reg_T/T".into(),
        panels: vec![panel],
    })
}

/// ℓ-response opponents: mean and worst `R_{k,ℓ}` of the equilibrium (and the
/// NLHF mean) against k, with the bounds k/(k+ℓ) and (k+1−ℓ)/(k+1); one
/// panel per ℓ (and per combination of other varying parameters).
pub fn ell(res: &Results) -> Result<Lines> {
    let mut dropped = Dropped::default();
    let (panels, note) = grouped_panels(res, &["k"], |title, rows| {
        let mut by = |column: &str| by_k(res, &rows, column, &mut dropped);
        Panel {
            title,
            lines: vec![
                curve("equilibrium, mean", by("eq_r_ell_mean"), 0, NESTED[0]),
                curve("equilibrium, worst", by("eq_r_ell_worst"), 5, NESTED[1]),
                curve("NLHF, mean", by("nlhf_r_ell_mean"), 1, NESTED[2]),
                reference("upper bound k/(k+ℓ)", by("ell_upper"), 7),
                reference("lower bound (k+1−ℓ)/(k+1)", by("ell_lower"), 6),
            ],
            log_x: false,
            log_y: false,
            integer_x: true,
        }
    });
    Ok(Lines {
        title: format!("{}: R_{{k,ℓ}} against ℓ-response opponents{}", res.title, note),
        subtitle: format!("over populations; {}", res.fixed_description()),
        note: dropped.note("cells.csv"),
        x_label: "k (responses sampled)".into(),
        y_label: format!("R_{{k,{}}}", short("ell")),
        panels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scatter drawn a circle per point and a circle per pixel stack.
    fn render(points: &[(f64, f64)], stacked: bool) -> (Vec<u8>, usize) {
        let size = (240, 180);
        let mut pixels = vec![0u8; 240 * 180 * 3];
        let circles;
        {
            let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
            root.fill(&WHITE).unwrap();
            let mut chart = ChartBuilder::on(&root).margin(5).build_cartesian_2d(0.0..1.0, 0.0..1.0).unwrap();
            let colour = line_colour(0);
            let circle = |q, opacity| Circle::new(q, 4, colour.mix(opacity).filled());
            if stacked {
                let stacks = pixel_stacks(points.iter().map(|q| (*q, chart.backend_coord(q))));
                circles = stacks.len();
                chart.draw_series(stacks.into_iter().map(|(q, n)| circle(q, stack_opacity(POINT_OPACITY, n)))).unwrap();
            } else {
                circles = points.len();
                chart.draw_series(points.iter().map(|&q| circle(q, POINT_OPACITY))).unwrap();
            }
            root.present().unwrap();
        }
        (pixels, circles)
    }

    /// Stacking points per pixel draws the picture of a circle per point
    /// with far fewer circles: inside the circles the same colours (up to
    /// the rounding of each composite to 8 bits); on their anti-aliased rims
    /// a stack's rim is one circle's, where copies drawn one by one would
    /// darken a partly covered pixel with each copy. So no pixel is darker,
    /// and few are lighter.
    #[test]
    fn a_circle_per_pixel_stack_draws_the_scatter_of_every_point() {
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        // Clustered, as a sweep's populations are, with some alone.
        let points: Vec<(f64, f64)> = (0..20_000)
            .map(|i| {
                let x = if i % 50 == 0 { next() } else { 0.7 + 0.1 * next().powi(3) };
                (x, x + 0.002 * (next() - 0.5))
            })
            .collect();
        let (every, drawn) = render(&points, false);
        let (stacked, stacks) = render(&points, true);
        assert_eq!(drawn, 20_000);
        assert!(stacks < 2_000, "{stacks} stacks");
        let darker = every.iter().zip(&stacked).map(|(e, s)| e.saturating_sub(*s)).max().unwrap();
        assert!(darker <= 2, "a channel is darker by {darker}");
        let lighter = every.iter().zip(&stacked).filter(|(e, s)| i32::from(**s) > i32::from(**e) + 2).count();
        assert!(lighter * 100 < every.len(), "{lighter} of {} channels are lighter", every.len());
        assert!(lighter > 0, "the rims differ (else this test checks nothing about them)");
    }

    #[test]
    fn stacks_keep_the_first_point_and_count_the_rest() {
        let points = [((0.1, 0.2), (3, 4)), ((0.5, 0.5), (9, 9)), ((0.11, 0.21), (3, 4)), ((0.12, 0.2), (3, 4))];
        assert_eq!(pixel_stacks(points.into_iter()), vec![((0.1, 0.2), 3), ((0.5, 0.5), 1)]);
        assert_eq!(stack_opacity(0.6, 1), 0.6);
        assert!((stack_opacity(0.6, 3) - (1.0 - 0.4f64.powi(3))).abs() < 1e-15);
    }
}
