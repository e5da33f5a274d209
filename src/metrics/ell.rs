//! Robustness against opponents that show ℓ responses (docs/theory.md):
//! `R_{k,ℓ}(π) = 1 − max_T P(T ≻ π^{⊗k})` over all ℓ-multisets `T`, found by
//! exact search (the win rate is linear in the opponent's distribution, so the
//! worst opponent is a fixed multiset).
//!
//! Each multiset is scored exactly:
//! - **ranking types**: only the top element `x` of `T` and its multiplicity
//!   `m` matter, `P_t = Σ_j C(k,j) B^{k−j} p^j · m/(m+j)` with `p = π(x)` and
//!   `B` the π-mass below `x`. That is a Bernstein polynomial in `p/(B+p)`,
//!   evaluated by de Casteljau's algorithm (convex combinations only, so it is
//!   stable for any k); the values are tabulated per (type, x, m) once.
//! - **Plackett–Luce types**: the integral method of `cpu::deviation_pl`,
//!   generalised. With `S = supp T`, `W_S = Σ_{x∈S} w_x` and `c_x` the
//!   multiplicity of `x` in `T`,
//!   ```text
//!   P_t(T ≻ π^{⊗k}) = ∫_0^∞ e^{−s W_S} Σ_{x∈S} w_x H_x(s) ds,
//!   H_x(s) = k! [u^k] Π_{z∉S} F_z(u) · e^{(π_S − π_x) u} · Σ_c π_x^c u^c/c! · c_x/(c_x + c),
//!   ```
//!   because every response of `S` is always on offer (it only changes the
//!   credit split of `x`), and a response `z ∉ S` joins the offered set only
//!   when drawn (`F_z = 1 + e^{−s w_z}(e^{π_z u} − 1)`, as in the deviation kernel).
//!   Series are kept in exponential-generating form (all coefficients in [0, 1]).

use rayon::prelude::*;

use crate::cpu::{deviation_pl::rate_bound, GRID_F64};
use crate::error::{Error, Result};
use crate::population::{check_k, check_policy, Kind, Population, UserType};

/// Largest search we run, in elementary multiply-adds (estimated before any
/// work starts): about ten seconds on one core of a laptop.
pub const ELL_WORK_LIMIT: usize = 10_000_000_000;

/// `R_{k,ℓ}(π)`, exactly (quadrature error below 1e-12 for Plackett–Luce types).
///
/// The search visits all `C(n+ℓ−1, ℓ)` multisets, in parallel on all cores.
/// Errors: bad `k`/`policy`/`ℓ` (`Error::Input`), or an estimated work above
/// [`ELL_WORK_LIMIT`] (`Error::Limit`, which says what to reduce).
pub fn robust_alignment_ell(pop: &Population, policy: &[f64], k: usize, ell: usize) -> Result<f64> {
    check_k(k)?;
    check_policy(policy, pop.responses)?;
    super::check_ell(ell, k)?;
    if pop.types.iter().any(|t| matches!(t.kind, Kind::WeakOrder(_))) {
        return robust_alignment_ell(&linear_extensions(pop)?, policy, k, ell);
    }
    let n = pop.responses;
    let multisets = binomial(n + ell - 1, ell);
    let rank_types = pop.types.iter().filter(|t| matches!(t.kind, Kind::Ranking(_))).count() as f64;
    let policy_support = policy.iter().filter(|&&p| p > 0.0).count();
    let pl_cost: f64 = pop
        .types
        .iter()
        .filter_map(|t| match &t.kind {
            Kind::Scores(s) => {
                Some(node_count(s, policy, k, ell) as f64 * ((policy_support + 2 * ell) * (k + 1) * (k + 1)) as f64)
            }
            Kind::Ranking(_) | Kind::WeakOrder(_) => None,
        })
        .sum();
    let table_cost = rank_types * (n * ell) as f64 * ((k * k) as f64 / 2.0 + 1.0);
    let work = table_cost + multisets * (rank_types * ell as f64 + pl_cost);
    if work > ELL_WORK_LIMIT as f64 {
        return Err(Error::Limit {
            what: format!("the R_k,l search work (C(n+l-1, l) = {multisets:.3e} multisets x cost per multiset)"),
            value: work.min(usize::MAX as f64) as usize,
            limit: ELL_WORK_LIMIT,
            engine: "the exact l-multiset search".into(),
            fix: "use a smaller ell, fewer responses, a smaller k or fewer Plackett-Luce types".into(),
        });
    }

    let rankings = RankingTables::new(pop, policy, k, ell);
    let plackett_luce = PlTables::new(pop, policy, k, ell);
    let best = (0..n)
        .into_par_iter()
        .map(|first| {
            let mut scratch = PlScratch::new(k);
            let mut best = f64::NEG_INFINITY;
            for_each_multiset_from(n, ell, first, |support| {
                let value = rankings.value(support) + plackett_luce.value(support, &mut scratch);
                best = best.max(value);
            });
            best
        })
        .reduce(|| f64::NEG_INFINITY, f64::max);
    Ok(1.0 - best)
}

