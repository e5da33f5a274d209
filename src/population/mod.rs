//! Populations of user types (docs/theory.md): the input of every computation.
//!
//! A population is a finite mixture of user types over `n` responses. A type is
//! either a strict ranking (best first) or a Plackett–Luce type given by scores
//! (log-worths). Constructors validate everything once, so the engines can
//! assume well-formed data.

use crate::error::{Error, Location, Result};

pub mod generate;
pub mod json;
mod json_direct;
mod json_strict;
pub mod load;
pub mod pairwise;
pub mod preflib;
pub mod stream;

/// How far the weights may sum away from 1 before we refuse them. Within the
/// tolerance they are renormalised so the sum rule holds to rounding.
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

/// Scores spanning more than this many nats make some worth ratio exceed
/// e^80; such a type is a ranking in all but name and would underflow f32.
pub const MAX_SCORE_SPAN: f64 = 80.0;

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A strict ranking, best first: a permutation of `0..n`.
    Ranking(Vec<u32>),
    /// Plackett–Luce scores `s_y` (worth `exp(s_y)`), one per response.
    Scores(Vec<f64>),
    /// A weak order: tie classes, best first, a partition of `0..n` with at
    /// least one class of two or more responses. The user is indifferent
    /// within a class and breaks ties uniformly at random, so the type is the
    /// uniform mixture of the order's linear extensions (docs/theory.md).
    WeakOrder(Vec<Vec<u32>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserType {
    pub weight: f64,
    pub kind: Kind,
}

impl UserType {
    pub fn ranking(weight: f64, ranking: Vec<u32>) -> Self {
        UserType { weight, kind: Kind::Ranking(ranking) }
    }
    pub fn scores(weight: f64, scores: Vec<f64>) -> Self {
        UserType { weight, kind: Kind::Scores(scores) }
    }
    /// A type with tie classes (best first); all classes singletons make it
    /// the strict ranking it is.
    pub fn weak_order(weight: f64, classes: Vec<Vec<u32>>) -> Self {
        if classes.iter().all(|c| c.len() == 1) {
            return UserType::ranking(weight, classes.into_iter().map(|c| c[0]).collect());
        }
        UserType { weight, kind: Kind::WeakOrder(classes) }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// Number of candidate responses `n`.
    pub responses: usize,
    /// Optional display names of the responses.
    pub labels: Option<Vec<String>>,
    pub types: Vec<UserType>,
}

impl Population {
    /// Builds and validates a population; weights within
    /// [`WEIGHT_SUM_TOLERANCE`] of 1 are renormalised to sum to 1.
    pub fn new(responses: usize, labels: Option<Vec<String>>, types: Vec<UserType>) -> Result<Self> {
        let mut pop = Population { responses, labels, types };
        pop.validate()?;
        let total: f64 = pop.types.iter().map(|t| t.weight).sum();
        for t in &mut pop.types {
            t.weight /= total;
        }
        Ok(pop)
    }

    /// Checks every invariant of a population (docs/theory.md). Errors name the field
    /// (`types[i].ranking`, …) and say how to fix it.
    pub fn validate(&self) -> Result<()> {
        let n = self.responses;
        if n == 0 {
            return Err(Error::input("responses", "must be at least 1", "give the number of candidate responses"));
        }
        if let Some(labels) = &self.labels {
            if labels.len() != n {
                return Err(Error::input(
                    "labels",
                    format!("has {} entries but responses = {n}", labels.len()),
                    "give one label per response or leave labels out",
                ));
            }
        }
        if let Some(labels) = &self.labels {
            check_distinct_labels(labels)?;
        }
        if self.types.is_empty() {
            return Err(Error::input("types", "is empty", "give at least one user type"));
        }
        let mut total = 0.0;
        // A batch validates every type of every population: the field name
        // is built only on the error path.
        let field = |i: usize| format!("types[{i}]");
        for (i, t) in self.types.iter().enumerate() {
            if !t.weight.is_finite() || t.weight <= 0.0 {
                return Err(Error::input(
                    format!("{}.weight", field(i)),
                    format!("is {}, but weights must be positive and finite", t.weight),
                    "drop types of zero weight and give every other a weight > 0",
                ));
            }
            total += t.weight;
            match &t.kind {
                Kind::Ranking(r) => check_ranking(r, n).map_err(|e| e.in_field(&field(i)))?,
                Kind::Scores(s) => check_scores(s, n).map_err(|e| e.in_field(&field(i)))?,
                Kind::WeakOrder(c) => check_weak_order(c, n).map_err(|e| e.in_field(&field(i)))?,
            }
        }
        if (total - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            return Err(Error::input(
                "types[*].weight",
                format!("weights sum to {total}, not 1"),
                "rescale the weights so they sum to 1",
            ));
        }
        Ok(())
    }

    pub fn label(&self, y: usize) -> String {
        match &self.labels {
            Some(l) => l[y].clone(),
            None => y.to_string(),
        }
    }

    /// True when every type is a ranking (the fast closed-form path).
    pub fn all_rankings(&self) -> bool {
        self.types.iter().all(|t| matches!(t.kind, Kind::Ranking(_)))
    }
}

/// Labels name the responses in every table and figure, so two responses
/// may not share one.
fn check_distinct_labels(labels: &[String]) -> Result<()> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::with_capacity(labels.len());
    for (j, label) in labels.iter().enumerate() {
        if let Some(i) = seen.insert(label.as_str(), j) {
            return Err(Error::input(
                format!("labels[{j}]"),
                format!("is \"{label}\", the same as labels[{i}]"),
                "give every response a distinct label, or leave labels out",
            ));
        }
    }
    Ok(())
}

/// The error for a file that starts with a UTF-8 byte order mark, which
/// JSON forbids and which would otherwise read as a stray character.
pub(crate) fn bom_error(location: Location) -> Error {
    Error::Input {
        location,
        field: "file".into(),
        problem: "starts with a UTF-8 byte order mark (BOM)".into(),
        fix: "save the file as UTF-8 without a BOM (an editor's \"UTF-8\", not \"UTF-8 with BOM\")".into(),
    }
}

fn check_ranking(r: &[u32], n: usize) -> Result<()> {
    if r.len() != n {
        return Err(Error::input(
            "ranking",
            format!("has {} entries but responses = {n}", r.len()),
            "list every response exactly once, best first",
        ));
    }
    let out_of_range = |y: u32| {
        Error::input(
            "ranking",
            format!("contains {y}, but responses are numbered 0..{}", n - 1),
            "use response indices 0..n-1",
        )
    };
    let twice = |y: u32| {
        Error::input(
            "ranking",
            format!("lists response {y} twice, so it is not a permutation"),
            "list every response exactly once, best first",
        )
    };
    // Up to 64 responses the ones seen fit in one word, so checking the many
    // small rankings of a batch allocates nothing.
    if n <= 64 {
        let mut seen = 0u64;
        for &y in r {
            if y as usize >= n {
                return Err(out_of_range(y));
            }
            let bit = 1u64 << y;
            if seen & bit != 0 {
                return Err(twice(y));
            }
            seen |= bit;
        }
    } else {
        let mut seen = vec![false; n];
        for &y in r {
            match seen.get_mut(y as usize) {
                None => return Err(out_of_range(y)),
                Some(true) => return Err(twice(y)),
                Some(slot) => *slot = true,
            }
        }
    }
    Ok(())
}

fn check_weak_order(classes: &[Vec<u32>], n: usize) -> Result<()> {
    if let Some(i) = classes.iter().position(|c| c.is_empty()) {
        return Err(Error::input(
            format!("ranking[{i}]"),
            "is an empty tie class",
            "drop the empty list; a tie class lists the responses ranked equal",
        ));
    }
    // A response twice is the likelier mistake than a wrong count: name it first.
    let mut seen = vec![false; n];
    for &y in classes.iter().flatten() {
        match seen.get_mut(y as usize) {
            Some(true) => {
                return Err(Error::input(
                    "ranking",
                    format!("lists response {y} twice (a response belongs to one tie class)"),
                    "list every response exactly once, best first, tied ones in one inner array",
                ))
            }
            Some(slot) => *slot = true,
            None => break, // out of range: check_ranking names it
        }
    }
    let flat: Vec<u32> = classes.iter().flatten().copied().collect();
    check_ranking(&flat, n)
}

fn check_scores(s: &[f64], n: usize) -> Result<()> {
    if s.len() != n {
        return Err(Error::input(
            "scores",
            format!("has {} entries but responses = {n}", s.len()),
            "give one score (log-worth) per response",
        ));
    }
    if let Some((y, v)) = s.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::input(
            format!("scores[{y}]"),
            format!("is {v}"),
            "scores must be finite log-worths; use a ranking type for hard preferences",
        ));
    }
    let (lo, hi) = s.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if hi - lo > MAX_SCORE_SPAN {
        return Err(Error::input(
            "scores",
            format!("span {:.1} nats (more than {MAX_SCORE_SPAN})", hi - lo),
            "such worth ratios are a strict ranking in all but name: use a ranking type",
        ));
    }
    Ok(())
}

