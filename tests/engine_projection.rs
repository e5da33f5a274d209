//! The simplex projection (Michelot's active-set method) against the
//! sort-based reference on random vectors, including ties and far-off points.
mod common;

use rand::Rng;
use ualign::cpu::project_simplex;

fn reference(v: &[f64]) -> Vec<f64> {
    let mut u = v.to_vec();
    u.sort_by(|a, b| b.total_cmp(a));
    let (mut cumulative, mut tau) = (0.0, 0.0);
    for (i, &x) in u.iter().enumerate() {
        cumulative += x;
        let t = (cumulative - 1.0) / (i as f64 + 1.0);
        if x > t {
            tau = t;
        }
    }
    v.iter().map(|x| (x - tau).max(0.0)).collect()
}

#[test]
fn projection_matches_sort_based_reference() {
    let mut r = common::rng(41);
    let mut scratch = Vec::new();
    for case in 0..2000 {
        let n = 1 + case % 40;
        let scale = [0.01, 1.0, 100.0][case % 3];
        let mut v: Vec<f64> = (0..n).map(|_| r.random_range(-1.0..1.0) * scale).collect();
        if case % 5 == 0 {
            v.iter_mut().for_each(|x| *x = (*x * 4.0).round() / 4.0); // ties
        }
        let expected = reference(&v);
        project_simplex(&mut v, &mut scratch);
        assert!((v.iter().sum::<f64>() - 1.0).abs() < 1e-12, "case {case}");
        for (a, b) in v.iter().zip(&expected) {
            assert!(*a >= 0.0 && (a - b).abs() < 1e-12, "case {case}: {v:?} vs {expected:?}");
        }
    }
}