/// Most linear extensions a population's weak orders may expand into for
/// the `R_{k,ℓ}` search (each becomes a ranking type).
pub const MAX_LINEAR_EXTENSIONS: usize = 100_000;

/// The population with every weak-order type replaced by the uniform
/// mixture of its linear extensions (each a ranking type): the same
/// population (docs/theory.md), in the types the ℓ-multiset search knows.
fn linear_extensions(pop: &Population) -> Result<Population> {
    let mut count = 0usize;
    for t in &pop.types {
        if let Kind::WeakOrder(classes) = &t.kind {
            let mut extensions = 1usize;
            for class in classes {
                for f in 2..=class.len() {
                    extensions = extensions.saturating_mul(f);
                }
            }
            count = count.saturating_add(extensions);
        }
    }
    if count > MAX_LINEAR_EXTENSIONS {
        return Err(Error::Limit {
            what: "the linear extensions of the population's tie classes (R_k,l of types with ties)".into(),
            value: count,
            limit: MAX_LINEAR_EXTENSIONS,
            engine: "the exact l-multiset search".into(),
            fix: "leave out --ell for this population, or break its larger ties".into(),
        });
    }
    let mut types = Vec::new();
    for t in &pop.types {
        let Kind::WeakOrder(classes) = &t.kind else {
            types.push(t.clone());
            continue;
        };
        let mut orders: Vec<Vec<u32>> = vec![Vec::new()];
        for class in classes {
            let mut next = Vec::new();
            for order in &orders {
                for_each_permutation(class, |perm| next.push(order.iter().chain(perm).copied().collect()));
            }
            orders = next;
        }
        let weight = t.weight / orders.len() as f64;
        types.extend(orders.into_iter().map(|r| UserType::ranking(weight, r)));
    }
    Ok(Population { responses: pop.responses, labels: pop.labels.clone(), types })
}

