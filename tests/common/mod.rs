//! Shared test helpers: the brute-force oracle and random inputs.
#![allow(dead_code)]

pub mod oracle;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ualign::{Kind, Population, UserType};

/// Runs the built `ualign` binary and requires success.
#[track_caller]
pub fn run_ok(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ualign")).args(args).output().expect("the binary runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Exit status 1 and exactly one `error:` line containing every needle, and
/// no panic; `what` names the run in a failure's message.
#[track_caller]
pub fn assert_one_line_error(out: &std::process::Output, what: &str, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{what}: {stderr}");
    for n in needles {
        assert!(errors[0].contains(n), "{what}: '{}' does not mention '{n}'", errors[0]);
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A random population: rankings, Plackett–Luce types, or a mixture.
pub fn random_population(rng: &mut impl Rng, n: usize, m: usize, pl_fraction: f64) -> Population {
    let mut weights: Vec<f64> = (0..m).map(|_| rng.random_range(0.05..1.0)).collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    let types = weights
        .into_iter()
        .map(|w| {
            if rng.random_bool(pl_fraction) {
                UserType::scores(w, (0..n).map(|_| rng.random_range(-3.0..3.0)).collect())
            } else {
                let mut r: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    r.swap(i, rng.random_range(0..=i));
                }
                UserType::ranking(w, r)
            }
        })
        .collect();
    Population::new(n, None, types).unwrap()
}

/// A random policy: dense, sparse (some exact zeros) or deterministic.
pub fn random_policy(rng: &mut impl Rng, n: usize) -> Vec<f64> {
    let mode = rng.random_range(0..4);
    let mut p: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    match mode {
        0 => {}
        1 => p.iter_mut().for_each(|x| {
            if rng.random_bool(0.5) {
                *x = 0.0
            }
        }),
        2 => {
            p.iter_mut().for_each(|x| *x = 0.0);
            p[rng.random_range(0..n)] = 1.0;
        }
        _ => p.iter_mut().for_each(|x| *x = x.powi(8)), // some tiny masses
    }
    if p.iter().sum::<f64>() == 0.0 {
        p[0] = 1.0;
    }
    let total: f64 = p.iter().sum();
    p.iter().map(|x| x / total).collect()
}

pub fn is_pl(pop: &Population) -> bool {
    pop.types.iter().any(|t| matches!(t.kind, Kind::Scores(_)))
}

/// The weighted Condorcet cycle of the worked values (docs/theory.md):
/// rankings (0,1,2), (1,2,0), (2,0,1) with weights 3/7, 2/7, 2/7, whose
/// maximal lottery is (3/7, 1/7, 3/7).
pub fn weighted_cycle() -> Population {
    Population::new(
        3,
        None,
        vec![
            UserType::ranking(3.0 / 7.0, vec![0, 1, 2]),
            UserType::ranking(2.0 / 7.0, vec![1, 2, 0]),
            UserType::ranking(2.0 / 7.0, vec![2, 0, 1]),
        ],
    )
    .unwrap()
}
