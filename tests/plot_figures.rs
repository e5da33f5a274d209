//! Figures are drawn from saved results, as PNG and SVG.

mod common;
mod sweep_support;

use plotters::style::RGBColor;
use sweep_support::*;
use ualign::plot::curves::{self, Stroke};
use ualign::plot::data::Results;
use ualign::plot::heatmap::{self, Shade};
use ualign::plot::Figure;
use ualign::sweep::RunOptions;

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn the_default_figures_draw_from_a_run_and_heatmaps_redraw_from_disk() {
    let cfg = config(CONFIG);
    let dir = tmp("figures");
    run(&cfg, &dir, &RunOptions::default(), &SimpleRunner).unwrap();
    let files = ualign::plot::default_figures(&dir).unwrap();
    for name in ["convergence", "curves", "regret", "scaling", "gap_eq", "gap_nlhf"] {
        let png = dir.join(format!("figures/{name}.png"));
        let svg = dir.join(format!("figures/{name}.svg"));
        assert!(files.contains(&png), "{name}.png not reported");
        let (w, h) = png_size(&png);
        assert!(w >= 800 && h >= 500, "{name}: {w}x{h}");
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg") && text.contains("</svg>"), "{name}.svg");
        assert!(text.contains("test sweep"), "{name}.svg has no title");
    }
    // No ℓ in this grid, so no ℓ figure.
    assert!(!dir.join("figures/ell.png").exists());

    let out = dir.join("redrawn/k_by_n.svg");
    ualign::plot::heatmap(&dir, "k", "responses", "gap", &out).unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("eq_gap_mean") && svg.contains("log10 eq_gap_mean"), "colour bar label");
    assert!(svg.contains("n (candidate responses)") && svg.contains("k (responses sampled)"));
    ualign::plot::heatmap(&dir, "model", "k", "nlhf_r_mean", &dir.join("redrawn/m.png")).unwrap();
}

#[test]
fn heatmap_errors_name_the_flag() {
    let cfg = config(CONFIG);
    let dir = tmp("figure-errors");
    run(&cfg, &dir, &RunOptions::default(), &SimpleRunner).unwrap();
    let err = |x: &str, y: &str, m: &str, out: &str| {
        ualign::plot::heatmap(&dir, x, y, m, &dir.join(out)).unwrap_err().to_string()
    };
    assert!(err("k", "responses", "speed", "a.png").contains("--metric: \"speed\""));
    assert!(err("kk", "responses", "gap", "a.png").contains("--x: \"kk\""));
    assert!(err("k", "responses", "gap", "a.jpg").contains("neither .png nor .svg"));
    let missing = ualign::plot::heatmap(&tmp("nothing"), "k", "responses", "gap", &dir.join("a.png")).unwrap_err();
    assert!(missing.to_string().contains("has no cells.csv"), "{missing}");
}

/// The results of a small run (models impartial and pl × n = 3, 4 × k = 1..3),
/// loaded back as the figures read them.
fn results(name: &str) -> (std::path::PathBuf, Results) {
    let dir = tmp(name);
    run(&config(CONFIG), &dir, &RunOptions::default(), &SimpleRunner).unwrap();
    let res = Results::load(&dir).unwrap();
    (dir, res)
}

/// Sets `column` of every row to `value(row)` (a cells.csv text).
fn set(res: &mut Results, column: &str, value: impl Fn(&Results, usize) -> String) {
    let c = res.cells.column(column).unwrap();
    let texts: Vec<String> = (0..res.cells.rows.len()).map(|r| value(res, r)).collect();
    for (row, text) in res.cells.rows.iter_mut().zip(texts) {
        row[c] = text;
    }
}

/// The pixels of a figure saved as PNG.
fn pixels(figure: &impl Figure, path: &std::path::Path) -> image::RgbImage {
    ualign::plot::save(figure, path).unwrap();
    image::open(path).unwrap().to_rgb8()
}

