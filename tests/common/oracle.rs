//! Brute force straight from the duplicate rule of docs/theory.md: enumerate every ordered draw, offer the
//! distinct responses, let each type choose, split credit over copies.

use ualign::{Kind, Population, UserType};

/// Probability that type `t` picks `x` from the distinct set `offered`.
pub fn choice(t: &UserType, offered: &[usize], x: usize) -> f64 {
    match &t.kind {
        Kind::Ranking(r) => {
            let best = r.iter().map(|&y| y as usize).find(|y| offered.contains(y)).unwrap();
            if best == x {
                1.0
            } else {
                0.0
            }
        }
        Kind::Scores(s) => {
            let total: f64 = offered.iter().map(|&y| s[y].exp()).sum();
            s[x].exp() / total
        }
        Kind::WeakOrder(classes) => {
            // Uniform among the offered responses of the best class offered.
            let best = classes.iter().find(|c| c.iter().any(|&y| offered.contains(&(y as usize)))).unwrap();
            if best.contains(&(x as u32)) {
                1.0 / best.iter().filter(|&&y| offered.contains(&(y as usize))).count() as f64
            } else {
                0.0
            }
        }
    }
}

/// `P(A ≻ B)` for multisets given as lists of responses (docs/theory.md).
pub fn p_beats(pop: &Population, a: &[usize], b: &[usize]) -> f64 {
    let mut offered: Vec<usize> = a.iter().chain(b).cloned().collect();
    offered.sort_unstable();
    offered.dedup();
    let mut distinct_a: Vec<usize> = a.to_vec();
    distinct_a.sort_unstable();
    distinct_a.dedup();
    let mut total = 0.0;
    for t in &pop.types {
        let mut p = 0.0;
        for &x in &distinct_a {
            let ca = a.iter().filter(|&&y| y == x).count() as f64;
            let cb = b.iter().filter(|&&y| y == x).count() as f64;
            p += choice(t, &offered, x) * ca / (ca + cb);
        }
        total += t.weight * p;
    }
    total
}

/// Calls `f(draw, probability)` for all `n^k` ordered draws from π^{⊗k}
/// with positive probability.
pub fn for_each_draw(policy: &[f64], k: usize, mut f: impl FnMut(&[usize], f64)) {
    let n = policy.len();
    let mut idx = vec![0usize; k];
    loop {
        let prob: f64 = idx.iter().map(|&i| policy[i]).product();
        if prob > 0.0 {
            f(&idx, prob);
        }
        let mut pos = 0;
        loop {
            if pos == k {
                return;
            }
            idx[pos] += 1;
            if idx[pos] < n {
                break;
            }
            idx[pos] = 0;
            pos += 1;
        }
    }
}

/// `P(T ≻ π^{⊗k})` for a fixed multiset `T`.
pub fn p_beats_product(pop: &Population, t: &[usize], policy: &[f64], k: usize) -> f64 {
    let mut total = 0.0;
    for_each_draw(policy, k, |draw, prob| total += prob * p_beats(pop, t, draw));
    total
}

/// The deviation vector by brute force.
pub fn deviation(pop: &Population, policy: &[f64], k: usize) -> Vec<f64> {
    (0..pop.responses).map(|y| p_beats_product(pop, &[y], policy, k)).collect()
}
