//! The statistics of `history.csv`: at each iteration of a grid, over each
//! population's latest checkpoint at or before it, the mean, median and
//! worst `E_k`, the mean `R_k`, the mean `R(μ_t)`, and the mean and worst
//! gap `bound − R(μ_t)`.
//!
//! Only the median needs order, and only of `E_k`: a grid point costs one
//! pass over the populations' current values (the sums, the extremes, the
//! `E_k` values gathered) and one selection of the median, no sort. From one
//! grid point to the next only the populations that reach a new checkpoint
//! are read again (most stop early, and the grid is finer than the
//! checkpoints late in a run).
//!
//! The means sum in population order, left to right, so they do not depend
//! on threads; the medians and worsts are the values a sort would give.

use super::percentile::percentile_unsorted;
use crate::dynamics::Checkpoint;

/// The values of one iteration; NaN where no population has a value (NaN
/// values are left out, as in every table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// The populations with a checkpoint at or before the iteration.
    pub populations: usize,
    pub e_mean: f64,
    pub e_median: f64,
    /// The largest `E_k` (high is bad).
    pub e_worst: f64,
    pub r_mean: f64,
    pub avg_r_mean: f64,
    pub gap_mean: f64,
    /// `bound −` the smallest `R(μ_t)`: the largest gap, as rounding is
    /// monotone.
    pub gap_worst: f64,
}

pub struct HistoryStats<'h> {
    histories: Vec<&'h [Checkpoint]>,
    bound: f64,
    /// Per population: its next checkpoint not yet reached.
    cursors: Vec<Cursor>,
    /// The populations with checkpoints ahead.
    active: Vec<usize>,
    /// Per population: `E_k`, `R_k` and `R(μ_t)` of its latest checkpoint,
    /// NaN before its first (left out as NaN values are).
    current: Vec<[f64; 3]>,
    last_it: usize,
    populations: usize,
    /// The `E_k` values of an iteration, reused: arrays of a value per
    /// population are large enough to be returned to the system when freed.
    e: Vec<f64>,
}

#[derive(Clone, Copy)]
struct Cursor {
    next: usize,
    /// The iteration of `next` (`usize::MAX` past the end): most populations
    /// reach no checkpoint at an iteration, and this spares reading their
    /// history (an allocation of its own, out of cache).
    next_iteration: usize,
}

/// A running sum in the order values arrive, and how many arrived.
#[derive(Clone, Copy)]
struct Sum {
    // From −0 as `Iterator::sum`: values that are all −0 sum to −0.
    total: f64,
    count: usize,
}

impl Sum {
    const EMPTY: Sum = Sum { total: -0.0, count: 0 };

    fn add(&mut self, x: f64) {
        self.total += x;
        self.count += 1;
    }

    /// NaN when empty (`0 / 0`).
    fn mean(self) -> f64 {
        self.total / self.count as f64
    }
}

