//! Line figures: scaling curves (R_k against k), convergence curves (last
//! iterate against time average), the regret identity, and ℓ-response rates.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{short, Results};
use super::style::{font, line_colour, tick, DrawResult};
use super::Figure;
use crate::error::Result;

/// Most panels one figure holds (more groups are listed as left out).
const MAX_PANELS: usize = 6;
/// Most lines one convergence-curve panel holds.
const MAX_LINES: usize = 6;

/// How a line's points are drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    Solid,
    Dashed,
    /// Points only (a scatter).
    Points,
}

#[derive(Clone)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub colour: RGBColor,
    pub stroke: Stroke,
    /// Mark the data points on a solid or dashed line.
    pub markers: bool,
}

/// One panel of a line figure.
pub struct Panel {
    pub title: String,
    pub lines: Vec<Line>,
    pub log_x: bool,
    pub log_y: bool,
    /// x takes integer values only (k): label integers only.
    pub integer_x: bool,
    pub legend: SeriesLabelPosition,
}

/// A figure of one or more line panels sharing axis titles.
pub struct Lines {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<Panel>,
}

impl Figure for Lines {
    fn size(&self) -> (u32, u32) {
        let cols = if self.panels.len() > 1 { 2 } else { 1 };
        let rows = self.panels.len().div_ceil(cols);
        (if cols == 1 { 1100 } else { 1500 }, (120 + 560 * rows) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let area = root.titled(&self.title, font(24.0))?;
        let area = area.titled(&self.subtitle, font(16.0))?;
        let cols = if self.panels.len() > 1 { 2 } else { 1 };
        let rows = self.panels.len().div_ceil(cols);
        for (panel, sub) in self.panels.iter().zip(area.split_evenly((rows, cols))) {
            draw_panel(&sub, panel, &self.x_label, &self.y_label)?;
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

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel, xl: &str, yl: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = bounds(p.lines.iter().flat_map(|l| l.points.iter().map(|q| q.0)), p.log_x);
    let (y0, y1) = bounds(p.lines.iter().flat_map(|l| l.points.iter().map(|q| q.1)), p.log_y);
    let mut builder = ChartBuilder::on(area);
    builder.margin(18).caption(&p.title, font(19.0)).x_label_area_size(60).y_label_area_size(85);
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
            for l in &p.lines {
                let pts: Vec<(f64, f64)> =
                    l.points.iter().copied().filter(|q| (!p.log_x || q.0 > 0.0) && (!p.log_y || q.1 > 0.0)).collect();
                let colour = l.colour;
                let dashed = l.stroke == Stroke::Dashed;
                let style = colour.stroke_width(if l.stroke == Stroke::Dashed { 2 } else { 3 });
                let series = match l.stroke {
                    Stroke::Points => {
                        let stacks = pixel_stacks(pts.iter().map(|q| (*q, chart.backend_coord(q))));
                        chart.draw_series(stacks.into_iter().map(|(q, count)| {
                            Circle::new(q, 4, colour.mix(stack_opacity(POINT_OPACITY, count)).filled())
                        }))?
                    }
                    Stroke::Dashed => chart.draw_series(DashedLineSeries::new(pts.iter().copied(), 10, 6, style))?,
                    Stroke::Solid => chart.draw_series(LineSeries::new(pts.iter().copied(), style))?,
                };
                series.label(&l.label).legend(move |(x, y)| {
                    // A dashed line gets a dashed sample: three short strokes.
                    let gap = if dashed { 4 } else { 0 };
                    let seg = |a: i32| PathElement::new(vec![(a, 0), (a + 8 - gap, 0)], colour.stroke_width(3));
                    EmptyElement::at((x, y)) + seg(0) + seg(8) + seg(16)
                });
                if l.markers && l.stroke != Stroke::Points {
                    chart.draw_series(pts.iter().map(|&q| Circle::new(q, 5, colour.filled())))?;
                }
            }
            chart
                .configure_series_labels()
                .position(p.legend.clone())
                .label_font(font(15.0))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()?;
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

/// `(k, mean of column)` over the rows, averaged per k, sorted by k.
fn by_k(res: &Results, rows: &[usize], col: &str) -> Vec<(f64, f64)> {
    let mut acc: Vec<(f64, f64, usize)> = Vec::new();
    for &r in rows {
        let (k, v) = (num(res, r, "k"), num(res, r, col));
        if v.is_nan() {
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

fn line(label: &str, points: Vec<(f64, f64)>, colour: usize, dashed: bool, markers: bool) -> Line {
    let stroke = if dashed { Stroke::Dashed } else { Stroke::Solid };
    Line { label: label.into(), points, colour: line_colour(colour), stroke, markers }
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
    let (panels, note) = grouped_panels(res, &["k", "ell"], |title, rows| {
        let ks: Vec<f64> = by_k(res, &rows, "bound").iter().map(|p| p.0).collect();
        Panel {
            title,
            lines: vec![
                line("equilibrium (converged populations)", by_k(res, &rows, "eq_r_mean"), 0, false, true),
                line("NLHF (maximal lottery)", by_k(res, &rows, "nlhf_r_mean"), 1, false, true),
                line("RLHF (Bradley–Terry)", by_k(res, &rows, "rlhf_r_mean"), 2, false, true),
                line("bound k/(k+1)", ks.iter().map(|&k| (k, k / (k + 1.0))).collect(), 7, true, false),
                line("1/2", ks.iter().map(|&k| (k, 0.5)).collect(), 6, true, false),
            ],
            log_x: false,
            log_y: false,
            integer_x: true,
            legend: SeriesLabelPosition::UpperLeft,
        }
    });
    Ok(Lines {
        title: format!("{}: robust alignment R_k against k{}", res.title, note),
        subtitle: format!("mean over populations; {}", res.fixed_description()),
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
    let (panels, note) = grouped_panels(res, &within, |title, rows| {
        let mut lines = Vec::new();
        for (i, &r) in rows.iter().take(MAX_LINES).enumerate() {
            let id = res.value(r, "cell");
            let pts = |c: usize| -> Vec<(f64, f64)> {
                h.rows
                    .iter()
                    .filter(|hr| hr[cc] == id)
                    .filter_map(|hr| Some((hr[ic].parse().ok()?, hr[c].parse::<f64>().ok()?.max(1e-16))))
                    .filter(|(t, _)| *t >= 1.0)
                    .collect()
            };
            let name = res.label(r, &line_keys);
            let name = if name.is_empty() { format!("cell {id}") } else { name };
            lines.push(line(&format!("{name}: last iterate E_k"), pts(ec), i, false, false));
            lines.push(line(&format!("{name}: time average Reg_t/t"), pts(gc), i, true, false));
        }
        Panel { title, lines, log_x: true, log_y: true, integer_x: false, legend: SeriesLabelPosition::LowerLeft }
    });
    Ok(Lines {
        title: format!("{}: last iterate vs time average{}", res.title, note),
        subtitle: format!("mean over populations; {}", res.fixed_description()),
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
            markers: false,
        });
    }
    let mut panel = Panel {
        title: "one point per population".into(),
        lines,
        log_x: false,
        log_y: false,
        integer_x: false,
        legend: SeriesLabelPosition::UpperLeft,
    };
    if lo.is_finite() {
        panel.lines.insert(0, line("y = x", vec![(lo, lo), (hi, hi)], 7, true, false));
    }
    Ok(Lines {
        title: format!("{}: no-regret identity R(μ_T) = k/(k+1) − Reg_T/T", res.title),
        subtitle: res.fixed_description(),
        x_label: "measured R(μ_T) of the time-average output".into(),
        y_label: "k/(k+1) − Reg_T/T".into(),
        panels: vec![panel],
    })
}

/// ℓ-response opponents: mean and worst `R_{k,ℓ}` of the equilibrium (and the
/// NLHF mean) against k, with the bounds k/(k+ℓ) and (k+1−ℓ)/(k+1); one
/// panel per ℓ (and per combination of other varying parameters).
pub fn ell(res: &Results) -> Result<Lines> {
    let (panels, note) = grouped_panels(res, &["k"], |title, rows| Panel {
        title,
        lines: vec![
            line("equilibrium, mean", by_k(res, &rows, "eq_r_ell_mean"), 0, false, true),
            line("equilibrium, worst", by_k(res, &rows, "eq_r_ell_worst"), 5, false, true),
            line("NLHF, mean", by_k(res, &rows, "nlhf_r_ell_mean"), 1, false, true),
            line("upper bound k/(k+ℓ)", by_k(res, &rows, "ell_upper"), 7, true, false),
            line("lower bound (k+1−ℓ)/(k+1)", by_k(res, &rows, "ell_lower"), 6, true, false),
        ],
        log_x: false,
        log_y: false,
        integer_x: true,
        legend: SeriesLabelPosition::UpperLeft,
    });
    Ok(Lines {
        title: format!("{}: R_{{k,ℓ}} against ℓ-response opponents{}", res.title, note),
        subtitle: format!("over populations; {}", res.fixed_description()),
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
