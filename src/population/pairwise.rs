//! Pairwise preferences `P(x ≻ y)` of a population: what the NLHF baseline
//! (the maximal lottery of the margins), the RLHF fit and the k = 1
//! equilibrium (the same maximal lottery) are built from.

use super::{Kind, Population};

mod pairwise_avx512;

/// `P(x ≻ y)` for every ordered pair (the duplicate rule of docs/theory.md with one response each side):
/// rankings give 0/1, Plackett–Luce types `w_x / (w_x + w_y)`; the diagonal is 1/2.
pub fn pairwise(pop: &Population) -> Vec<Vec<f64>> {
    let pw = Pairwise::of(pop);
    pw.p.chunks(pw.n).map(<[f64]>::to_vec).collect()
}

/// The pairwise preferences of a population in one row-major block, computed
/// once and shared by the NLHF and RLHF baselines.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairwise {
    /// Number of responses `n`.
    pub n: usize,
    /// `p[x * n + y] = P(x ≻ y)` as in [`pairwise`] (the same values, bit for bit).
    pub p: Vec<f64>,
    /// The total type weight, summed in type order: `P(x≻y) + P(y≻x)` for
    /// every pair up to rounding, and exactly so for a pair every type ranks
    /// the same way round.
    pub weight: f64,
}

impl Pairwise {
    /// The pairwise preferences of `pop` (see [`pairwise`]).
    pub fn of(pop: &Population) -> Pairwise {
        let n = pop.responses;
        let mut p = vec![0.0; n * n];
        if pairwise_avx512::ranking_sums(pop, &mut p) {
            let weight = pop.types.iter().fold(0.0, |sum, t| sum + t.weight);
            return Pairwise::with_diagonal(n, p, weight);
        }
        let mut weight = 0.0;
        for t in &pop.types {
            let w = t.weight;
            weight += w;
            match &t.kind {
                Kind::Ranking(r) => {
                    for (i, &x) in r.iter().enumerate() {
                        let row = &mut p[x as usize * n..][..n];
                        for &y in &r[i + 1..] {
                            row[y as usize] += w;
                        }
                    }
                }
                Kind::WeakOrder(classes) => {
                    // Over the linear extensions: a better class always
                    // wins, a tie goes either way half the time.
                    for (i, class) in classes.iter().enumerate() {
                        for &x in class {
                            let row = &mut p[x as usize * n..][..n];
                            for &y in class.iter().filter(|&&y| y != x) {
                                row[y as usize] += w / 2.0;
                            }
                            for &y in classes[i + 1..].iter().flatten() {
                                row[y as usize] += w;
                            }
                        }
                    }
                }
                Kind::Scores(s) => {
                    for x in 0..n {
                        for y in x + 1..n {
                            // w_x/(w_x+w_y) = σ(s_x − s_y), never overflowing; both
                            // orders from one exponential.
                            let d = s[x] - s[y];
                            let e = (-d.abs()).exp();
                            let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
                            let (sxy, syx) = if d >= 0.0 { (big, small) } else { (small, big) };
                            p[x * n + y] += w * sxy;
                            p[y * n + x] += w * syx;
                        }
                    }
                }
            }
        }
        Pairwise::with_diagonal(n, p, weight)
    }

    fn with_diagonal(n: usize, mut p: Vec<f64>, weight: f64) -> Pairwise {
        for x in 0..n {
            p[x * n + x] = 0.5;
        }
        Pairwise { n, p, weight }
    }

    /// The margins `M(x,y) = P(x≻y) − P(y≻x)`, row by row.
    pub fn margins(&self) -> Vec<Vec<f64>> {
        let (n, p) = (self.n, &self.p);
        (0..n).map(|x| (0..n).map(|y| p[x * n + y] - p[y * n + x]).collect()).collect()
    }
}