fn rgb(c: RGBColor) -> image::Rgb<u8> {
    image::Rgb([c.0, c.1, c.2])
}

/// How many pixels of `img` in rows `top..bottom` have exactly colour `c`.
fn count(img: &image::RgbImage, top: u32, bottom: u32, c: RGBColor) -> usize {
    (top..bottom).flat_map(|y| (0..img.width()).map(move |x| (x, y))).filter(|&(x, y)| img[(x, y)] == rgb(c)).count()
}

#[test]
fn the_scaling_legend_lies_below_the_panels_and_draws_each_line_as_the_plot_does() {
    let (dir, res) = results("legend");
    let fig = curves::scaling(&res).unwrap();
    let img = pixels(&fig, &dir.join("scaling.png"));
    let strip = img.height() - fig.legend_height();
    let entries = fig.legend();
    assert_eq!(
        entries.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(),
        [
            "equilibrium (converged populations)",
            "NLHF (maximal lottery)",
            "RLHF (Bradley–Terry)",
            "bound k/(k+1)",
            "1/2"
        ],
        "one entry per line, not one per panel"
    );
    for (l, (x, y)) in entries.iter().zip(fig.legend_samples()) {
        // The sample's centre line, left of the marker: the line's colour
        // where the line draws, white where a dashed line leaves a gap.
        let drawn: Vec<bool> =
            (0..curves::SAMPLE).map(|i| img[((x + i) as u32, strip + y as u32)] == rgb(l.colour)).collect();
        match l.stroke {
            Stroke::Dashed => {
                // Dashes of DASH pixels with gaps of GAP, as the panels draw them.
                let runs: Vec<usize> = drawn.split(|d| !d).map(<[bool]>::len).filter(|n| *n > 0).collect();
                assert!(runs.len() >= 3, "{}: {runs:?}", l.label);
                for n in &runs[..runs.len() - 1] {
                    assert!(n.abs_diff(curves::DASH as usize) <= 1, "{}: dash of {n} in {runs:?}", l.label);
                }
                let gaps = drawn.windows(2).filter(|w| w[0] && !w[1]).count();
                assert!(gaps >= 3, "{}: {gaps} gaps", l.label);
            }
            Stroke::Solid => {
                assert!(drawn.iter().all(|d| *d), "{}: the solid sample is broken", l.label);
                // As thick as the line in the panels.
                let thick = (0..20)
                    .filter(|d| img[((x + 4) as u32, strip + y as u32 + d - 10)] == rgb(l.colour))
                    .count() as u32;
                assert!(thick.abs_diff(l.width) <= 1, "{}: {thick} px thick, drawn {}", l.label, l.width);
            }
            Stroke::Points => unreachable!("no scatter in the scaling figure"),
        }
    }
    // Nothing of the panels reaches into the legend strip: every pixel of a
    // line's colour there belongs to a sample.
    let rows: Vec<u32> = fig.legend_samples().iter().map(|s| strip + s.1 as u32).collect();
    for l in &entries {
        for (x, y, p) in img.enumerate_pixels().filter(|(_, y, _)| *y >= strip) {
            if *p == rgb(l.colour) && l.colour != RGBColor(0, 0, 0) {
                assert!(rows.iter().any(|r| r.abs_diff(y) <= 10), "{}: pixel ({x}, {y}) off the samples", l.label);
            }
        }
    }
    // No value is missing from this run, so no note.
    assert!(fig.note.is_empty(), "{}", fig.note);
}

#[test]
fn coinciding_curves_and_their_bound_all_stay_visible() {
    // On a Condorcet cycle the equilibrium, NLHF and RLHF all reach k/(k+1).
    let (dir, mut res) = results("coincide");
    for column in ["eq_r_mean", "nlhf_r_mean", "rlhf_r_mean"] {
        set(&mut res, column, |res, r| res.value(r, "bound"));
    }
    let fig = curves::scaling(&res).unwrap();
    let img = pixels(&fig, &dir.join("coincide.png"));
    let panels = img.height() - fig.legend_height();
    let lines = &fig.panels[0].lines;
    let seen: Vec<usize> = lines.iter().map(|l| count(&img, 0, panels, l.colour)).collect();
    // Each curve and the bound show along the whole of it, not only at a
    // marker's rim (4 panels, about 400 pixels of curve each).
    for (l, n) in lines.iter().zip(&seen) {
        assert!(*n > 800, "{}: {n} pixels of its colour in {seen:?}", l.label);
    }
}

