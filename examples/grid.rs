use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ualign::cpu::{self, PlGrid, PlScratch};
fn main() {
    let fine = PlGrid { step: 0.08, s_lo: 1e-20, tail: 60.0, taper: true };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let steps = [0.28, 0.30, 0.32, 0.34, 0.36, 0.38, 0.40];
    let mut worst = vec![0.0f64; steps.len()];
    let mut worst2 = vec![0.0f64; steps.len()];
    let mut s = PlScratch::default();
    for case in 0..400 {
        let n = 2 + case % 30;
        let k = 1 + (case / 3) % 20;
        let spread = [2.0, 3.0, 6.0, 15.0, 40.0][case % 5];
        let scores: Vec<f64> = (0..n).map(|_| rng.random_range(-spread..spread)).collect();
        let mut p: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0f64).powi(1 + case as i32 % 4)).collect();
        let t: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= t);
        let mut want = vec![0.0; n];
        cpu::deviation_pl(&scores, 1.0, &p, k, &fine, &mut want, &mut s);
        for (i, &st) in steps.iter().enumerate() {
            for (j, (slo, tail)) in [(1e-16, 40.0), (1e-13, 32.0)].iter().enumerate() {
                let g = PlGrid { step: st, s_lo: *slo, tail: *tail, taper: true };
                let mut got = vec![0.0; n];
                cpu::deviation_pl(&scores, 1.0, &p, k, &g, &mut got, &mut s);
                let e = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                if j == 0 {
                    worst[i] = worst[i].max(e)
                } else {
                    worst2[i] = worst2[i].max(e)
                }
            }
        }
    }
    for (i, st) in steps.iter().enumerate() {
        let g = PlGrid { step: *st, s_lo: 1e-16, tail: 40.0, taper: true };
        let g2 = PlGrid { step: *st, s_lo: 1e-13, tail: 32.0, taper: true };
        println!(
            "step {st}: worst {:.2e} (nodes at span 4: {})  | s_lo 1e-13 tail 32: {:.2e} (nodes {})",
            worst[i],
            g.rule(4.0).count(),
            worst2[i],
            g2.rule(4.0).count()
        );
    }
}