/// Calls `f` with every permutation of `items` (Heap's algorithm).
fn for_each_permutation(items: &[u32], mut f: impl FnMut(&[u32])) {
    let mut a = items.to_vec();
    let mut c = vec![0usize; a.len()];
    f(&a);
    let mut i = 0;
    while i < a.len() {
        if c[i] < i {
            a.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
            f(&a);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
}

/// `C(a, b)` in f64 (only used for sizes and the work estimate).
fn binomial(a: usize, b: usize) -> f64 {
    (0..b).fold(1.0, |acc, i| acc * (a - i) as f64 / (i + 1) as f64)
}

fn node_count(scores: &[f64], policy: &[f64], k: usize, ell: usize) -> usize {
    GRID_F64.rule(score_span(scores), integrand_rate(scores, policy, k, ell)).count()
}

/// An upper bound on the exponential rates of the integrand for one type
/// (see [`rate_bound`]): the ℓ members of the opponent's multiset add at
/// most one (normalised) worth each.
fn integrand_rate(scores: &[f64], policy: &[f64], k: usize, ell: usize) -> f64 {
    let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let worth: Vec<f64> = scores.iter().zip(policy).filter(|(_, &p)| p > 0.0).map(|(s, _)| (s - top).exp()).collect();
    rate_bound(worth.iter(), k) - 1.0 + ell as f64
}

fn score_span(scores: &[f64]) -> f64 {
    let (lo, hi) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    hi - lo
}

/// Calls `f` with every ℓ-multiset whose smallest member is `first`, given as
/// its distinct members with multiplicities (`(response, multiplicity)`).
fn for_each_multiset_from(n: usize, ell: usize, first: usize, mut f: impl FnMut(&[(usize, usize)])) {
    let mut members = vec![first; ell];
    let mut support: Vec<(usize, usize)> = Vec::with_capacity(ell);
    loop {
        support.clear();
        for &x in &members {
            match support.last_mut() {
                Some((last, count)) if *last == x => *count += 1,
                _ => support.push((x, 1)),
            }
        }
        f(&support);
        // Next non-decreasing sequence with members[0] fixed.
        let Some(i) = (1..ell).rev().find(|&i| members[i] + 1 < n) else { return };
        let next = members[i] + 1;
        members[i..].fill(next);
    }
}

/// Ranking types: `P_t(T ≻ π^{⊗k})` tabulated by (top element, multiplicity).
struct RankingTables {
    ell: usize,
    /// Per ranking type: its weight, the position of each response, the table.
    types: Vec<(f64, Vec<u32>, Vec<f64>)>,
}

impl RankingTables {
    fn new(pop: &Population, policy: &[f64], k: usize, ell: usize) -> Self {
        let n = pop.responses;
        let mut casteljau = vec![0.0; k + 1];
        let types = pop
            .types
            .iter()
            .filter_map(|t| match &t.kind {
                Kind::Ranking(r) => Some((t.weight, r)),
                Kind::Scores(_) | Kind::WeakOrder(_) => None,
            })
            .map(|(weight, ranking)| {
                let mut position = vec![0u32; n];
                let mut table = vec![0.0; n * ell];
                let mut below = 0.0;
                for (pos, &y) in ranking.iter().enumerate().rev() {
                    let y = y as usize;
                    position[y] = pos as u32;
                    let p = policy[y];
                    for m in 1..=ell {
                        table[y * ell + m - 1] = top_value(below, p, k, m, &mut casteljau);
                    }
                    below += p;
                }
                (weight, position, table)
            })
            .collect();
        RankingTables { ell, types }
    }

    fn value(&self, support: &[(usize, usize)]) -> f64 {
        let mut total = 0.0;
        for (weight, position, table) in &self.types {
            let &(top, m) = support.iter().min_by_key(|(x, _)| position[*x]).expect("multisets are non-empty");
            total += weight * table[top * self.ell + m - 1];
        }
        total
    }
}

/// `Σ_j C(k,j) B^{k−j} p^j m/(m+j)`: the chance that a multiset whose best
/// response (for this ranking) is `x`, with multiplicity `m`, beats k draws,
/// where `p = π(x)` and `B` is the mass below `x`.
fn top_value(below: f64, p: f64, k: usize, m: usize, casteljau: &mut [f64]) -> f64 {
    let at_or_below = below + p;
    if at_or_below <= 0.0 {
        return 0.0; // some draw is always better than x
    }
    let q = p / at_or_below;
    for (j, c) in casteljau.iter_mut().enumerate() {
        *c = m as f64 / (m + j) as f64;
    }
    for r in 1..=k {
        for j in 0..=k - r {
            casteljau[j] = (1.0 - q) * casteljau[j] + q * casteljau[j + 1];
        }
    }
    at_or_below.powi(k as i32) * casteljau[0]
}

/// Plackett–Luce types: the quadrature nodes and per-node factors, which do
/// not depend on the multiset.
struct PlTables<'a> {
    k: usize,
    policy: &'a [f64],
    /// Responses with π > 0 (the others never join the offered set).
    policy_support: Vec<usize>,
    /// `powers[z * (k+1) + j] = π_z^j`.
    powers: Vec<f64>,
    /// `binom[a * (k+1) + b] = C(a, b)`.
    binom: Vec<f64>,
    types: Vec<PlType>,
}

struct PlType {
    weight: f64,
    /// Worths normalised so the largest is 1.
    worth: Vec<f64>,
    /// `(s, trapezoid weight · s)` per node of the `log s` grid.
    nodes: Vec<(f64, f64)>,
    /// `decay[node * n + z] = e^{−s w_z}`.
    decay: Vec<f64>,
}

struct PlScratch {
    phi: Vec<f64>,
    next: Vec<f64>,
    q: Vec<f64>,
    shift_powers: Vec<f64>,
}

impl PlScratch {
    fn new(k: usize) -> Self {
        PlScratch { phi: vec![0.0; k + 1], next: vec![0.0; k + 1], q: vec![0.0; k + 1], shift_powers: vec![0.0; k + 1] }
    }
}

impl<'a> PlTables<'a> {
    fn new(pop: &Population, policy: &'a [f64], k: usize, ell: usize) -> Self {
        let n = pop.responses;
        let w = k + 1;
        let binom = crate::cpu::binomial_table(k);
        let mut powers = vec![0.0; n * w];
        for z in 0..n {
            let mut p = 1.0;
            for j in 0..w {
                powers[z * w + j] = p;
                p *= policy[z];
            }
        }
        let types = pop
            .types
            .iter()
            .filter_map(|t| match &t.kind {
                Kind::Scores(s) => Some((t.weight, s)),
                Kind::Ranking(_) | Kind::WeakOrder(_) => None,
            })
            .map(|(weight, scores)| {
                let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let worth: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
                let rate = integrand_rate(scores, policy, k, ell);
                let nodes: Vec<(f64, f64)> = GRID_F64.rule(score_span(scores), rate).collect();
                let decay = nodes.iter().flat_map(|&(s, _)| worth.iter().map(move |w| (-s * w).exp())).collect();
                PlType { weight, worth, nodes, decay }
            })
            .collect();
        PlTables { k, policy, policy_support: (0..n).filter(|&z| policy[z] > 0.0).collect(), powers, binom, types }
    }

    fn value(&self, support: &[(usize, usize)], scratch: &mut PlScratch) -> f64 {
        let k = self.k;
        let w = k + 1;
        let n = self.policy.len();
        let in_support = |z: usize| support.iter().any(|&(x, _)| x == z);
        let mass: f64 = support.iter().map(|&(x, _)| self.policy[x]).sum();
        let binom_k = &self.binom[k * w..(k + 1) * w];
        let mut total = 0.0;
        for t in &self.types {
            let worth_s: f64 = support.iter().map(|&(x, _)| t.worth[x]).sum();
            let mut integral = 0.0;
            for (node, &(s, node_weight)) in t.nodes.iter().enumerate() {
                let decay = &t.decay[node * n..(node + 1) * n];
                // Φ = Π_{z ∉ S, π_z > 0} F_z in EGF form.
                scratch.phi.fill(0.0);
                scratch.phi[0] = 1.0;
                for &z in &self.policy_support {
                    if in_support(z) {
                        continue;
                    }
                    let e = decay[z];
                    let pw = &self.powers[z * w..(z + 1) * w];
                    for m in 0..w {
                        let row = &self.binom[m * w..m * w + m + 1];
                        // F_z coefficient 0 is 1, coefficient j ≥ 1 is e π_z^j.
                        let mut acc = scratch.phi[m];
                        for i in 0..m {
                            acc += row[i] * scratch.phi[i] * e * pw[m - i];
                        }
                        scratch.next[m] = acc;
                    }
                    std::mem::swap(&mut scratch.phi, &mut scratch.next);
                }
                let mut inner = 0.0;
                for &(x, copies) in support {
                    let px = &self.powers[x * w..(x + 1) * w];
                    let shift = mass - self.policy[x];
                    let mut p = 1.0;
                    for j in 0..w {
                        scratch.shift_powers[j] = p;
                        p *= shift;
                    }
                    // Q = EGF of e^{shift·u} · Σ_c π_x^c u^c/c! · copies/(copies + c), up to degree k.
                    for deg in 0..w {
                        let row = &self.binom[deg * w..deg * w + deg + 1];
                        let mut acc = 0.0;
                        for c in 0..=deg {
                            acc += row[c] * px[c] * copies as f64 / (copies + c) as f64 * scratch.shift_powers[deg - c];
                        }
                        scratch.q[deg] = acc;
                    }
                    let mut h = 0.0;
                    for i in 0..w {
                        h += binom_k[i] * scratch.phi[i] * scratch.q[k - i];
                    }
                    inner += t.worth[x] * h;
                }
                integral += node_weight * (-s * worth_s).exp() * inner;
            }
            total += t.weight * integral;
        }
        total
    }
}