#[test]
fn values_that_are_not_finite_numbers_are_left_out_and_counted() {
    let (dir, mut res) = results("inf");
    set(&mut res, "eq_r_mean", |res, r| match r {
        0 | 5 => "inf".into(),
        7 => String::new(),
        _ => res.value(r, "eq_r_mean"),
    });
    set(&mut res, "nlhf_r_mean", |res, r| if r == 2 { "-inf".into() } else { res.value(r, "nlhf_r_mean") });
    let fig = curves::scaling(&res).unwrap();
    assert!(fig.note.contains("eq_r_mean ×3") && fig.note.contains("nlhf_r_mean ×1"), "{}", fig.note);
    let points: Vec<(f64, f64)> = fig.panels.iter().flat_map(|p| &p.lines).flat_map(|l| l.points.clone()).collect();
    assert!(points.iter().all(|q| q.0.is_finite() && q.1.is_finite()));
    // The cells left are still drawn: 12 cells, 3 curves, 2 bounds.
    assert_eq!(points.len(), 12 * 5 - 4);
    let svg = dir.join("inf.svg");
    ualign::plot::save(&fig, &svg).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("eq_r_mean ×3"), "the note is on the figure");
}

/// Gap means per (k, n), the same for both models but at (k, n) = (3, 4),
/// where pl's gap is negative beyond rounding.
fn gaps(res: &Results, r: usize) -> String {
    let (k, n, model) = (res.value(r, "k"), res.value(r, "responses"), res.value(r, "model"));
    match (k.as_str(), n.as_str(), model.as_str()) {
        ("1", "3", _) => "1e-17",
        ("1", "4", _) => "-4e-18",
        ("2", "3", _) => "0.05",
        ("2", "4", _) => "0.3",
        ("3", "3", _) => "0.1",
        ("3", "4", "pl") => "-0.01",
        ("3", "4", _) => "0.2",
        other => panic!("{other:?}"),
    }
    .into()
}

#[test]
fn gaps_within_rounding_are_zero_and_negative_gaps_are_impossible() {
    let (dir, mut res) = results("floor");
    set(&mut res, "eq_gap_mean", gaps);
    let fig = heatmap::rate_gap(&res, "k", "responses", "gap").unwrap();
    assert_eq!(
        (fig.x_ticks.clone(), fig.y_ticks.clone()),
        (vec!["1".into(), "2".into(), "3".into()], vec!["3".into(), "4".into()])
    );
    let shade = |k: usize, n: usize| fig.shade(n - 3, k - 1);
    assert_eq!(heatmap::ROUNDING_FLOOR, 1e-12);
    assert_eq!((shade(1, 3), shade(1, 4)), (Shade::Zero, Shade::Zero));
    assert_eq!((fig.note(0, 0), fig.note(1, 0)), ("0".to_string(), "0".to_string()));
    // The log scale spans the values above the floor only: 0.05 to 0.3.
    assert_eq!(shade(2, 3), Shade::Scaled(0.05f64.log10()));
    let (lo, hi) = fig.range().unwrap();
    assert_eq!((lo, hi), (0.05f64.log10(), 0.3f64.log10()));
    // The impossible value is not averaged away (the mean would be 0.095).
    assert_eq!(shade(3, 4), Shade::Impossible);
    assert_eq!(fig.note(1, 2), "-0.01");
    let warning = heatmap::impossible_warning(&[&fig]).unwrap();
    assert!(warning.contains("1 cell") && warning.contains("eq_gap_mean"), "{warning}");
    let key: Vec<String> = heatmap::key(&[&fig]).into_iter().map(|e| e.1).collect();
    assert_eq!(key, ["0 (|v| ≤ 1e-12)", "< −1e-12: error"]);
    // The impossible cell is on the figure, in a colour viridis never takes
    // (nor does it take the zero cells' white).
    let img = pixels(&fig, &dir.join("floor.png"));
    assert!(count(&img, 0, img.height(), ualign::plot::style::IMPOSSIBLE) > 5000);
    for t in 0..=100 {
        let c = ualign::plot::style::viridis(t as f64 / 100.0);
        assert!(c != ualign::plot::style::ZERO && c != ualign::plot::style::IMPOSSIBLE);
    }
    // A linear metric has no floor: 0 is a value on its scale.
    set(&mut res, "eq_r_mean", |_, _| "0".into());
    let linear = heatmap::rate_gap(&res, "k", "responses", "r").unwrap();
    assert_eq!(linear.shade(0, 0), Shade::Scaled(0.0));
}

