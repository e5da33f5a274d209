//! Population → packed GPU batch: the flat buffers the WGSL kernels read.
//!
//! Layout (mirrored by the constants of `shaders/layout.wgsl`):
//! - `data: [u32]` (read-only; f32 values stored as bits): binomials
//!   `C(j, i)` for `j, i ≤ k`, the checkpoint schedule, one header of
//!   [`HEADER`] words per population, then each population's payload:
//!   rankings (`m_rank × n`, best first), ranking weights, Plackett–Luce
//!   records (weight, first log-node, node count, worth offset) and worths
//!   `exp(s − max s)`.
//! - `state: [f32]` (read-write): per population four vectors of length n
//!   (policy, g / g_prev, Σ_t g_t, its Kahan compensation), [`SCALARS`]
//!   scalars and four values per checkpoint.
//!
//! All offsets are absolute, so populations of different n and m share one
//! batch without padding.

use crate::cpu::PlGrid;
use crate::population::{Kind, Population};

/// Words per population header (`HEADER` in layout.wgsl).
pub const HEADER: usize = 12;
const H_N: usize = 0;
const H_NPOW: usize = 1;
const H_M_RANK: usize = 2;
const H_M_PL: usize = 3;
const H_RANK: usize = 4;
const H_RANK_W: usize = 5;
const H_PL_META: usize = 6;
const H_VEC: usize = 7;
const H_SCALAR: usize = 8;
const H_CHECK: usize = 9;
const H_PL_NODES: usize = 10;
/// Words per Plackett–Luce type record.
pub const PL_META: usize = 4;
/// Scalars per population in `state` (`SCALARS` in layout.wgsl).
pub const SCALARS: usize = 8;
pub const S_T: usize = 0;
pub const S_ACTIVE: usize = 1;
pub const S_INNER: usize = 2;
pub const S_INNER_C: usize = 3;
pub const S_MAX_G: usize = 4;
pub const S_CP: usize = 5;
/// Vectors of length n per population in `state`.
pub const VECTORS: usize = 4;
/// Values per checkpoint record: iteration (u32 bits), max g, max Σg, Σ⟨π,g⟩.
pub const CHECK_RECORD: usize = 4;

/// Vector slots in `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Policy = 0,
    /// g(π) written by `evaluate`; g_{t−1} during self-play.
    Deviation = 1,
    SumG = 2,
    SumGComp = 3,
}

/// Where one population lives in the packed buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PopLayout {
    pub n: usize,
    pub vec_off: usize,
    pub scalar_off: usize,
    pub check_off: usize,
}

#[derive(Clone, Debug)]
pub struct PackedBatch {
    pub data: Vec<u32>,
    pub state: Vec<f32>,
    pub layouts: Vec<PopLayout>,
    pub header_off: u32,
    pub binom_off: u32,
    pub sched_off: u32,
    pub sched_len: u32,
}

/// Number of log-s nodes of a PL type whose scores span `span` nats (as
/// `PlGrid::nodes`), and the first node.
pub fn pl_nodes(grid: &PlGrid, span: f64) -> (usize, f64) {
    let x_lo = grid.s_lo.ln();
    let x_hi = grid.tail.ln() + span;
    (((x_hi - x_lo) / grid.step).ceil() as usize + 1, x_lo)
}

/// `data` words a population's payload and header take.
pub fn data_words(pop: &Population) -> usize {
    let n = pop.responses;
    HEADER
        + pop
            .types
            .iter()
            .map(|t| match t.kind {
                Kind::Ranking(_) => n + 1,
                Kind::Scores(_) => n + PL_META,
            })
            .sum::<usize>()
}

/// `state` words a population takes with `checkpoints` checkpoint records.
pub fn state_words(n: usize, checkpoints: usize) -> usize {
    VECTORS * n + SCALARS + CHECK_RECORD * checkpoints
}

/// Words shared by every chunk: binomials and the schedule.
pub fn common_words(k: usize, checkpoints: usize) -> usize {
    (k + 1) * (k + 1) + checkpoints
}

