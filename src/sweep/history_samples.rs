//! The checkpoint metrics of a cell's populations at each iteration of
//! `history.csv`, sorted, without sorting every population again at every
//! iteration.
//!
//! Each population's value at an iteration is that of its latest checkpoint
//! at or before it; from one iteration of the grid to the next only some
//! populations reach a new checkpoint (most stop early, and the grid is
//! finer than the checkpoints late in a run). The sorted arrays are kept
//! from one iteration to the next: the values that changed leave them and
//! their new values join them, both sorted and merged in one pass; when most
//! values changed, the arrays are sorted anew instead. Values equal under
//! `total_cmp` are bit-identical, so the arrays are exactly what sorting all
//! the values would give, and every statistic computed from them (the mean
//! sums in sorted order) is unchanged. The metrics are independent, so they
//! are updated in parallel.

use rayon::prelude::*;

use super::radix::{sort_total_with, Scratch};
use crate::dynamics::Checkpoint;

/// Metrics per checkpoint: `E_k`, `R_k`, `R(μ_t)` and `bound − R(μ_t)`.
pub const METRICS: usize = 4;

/// The metrics kept per checkpoint: all but the last, which is the third's
/// image under `x ↦ bound − x`. That map is non-increasing (rounding is
/// monotone) and never gives −0 (`bound − bound` is +0), so the last metric
/// sorted is the third sorted, reversed and mapped, bit for bit.
const STORED: usize = METRICS - 1;

fn metrics(c: &Checkpoint) -> [f64; STORED] {
    [c.exploitability, c.robust_alignment, c.average_robust_alignment]
}

pub struct HistorySamples<'h> {
    histories: Vec<&'h [Checkpoint]>,
    bound: f64,
    /// Per population: its next checkpoint not yet reached.
    cursors: Vec<Cursor>,
    /// The populations with checkpoints ahead.
    active: Vec<usize>,
    /// The values at the last iteration of the populations with a checkpoint
    /// so far, in the order they reached their first (read whole when the
    /// arrays are sorted anew), and each population's place there.
    current: Vec<[f64; STORED]>,
    slots: Vec<usize>,
    last_it: usize,
    /// The populations with a checkpoint so far.
    populations: usize,
    /// The values of the populations that reached a checkpoint at the last
    /// iteration (see [`HistorySamples::at`]): before (none before their
    /// first checkpoint) and now.
    changed: Vec<(Option<[f64; STORED]>, [f64; STORED])>,
    metrics: [Metric; STORED],
    /// The sorted arrays, handed out by [`HistorySamples::at`].
    sorted: [Vec<f64>; METRICS],
}

#[derive(Clone, Copy)]
struct Cursor {
    next: usize,
    /// The iteration of `next` (`usize::MAX` past the end): most populations
    /// reach no checkpoint at an iteration, and this spares reading their
    /// history (an allocation of its own, out of cache).
    next_iteration: usize,
}

/// One metric's values that change at an iteration, and a buffer reused from
/// one iteration to the next (arrays of a value per population are large
/// enough to be returned to the system when freed).
#[derive(Default)]
struct Metric {
    leaving: Vec<f64>,
    joining: Vec<f64>,
    merged: Vec<f64>,
    scratch: Scratch,
}

/// The values at one iteration: each metric sorted (NaN left out), and how
/// many populations have a checkpoint at or before the iteration.
pub struct Samples<'s> {
    pub sorted: &'s [Vec<f64>; METRICS],
    pub populations: usize,
}

