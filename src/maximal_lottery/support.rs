//! Step 1 of the canonical maximal lottery without the linear program, when
//! the face can be proved from a guessed support.
//!
//! If some set `S` carries a lottery `q` with `q_x > 0` on `S`,
//! `(qᵀM)_y = 0` on `S` and `(qᵀM)_y > 0` off `S`, then `q` is a maximal
//! lottery, and `S` is exactly the essential set and its complement exactly
//! the slack rows: every maximal lottery `π` has `πᵀMq = 0` (skew symmetry
//! and `πᵀM ≥ 0`, `qᵀM ≥ 0`), so `(πᵀM)_x = 0` wherever `q_x > 0` and
//! `π_y = 0` wherever `(qᵀM)_y > 0`. That is the face the LP of step 1
//! reports, so the rest of the computation, and its result, are the same.
//!
//! Candidates are the odd subsets of the top cycle (the smallest prefix of
//! the responses ordered by pairwise wins that beats everything outside
//! it), smallest first: a Condorcet winner is the one-element case, and
//! supports of maximal lotteries of random populations are mostly 1, 3 or 5
//! responses. A candidate counts only with a margin of [`PROOF_MARGIN`] in
//! every strict inequality, so that no decision rests on rounding; anything
//! else (ties, large top cycles) is left to the LP.

/// Least mass on the support, and least slack off it, for a proof.
const PROOF_MARGIN: f64 = 1e-9;

/// Candidate supports tried before leaving the face to the LP.
const MAX_CANDIDATES: usize = 512;

/// The proved essential set (ascending), or `None` when no candidate is
/// proved.
pub(super) fn proven_support(margin: &[Vec<f64>]) -> Option<Vec<usize>> {
    let beaten = Beaten::new(margin);
    let top = beaten.top_cycle();
    let p = top.len();
    let mut tried = 0;
    let mut work = Work::default();
    let mut s = Vec::with_capacity(p);
    for size in (1..=p).step_by(2) {
        tried += binomial(p, size);
        if tried > MAX_CANDIDATES {
            return None;
        }
        let mut pick: Vec<usize> = (0..size).collect();
        loop {
            s.clear();
            s.extend(pick.iter().map(|&i| top[i]));
            s.sort_unstable();
            if beaten.covers_the_rest(&s) && work.proves(margin, &s) {
                return Some(s);
            }
            if !next_combination(&mut pick, p) {
                break;
            }
        }
    }
    None
}

/// Which responses each response strictly beats, as bit sets: a candidate
/// `S` can be proved only if every response outside it is beaten by some
/// member (otherwise its row `Σ_{x∈S} q_x M(x,y)` is a sum of products of a
/// positive and a nonpositive number, never above 0 in floating point
/// either), so this rules candidates out before their system is solved.
struct Beaten {
    n: usize,
    words: usize,
    /// Row `x` (`words` words): bit `y` is set when `M(x,y) > 0`.
    bits: Vec<u64>,
}

impl Beaten {
    fn new(margin: &[Vec<f64>]) -> Beaten {
        let n = margin.len();
        let words = n.div_ceil(64);
        let mut bits = vec![0u64; n * words];
        for (x, row) in margin.iter().enumerate() {
            for (y, &m) in row.iter().enumerate() {
                // Without a branch: the signs of margins are coin flips.
                bits[x * words + y / 64] |= u64::from(m > 0.0) << (y % 64);
            }
        }
        Beaten { n, words, bits }
    }

    /// The smallest prefix of the responses, ordered by the number of
    /// responses each strictly beats, whose members all strictly beat every
    /// response outside it. A prefix of size `p` is one exactly when its wins
    /// add up to `p(p−1)/2 + p(n−p)`: at most `p(p−1)/2` wins fall inside it.
    fn top_cycle(&self) -> Vec<usize> {
        let (n, w) = (self.n, self.words);
        let wins: Vec<usize> =
            (0..n).map(|x| self.bits[x * w..][..w].iter().map(|b| b.count_ones() as usize).sum()).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| wins[b].cmp(&wins[a]));
        let mut total = 0;
        for p in 1..=n {
            total += wins[order[p - 1]];
            if total == p * (p - 1) / 2 + p * (n - p) {
                order.truncate(p);
                return order;
            }
        }
        order
    }

    /// Whether every response outside `s` is beaten by a member of `s`.
    fn covers_the_rest(&self, s: &[usize]) -> bool {
        let (n, w) = (self.n, self.words);
        (0..w).all(|word| {
            let mut covered = 0u64;
            let mut members = 0u64;
            for &x in s {
                covered |= self.bits[x * w + word];
                if x / 64 == word {
                    members |= 1 << (x % 64);
                }
            }
            let span = (n - word * 64).min(64);
            let all = if span == 64 { u64::MAX } else { (1u64 << span) - 1 };
            (covered | members) & all == all
        })
    }
}

/// Reused buffers for the candidate systems.
#[derive(Default)]
struct Work {
    a: Vec<f64>,
    q: Vec<f64>,
}

