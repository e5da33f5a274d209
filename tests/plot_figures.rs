//! Figures are drawn from saved results, as PNG and SVG.

mod common;
mod sweep_support;

use sweep_support::*;
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