impl<'h> HistoryStats<'h> {
    /// The statistics of `histories` (one per population, in its order;
    /// empty ones never count) with the gap measured from `bound`.
    pub fn new(histories: &[&'h [Checkpoint]], bound: f64) -> Self {
        let histories: Vec<&[Checkpoint]> = histories.iter().copied().filter(|h| !h.is_empty()).collect();
        let cursors: Vec<Cursor> =
            histories.iter().map(|h| Cursor { next: 0, next_iteration: h[0].iteration }).collect();
        HistoryStats {
            active: (0..cursors.len()).collect(),
            current: vec![[f64::NAN; 3]; cursors.len()],
            e: Vec::with_capacity(cursors.len()),
            histories,
            cursors,
            bound,
            last_it: 0,
            populations: 0,
        }
    }

    /// The statistics of each population's latest checkpoint at or before
    /// `it`; `it` must not decrease from one call to the next.
    pub fn at(&mut self, it: usize) -> Stats {
        assert!(it >= self.last_it, "iterations are visited in increasing order");
        self.last_it = it;
        for &p in &self.active {
            let c = &mut self.cursors[p];
            if c.next_iteration > it {
                continue;
            }
            if c.next == 0 {
                self.populations += 1;
            }
            let h = self.histories[p];
            while c.next < h.len() && h[c.next].iteration <= it {
                c.next += 1;
            }
            c.next_iteration = h.get(c.next).map_or(usize::MAX, |n| n.iteration);
            let now = &h[c.next - 1];
            self.current[p] = [now.exploitability, now.robust_alignment, now.average_robust_alignment];
        }
        let cursors = &self.cursors;
        self.active.retain(|&p| cursors[p].next_iteration != usize::MAX);

        let (mut e_sum, mut r_sum, mut avg_sum, mut gap_sum) = (Sum::EMPTY, Sum::EMPTY, Sum::EMPTY, Sum::EMPTY);
        let (mut e_max, mut avg_min) = (f64::NAN, f64::NAN);
        // The extremes by `total_cmp` (a sort's ends), NaN until a value.
        let extreme = |best: &mut f64, x: f64, keep: std::cmp::Ordering| {
            if best.is_nan() || x.total_cmp(best) == keep {
                *best = x;
            }
        };
        self.e.clear();
        for &[e, r, avg] in &self.current {
            if !e.is_nan() {
                e_sum.add(e);
                extreme(&mut e_max, e, std::cmp::Ordering::Greater);
                self.e.push(e);
            }
            if !r.is_nan() {
                r_sum.add(r);
            }
            if !avg.is_nan() {
                avg_sum.add(avg);
                // Never NaN: `bound` is finite.
                gap_sum.add(self.bound - avg);
                extreme(&mut avg_min, avg, std::cmp::Ordering::Less);
            }
        }
        Stats {
            populations: self.populations,
            e_mean: e_sum.mean(),
            e_median: percentile_unsorted(&mut self.e, 0.5),
            e_worst: e_max,
            r_mean: r_sum.mean(),
            avg_r_mean: avg_sum.mean(),
            gap_mean: gap_sum.mean(),
            gap_worst: self.bound - avg_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::summarize;
    use super::*;

    /// Random histories: some empty, some stopping early, several
    /// checkpoints at one iteration, NaN in each metric on its own, signed
    /// zeros, and rarely an infinity.
    fn histories(count: usize, seed: u64) -> Vec<Vec<Checkpoint>> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        (0..count)
            .map(|_| {
                let len = next() % 12;
                let mut iteration = next() % 3;
                (0..len)
                    .map(|_| {
                        let mut value = || match next() % 200 {
                            0..=5 => f64::NAN,
                            6 => -0.0,
                            7 => 0.0,
                            8 if next() % 8 == 0 => f64::INFINITY,
                            _ => (next() % 5000) as f64 / 701.0 - 3.0,
                        };
                        let c = Checkpoint {
                            iteration,
                            exploitability: value(),
                            robust_alignment: value(),
                            average_robust_alignment: value(),
                            average_regret: 0.0,
                        };
                        // Steps of 0 repeat an iteration.
                        iteration += next() % 4;
                        c
                    })
                    .collect()
            })
            .collect()
    }

    /// `got` is `want` up to the rounding of a sum in another order: within
    /// a few ulps of the sum of magnitudes; the same bits when not finite.
    fn assert_mean(got: f64, want: f64, values: &[f64], what: &str) {
        if !want.is_finite() {
            assert_eq!(got.to_bits(), want.to_bits(), "{what}: {got} against {want}");
            return;
        }
        let scale = values.iter().map(|x| x.abs()).sum::<f64>() / values.len() as f64;
        assert!((got - want).abs() <= 1e-13 * scale, "{what}: {got} against {want}");
    }

    /// Against the direct computation: at each iteration, every population's
    /// latest checkpoint, summarized as `cells.csv` summarizes a sample
    /// (sorted, the mean summed in sorted order).
    #[test]
    fn the_stats_are_those_of_every_population_sorted() {
        for seed in [1, 2, 3] {
            let histories = histories(3000, seed);
            let refs: Vec<&[Checkpoint]> = histories.iter().map(|h| h.as_slice()).collect();
            let bound = 0.75;
            let mut stats = HistoryStats::new(&refs, bound);
            // Repeated and close iterations change few values, far apart
            // ones most; past the last checkpoint, none.
            for it in [0, 0, 1, 2, 3, 3, 5, 6, 8, 13, 21, 22, 34, 55, 60] {
                let at: Vec<&Checkpoint> =
                    refs.iter().filter_map(|h| h.iter().take_while(|c| c.iteration <= it).last()).collect();
                let got = stats.at(it);
                let what = |m: &str| format!("seed {seed}, iteration {it}, {m}");
                assert_eq!(got.populations, at.len(), "{}", what("populations"));
                let values = |f: fn(&Checkpoint) -> f64| -> Vec<f64> {
                    at.iter().map(|c| f(c)).filter(|x| !x.is_nan()).collect()
                };
                let e = values(|c| c.exploitability);
                let r = values(|c| c.robust_alignment);
                let avg = values(|c| c.average_robust_alignment);
                let gap: Vec<f64> = avg.iter().map(|a| bound - a).collect();
                let [e_mean, e_median, _, e_worst] = summarize(&e, true);
                let [gap_mean, _, _, gap_worst] = summarize(&gap, true);
                let bits = |x: f64| x.to_bits();
                assert_eq!(bits(got.e_median), bits(e_median), "{}", what("e median"));
                assert_eq!(bits(got.e_worst), bits(e_worst), "{}", what("e worst"));
                assert_eq!(bits(got.gap_worst), bits(gap_worst), "{}", what("gap worst"));
                assert_mean(got.e_mean, e_mean, &e, &what("e mean"));
                assert_mean(got.r_mean, summarize(&r, false)[0], &r, &what("r mean"));
                assert_mean(got.avg_r_mean, summarize(&avg, false)[0], &avg, &what("avg_r mean"));
                assert_mean(got.gap_mean, gap_mean, &gap, &what("gap mean"));
            }
        }
    }

    /// The means are the straight sums in population order, whatever the
    /// order of the checkpoints' arrival.
    #[test]
    fn the_means_sum_in_population_order() {
        let checkpoint = |iteration, x| Checkpoint {
            iteration,
            exploitability: x,
            robust_alignment: x,
            average_robust_alignment: x,
            average_regret: 0.0,
        };
        // Summed in population order, 1e16 absorbs the first 1 (ties to
        // even) and the mean is 1/4; in sorted order it absorbs both (0), in
        // the order of arrival (the ones first) neither (1/2).
        let h =
            [vec![checkpoint(1, 1e16)], vec![checkpoint(0, 1.0)], vec![checkpoint(2, -1e16)], vec![checkpoint(0, 1.0)]];
        let refs: Vec<&[Checkpoint]> = h.iter().map(|h| h.as_slice()).collect();
        let got = HistoryStats::new(&refs, 0.75).at(2);
        assert_eq!((got.e_mean, got.r_mean, got.avg_r_mean), (0.25, 0.25, 0.25));
        assert_eq!(got.e_median, 1.0);
    }

    #[test]
    fn no_value_is_nan_and_no_population_is_zero() {
        let nan = Checkpoint {
            iteration: 3,
            exploitability: f64::NAN,
            robust_alignment: f64::NAN,
            average_robust_alignment: f64::NAN,
            average_regret: 0.0,
        };
        let h = [vec![], vec![nan]];
        let refs: Vec<&[Checkpoint]> = h.iter().map(|h| h.as_slice()).collect();
        let mut stats = HistoryStats::new(&refs, 0.75);
        let before = stats.at(2);
        assert_eq!(before.populations, 0);
        let after = stats.at(3);
        assert_eq!(after.populations, 1);
        for s in [before, after] {
            let all = [s.e_mean, s.e_median, s.e_worst, s.r_mean, s.avg_r_mean, s.gap_mean, s.gap_worst];
            assert!(all.iter().all(|x| x.is_nan()));
        }
    }
}
