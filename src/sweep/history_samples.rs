//! The checkpoint metrics of a cell's populations at each iteration of
//! `history.csv`, sorted, without sorting every population again at every
//! iteration.
//!
//! A population whose last checkpoint is at or before the iteration keeps its
//! final values from then on, and most populations stop long before the last
//! one does. Their values join a sorted array once, by a merge; at each
//! iteration only the populations still running are sorted and merged in.
//! Values equal under `total_cmp` are bit-identical, so the merged arrays are
//! exactly what sorting all the values would give, and every statistic
//! computed from them (the mean sums in sorted order) is unchanged.

use super::radix::sort_total;
use crate::dynamics::Checkpoint;

/// Metrics per checkpoint: `E_k`, `R_k`, `R(μ_t)` and `bound − R(μ_t)`.
pub const METRICS: usize = 4;

fn metrics(c: &Checkpoint, bound: f64) -> [f64; METRICS] {
    [c.exploitability, c.robust_alignment, c.average_robust_alignment, bound - c.average_robust_alignment]
}

pub struct HistorySamples<'a> {
    /// Histories (non-empty), by the iteration of their last checkpoint.
    by_end: Vec<&'a [Checkpoint]>,
    bound: f64,
    /// Histories `by_end[..stopped]` have stopped; `frozen` holds their
    /// final values, sorted, NaN left out.
    stopped: usize,
    frozen: [Vec<f64>; METRICS],
    last_it: usize,
    /// Buffers reused from one iteration to the next (arrays of a value per
    /// population are large enough to be returned to the system when freed).
    joining: [Vec<f64>; METRICS],
    running: [Vec<f64>; METRICS],
    merged: [Vec<f64>; METRICS],
}

/// The values at one iteration: each metric sorted (NaN left out), and how
/// many populations have a checkpoint at or before the iteration.
pub struct Samples<'s> {
    pub sorted: &'s [Vec<f64>; METRICS],
    pub populations: usize,
}

impl<'a> HistorySamples<'a> {
    pub fn new(histories: &[&'a [Checkpoint]], bound: f64) -> Self {
        let mut by_end: Vec<&[Checkpoint]> = histories.iter().copied().filter(|h| !h.is_empty()).collect();
        by_end.sort_by_key(|h| h[h.len() - 1].iteration);
        HistorySamples {
            by_end,
            bound,
            stopped: 0,
            frozen: Default::default(),
            last_it: 0,
            joining: Default::default(),
            running: Default::default(),
            merged: Default::default(),
        }
    }

    /// Each population's latest checkpoint at or before `it`; `it` must not
    /// decrease from one call to the next.
    pub fn at(&mut self, it: usize) -> Samples<'_> {
        assert!(it >= self.last_it, "iterations are visited in increasing order");
        self.last_it = it;
        self.joining.iter_mut().chain(&mut self.running).for_each(Vec::clear);
        while let Some(h) = self.by_end.get(self.stopped).filter(|h| h[h.len() - 1].iteration <= it) {
            push(&mut self.joining, metrics(&h[h.len() - 1], self.bound));
            self.stopped += 1;
        }
        let mut populations = self.stopped;
        for h in &self.by_end[self.stopped..] {
            if let Some(c) = h.iter().take_while(|c| c.iteration <= it).last() {
                push(&mut self.running, metrics(c, self.bound));
                populations += 1;
            }
        }
        for m in 0..METRICS {
            if !self.joining[m].is_empty() {
                sort_total(&mut self.joining[m]);
                merge(&self.frozen[m], &self.joining[m], &mut self.merged[m]);
                std::mem::swap(&mut self.frozen[m], &mut self.merged[m]);
            }
            sort_total(&mut self.running[m]);
            merge(&self.frozen[m], &self.running[m], &mut self.merged[m]);
        }
        Samples { sorted: &self.merged, populations }
    }
}

fn push(into: &mut [Vec<f64>; METRICS], values: [f64; METRICS]) {
    for (v, x) in into.iter_mut().zip(values) {
        if !x.is_nan() {
            v.push(x);
        }
    }
}

/// The sorted union of two sorted arrays, into `out`.
fn merge(a: &[f64], b: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].total_cmp(&b[j]).is_le() {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
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
        let histories: Vec<Vec<Checkpoint>> = (0..300)
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
        for it in [0, 1, 2, 3, 5, 8, 13, 21, 34, 55] {
            let at: Vec<&Checkpoint> =
                refs.iter().filter_map(|h| h.iter().take_while(|c| c.iteration <= it).last()).collect();
            let got = samples.at(it);
            assert_eq!(got.populations, at.len(), "iteration {it}");
            for m in 0..METRICS {
                let mut want: Vec<f64> = at.iter().map(|c| metrics(c, 0.75)[m]).filter(|x| !x.is_nan()).collect();
                want.sort_by(f64::total_cmp);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got.sorted[m]), bits(&want), "iteration {it}, metric {m}");
            }
        }
    }
}
