//! Synthetic populations, seeded and reproducible on every platform.
//!
//! Population `i` of a run with seed `S` is drawn from its own ChaCha8 stream
//! (`seed_from_u64(S)`, stream `i`), so it does not depend on `count`: a sweep
//! can shard populations freely and regenerate any one of them alone.
//! Bit-for-bit portability also needs portable arithmetic: the samplers use
//! only integer draws, `+ − × ÷` and `sqrt` (all exactly rounded by IEEE 754)
//! and a logarithm written out here, never the platform's `ln`/`exp`.
//!
//! Models (`m` = number of types, `n` = responses):
//! - `impartial`: `m` uniformly random rankings, Dirichlet(1,…,1) weights.
//! - `mallows`: one uniformly random central ranking per population; `m`
//!   rankings drawn from Mallows(centre, φ) by the repeated insertion model
//!   (φ = 0: every type is the centre; φ = 1: uniform); Dirichlet weights.
//! - `pl`: `m` Plackett–Luce types with scores ~ Normal(0, σ²); Dirichlet weights.
//! - `bt`: one Plackett–Luce (Bradley–Terry) type with scores ~ Normal(0, σ²).
//!   `m` is 1; asking for another `m` is an error.
//! - `cycle`: the `n` cyclic shifts of one random ranking with equal weights
//!   (a Condorcet cycle); `m` is `n`, asking for another `m` is an error.
//! - `perturbed_cycle`: the same `n` cyclic shifts, with weights
//!   `∝ 1 + ε u_i`, `u_i` uniform on [−1, 1) and `ε` the `margin` parameter
//!   (relative weight noise, in (0, 1/2]); `m` is `n`. Equal weights make
//!   uniform the equilibrium at once; perturbed ones are where self-play
//!   dynamics can cycle.
//! - `condorcet`: a planted Condorcet winner `w`, drawn uniformly per
//!   population. `⌈m/2⌉` types rank `w` first and share weight `1/2 + ε`;
//!   the other `⌊m/2⌋` rank `w` last and share `1/2 − ε` (Dirichlet weights
//!   within each half); the other responses are in a uniformly random order,
//!   one per type. So `P(w ≻ y) = 1/2 + ε` for every `y ≠ w`: the NLHF failure
//!   family of docs/theory.md. With ε = 1/2 the second half would have weight 0, so
//!   all `m` types rank `w` first.
//!
//! When `types` is `None` each model uses its natural size: `n` for `cycle`,
//! 1 for `bt`, [`DEFAULT_TYPES`] otherwise.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::generated_population;
use super::{Kind, Population, UserType, MAX_SCORE_SPAN};
use crate::error::{Error, Result};

/// Largest number of responses a generator accepts.
pub const MAX_RESPONSES: usize = 65_535;

/// Bound on types × responses of one generated population (256 MiB of
/// ranking entries), so a mistyped size fails with a message instead of
/// exhausting memory.
pub const MAX_POPULATION_ENTRIES: usize = 1 << 26;

/// Number of types when `GenSpec::types` is `None` (except `bt` and `cycle`).
pub const DEFAULT_TYPES: usize = 8;

