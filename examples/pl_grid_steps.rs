//! How the Plackett–Luce quadrature error grows with the trapezoid step of the
//! tapered grid (and with tighter ends), against a much finer grid, on random
//! scores (spreads 2 to 40 nats), policies and k. It shows why `GRID_F64`
//! keeps its step: the error grows about tenfold per 0.02 of step.
//!
//!     cargo run --release --example pl_grid_steps
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ualign::cpu::{self, PlGrid, PlScratch};

fn main() {
    let fine = PlGrid { step: 0.08, s_lo: 1e-20, tail: 60.0, taper: true };
    let steps = [0.28, 0.30, 0.32, 0.34, 0.36, 0.38, 0.40];
    let ends = [(1e-16, 40.0), (1e-13, 32.0)];
    let mut worst = vec![[0.0f64; 2]; steps.len()];
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut scratch = PlScratch::default();
    for case in 0..400 {
        let n = 2 + case % 30;
        let k = 1 + (case / 3) % 20;
        let spread = [2.0, 3.0, 6.0, 15.0, 40.0][case % 5];
        let scores: Vec<f64> = (0..n).map(|_| rng.random_range(-spread..spread)).collect();
        let mut policy: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0f64).powi(1 + case as i32 % 4)).collect();
        let total: f64 = policy.iter().sum();
        policy.iter_mut().for_each(|p| *p /= total);
        let mut exact = vec![0.0; n];
        cpu::deviation_pl(&scores, 1.0, &policy, k, &fine, &mut exact, &mut scratch);
        for (row, &step) in worst.iter_mut().zip(&steps) {
            for (cell, &(s_lo, tail)) in row.iter_mut().zip(&ends) {
                let grid = PlGrid { step, s_lo, tail, taper: true };
                let mut got = vec![0.0; n];
                cpu::deviation_pl(&scores, 1.0, &policy, k, &grid, &mut got, &mut scratch);
                let err = got.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                *cell = cell.max(err);
            }
        }
    }
    println!("step   worst error (s_lo 1e-16, tail 40; nodes at span 4)   (s_lo 1e-13, tail 32; nodes)");
    for (row, &step) in worst.iter().zip(&steps) {
        let nodes = |(s_lo, tail): (f64, f64)| PlGrid { step, s_lo, tail, taper: true }.rule(4.0, 1.0).count();
        println!("{step:.2}   {:.1e} ({})   {:.1e} ({})", row[0], nodes(ends[0]), row[1], nodes(ends[1]));
    }
}