/// Checks that a policy lies on the simplex over `n` responses.
pub fn check_policy(policy: &[f64], n: usize) -> Result<()> {
    if policy.len() != n {
        return Err(Error::input(
            "policy",
            format!("has {} entries but the population has {n} responses", policy.len()),
            format!("give {n} probabilities separated by commas"),
        ));
    }
    if let Some((y, v)) = policy.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0) {
        return Err(Error::input(format!("policy[{y}]"), format!("is {v}"), "probabilities must be finite and >= 0"));
    }
    let total: f64 = policy.iter().sum();
    if (total - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
        return Err(Error::input("policy", format!("sums to {total}, not 1"), "rescale the probabilities to sum to 1"));
    }
    Ok(())
}

/// [`check_policy`], then the policy rescaled to sum to 1 exactly as
/// population weights are: a policy summing to 1 within
/// [`WEIGHT_SUM_TOLERANCE`] (e.g. `0.3333333` three times) is divided by its
/// sum unless that is already 1 up to rounding, so no evaluation ever sees
/// mass above 1 (which would put R_k above k/(k+1)).
pub fn normalised_policy(policy: &[f64], n: usize) -> Result<Vec<f64>> {
    check_policy(policy, n)?;
    let total: f64 = policy.iter().sum();
    if (total - 1.0).abs() > 1e-12 {
        return Ok(policy.iter().map(|p| p / total).collect());
    }
    Ok(policy.to_vec())
}

