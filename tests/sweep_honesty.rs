//! Sweep tables keep unconverged populations out of the equilibrium columns
//! and show the dynamics' own convergence in columns of their own.

mod common;
mod sweep_support;

use sweep_support::tmp;
use ualign::results::table::Table;
use ualign::sweep::{Config, RunOptions};

#[test]
fn unconverged_populations_stay_out_of_the_equilibrium_columns() {
    // One iteration: on the equal-weight cycle the uniform start is the
    // equilibrium (every population converges); on impartial-culture
    // populations the dynamics do not, but the equilibrium solver does.
    let text = "title = \"honesty\"\nbackend = \"cpu\"\nmodel = [\"cycle\", \"impartial\"]\nresponses = 4\n\
                types = 5\nk = 2\niters = 1\ntol = 1e-9\npopulations = 6\nseed = 4\n";
    let config = Config::parse(text, std::path::Path::new("honesty.toml")).unwrap();
    let dir = tmp("engine-honesty");
    ualign::sweep::run(&config, &dir, &RunOptions::default()).unwrap();
    let cells = Table::read(&dir.join("cells.csv")).unwrap();
    let col = |n: &str| cells.column(n).unwrap_or_else(|| panic!("cells.csv lacks {n}"));
    for row in &cells.rows {
        let cell = |n: &str| row[col(n)].as_str();
        let num = |n: &str| cell(n).parse::<f64>().unwrap();
        match cell("model") {
            "cycle" => {
                assert_eq!((num("eq_converged"), num("converged")), (6.0, 1.0), "{row:?}");
                assert!((num("eq_r_worst") - 2.0 / 3.0).abs() < 1e-12, "{row:?}");
                assert!(num("last_e_worst") < 1e-12, "{row:?}");
            }
            _ => {
                // The dynamics stopped after one iteration, far from an
                // equilibrium, and their columns say so ...
                assert_eq!(num("converged"), 0.0, "{row:?}");
                assert!(num("last_e_mean") > 1e-3, "{row:?}");
                assert!((num("last_r_mean") + num("last_e_mean") - 2.0 / 3.0).abs() < 1e-12, "{row:?}");
                // ... while the equilibrium columns come from the equilibrium
                // solver, started where the dynamics stopped.
                assert_eq!(num("eq_converged"), 6.0, "{row:?}");
                assert!(num("eq_e_worst") <= 1e-9, "{row:?}");
                assert!((num("eq_r_worst") - 2.0 / 3.0).abs() <= 1e-9, "{row:?}");
            }
        }
        // Dirichlet weights never tie; the equal-weight 4-cycle ties x with x + 2.
        assert_eq!(num("nlhf_unique"), if cell("model") == "cycle" { 0.0 } else { 1.0 }, "{row:?}");
    }
    // Every equilibrium converged, so the figures of equilibrium columns
    // need no note (which populations a note covers is tested in `report`).
    let res = ualign::plot::data::Results::load(&dir).unwrap();
    let fig = ualign::plot::heatmap::rate_gap(&res, "model", "k", "eq_r_mean").unwrap();
    assert!(!fig.subtitle.contains("converged"), "{}", fig.subtitle);
    let pops = Table::read(&dir.join("populations.csv")).unwrap();
    let (m, e) = (pops.column("model").unwrap(), pops.column("eq_converged").unwrap());
    for row in &pops.rows {
        assert_eq!(row[e], "true", "{} {row:?}", row[m]);
    }
}