#[test]
fn heatmaps_refuse_one_axis_twice_a_text_column_and_a_column_without_values() {
    let (dir, res) = results("refusals");
    let err = |x: &str, y: &str, m: &str| heatmap::rate_gap(&res, x, y, m).err().map(|e| e.to_string());
    let same = err("k", "k", "gap").unwrap();
    assert!(same.contains("--y: \"k\" is already --x") && same.contains("different grid parameter"), "{same}");
    let text = err("k", "responses", "model").unwrap();
    assert!(text.contains("--metric: \"model\" is not numeric") && text.contains("\"impartial\""), "{text}");
    let empty = err("k", "responses", "eq_r_ell_mean").unwrap();
    assert!(empty.contains("--metric: \"eq_r_ell_mean\" has no finite value"), "{empty}");
    let facets = |axes: (&str, &str), facet: (&str, &str)| {
        ualign::plot::facets::facets(&res, axes, "gap", facet, &[]).err().map(|e| e.to_string())
    };
    let twice = facets(("k", "responses"), ("model", "k")).unwrap();
    assert!(twice.contains("--facet-y: \"k\" is already --x"), "{twice}");
    assert!(facets(("k", "responses"), ("model", "model"))
        .unwrap()
        .contains("--facet-y: \"model\" is already --facet-x"));
    assert!(facets(("k", "responses"), ("model", "phi")).is_none());
    // Through the files, as `ualign heatmap` draws: refused, nothing written.
    let out = dir.join("refused.png");
    assert!(ualign::plot::heatmap(&dir, "k", "k", "gap", &out).is_err());
    assert!(ualign::plot::heatmap_where(&dir, "k", "responses", "model", &["model=pl".into()], &out).is_err());
    assert!(!out.exists());
    // A column empty in every cell (no equilibrium converged) has no default figure.
    let mut unconverged = Results::load(&dir).unwrap();
    set(&mut unconverged, "eq_gap_mean", |_, _| String::new());
    let files = ualign::plot::default_figures_of(&dir.join("unconverged"), &unconverged).unwrap();
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into()).collect();
    assert!(!names.iter().any(|n| n.starts_with("gap_eq")) && names.contains(&"gap_nlhf.png".into()), "{names:?}");
}

#[test]
fn facets_and_ticks_name_no_blank_parameter() {
    // Neither impartial culture nor Plackett–Luce has a Mallows φ: blank in cells.csv.
    let (_, res) = results("blank-phi");
    assert!(res.distinct("phi").iter().all(String::is_empty));
    let f = ualign::plot::facets::facets(&res, ("k", "responses"), "gap", ("phi", "model"), &[]).unwrap();
    let titles: Vec<&str> = f.panels.iter().flatten().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, ["model=pl", "model=impartial"]);
    let by_phi = heatmap::rate_gap(&res, "phi", "k", "r").unwrap();
    assert_eq!(by_phi.x_ticks, ["none"]);
}