impl<'h> HistorySamples<'h> {
    pub fn new(histories: &[&'h [Checkpoint]], bound: f64) -> Self {
        let histories: Vec<&[Checkpoint]> = histories.iter().copied().filter(|h| !h.is_empty()).collect();
        let cursors: Vec<Cursor> =
            histories.iter().map(|h| Cursor { next: 0, next_iteration: h[0].iteration }).collect();
        HistorySamples {
            active: (0..cursors.len()).collect(),
            current: Vec::with_capacity(cursors.len()),
            slots: vec![usize::MAX; cursors.len()],
            changed: Vec::with_capacity(cursors.len()),
            histories,
            cursors,
            bound,
            last_it: 0,
            populations: 0,
            metrics: Default::default(),
            sorted: Default::default(),
        }
    }

    /// Each population's latest checkpoint at or before `it`; `it` must not
    /// decrease from one call to the next.
    pub fn at(&mut self, it: usize) -> Samples<'_> {
        assert!(it >= self.last_it, "iterations are visited in increasing order");
        self.last_it = it;
        self.changed.clear();
        for &p in &self.active {
            let c = &mut self.cursors[p];
            if c.next_iteration > it {
                continue;
            }
            let h = self.histories[p];
            while c.next < h.len() && h[c.next].iteration <= it {
                c.next += 1;
            }
            c.next_iteration = h.get(c.next).map_or(usize::MAX, |n| n.iteration);
            let now = metrics(&h[c.next - 1]);
            if self.slots[p] == usize::MAX {
                self.slots[p] = self.current.len();
                self.current.push(now);
                self.changed.push((None, now));
            } else {
                let was = std::mem::replace(&mut self.current[self.slots[p]], now);
                self.changed.push((Some(was), now));
            }
        }
        self.populations += self.changed.iter().filter(|c| c.0.is_none()).count();
        let cursors = &self.cursors;
        self.active.retain(|&p| cursors[p].next_iteration != usize::MAX);
        // Sorting the values that leave costs as much as sorting those that
        // stay: past half, all the values are sorted anew.
        let anew = 2 * self.changed.len() > self.populations;
        let (changed, current) = (&self.changed, &self.current);
        let metrics = self.metrics.par_iter_mut().zip(self.sorted[..STORED].par_iter_mut()).enumerate();
        metrics.for_each(|(i, (m, sorted))| {
            let value = |v: [f64; STORED]| Some(v[i]).filter(|x| !x.is_nan());
            m.leaving.clear();
            m.joining.clear();
            if anew {
                sorted.clear();
                m.joining.extend(current.iter().map(|v| v[i]).filter(|x| !x.is_nan()));
            } else {
                m.leaving.extend(changed.iter().filter_map(|c| c.0.and_then(value)));
                m.joining.extend(changed.iter().filter_map(|c| value(c.1)));
            }
            sort_total_with(&mut m.leaving, &mut m.scratch);
            sort_total_with(&mut m.joining, &mut m.scratch);
            replace(sorted, &m.leaving, &m.joining, &mut m.merged);
            std::mem::swap(sorted, &mut m.merged);
        });
        let bound = self.bound;
        let (stored, derived) = self.sorted.split_at_mut(STORED);
        derived[0].clear();
        derived[0].extend(stored[STORED - 1].iter().rev().map(|x| bound - x));
        Samples { sorted: &self.sorted, populations: self.populations }
    }
}

/// `sorted` without `leaving` (sorted, each value one of `sorted`'s) and
/// with `joining` (sorted), sorted, into `out`.
fn replace(sorted: &[f64], leaving: &[f64], joining: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.reserve(sorted.len() - leaving.len() + joining.len());
    let (mut i, mut l, mut j) = (0, 0, 0);
    loop {
        // Equal under `total_cmp` is equal bits: any copy may leave.
        while i < sorted.len() && l < leaving.len() && sorted[i].to_bits() == leaving[l].to_bits() {
            i += 1;
            l += 1;
        }
        if i == sorted.len() || j == joining.len() {
            break;
        }
        if sorted[i].total_cmp(&joining[j]).is_le() {
            out.push(sorted[i]);
            i += 1;
        } else {
            out.push(joining[j]);
            j += 1;
        }
    }
    if i < sorted.len() {
        // What is left of `sorted` may still hold values that leave.
        for &x in &sorted[i..] {
            if l < leaving.len() && x.to_bits() == leaving[l].to_bits() {
                l += 1;
            } else {
                out.push(x);
            }
        }
    }
    out.extend_from_slice(&joining[j..]);
    debug_assert_eq!(l, leaving.len(), "every leaving value was in the sorted array");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(iteration: usize, x: f64) -> Checkpoint {
        Checkpoint {
            iteration,
            exploitability: x,
            robust_alignment: -x,
            average_robust_alignment: x * 0.5,
            average_regret: 0.0,
        }
    }

    /// Against the direct computation: every population's latest checkpoint
    /// at or before each iteration, sorted from scratch.
    #[test]
    fn the_samples_are_what_sorting_every_value_gives() {
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let histories: Vec<Vec<Checkpoint>> = (0..3000)
            .map(|p| {
                let len = next() % 12;
                let mut iteration = next() % 3;
                (0..len)
                    .map(|i| {
                        let x = if (p + i) % 37 == 0 { f64::NAN } else { (next() % 50) as f64 / 7.0 - 3.0 };
                        let c = checkpoint(iteration, x);
                        iteration += 1 + next() % 4;
                        c
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&[Checkpoint]> = histories.iter().map(|h| h.as_slice()).collect();
        let mut samples = HistorySamples::new(&refs, 0.75);
        // Repeated and close iterations change few values (kept arrays),
        // far apart ones most (arrays sorted anew).
        for it in [0, 0, 1, 2, 3, 3, 5, 6, 8, 13, 21, 22, 34, 55, 60] {
            let at: Vec<&Checkpoint> =
                refs.iter().filter_map(|h| h.iter().take_while(|c| c.iteration <= it).last()).collect();
            let got = samples.at(it);
            assert_eq!(got.populations, at.len(), "iteration {it}");
            for m in 0..METRICS {
                let all = |c: &Checkpoint| {
                    [
                        c.exploitability,
                        c.robust_alignment,
                        c.average_robust_alignment,
                        0.75 - c.average_robust_alignment,
                    ]
                };
                let mut want: Vec<f64> = at.iter().map(|c| all(c)[m]).filter(|x| !x.is_nan()).collect();
                want.sort_by(f64::total_cmp);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got.sorted[m]), bits(&want), "iteration {it}, metric {m}");
            }
        }
    }
}