/// Bound on `count × types × responses` for [`generate`], which holds every
/// population in memory (1 GiB of ranking entries); larger runs generate
/// populations one at a time with [`generate_one`].
pub const MAX_BATCH_ENTRIES: usize = 1 << 28;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    Impartial,
    Mallows,
    Pl,
    Bt,
    Cycle,
    Condorcet,
    #[serde(rename = "perturbed_cycle")]
    PerturbedCycle,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Impartial => "impartial",
            Model::Mallows => "mallows",
            Model::Pl => "pl",
            Model::Bt => "bt",
            Model::Cycle => "cycle",
            Model::Condorcet => "condorcet",
            Model::PerturbedCycle => "perturbed_cycle",
        }
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to generate. Parameters a model does not use are still validated,
/// so a nonsensical value is never silently ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenSpec {
    pub model: Model,
    /// Number of candidate responses `n` (1..=65,535; ≥ 2 for `cycle`, `condorcet`).
    pub responses: usize,
    /// Number of types `m`; `None` picks the model's natural size.
    pub types: Option<usize>,
    /// Number of populations.
    pub count: usize,
    pub seed: u64,
    /// Mallows dispersion φ ∈ [0, 1].
    pub phi: f64,
    /// Standard deviation σ > 0 of Plackett–Luce / Bradley–Terry scores.
    pub sigma: f64,
    /// Condorcet margin ε ∈ (0, 1/2]; for `perturbed_cycle`, the relative
    /// weight noise.
    pub margin: f64,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            model: Model::Impartial,
            responses: 8,
            types: None,
            count: 1,
            seed: 0,
            phi: 0.5,
            sigma: 1.0,
            margin: 0.1,
        }
    }
}

impl GenSpec {
    /// The number of types this spec produces, after checking it fits the model.
    pub fn type_count(&self) -> Result<usize> {
        let n = self.responses;
        let m = match (self.model, self.types) {
            (Model::Bt, Some(m)) if m != 1 => {
                return Err(Error::input(
                    "types",
                    format!("is {m}, but the bt model is a single Bradley–Terry type"),
                    "leave --types out (or set it to 1), or use --model pl for a mixture",
                ))
            }
            (Model::Cycle | Model::PerturbedCycle, Some(m)) if m != n => {
                return Err(Error::input(
                    "types",
                    format!("is {m}, but a Condorcet cycle on {n} responses has exactly {n} types"),
                    "leave --types out (or set it to the number of responses)",
                ))
            }
            (_, Some(m)) => m,
            (Model::Bt, None) => 1,
            (Model::Cycle | Model::PerturbedCycle, None) => n,
            (_, None) => DEFAULT_TYPES,
        };
        if m == 0 {
            return Err(Error::input("types", "is 0", "give at least one user type"));
        }
        if self.model == Model::Condorcet && m < 2 && self.margin < 0.5 {
            return Err(Error::input(
                "types",
                format!("is {m}, but a planted Condorcet winner with margin < 1/2 needs types on both sides"),
                "use at least 2 types",
            ));
        }
        Ok(m)
    }

    /// Checks every parameter; the generators assume a valid spec.
    pub fn validate(&self) -> Result<()> {
        let n = self.responses;
        if n == 0 {
            return Err(Error::input("responses", "is 0", "give at least one candidate response"));
        }
        if n > MAX_RESPONSES {
            return Err(Error::input(
                "responses",
                format!("is {n}, more than the generators' limit {MAX_RESPONSES}"),
                format!("use at most {MAX_RESPONSES} responses"),
            ));
        }
        if n < 2 && matches!(self.model, Model::Cycle | Model::PerturbedCycle | Model::Condorcet) {
            return Err(Error::input(
                "responses",
                format!("is {n}, but the {} model needs at least 2", self.model),
                "use at least 2 responses",
            ));
        }
        if !(0.0..=1.0).contains(&self.phi) {
            return Err(Error::input("phi", format!("is {}", self.phi), "the Mallows dispersion must lie in [0, 1]"));
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return Err(Error::input("sigma", format!("is {}", self.sigma), "the score spread must be finite and > 0"));
        }
        if !(self.margin > 0.0 && self.margin <= 0.5) {
            return Err(Error::input(
                "margin",
                format!("is {}", self.margin),
                "the Condorcet margin (the perturbed cycle's weight noise) must lie in (0, 1/2]",
            ));
        }
        let m = self.type_count()?;
        if m.saturating_mul(n) > MAX_POPULATION_ENTRIES {
            return Err(Error::input(
                "types",
                format!(
                    "{m} types × {n} responses exceed the limit of {MAX_POPULATION_ENTRIES} entries per population"
                ),
                "use fewer types or responses",
            ));
        }
        Ok(())
    }
}

