use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Instant;
use ualign::cpu::deviation_pl_reference::{deviation_pl_reference, ReferenceScratch};
use ualign::cpu::{self, PlGrid, Scratch};
use ualign::{Kind, Population, UserType};
const PLAIN: PlGrid = PlGrid { step: 0.3, s_lo: 1e-14, tail: 40.0, taper: false };
fn population(rng: &mut impl Rng, n: usize, m: usize, pl: bool) -> Population {
    let types = (0..m)
        .map(|_| {
            let weight = 1.0 / m as f64;
            if pl {
                UserType::scores(weight, (0..n).map(|_| rng.random_range(-2.0..2.0)).collect())
            } else {
                let mut r: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    r.swap(i, rng.random_range(0..=i));
                }
                UserType::ranking(weight, r)
            }
        })
        .collect();
    Population::new(n, None, types).unwrap()
}
fn policy(rng: &mut impl Rng, n: usize) -> Vec<f64> {
    let raw: Vec<f64> = (0..n).map(|_| rng.random_range(0.05..1.0)).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|p| p / total).collect()
}
fn best(mut f: impl FnMut(), target_ns: f64) -> f64 {
    let t = Instant::now();
    f();
    let one = t.elapsed().as_nanos() as f64;
    let reps = ((target_ns / one.max(1.0)) as usize).max(1);
    let mut b = f64::INFINITY;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 1.5 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        b = b.min(t.elapsed().as_nanos() as f64 / reps as f64);
    }
    b
}
fn main() {
    let which: String = std::env::args().nth(1).unwrap_or("all".into());
    if which == "all" || which == "pl" {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for (n, m, k) in [(16, 8, 4), (32, 8, 16), (32, 16, 8), (64, 64, 16)]
            .into_iter()
            .filter(|c| std::env::var("ONLY").map_or(true, |o| o == format!("{c:?}")))
        {
            let pop = population(&mut rng, n, m, true);
            let pi = policy(&mut rng, n);
            let mut out = vec![0.0; n];
            let mut s = Scratch::default();
            let fast = best(|| cpu::deviation_into(black_box(&pop), black_box(&pi), k, &mut out, &mut s), 2e5);
            let mut rs = ReferenceScratch::default();
            let refr = if n * k <= 512 {
                best(
                    || {
                        out.fill(0.0);
                        for t in &pop.types {
                            if let Kind::Scores(sc) = &t.kind {
                                deviation_pl_reference(sc, t.weight, &pi, k, &PLAIN, &mut out, &mut rs);
                            }
                        }
                    },
                    2e6,
                )
            } else {
                f64::NAN
            };
            println!("pl n{n}_m{m}_k{k}: {:.2} us  ref {:.2} us  ratio {:.1}", fast / 1e3, refr / 1e3, refr / fast);
        }
    }
    if which == "all" || which == "rank" {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for (n, m, k) in [
            (16, 8, 4),
            (16, 32, 1),
            (16, 32, 2),
            (16, 32, 4),
            (16, 32, 8),
            (16, 64, 4),
            (16, 32, 32),
            (32, 16, 8),
            (64, 64, 16),
            (256, 64, 64),
        ] {
            let pop = population(&mut rng, n, m, false);
            let pi = policy(&mut rng, n);
            let mut out = vec![0.0; n];
            let mut s = Scratch::default();
            let t = best(|| cpu::deviation_into(black_box(&pop), black_box(&pi), k, &mut out, &mut s), 2e4);
            println!("rank n{n}_m{m}_k{k}: {:.1} ns", t);
        }
    }
}