/// Packs populations with their starting policies (uniform when `None`),
/// ready for `evaluate` (the policies) or `selfplay` (from the policies).
pub fn pack(
    pops: &[Population],
    policies: Option<&[Vec<f64>]>,
    k: usize,
    schedule: &[u32],
    grid: &PlGrid,
) -> PackedBatch {
    let mut data: Vec<u32> = Vec::new();
    let binom_off = data.len();
    for j in 0..=k {
        let mut c = 1.0f64; // C(j, i), built along the row
        for i in 0..=k {
            data.push(if i <= j { (c as f32).to_bits() } else { 0 });
            c = c * (j as f64 - i as f64) / (i as f64 + 1.0);
        }
    }
    let sched_off = data.len();
    data.extend_from_slice(schedule);
    let header_off = data.len();
    data.resize(header_off + HEADER * pops.len(), 0);
    let mut state: Vec<f32> = Vec::new();
    let mut layouts = Vec::with_capacity(pops.len());
    for (p, pop) in pops.iter().enumerate() {
        let n = pop.responses;
        let ranks: Vec<(&Vec<u32>, f64)> = pop
            .types
            .iter()
            .filter_map(|t| if let Kind::Ranking(r) = &t.kind { Some((r, t.weight)) } else { None })
            .collect();
        let pls: Vec<(&Vec<f64>, f64)> = pop
            .types
            .iter()
            .filter_map(|t| if let Kind::Scores(s) = &t.kind { Some((s, t.weight)) } else { None })
            .collect();
        let mut h = [0u32; HEADER];
        h[H_N] = n as u32;
        h[H_NPOW] = n.next_power_of_two() as u32;
        h[H_M_RANK] = ranks.len() as u32;
        h[H_M_PL] = pls.len() as u32;
        h[H_RANK] = data.len() as u32;
        for (r, _) in &ranks {
            data.extend_from_slice(r);
        }
        h[H_RANK_W] = data.len() as u32;
        data.extend(ranks.iter().map(|(_, w)| (*w as f32).to_bits()));
        h[H_PL_META] = data.len() as u32;
        let worth_start = data.len() + PL_META * pls.len();
        for (i, (scores, w)) in pls.iter().enumerate() {
            let (lo, hi) =
                scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let (nodes, x_lo) = pl_nodes(grid, hi - lo);
            h[H_PL_NODES] = h[H_PL_NODES].max(nodes as u32);
            data.extend_from_slice(&[
                (*w as f32).to_bits(),
                (x_lo as f32).to_bits(),
                nodes as u32,
                (worth_start + i * n) as u32,
            ]);
        }
        for (scores, _) in &pls {
            let hi = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            data.extend(scores.iter().map(|s| ((s - hi).exp() as f32).to_bits()));
        }
        let vec_off = state.len();
        let scalar_off = vec_off + VECTORS * n;
        let check_off = scalar_off + SCALARS;
        h[H_VEC] = vec_off as u32;
        h[H_SCALAR] = scalar_off as u32;
        h[H_CHECK] = check_off as u32;
        state.resize(check_off + CHECK_RECORD * schedule.len(), 0.0);
        match policies {
            Some(ps) => state[vec_off..vec_off + n].iter_mut().zip(&ps[p]).for_each(|(s, &v)| *s = v as f32),
            None => state[vec_off..vec_off + n].fill(1.0 / n as f32),
        }
        state[scalar_off + S_ACTIVE] = f32::from_bits(1);
        data[header_off + p * HEADER..header_off + (p + 1) * HEADER].copy_from_slice(&h);
        layouts.push(PopLayout { n, vec_off, scalar_off, check_off });
    }
    PackedBatch {
        data,
        state,
        layouts,
        header_off: header_off as u32,
        binom_off: binom_off as u32,
        sched_off: sched_off as u32,
        sched_len: schedule.len() as u32,
    }
}

/// A batch of bare vectors (no user types) of the given lengths, for the
/// kernels that only transform vectors (projection, dynamics step, metrics).
pub fn pack_vectors(lengths: &[usize]) -> PackedBatch {
    let mut data = vec![0u32; HEADER * lengths.len()];
    let mut state = Vec::new();
    let mut layouts = Vec::new();
    for (p, &n) in lengths.iter().enumerate() {
        let vec_off = state.len();
        let scalar_off = vec_off + VECTORS * n;
        let h = &mut data[p * HEADER..(p + 1) * HEADER];
        h[H_N] = n as u32;
        h[H_NPOW] = n.next_power_of_two() as u32;
        h[H_VEC] = vec_off as u32;
        h[H_SCALAR] = scalar_off as u32;
        h[H_CHECK] = (scalar_off + SCALARS) as u32;
        state.resize(scalar_off + SCALARS, 0.0);
        layouts.push(PopLayout { n, vec_off, scalar_off, check_off: scalar_off + SCALARS });
    }
    PackedBatch { data, state, layouts, header_off: 0, binom_off: 0, sched_off: 0, sched_len: 0 }
}

impl PackedBatch {
    pub fn vector(&self, p: usize, slot: Slot) -> &[f32] {
        let l = &self.layouts[p];
        let at = l.vec_off + slot as usize * l.n;
        &self.state[at..at + l.n]
    }

    pub fn vector_mut(&mut self, p: usize, slot: Slot) -> &mut [f32] {
        let l = self.layouts[p];
        let at = l.vec_off + slot as usize * l.n;
        &mut self.state[at..at + l.n]
    }

    pub fn set_vector(&mut self, p: usize, slot: Slot, values: &[f64]) {
        self.vector_mut(p, slot).iter_mut().zip(values).for_each(|(s, &v)| *s = v as f32);
    }

    pub fn scalar(&self, p: usize, index: usize) -> f32 {
        self.state[self.layouts[p].scalar_off + index]
    }

    pub fn scalar_u32(&self, p: usize, index: usize) -> u32 {
        self.scalar(p, index).to_bits()
    }

    /// Checkpoint record `c` of population p: (iteration, max g, max Σg, Σ⟨π,g⟩).
    pub fn checkpoint(&self, p: usize, c: usize) -> (u32, f32, f32, f32) {
        let at = self.layouts[p].check_off + c * CHECK_RECORD;
        let r = &self.state[at..at + CHECK_RECORD];
        (r[0].to_bits(), r[1], r[2], r[3])
    }
}
