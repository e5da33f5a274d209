//! The real runner: generated populations, CPU self-play, exact baselines.

mod common;
mod sweep_support;

use sweep_support::{read, tmp};
use ualign::results::table::Table;
use ualign::sweep::{Config, RunOptions};

#[test]
fn planted_condorcet_winner_nlhf_stays_while_the_equilibrium_reaches_the_bound() {
    let text = "title = \"nlhf\"\nbackend = \"cpu\"\nmodel = \"condorcet\"\nresponses = 3\ntypes = 6\n\
                margin = 0.1\nk = [1, 2, 4]\nell = [1, 2]\npopulations = 4\nseed = 9\n";
    let config = Config::parse(text, std::path::Path::new("nlhf.toml")).unwrap();
    let dir = tmp("engine-nlhf");
    let summary = ualign::sweep::run(&config, &dir, &RunOptions::default()).unwrap();
    assert_eq!(summary.backend, "cpu");
    let cells = Table::read(&dir.join("cells.csv")).unwrap();
    let col = |n: &str| cells.column(n).unwrap();
    for row in &cells.rows {
        let num = |n: &str| row[col(n)].parse::<f64>().unwrap();
        let k = num("k");
        // NLHF is deterministic on the winner w: R_k = min(P(w ≻ y), k/(k+1))
        // (at k = 1 the best deviation is w itself, worth 1/2): 0.6 from k = 2 on.
        let nlhf = 0.6f64.min(k / (k + 1.0));
        assert!((num("nlhf_r_worst") - nlhf).abs() < 1e-9 && (num("nlhf_r_mean") - nlhf).abs() < 1e-9, "{row:?}");
        if k >= 2.0 {
            assert!((num("eq_r_worst") - k / (k + 1.0)).abs() < 1e-8, "{row:?}");
            assert_eq!(num("converged"), 1.0);
        }
        // R_{k,ℓ} of the equilibrium lies between the bounds of docs/theory.md.
        if k >= 2.0 {
            assert!(num("eq_r_ell_worst") >= num("ell_lower") - 1e-8, "{row:?}");
            assert!(num("eq_r_ell_mean") <= num("ell_upper") + 1e-8, "{row:?}");
        }
    }
    // The time-average output obeys R(μ_T) = k/(k+1) − Reg_T/T.
    let pops = Table::read(&dir.join("populations.csv")).unwrap();
    let c = |n: &str| pops.column(n).unwrap();
    for row in &pops.rows {
        let num = |n: &str| row[c(n)].parse::<f64>().unwrap();
        let k = num("k");
        let predicted = k / (k + 1.0) - num("regret") / num("iterations");
        assert!((predicted - num("avg_r")).abs() < 1e-12, "{row:?}");
    }
    assert!(read(&dir, "manifest.json").contains("\"backend_used\""));
    ualign::plot::default_figures(&dir).unwrap();
    assert!(dir.join("figures/ell.png").exists());
}

/// Cells that share their populations (here they differ only in k) compute
/// the baseline policies once: the later cell's baselines, taken from the
/// earlier one, are those of a sweep of that cell alone.
#[test]
fn cells_sharing_populations_report_the_baselines_of_a_cell_run_alone() {
    let config = |k: &str| {
        let text = format!(
            "title = \"shared\"\nbackend = \"cpu\"\nmodel = \"impartial\"\nresponses = 5\ntypes = 7\n\
             k = {k}\npopulations = 300\nseed = 3\n"
        );
        Config::parse(&text, std::path::Path::new("shared.toml")).unwrap()
    };
    let both = tmp("engine-shared-both");
    let alone = tmp("engine-shared-alone");
    ualign::sweep::run(&config("[2, 3]"), &both, &RunOptions::default()).unwrap();
    ualign::sweep::run(&config("[3]"), &alone, &RunOptions::default()).unwrap();
    let rows = |dir: &std::path::Path| {
        let t = Table::read(&dir.join("populations.csv")).unwrap();
        let cols: Vec<usize> = ["k", "population", "nlhf_r", "nlhf_e", "rlhf_r", "rlhf_e", "uniform_r", "nlhf_unique"]
            .iter()
            .map(|c| t.column(c).unwrap())
            .collect();
        let picked: Vec<Vec<String>> = t.rows.iter().map(|r| cols.iter().map(|&c| r[c].clone()).collect()).collect();
        picked.into_iter().filter(|r| r[0] == "3").collect::<Vec<_>>()
    };
    let (shared, single) = (rows(&both), rows(&alone));
    assert_eq!(shared.len(), 300);
    assert_eq!(shared, single);
}