/// Generates populations `0..count`, in parallel, in index order.
pub fn generate(spec: &GenSpec) -> Result<Vec<Population>> {
    spec.validate()?;
    if spec.count == 0 {
        return Err(Error::input("count", "is 0", "generate at least one population"));
    }
    let entries = spec.count.saturating_mul(spec.type_count()?).saturating_mul(spec.responses);
    if entries > MAX_BATCH_ENTRIES {
        return Err(Error::input(
            "count",
            format!("{} populations would hold {entries} entries, more than {MAX_BATCH_ENTRIES}", spec.count),
            "generate fewer populations per run (population i does not depend on count, so runs can be split)",
        ));
    }
    (0..spec.count).into_par_iter().map(|i| generate_one(spec, i)).collect()
}

/// Generates population `index` alone; identical to `generate(spec)?[index]`
/// for any `count > index`.
pub fn generate_one(spec: &GenSpec, index: usize) -> Result<Population> {
    spec.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    rng.set_stream(index as u64);
    let n = spec.responses;
    let m = spec.type_count()?;
    let types = match spec.model {
        Model::Impartial => {
            // `dirichlet` written into the types: one allocation fewer.
            let mut types: Vec<UserType> =
                (0..m).map(|_| UserType::ranking(-ln(open_unit(&mut rng)), Vec::new())).collect();
            let total: f64 = types.iter().map(|t| t.weight).sum();
            for t in &mut types {
                t.weight /= total;
                t.kind = Kind::Ranking(permutation(&mut rng, n));
            }
            types
        }
        Model::Mallows => {
            let centre = permutation(&mut rng, n);
            let weights = dirichlet(&mut rng, m);
            weights.into_iter().map(|w| UserType::ranking(w, mallows(&mut rng, &centre, spec.phi))).collect()
        }
        Model::Pl | Model::Bt => {
            let weights = if m == 1 { vec![1.0] } else { dirichlet(&mut rng, m) };
            let mut types = Vec::with_capacity(m);
            for (t, w) in weights.into_iter().enumerate() {
                let scores: Vec<f64> = (0..n).map(|_| spec.sigma * normal(&mut rng)).collect();
                let (lo, hi) =
                    scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &s| (l.min(s), h.max(s)));
                if hi - lo > MAX_SCORE_SPAN {
                    return Err(Error::input(
                        "sigma",
                        format!(
                            "{} gives type {t} of population {index} a score span of {:.1} nats (limit {MAX_SCORE_SPAN})",
                            spec.sigma,
                            hi - lo
                        ),
                        "use a smaller sigma: such worth ratios make a type a strict ranking in all but name",
                    ));
                }
                types.push(UserType::scores(w, scores));
            }
            types
        }
        Model::Cycle | Model::PerturbedCycle => {
            let base = permutation(&mut rng, n);
            let weights: Vec<f64> = match spec.model {
                Model::Cycle => vec![1.0; n],
                _ => (0..n).map(|_| 1.0 + spec.margin * (2.0 * unit(&mut rng) - 1.0)).collect(),
            };
            let total: f64 = weights.iter().sum();
            (0..n)
                .map(|shift| {
                    let ranking = base[shift..].iter().chain(&base[..shift]).copied().collect();
                    UserType::ranking(weights[shift] / total, ranking)
                })
                .collect()
        }
        Model::Condorcet => condorcet(&mut rng, n, m, spec.margin),
    };
    Ok(generated_population(n, types))
}

fn condorcet(rng: &mut ChaCha8Rng, n: usize, m: usize, margin: f64) -> Vec<UserType> {
    let winner = rng.random_range(0..n as u32);
    let top = if margin >= 0.5 { m } else { m.div_ceil(2) };
    let mut types = Vec::with_capacity(m);
    for (size, mass, winner_first) in [(top, 0.5 + margin, true), (m - top, 0.5 - margin, false)] {
        if size == 0 {
            continue;
        }
        for w in dirichlet(rng, size) {
            // The others in a random order, the winner moved to the front or back.
            let mut ranking = permutation(rng, n);
            let at = ranking.iter().position(|&y| y == winner).expect("a permutation holds the winner");
            if winner_first {
                ranking[..=at].rotate_right(1);
            } else {
                ranking[at..].rotate_left(1);
            }
            types.push(UserType::ranking(w * mass, ranking));
        }
    }
    types
}

