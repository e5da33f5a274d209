//! The stress set: the families of populations on which self-play is known
//! to fail or crawl, used by the acceptance test of [`solve`](super::solve),
//! the `equilibrium` benchmark and `docs/equilibrium.md`.
//!
//! - perturbed Condorcet cycles: the n cyclic shifts of a random ranking,
//!   weights `(1 + noise·u)/n` renormalised (`u` uniform in [−1, 1]),
//!   n = 5..32, noise 2–20 %, k = 2..8;
//! - planted Condorcet winners, n = 5..8, margins 0.05–0.2, k = 2..4;
//! - impartial culture, n = 64..128 with 8 or 32 types, k = 2..32.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::population::generate::{generate_one, GenSpec, Model};
use crate::population::Population;

/// One population of the stress set and the k to solve it at.
#[derive(Clone, Debug)]
pub struct StressCase {
    /// Family and parameters, e.g. `cycle n=5 noise=0.1 k=2 #0`.
    pub label: String,
    pub population: Population,
    pub k: usize,
}

const CYCLE_N: [usize; 7] = [5, 6, 8, 12, 16, 24, 32];
const CYCLE_NOISE: [f64; 4] = [0.02, 0.05, 0.1, 0.2];
const CYCLE_K: [usize; 5] = [2, 3, 4, 5, 8];
const CONDORCET_N: [usize; 4] = [5, 6, 7, 8];
const CONDORCET_MARGIN: [f64; 4] = [0.05, 0.1, 0.15, 0.2];
const CONDORCET_K: [usize; 3] = [2, 3, 4];
const IMPARTIAL_N: [usize; 3] = [64, 96, 128];
const IMPARTIAL_TYPES: [usize; 2] = [8, 32];
const IMPARTIAL_K: [usize; 5] = [2, 4, 8, 16, 32];

/// The full stress set (514 cases), in a fixed order, from `seed`.
pub fn stress_set(seed: u64) -> Result<Vec<StressCase>> {
    let mut cases = Vec::new();
    for copy in 0..2 {
        for &n in &CYCLE_N {
            for &noise in &CYCLE_NOISE {
                for &k in &CYCLE_K {
                    let index = cases.len();
                    let population = perturbed_cycle(n, noise, seed, index)?;
                    cases.push(StressCase { label: format!("cycle n={n} noise={noise} k={k} #{copy}"), population, k });
                }
            }
        }
    }
    for copy in 0..3 {
        for &n in &CONDORCET_N {
            for &margin in &CONDORCET_MARGIN {
                for &k in &CONDORCET_K {
                    let spec = GenSpec { model: Model::Condorcet, responses: n, margin, seed, ..GenSpec::default() };
                    let population = generate_one(&spec, cases.len())?;
                    let label = format!("condorcet n={n} margin={margin} k={k} #{copy}");
                    cases.push(StressCase { label, population, k });
                }
            }
        }
    }
    for copy in 0..3 {
        for &n in &IMPARTIAL_N {
            for &m in &IMPARTIAL_TYPES {
                for &k in &IMPARTIAL_K {
                    let spec =
                        GenSpec { model: Model::Impartial, responses: n, types: Some(m), seed, ..GenSpec::default() };
                    let population = generate_one(&spec, cases.len())?;
                    let label = format!("impartial n={n} m={m} k={k} #{copy}");
                    cases.push(StressCase { label, population, k });
                }
            }
        }
    }
    Ok(cases)
}

/// A Condorcet cycle on `n` responses whose equal weights are each moved by
/// up to `noise` (relative), then renormalised. Population `index` of `seed`.
pub fn perturbed_cycle(n: usize, noise: f64, seed: u64, index: usize) -> Result<Population> {
    let spec = GenSpec { model: Model::Cycle, responses: n, seed, ..GenSpec::default() };
    let mut pop = generate_one(&spec, index)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c1c1e);
    rng.set_stream(index as u64);
    for t in &mut pop.types {
        t.weight *= 1.0 + noise * (2.0 * rng.random::<f64>() - 1.0);
    }
    let total: f64 = pop.types.iter().map(|t| t.weight).sum();
    pop.types.iter_mut().for_each(|t| t.weight /= total);
    Population::new(n, None, pop.types)
}