/// The convergence map: a small grid over dynamics × η × k on perturbed
/// cycles, drawn as faceted heatmaps whose panels hold the `converged`
/// fractions of cells.csv.
#[test]
fn faceted_convergence_maps_show_the_converged_fraction_of_each_cell() {
    let text = "title = \"map\"\nbackend = \"cpu\"\nmodel = [\"perturbed_cycle\", \"condorcet\"]\nmargin = 0.1\n\
                responses = [3, 5]\ntypes = 4\nk = [2, 3]\ndynamics = [\"pga\", \"mwu\"]\neta = [0.1, 1.0]\n\
                iters = 300\ntol = 1e-9\npopulations = 3\nseed = 2\n";
    let config = Config::parse(text, std::path::Path::new("map.toml")).unwrap();
    let dir = tmp("engine-map");
    ualign::sweep::run(&config, &dir, &RunOptions::default()).unwrap();
    let res = ualign::plot::data::Results::load(&dir).unwrap();
    let filters = ualign::plot::facets::parse_filters(&["model=perturbed_cycle".into()]).unwrap();
    let f = ualign::plot::facets::facets(&res, ("responses", "k"), "converged", ("dynamics", "eta"), &filters).unwrap();
    // Rows: η descending (1 on top); columns: dynamics in config order.
    assert_eq!((f.panels.len(), f.panels[0].len()), (2, 2));
    let cells = Table::read(&dir.join("cells.csv")).unwrap();
    let col = |n: &str| cells.column(n).unwrap();
    let mut checked = 0;
    for row in cells.rows.iter().filter(|r| r[col("model")] == "perturbed_cycle") {
        let (eta, dynamics) = (row[col("eta")].as_str(), row[col("dynamics")].as_str());
        let panel = f.panels[if eta == "1" { 0 } else { 1 }][if dynamics == "pga" { 0 } else { 1 }].1.as_ref().unwrap();
        let (i, j) = (
            panel.x_ticks.iter().position(|t| *t == row[col("responses")]).unwrap(),
            panel.y_ticks.iter().position(|t| *t == row[col("k")]).unwrap(),
        );
        assert_eq!(panel.values[j][i], row[col("converged")].parse::<f64>().unwrap(), "{row:?}");
        checked += 1;
    }
    assert_eq!(checked, 16);
    let out = dir.join("map.png");
    ualign::plot::heatmap_facets(&dir, ("responses", "k"), "converged", ("dynamics", "eta"), &[], &out).unwrap();
    assert!(std::fs::metadata(&out).unwrap().len() > 1000);
    let bad = ualign::plot::heatmap_facets(
        &dir,
        ("responses", "k"),
        "converged",
        ("dynamics", "eta"),
        &["colour".into()],
        &out,
    );
    assert!(bad.unwrap_err().to_string().contains("--where"));
}

/// A population whose equilibrium the solver could not certify stays out of
/// the `eq_*` statistics (and `eq_converged` counts the rest), while the
/// dynamics' own columns keep every population.
#[test]
fn an_uncertified_equilibrium_is_not_averaged_into_the_equilibrium_columns() {
    use ualign::sweep::{report, CellRecord, PolicyMetrics, PopulationOutcome};
    let text = "title = \"t\"\nbackend = \"cpu\"\nmodel = \"impartial\"\nresponses = 4\ntypes = 5\nk = 2\n\
                populations = 2\nseed = 1\n";
    let config = Config::parse(text, std::path::Path::new("t.toml")).unwrap();
    let bound = 2.0 / 3.0;
    let metrics = |r: f64| PolicyMetrics { r, e: bound - r, r_ell: None };
    let outcome = |r: f64, certified: bool| PopulationOutcome {
        responses: 4,
        types: 5,
        iterations: 10,
        converged: certified,
        equilibrium: metrics(r),
        equilibrium_converged: Some(certified),
        last_iterate: Some(metrics(r)),
        nlhf_unique: Some(true),
        average_r: r,
        regret: 0.0,
        support: 4,
        entropy: 1.0,
        nlhf: metrics(0.5),
        rlhf: metrics(0.5),
        uniform: metrics(0.5),
        history: Vec::new(),
    };
    let record = CellRecord {
        cell: config.cells().remove(0),
        backend: "cpu".into(),
        wall_s: 0.0,
        outcomes: vec![outcome(bound, true), outcome(0.4, false)],
    };
    let (header, row) = (report::cells_header(), report::cell_row(&record));
    let get = |name: &str| -> f64 { row[header.iter().position(|h| h == name).unwrap()].parse().unwrap() };
    assert_eq!(get("eq_converged"), 1.0);
    for column in ["eq_r_mean", "eq_r_worst"] {
        assert!((get(column) - bound).abs() < 1e-15, "{column} = {}", get(column));
    }
    assert!(get("eq_e_worst").abs() < 1e-15);
    assert!((get("last_r_mean") - (bound + 0.4) / 2.0).abs() < 1e-15);
    assert!((get("last_r_worst") - 0.4).abs() < 1e-15);
    assert_eq!(get("converged"), 0.5);
}