/// A uniformly random permutation of `0..n` (Fisher–Yates on `u32` draws,
/// which `rand` samples identically on 32- and 64-bit targets).
fn permutation(rng: &mut ChaCha8Rng, n: usize) -> Vec<u32> {
    let mut p: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.random_range(0..=i as u32) as usize);
    }
    p
}

/// Mallows(centre, φ) by the repeated insertion model: the `i`-th element of
/// the centre is inserted `d` places before the end of the `i` already placed,
/// creating `d` inversions, with probability ∝ φ^d. The final ranking is then
/// assembled from the back (the element inserted last at position `j` owns the
/// `j`-th free slot) with a Fenwick tree, in O(n log n) rather than O(n²).
fn mallows(rng: &mut ChaCha8Rng, centre: &[u32], phi: f64) -> Vec<u32> {
    let n = centre.len();
    let mut position = vec![0usize; n];
    let mut total = 0.0; // Σ_{d=0..i} φ^d, built as 1 + φ·(previous)
    for (i, pos) in position.iter_mut().enumerate() {
        total = 1.0 + phi * total;
        let d = if phi == 0.0 {
            0
        } else if phi == 1.0 {
            rng.random_range(0..=i as u32) as usize
        } else {
            let u = unit(rng) * total;
            let (mut acc, mut term, mut d) = (0.0, 1.0, i);
            for candidate in 0..=i {
                acc += term;
                if u < acc {
                    d = candidate;
                    break;
                }
                term *= phi;
            }
            d
        };
        *pos = i - d;
    }
    let mut free = FreeSlots::new(n);
    let mut ranking = vec![0u32; n];
    for i in (0..n).rev() {
        ranking[free.take_nth(position[i])] = centre[i];
    }
    ranking
}

/// Fenwick tree over slots `0..n`, each free (1) or taken (0).
struct FreeSlots {
    tree: Vec<usize>,
}

impl FreeSlots {
    fn new(n: usize) -> Self {
        let mut tree = vec![0usize; n + 1];
        for i in 1..=n {
            tree[i] += 1;
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i];
            }
        }
        FreeSlots { tree }
    }

    /// Takes the `k`-th (0-based) free slot and returns its index.
    fn take_nth(&mut self, k: usize) -> usize {
        let n = self.tree.len() - 1;
        let (mut pos, mut remaining) = (0usize, k + 1);
        let mut step = if n == 0 { 0 } else { 1usize << (usize::BITS - 1 - n.leading_zeros()) };
        while step > 0 {
            if pos + step <= n && self.tree[pos + step] < remaining {
                pos += step;
                remaining -= self.tree[pos];
            }
            step >>= 1;
        }
        let slot = pos; // 0-based index of the (pos+1)-th tree position
        let mut i = pos + 1;
        while i <= n {
            self.tree[i] -= 1;
            i += i & i.wrapping_neg();
        }
        slot
    }
}

/// Dirichlet(1, …, 1): normalised Exp(1) draws.
fn dirichlet(rng: &mut ChaCha8Rng, m: usize) -> Vec<f64> {
    let mut weights: Vec<f64> = (0..m).map(|_| -ln(open_unit(rng))).collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|x| *x /= total);
    weights
}

/// Uniform on [0, 1) from the top 53 bits of a `u64`.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on the open interval (0, 1): never 0 (whose log is −∞) nor 1
/// (whose Exp(1) draw would be a zero weight).
fn open_unit(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Standard normal by Marsaglia's polar method (only `ln` and `sqrt`).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    loop {
        let u = 2.0 * unit(rng) - 1.0;
        let v = 2.0 * unit(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * ln(s) / s).sqrt();
        }
    }
}

