//! Figures drawn from saved sweep results (PNG or SVG by the file extension):
//! heatmaps over grid axes, the convergence heatmap, scaling curves,
//! convergence curves, the regret identity and ℓ-response rates.
//!
//! Figures only read `cells.csv`, `history.csv`, `populations.csv` and
//! `manifest.json`, so `ualign heatmap DIR …` redraws without recomputing.

pub mod curves;
pub mod data;
pub mod facets;
pub mod heatmap;
pub mod style;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, Result};
use data::Results;
use style::DrawResult;

/// Something that can be drawn on any plotters backend.
pub trait Figure {
    /// Size in pixels (SVG user units).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Writes a figure as PNG or SVG, chosen by `out`'s extension.
pub fn save(figure: &impl Figure, out: &Path) -> Result<()> {
    style::register_font();
    let size = figure.size();
    let fail = |e: Box<dyn std::error::Error>| Error::Other(format!("{}: drawing failed: {e}", out.display()));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    }
    match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => {
            let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
                root.fill(&WHITE).map_err(|e| fail(e.into()))?;
                figure.draw(&root).map_err(fail)?;
                root.present().map_err(|e| fail(e.into()))?;
            }
            let mut bytes = Vec::new();
            image::RgbImage::from_raw(size.0, size.1, pixels)
                .ok_or_else(|| Error::Other("image buffer size mismatch".into()))?
                .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .map_err(|e| Error::Other(format!("{}: PNG encoding failed: {e}", out.display())))?;
            crate::results::table::write_atomic(out, &bytes)
        }
        Some("svg") => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
                root.fill(&WHITE).map_err(|e| fail(e.into()))?;
                figure.draw(&root).map_err(fail)?;
                root.present().map_err(|e| fail(e.into()))?;
            }
            crate::results::table::write_atomic(out, text.as_bytes())
        }
        _ => Err(Error::input(
            "--out",
            format!("{} is neither .png nor .svg", out.display()),
            "name the figure FILE.png or FILE.svg",
        )),
    }
}

/// The rate-gap heatmap of `metric` over grid axes `x` and `y`, redrawn from
/// the results in `dir` (PNG or SVG by `out`'s extension).
pub fn heatmap(dir: &Path, x: &str, y: &str, metric: &str, out: &Path) -> Result<()> {
    let res = Results::load(dir)?;
    save(&heatmap::rate_gap(&res, x, y, metric)?, out)
}

/// [`heatmap`] over only the cells that match every `KEY=VALUE` filter.
pub fn heatmap_where(dir: &Path, x: &str, y: &str, metric: &str, filters: &[String], out: &Path) -> Result<()> {
    let res = Results::load(dir)?;
    let chosen = facets::select(&res, &facets::parse_filters(filters)?);
    if chosen.cells.rows.is_empty() {
        return Err(Error::input("--where", "matches no cell", "check the values against cells.csv"));
    }
    save(&heatmap::rate_gap(&chosen, x, y, metric)?, out)
}

/// The faceted heatmap (see [`facets::facets`]) redrawn from `dir`.
pub fn heatmap_facets(
    dir: &Path,
    axes: (&str, &str),
    metric: &str,
    facet_axes: (&str, &str),
    filters: &[String],
    out: &Path,
) -> Result<()> {
    let res = Results::load(dir)?;
    let filters = facets::parse_filters(filters)?;
    save(&facets::facets(&res, axes, metric, facet_axes, &filters)?, out)
}

/// Draws the default figures of a finished sweep into `dir/figures/`, each as
/// PNG and SVG, and returns their paths:
/// - `convergence`: iteration (log) × cells, colour log10 median E_k;
/// - `curves`: last iterate vs time average (when the grid has ≤ 48 cells);
/// - `regret`: the no-regret identity, one point per population;
/// - `scaling`: R_k against k (when k takes several values);
/// - `gap_eq`, `gap_nlhf`: rate gaps over k and the first other varying axis
///   (when the column has a value);
/// - `ell`: R_{k,ℓ} against its bounds (when the grid has ℓ).
pub fn default_figures(dir: &Path) -> Result<Vec<PathBuf>> {
    default_figures_of(dir, &Results::load(dir)?)
}

/// [`default_figures`] from tables already in memory (those just written
/// into `dir`), without reading them back. The figures are built first, then
/// drawn and encoded in parallel, each format of each on its own (the
/// per-population scatter is most of the time).
pub fn default_figures_of(dir: &Path, res: &Results) -> Result<Vec<PathBuf>> {
    if res.cells.rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut figures: Vec<(&str, Drawing)> = vec![("convergence", drawing(heatmap::convergence(res)?))];
    if res.cells.rows.len() <= 48 {
        figures.push(("curves", drawing(curves::curves(res)?)));
    }
    figures.push(("regret", drawing(curves::regret(res)?)));
    let varying = res.varying();
    if res.distinct("k").len() > 1 {
        figures.push(("scaling", drawing(curves::scaling(res)?)));
    }
    let second = varying.iter().copied().find(|p| *p != "k" && *p != "ell" && *p != "preflib");
    let axes = match (res.distinct("k").len() > 1, second) {
        (true, Some(y)) => Some(("k", y)),
        (true, None) if res.distinct("ell").len() > 1 => Some(("k", "ell")),
        _ => None,
    };
    if let Some((x, y)) = axes {
        // A column without a value (no equilibrium converged) has no figure.
        for (name, metric) in [("gap_eq", "eq_gap_mean"), ("gap_nlhf", "nlhf_gap_mean")] {
            if heatmap::has_values(res, metric) {
                figures.push((name, drawing(heatmap::rate_gap(res, x, y, metric)?)));
            }
        }
    }
    if !res.distinct("ell").iter().all(|v| v.is_empty()) {
        figures.push(("ell", drawing(curves::ell(res)?)));
    }
    let dir = dir.join("figures");
    let files: Vec<(PathBuf, &Drawing)> = figures
        .iter()
        .flat_map(|(name, draw)| ["png", "svg"].map(|ext| (dir.join(format!("{name}.{ext}")), draw)))
        .collect();
    files.par_iter().map(|(path, draw)| draw(path)).collect::<Result<Vec<()>>>()?;
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// A figure ready to be saved to a path (see [`save`]).
type Drawing = Box<dyn Fn(&Path) -> Result<()> + Send + Sync>;

fn drawing(figure: impl Figure + Send + Sync + 'static) -> Drawing {
    Box::new(move |path| save(&figure, path))
}
