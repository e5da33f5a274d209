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
