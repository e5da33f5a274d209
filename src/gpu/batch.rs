//! Population → packed GPU batch: the flat buffers the WGSL kernels read.
//!
//! Layout (the constants of `shaders/layout.wgsl`, which `build.rs` turns into
//! [`crate::gpu::contract`]):
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

use super::contract::{
    CHECK_RECORD, HEADER, H_CHECK, H_M_PL, H_M_RANK, H_N, H_NPOW, H_PL_META, H_RANK, H_RANK_W, H_SCALAR, H_VEC,
    PL_META, SCALARS, S_ACTIVE,
};
use crate::cpu::PlGrid;
use crate::population::{Kind, Population};

/// Vectors of length n per population in `state` (the [`Slot`]s).
pub const VECTORS: usize = 4;

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

/// `data` words a population's payload and header take.
pub fn data_words(pop: &Population) -> usize {
    let n = pop.responses;
    HEADER as usize
        + pop
            .types
            .iter()
            .map(|t| match t.kind {
                Kind::Ranking(_) => n + 1,
                Kind::Scores(_) => n + PL_META as usize,
            })
            .sum::<usize>()
}

/// `state` words a population takes with `checkpoints` checkpoint records.
pub fn state_words(n: usize, checkpoints: usize) -> usize {
    VECTORS * n + SCALARS as usize + CHECK_RECORD as usize * checkpoints
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
    let header = HEADER as usize;
    data.resize(header_off + header * pops.len(), 0);
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
        let mut h = [0u32; HEADER as usize];
        h[H_N as usize] = n as u32;
        h[H_NPOW as usize] = n.next_power_of_two() as u32;
        h[H_M_RANK as usize] = ranks.len() as u32;
        h[H_M_PL as usize] = pls.len() as u32;
        h[H_RANK as usize] = data.len() as u32;
        for (r, _) in &ranks {
            data.extend_from_slice(r);
        }
        h[H_RANK_W as usize] = data.len() as u32;
        data.extend(ranks.iter().map(|(_, w)| (*w as f32).to_bits()));
        h[H_PL_META as usize] = data.len() as u32;
        let worth_start = data.len() + PL_META as usize * pls.len();
        for (i, (scores, w)) in pls.iter().enumerate() {
            let (lo, hi) =
                scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let mut nodes = grid.nodes(hi - lo);
            let x_lo = nodes.next().expect("a grid has at least one node");
            data.extend_from_slice(&[
                (*w as f32).to_bits(),
                (x_lo as f32).to_bits(),
                1 + nodes.count() as u32,
                (worth_start + i * n) as u32,
            ]);
        }
        for (scores, _) in &pls {
            let hi = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            data.extend(scores.iter().map(|s| ((s - hi).exp() as f32).to_bits()));
        }
        let vec_off = state.len();
        let scalar_off = vec_off + VECTORS * n;
        let check_off = scalar_off + SCALARS as usize;
        h[H_VEC as usize] = vec_off as u32;
        h[H_SCALAR as usize] = scalar_off as u32;
        h[H_CHECK as usize] = check_off as u32;
        state.resize(check_off + CHECK_RECORD as usize * schedule.len(), 0.0);
        match policies {
            Some(ps) => state[vec_off..vec_off + n].iter_mut().zip(&ps[p]).for_each(|(s, &v)| *s = v as f32),
            None => state[vec_off..vec_off + n].fill(1.0 / n as f32),
        }
        state[scalar_off + S_ACTIVE as usize] = f32::from_bits(1);
        data[header_off + p * header..header_off + (p + 1) * header].copy_from_slice(&h);
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
    let (header, scalars) = (HEADER as usize, SCALARS as usize);
    let mut data = vec![0u32; header * lengths.len()];
    let mut state = Vec::new();
    let mut layouts = Vec::new();
    for (p, &n) in lengths.iter().enumerate() {
        let vec_off = state.len();
        let scalar_off = vec_off + VECTORS * n;
        let h = &mut data[p * header..(p + 1) * header];
        h[H_N as usize] = n as u32;
        h[H_NPOW as usize] = n.next_power_of_two() as u32;
        h[H_VEC as usize] = vec_off as u32;
        h[H_SCALAR as usize] = scalar_off as u32;
        h[H_CHECK as usize] = (scalar_off + scalars) as u32;
        state.resize(scalar_off + scalars, 0.0);
        layouts.push(PopLayout { n, vec_off, scalar_off, check_off: scalar_off + scalars });
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

    /// Scalar `index` (an `S_*` of the contract) of population p.
    pub fn scalar(&self, p: usize, index: u32) -> f32 {
        self.state[self.layouts[p].scalar_off + index as usize]
    }

    pub fn scalar_u32(&self, p: usize, index: u32) -> u32 {
        self.scalar(p, index).to_bits()
    }

    /// Header `field` (an `H_*` of the contract) of population p.
    pub fn header(&self, p: usize, field: u32) -> u32 {
        self.data[self.header_off as usize + p * HEADER as usize + field as usize]
    }

    /// Checkpoint record `c` of population p: (iteration, max g, max Σg, Σ⟨π,g⟩).
    pub fn checkpoint(&self, p: usize, c: usize) -> (u32, f32, f32, f32) {
        let record = CHECK_RECORD as usize;
        let at = self.layouts[p].check_off + c * record;
        let r = &self.state[at..at + record];
        (r[0].to_bits(), r[1], r[2], r[3])
    }
}
