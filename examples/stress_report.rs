//! The acceptance report of the equilibrium solver: every population of the
//! stress set (`equilibrium::stress`) solved by the default solver, by the
//! QRE homotopy alone (no fast path), and by
//! projected gradient ascent (the dynamics' default, η = 1, 100,000
//! iterations), one at a time on one thread, with the time per population,
//! its worst case and the worst E_k per family.
//!
//! `cargo run --release --example stress_report`

use std::time::Instant;

use ualign::dynamics::{self, SolveOptions};
use ualign::equilibrium::{self, stress, EquilibriumOptions};
use ualign::metrics::evaluate_exact;

#[derive(Default)]
struct Tally {
    count: usize,
    converged: usize,
    seconds: f64,
    worst_seconds: f64,
    worst_gap: f64,
}

impl Tally {
    fn add(&mut self, converged: bool, seconds: f64, gap: f64) {
        self.count += 1;
        self.converged += converged as usize;
        self.seconds += seconds;
        self.worst_seconds = self.worst_seconds.max(seconds);
        self.worst_gap = self.worst_gap.max(gap);
    }

    fn row(&self, family: &str, solver: &str) -> String {
        format!(
            "{family:<10} {solver:<12} {:>4}/{:<4} converged  mean {:>9.3} ms  worst {:>9.3} ms  worst E_k {:.1e}",
            self.converged,
            self.count,
            1e3 * self.seconds / self.count.max(1) as f64,
            1e3 * self.worst_seconds,
            self.worst_gap
        )
    }
}

fn main() {
    let cases = stress::stress_set(0).expect("the stress set generates");
    let opts = EquilibriumOptions::default();
    let pga = SolveOptions::default();
    let families = ["cycle", "condorcet", "impartial"];
    let homotopy_only = EquilibriumOptions { fast_path: false, ..opts.clone() };
    let mut robust: Vec<Tally> = families.iter().map(|_| Tally::default()).collect();
    let mut homotopy: Vec<Tally> = families.iter().map(|_| Tally::default()).collect();
    let mut dynamics: Vec<Tally> = families.iter().map(|_| Tally::default()).collect();
    for c in &cases {
        let f = families.iter().position(|f| c.label.starts_with(f)).expect("known family");
        let start = Instant::now();
        let eq = equilibrium::solve(&c.population, c.k, &opts).expect("valid case");
        let seconds = start.elapsed().as_secs_f64();
        let gap = evaluate_exact(&c.population, &eq.policy, c.k).exploitability;
        robust[f].add(eq.converged && gap <= 1e-9, seconds, gap);
        let start = Instant::now();
        let eq = equilibrium::solve(&c.population, c.k, &homotopy_only).expect("valid case");
        let seconds = start.elapsed().as_secs_f64();
        let gap = evaluate_exact(&c.population, &eq.policy, c.k).exploitability;
        homotopy[f].add(eq.converged && gap <= 1e-9, seconds, gap);
        let start = Instant::now();
        let run = dynamics::solve(&c.population, c.k, &pga).expect("valid case");
        dynamics[f].add(run.converged, start.elapsed().as_secs_f64(), run.evaluation.exploitability);
    }
    println!("{} populations; time per population on one thread", cases.len());
    for (i, family) in families.iter().enumerate() {
        println!("{}", robust[i].row(family, "default"));
        println!("{}", homotopy[i].row(family, "homotopy"));
        println!("{}", dynamics[i].row(family, "pga eta=1"));
    }
}
