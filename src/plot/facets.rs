//! Small multiples: one heatmap over two grid axes per combination of two
//! more axes (rows × columns of panels), on one shared colour scale, for the
//! cells that match a filter (`model=perturbed_cycle`, …).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{short, sort_axis, Results};
use super::heatmap::{axis_name, check, check_axes, heatmap_of, impossible_warning, key, layout, Categorical};
use super::style::{colour_scale, font, DrawResult};
use super::Figure;
use crate::error::{Error, Result};
use crate::results::PARAMETERS;

/// Panels `[row][column]` with their titles, drawn on one colour scale.
pub struct Facets {
    pub title: String,
    pub subtitle: String,
    pub panels: Vec<Vec<(String, Option<Categorical>)>>,
    pub colour_label: String,
}

impl Figure for Facets {
    fn size(&self) -> (u32, u32) {
        let cols = self.panels.first().map_or(1, Vec::len) as u32;
        (170 + 420 * cols, 120 + 360 * self.panels.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let maps: Vec<&Categorical> = self.panels.iter().flatten().filter_map(|(_, p)| p.as_ref()).collect();
        let (main, bar) = layout(root, &self.title, &self.subtitle, impossible_warning(&maps).as_deref())?;
        let range = maps.iter().filter_map(|m| m.range()).reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
        let cols = self.panels.first().map_or(1, Vec::len);
        let areas = main.split_evenly((self.panels.len(), cols));
        for ((title, panel), area) in self.panels.iter().flatten().zip(&areas) {
            let area = area.titled(title, font(17.0))?;
            match panel {
                Some(p) => p.draw_cells(&area, range, 15.0)?,
                None => {
                    let (w, h) = area.dim_in_pixel();
                    area.draw_text("no cells", &font(15.0), (w as i32 / 2 - 30, h as i32 / 2))?;
                }
            }
        }
        colour_scale(&bar, range, &self.colour_label, &key(&maps))
    }
}

/// Parses `KEY=VALUE` filters on grid parameters.
pub fn parse_filters(filters: &[String]) -> Result<Vec<(String, String)>> {
    filters
        .iter()
        .map(|f| match f.split_once('=') {
            Some((k, v)) if PARAMETERS.contains(&k.trim()) => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => Err(Error::input(
                "--where",
                format!("\"{f}\" is not PARAMETER=VALUE"),
                format!("name a grid parameter ({}), e.g. model=condorcet", PARAMETERS.join(", ")),
            )),
        })
        .collect()
}

/// The cells of `res` whose parameters match every filter.
pub fn select(res: &Results, filters: &[(String, String)]) -> Results {
    let cols: Vec<(usize, &str)> =
        filters.iter().filter_map(|(k, v)| res.cells.column(k).map(|c| (c, v.as_str()))).collect();
    let mut cells = res.cells.clone();
    cells.rows.retain(|row| cols.iter().all(|&(c, v)| row[c] == v));
    Results { title: res.title.clone(), cells, history: res.history.clone(), populations: res.populations.clone() }
}

/// The faceted heatmap of `metric` over `x` × `y`, one panel per value of
/// `facet_y` (rows) and `facet_x` (columns), over the cells matching `filters`.
pub fn facets(
    res: &Results,
    (x, y): (&str, &str),
    metric: &str,
    (facet_x, facet_y): (&str, &str),
    filters: &[(String, String)],
) -> Result<Facets> {
    let chosen = select(res, filters);
    if chosen.cells.rows.is_empty() {
        return Err(Error::input("--where", "matches no cell", "check the values against cells.csv"));
    }
    check_axes(&chosen, &[("--x", x), ("--y", y), ("--facet-x", facet_x), ("--facet-y", facet_y)])?;
    let column = check(&chosen, x, y, metric)?;
    let (mut fx, mut fy) = (chosen.distinct(facet_x), chosen.distinct(facet_y));
    sort_axis(&mut fx);
    sort_axis(&mut fy);
    let mut panels = Vec::new();
    let mut colour_label = column.clone();
    for vy in fy.iter().rev() {
        let mut row = Vec::new();
        for vx in &fx {
            let part = select(&chosen, &[(facet_x.to_string(), vx.clone()), (facet_y.to_string(), vy.clone())]);
            let panel = (!part.cells.rows.is_empty()).then(|| heatmap_of(&part, x, y, &column));
            if let Some(p) = &panel {
                colour_label = p.colour_label.clone();
            }
            row.push((panel_title(&[(facet_x, vx), (facet_y, vy)]), panel));
        }
        panels.push(row);
    }
    // What the selected cells hold fixed (the filters among it).
    let mut subtitle = chosen.fixed_description();
    // Parameters averaged over: those that still vary within one heatmap cell
    // (not those, like m = n of a cycle, that the four axes determine).
    let keys: Vec<usize> = [x, y, facet_x, facet_y].iter().filter_map(|a| chosen.cells.column(a)).collect();
    let others: Vec<&str> = chosen
        .varying()
        .into_iter()
        .filter(|p| ![x, y, facet_x, facet_y].contains(p))
        .filter(|p| {
            let c = chosen.cells.column(p).expect("a varying parameter is a column");
            let mut seen = std::collections::HashMap::new();
            chosen.cells.rows.iter().any(|r| {
                let key: Vec<&str> = keys.iter().map(|&k| r[k].as_str()).collect();
                *seen.entry(key).or_insert(r[c].as_str()) != r[c].as_str()
            })
        })
        .map(short)
        .collect();
    if !others.is_empty() {
        subtitle = format!("{subtitle}; mean over {}", others.join(", "));
    }
    Ok(Facets {
        title: format!("{}: {column} over {} × {}", res.title, axis_name(x), axis_name(y)),
        subtitle,
        panels,
        colour_label,
    })
}

/// `p=v` for each facet value, leaving out parameters a panel's model does
/// not have (blank in cells.csv); "all cells" when none is left.
fn panel_title(parts: &[(&str, &String)]) -> String {
    let set: Vec<String> =
        parts.iter().filter(|(_, v)| !v.is_empty()).map(|(p, v)| format!("{}={v}", short(p))).collect();
    if set.is_empty() {
        "all cells".into()
    } else {
        set.join(", ")
    }
}