/// Checks the number of samples `k` (1 <= k <= [`crate::limits::MAX_K`]).
pub fn check_k(k: usize) -> Result<()> {
    crate::limits::check_k(k)
}

/// Builds a validated population whose weights sum to 1. Unlike
/// [`Population::new`] it leaves weights alone when they already sum to 1 up
/// to rounding, so writing and re-reading a population is the identity
/// (re-dividing by a sum of 1 ± ulp would move the last bit).
pub fn normalised_population(
    responses: usize,
    labels: Option<Vec<String>>,
    types: Vec<UserType>,
) -> Result<Population> {
    let mut pop = Population { responses, labels, types };
    pop.normalise()?;
    Ok(pop)
}

impl Population {
    /// [`normalised_population`] in place: validates, and rescales weights
    /// that do not already sum to 1 up to rounding.
    pub(crate) fn normalise(&mut self) -> Result<()> {
        self.validate()?;
        self.rescale_weights();
        Ok(())
    }

    /// Divides the weights by their sum unless it is 1 up to rounding.
    fn rescale_weights(&mut self) {
        let total: f64 = self.types.iter().map(|t| t.weight).sum();
        if (total - 1.0).abs() > 1e-12 {
            self.types.iter_mut().for_each(|t| t.weight /= total);
        }
    }
}

/// [`normalised_population`] for the synthetic generators, whose types are
/// valid by construction (permutations of `0..responses`, finite scores
/// within [`MAX_SCORE_SPAN`], positive weights summing to 1 up to rounding):
/// the check, which would cost as much as a small population's generation,
/// runs in debug builds only. The weights are treated exactly as there.
pub(crate) fn generated_population(responses: usize, types: Vec<UserType>) -> Population {
    let mut pop = Population { responses, labels: None, types };
    debug_assert!(pop.validate().is_ok(), "a generator built an invalid population: {:?}", pop.validate());
    pop.rescale_weights();
    pop
}
