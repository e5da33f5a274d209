//! The statistics of `history.csv`: at each iteration of a grid, over each
//! population's latest checkpoint at or before it, the mean, median and
//! worst `E_k`, the mean `R_k`, the mean `R(μ_t)`, and the mean and worst
//! gap `bound − R(μ_t)`.
//!
//! Only the median needs order, and only of `E_k`: per grid point, sums,
//! extremes and one selection, no sort. The histories are read population
//! by population, each from its start to its end, its values added to every
//! grid point's statistics: each history is an allocation of its own, and
//! reading them in this order streams through memory where visiting every
//! population again at every grid point would wait on a cache miss per
//! population and grid point. So the means sum in population order, left to
//! right, and do not depend on threads; the medians and worsts are the
//! values a sort would give.

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

/// Grid points whose `E_k` values are held at once (a value per population
/// each), so that a fine grid does not hold them all. Each block reads the
/// histories again from where the last one left them: the default grid (24
/// points) is one block.
const BLOCK: usize = 32;

/// The statistics at each iteration of `grid` (non-decreasing) of
/// `histories` (one per population, in its order; empty ones never count),
/// the gap measured from `bound`.
pub fn history_stats(histories: &[&[Checkpoint]], grid: &[usize], bound: f64) -> Vec<Stats> {
    let mut stats = Vec::with_capacity(grid.len());
    // Per population: its checkpoints before the current block's end.
    let mut reached = vec![0usize; histories.len()];
    let point = || Point::empty(Vec::with_capacity(histories.len()));
    let mut points: Vec<Point> = (0..BLOCK.min(grid.len())).map(|_| point()).collect();
    for block in grid.chunks(BLOCK) {
        let points = &mut points[..block.len()];
        points.iter_mut().for_each(Point::clear);
        for (h, reached) in histories.iter().zip(&mut reached) {
            for (point, &it) in points.iter_mut().zip(block) {
                while *reached < h.len() && h[*reached].iteration <= it {
                    *reached += 1;
                }
                if let Some(c) = reached.checked_sub(1).map(|i| &h[i]) {
                    point.add(c, bound);
                }
            }
        }
        stats.extend(points.iter_mut().map(|p| p.stats(bound)));
    }
    stats
}

/// The statistics of one grid point as populations are added.
struct Point {
    populations: usize,
    e: Sum,
    r: Sum,
    avg: Sum,
    gap: Sum,
    /// The extremes by `total_cmp` (a sort's ends), NaN until a value.
    e_max: f64,
    avg_min: f64,
    /// The `E_k` values, reused from one block to the next: arrays of a
    /// value per population are large enough to be returned to the system
    /// when freed.
    e_values: Vec<f64>,
}

impl Point {
    fn empty(e_values: Vec<f64>) -> Point {
        let sum = Sum::EMPTY;
        Point { populations: 0, e: sum, r: sum, avg: sum, gap: sum, e_max: f64::NAN, avg_min: f64::NAN, e_values }
    }

    fn clear(&mut self) {
        let mut e_values = std::mem::take(&mut self.e_values);
        e_values.clear();
        *self = Point::empty(e_values);
    }

    fn add(&mut self, c: &Checkpoint, bound: f64) {
        self.populations += 1;
        let (e, r, avg) = (c.exploitability, c.robust_alignment, c.average_robust_alignment);
        if !e.is_nan() {
            self.e.add(e);
            extreme(&mut self.e_max, e, std::cmp::Ordering::Greater);
            self.e_values.push(e);
        }
        if !r.is_nan() {
            self.r.add(r);
        }
        if !avg.is_nan() {
            self.avg.add(avg);
            // Never NaN: `bound` is finite.
            self.gap.add(bound - avg);
            extreme(&mut self.avg_min, avg, std::cmp::Ordering::Less);
        }
    }

    fn stats(&mut self, bound: f64) -> Stats {
        Stats {
            populations: self.populations,
            e_mean: self.e.mean(),
            e_median: percentile_unsorted(&mut self.e_values, 0.5),
            e_worst: self.e_max,
            r_mean: self.r.mean(),
            avg_r_mean: self.avg.mean(),
            gap_mean: self.gap.mean(),
            gap_worst: bound - self.avg_min,
        }
    }
}

/// `best` replaced by `x` where `x` compares to it as `keep` (or it is NaN).
fn extreme(best: &mut f64, x: f64, keep: std::cmp::Ordering) {
    if best.is_nan() || x.total_cmp(best) == keep {
        *best = x;
    }
}

/// A running sum in the order values arrive, and how many arrived.
#[derive(Clone, Copy)]
struct Sum {
    total: f64,
    count: usize,
}

impl Sum {
    // From −0 as `Iterator::sum`: values that are all −0 sum to −0.
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

#[cfg(test)]
mod tests {
    use super::super::percentile::percentile;
    use super::*;

    /// The oracle, as `cells.csv` summarizes a sample: the values sorted
    /// (NaN left out), the mean summed in that order, the median and the
    /// worst by rank.
    fn summarize(values: &[f64], high_is_bad: bool) -> [f64; 4] {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return [f64::NAN; 4];
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let median = percentile(&v, 0.5);
        if high_is_bad {
            [mean, median, percentile(&v, 0.95), v[v.len() - 1]]
        } else {
            [mean, median, percentile(&v, 0.05), v[0]]
        }
    }

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
    /// 1e-13 of the values' mean magnitude (the rounding error of a mean of
    /// n values is at most about n ulps of it, and typically √n), the same
    /// bits when not finite.
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
            // Repeated iterations, more grid points than a block holds, the
            // last ones past every checkpoint.
            let grid: Vec<usize> = (0..40).flat_map(|i| vec![i; 1 + (i % 7 == 0) as usize]).chain([55, 60]).collect();
            assert!(grid.len() > BLOCK);
            let stats = history_stats(&refs, &grid, bound);
            assert_eq!(stats.len(), grid.len());
            for (&it, &got) in grid.iter().zip(&stats) {
                let at: Vec<&Checkpoint> =
                    refs.iter().filter_map(|h| h.iter().take_while(|c| c.iteration <= it).last()).collect();
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
        let [got] = history_stats(&refs, &[2], 0.75)[..] else { panic!("one grid point") };
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
        let [before, after] = history_stats(&refs, &[2, 3], 0.75)[..] else { panic!("two grid points") };
        assert_eq!((before.populations, after.populations), (0, 1));
        for s in [before, after] {
            let all = [s.e_mean, s.e_median, s.e_worst, s.r_mean, s.avg_r_mean, s.gap_mean, s.gap_worst];
            assert!(all.iter().all(|x| x.is_nan()));
        }
    }
}