/// Natural logarithm of a positive finite `x` from exactly rounded operations
/// only, so every platform gets the same bits: `x = 2^e · f` with
/// `f ∈ [√½, √2)`, then `ln f = 2 atanh(z)`, `z = (f − 1)/(f + 1)`, `|z| < 0.172`,
/// by its series to below 1e-17 relative.
fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    let (mut x, mut e) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        x *= (1u64 << 54) as f64; // subnormal: scale into the normal range
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut f = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52)); // in [1, 2)
    if f > std::f64::consts::SQRT_2 {
        f *= 0.5;
        e += 1;
    }
    let z = (f - 1.0) / (f + 1.0);
    let z2 = z * z;
    // atanh(z)/z = Σ z^{2j}/(2j+1); 0.0295^12 < 1e-18, so 12 terms suffice.
    let mut series = 0.0;
    for j in (0..12).rev() {
        series = series * z2 + 1.0 / (2 * j + 1) as f64;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * z * series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_ln_matches_std() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..10_000 {
            let x = open_unit(&mut rng) * 10f64.powi(rng.random_range(-300..300));
            let (ours, std) = (ln(x), x.ln());
            assert!((ours - std).abs() <= 4.0 * f64::EPSILON * std.abs().max(1.0), "ln({x}) = {ours} vs {std}");
        }
        assert_eq!(ln(1.0), 0.0);
        assert!((ln(f64::MIN_POSITIVE / 8.0) - (f64::MIN_POSITIVE / 8.0).ln()).abs() < 1e-12);
    }

    #[test]
    fn perturbed_cycle_is_the_cyclic_shifts_with_noisy_weights() {
        let spec = GenSpec {
            model: Model::PerturbedCycle,
            responses: 6,
            margin: 0.1,
            count: 3,
            seed: 5,
            ..GenSpec::default()
        };
        let pops = generate(&spec).unwrap();
        for pop in &pops {
            assert_eq!(pop.types.len(), 6);
            let first = match &pop.types[0].kind {
                crate::population::Kind::Ranking(r) => r.clone(),
                _ => panic!("rankings expected"),
            };
            let weights: Vec<f64> = pop.types.iter().map(|t| t.weight).collect();
            for (shift, t) in pop.types.iter().enumerate() {
                let expected: Vec<u32> = (0..6).map(|i| first[(i + shift) % 6]).collect();
                assert!(matches!(&t.kind, crate::population::Kind::Ranking(r) if *r == expected));
                // Weights ∝ 1 ± ε: within a factor (1 ± ε)/(1 ∓ ε) of 1/n.
                assert!((t.weight * 6.0 - 1.0).abs() <= 0.2 / 0.9 + 1e-12, "{weights:?}");
            }
            assert!(weights.iter().any(|&w| (w - weights[0]).abs() > 1e-6), "{weights:?}");
            assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert_eq!(pops, generate(&spec).unwrap(), "seeded");
        assert_ne!(pops[0], pops[1]);
        let equal = generate(&GenSpec { model: Model::Cycle, ..spec }).unwrap();
        assert!(equal[0].types.iter().all(|t| (t.weight - 1.0 / 6.0).abs() < 1e-15));
    }

    #[test]
    fn free_slots_take_in_order() {
        let mut free = FreeSlots::new(5);
        assert_eq!(free.take_nth(2), 2);
        assert_eq!(free.take_nth(2), 3);
        assert_eq!(free.take_nth(0), 0);
        assert_eq!(free.take_nth(1), 4);
        assert_eq!(free.take_nth(0), 1);
    }

    #[test]
    fn mallows_extremes() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let centre = permutation(&mut rng, 9);
        assert_eq!(mallows(&mut rng, &centre, 0.0), centre);
        let mut sorted = mallows(&mut rng, &centre, 0.7);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..9).collect::<Vec<u32>>());
    }
}