impl Work {
    /// Whether `s` (ascending) is proved to be the essential set: solves
    /// `(qᵀM)_y = 0` for all but the last `y ∈ S` and `Σq = 1` by Gaussian
    /// elimination (skew symmetry then gives the last equation, checked
    /// anyway), and checks every inequality with [`PROOF_MARGIN`].
    fn proves(&mut self, margin: &[Vec<f64>], s: &[usize]) -> bool {
        let k = s.len();
        self.a.clear();
        for (r, &y) in s.iter().enumerate() {
            if r + 1 < k {
                self.a.extend(s.iter().map(|&x| margin[x][y]));
                self.a.push(0.0);
            } else {
                self.a.extend(std::iter::repeat_n(1.0, k));
                self.a.push(1.0);
            }
        }
        if !solve_augmented(&mut self.a, k, &mut self.q) {
            return false;
        }
        if self.q.iter().any(|&v| !(v >= PROOF_MARGIN)) {
            return false;
        }
        let row = |y: usize| s.iter().zip(&self.q).map(|(&x, &v)| v * margin[x][y]).sum::<f64>();
        if row(s[k - 1]).abs() > PROOF_MARGIN {
            return false;
        }
        (0..margin.len()).filter(|y| s.binary_search(y).is_err()).all(|y| row(y) >= PROOF_MARGIN)
    }
}

/// Solves the `k × k` system held row-major with its right-hand side as a
/// last column (`a` is `k × (k+1)`) by Gaussian elimination with partial
/// pivoting; `false` when a pivot is numerically zero.
fn solve_augmented(a: &mut [f64], k: usize, x: &mut Vec<f64>) -> bool {
    let w = k + 1;
    for c in 0..k {
        let pivot = (c..k).max_by(|&i, &j| a[i * w + c].abs().total_cmp(&a[j * w + c].abs())).unwrap_or(c);
        if !(a[pivot * w + c].abs() > 1e-12) {
            return false;
        }
        if pivot != c {
            for j in 0..w {
                a.swap(c * w + j, pivot * w + j);
            }
        }
        for r in c + 1..k {
            let f = a[r * w + c] / a[c * w + c];
            if f != 0.0 {
                for j in c..w {
                    a[r * w + j] -= f * a[c * w + j];
                }
            }
        }
    }
    x.clear();
    x.resize(k, 0.0);
    for r in (0..k).rev() {
        let s: f64 = (r + 1..k).map(|j| a[r * w + j] * x[j]).sum();
        x[r] = (a[r * w + k] - s) / a[r * w + r];
    }
    x.iter().all(|v| v.is_finite())
}

/// Advances `pick` (strictly increasing indices below `p`) to the next
/// combination in lexicographic order; `false` after the last.
fn next_combination(pick: &mut [usize], p: usize) -> bool {
    let k = pick.len();
    for i in (0..k).rev() {
        if pick[i] < p - k + i {
            pick[i] += 1;
            for j in i + 1..k {
                pick[j] = pick[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

fn binomial(n: usize, r: usize) -> usize {
    (0..r).fold(1usize, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_enumerated_once_each_in_order() {
        let mut pick = vec![0, 1];
        let mut seen = vec![pick.clone()];
        while next_combination(&mut pick, 4) {
            seen.push(pick.clone());
        }
        assert_eq!(seen, [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
        assert_eq!(binomial(8, 3), 56);
    }

    /// Margins of `m` random rankings with random weights.
    fn random_margins(n: usize, m: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut margin = vec![vec![0.0; n]; n];
        for _ in 0..m {
            let w = (1 + next() % 1000) as f64 / 1000.0;
            let mut r: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                r.swap(i, next() % (i + 1));
            }
            for i in 0..n {
                for j in i + 1..n {
                    margin[r[i]][r[j]] += w;
                    margin[r[j]][r[i]] -= w;
                }
            }
        }
        margin
    }

    /// On random rankings (impartial cultures) a support is proved almost
    /// always, and it is the support of the LP-found maximal lottery, which
    /// is unique.
    #[test]
    fn proved_supports_are_those_of_the_unique_lottery() {
        let (mut proved, mut mixed) = (0, 0);
        for case in 0..400u64 {
            let n = 3 + case as usize % 7;
            let margin = random_margins(n, 1 + case as usize % 16, case);
            let Some(s) = proven_support(&margin) else { continue };
            let ml = super::super::canonical_by_lp(&margin).expect("the LP finds the lottery");
            assert!(ml.unique, "case {case}: {ml:?}");
            assert_eq!(s, (0..n).filter(|&y| ml.policy[y] > 0.0).collect::<Vec<_>>(), "case {case}: {ml:?}");
            proved += 1;
            mixed += usize::from(s.len() > 1);
        }
        assert!(proved >= 300 && mixed >= 50, "{proved} proved, {mixed} mixed");
    }

    #[test]
    fn the_top_cycle_of_a_condorcet_winner_is_the_winner() {
        // 2 beats 0 and 1; 0 beats 1.
        let m = vec![vec![0.0, 0.2, -0.1], vec![-0.2, 0.0, -0.3], vec![0.1, 0.3, 0.0]];
        assert_eq!(Beaten::new(&m).top_cycle(), [2]);
        assert_eq!(proven_support(&m), Some(vec![2]));
    }
}
