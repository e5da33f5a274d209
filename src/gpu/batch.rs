//! Population → packed GPU batch: the flat buffers the WGSL kernels read.
//!
//! Layout (the constants of `shaders/layout.wgsl`, which `build.rs` turns into
//! [`crate::gpu::contract`]):
//! - `data: [u32]` (read-only; f32 values stored as bits): binomials
//!   `C(j, i)` for `j, i ≤ k`, the checkpoint schedule, one header of
//!   [`HEADER`] words per population, then each population's payload:
//!   rankings (`m_rank × n` bytes, best first, four to a word), ranking weights, Plackett–Luce
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
use rayon::prelude::*;

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
    let m_rank = pop.types.iter().filter(|t| matches!(t.kind, Kind::Ranking(_))).count();
    let m_pl = pop.types.len() - m_rank;
    HEADER as usize + rank_words(m_rank, n) + m_rank + m_pl * (n + PL_META as usize)
}

/// `state` words a population takes with `checkpoints` checkpoint records.
pub fn state_words(n: usize, checkpoints: usize) -> usize {
    VECTORS * n + SCALARS as usize + CHECK_RECORD as usize * checkpoints
}

/// Words shared by every chunk: binomials and the schedule.
pub fn common_words(k: usize, checkpoints: usize) -> usize {
    (k + 1) * (k + 1) + checkpoints
}

/// `data` words of the packed rankings of `m_rank` types over n responses:
/// one byte per rank entry (n ≤ 256), four to a word.
fn rank_words(m_rank: usize, n: usize) -> usize {
    (m_rank * n).div_ceil(RANKS_PER_WORD)
}

const RANKS_PER_WORD: usize = 4;

// A response index must fit the byte the kernels unpack.
const _: () = assert!(crate::gpu::MAX_RESPONSES <= 256);

/// Packs populations with their starting policies (uniform when `None`),
/// ready for `evaluate` (the policies) or `selfplay` (from the policies).
///
/// Sizes and offsets come first (one pass), then every population fills its
/// own disjoint slices of `data` and `state` in parallel: packing is host work
/// on the critical path of every GPU call.
pub fn pack(
    pops: &[Population],
    policies: Option<&[Vec<f64>]>,
    k: usize,
    schedule: &[u32],
    grid: &PlGrid,
) -> PackedBatch {
    let mut common: Vec<u32> = Vec::new();
    let binom_off = common.len();
    for j in 0..=k {
        let mut c = 1.0f64; // C(j, i), built along the row
        for i in 0..=k {
            common.push(if i <= j { (c as f32).to_bits() } else { 0 });
            c = c * (j as f64 - i as f64) / (i as f64 + 1.0);
        }
    }
    let sched_off = common.len();
    common.extend_from_slice(schedule);
    let header_off = common.len();
    let header = HEADER as usize;
    let payload_off = header_off + header * pops.len();
    // Offsets of each population's payload in `data` and vectors in `state`.
    let words: Vec<usize> = pops.par_iter().map(data_words).collect();
    let mut layouts = Vec::with_capacity(pops.len());
    let mut payload_ends = Vec::with_capacity(pops.len());
    let (mut at_data, mut at_state) = (payload_off, 0usize);
    for (pop, words) in pops.iter().zip(words) {
        let n = pop.responses;
        let scalar_off = at_state + VECTORS * n;
        let check_off = scalar_off + SCALARS as usize;
        layouts.push(PopLayout { n, vec_off: at_state, scalar_off, check_off });
        at_state = check_off + CHECK_RECORD as usize * schedule.len();
        at_data += words - header;
        payload_ends.push(at_data);
    }
    // Zeroed in one allocation (fresh pages, first touched by the parallel fill).
    let mut data = vec![0u32; at_data];
    data[..header_off].copy_from_slice(&common);
    let mut state = vec![0f32; at_state];

    let (head, payload) = data.split_at_mut(payload_off);
    let payloads = split_at_ends(payload, payload_ends.iter().map(|&e| e - payload_off));
    let states = split_at_ends(&mut state, layouts.iter().skip(1).map(|l| l.vec_off).chain([at_state]));
    head[header_off..].par_chunks_mut(header).zip(payloads).zip(states).enumerate().for_each(
        |(p, ((h, payload), state))| {
            let policy = policies.map(|ps| ps[p].as_slice());
            let start = payload_ends[p] - payload.len();
            pack_one(&pops[p], policy, grid, &layouts[p], h, payload, start, state);
        },
    );
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

/// Cuts `all` into consecutive slices ending at the ascending `ends`.
fn split_at_ends<T>(mut all: &mut [T], ends: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    let mut taken = 0;
    for end in ends {
        let (piece, rest) = std::mem::take(&mut all).split_at_mut(end - taken);
        out.push(piece);
        all = rest;
        taken = end;
    }
    out
}

/// One population: its header, its payload (starting at absolute word
/// `start` of `data`) and its state (vectors, scalars, checkpoints).
#[allow(clippy::too_many_arguments)]
fn pack_one(
    pop: &Population,
    policy: Option<&[f64]>,
    grid: &PlGrid,
    layout: &PopLayout,
    h: &mut [u32],
    payload: &mut [u32],
    start: usize,
    state: &mut [f32],
) {
    let n = pop.responses;
    let ranks =
        || pop.types.iter().filter_map(|t| if let Kind::Ranking(r) = &t.kind { Some((r, t.weight)) } else { None });
    let pls =
        || pop.types.iter().filter_map(|t| if let Kind::Scores(s) = &t.kind { Some((s, t.weight)) } else { None });
    let (m_rank, m_pl) = (ranks().count(), pls().count());
    h[H_N as usize] = n as u32;
    h[H_NPOW as usize] = n.next_power_of_two() as u32;
    h[H_M_RANK as usize] = m_rank as u32;
    h[H_M_PL as usize] = m_pl as u32;
    // Rankings, one byte per entry, little-endian within each word.
    h[H_RANK as usize] = start as u32;
    let mut at = rank_words(m_rank, n);
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut payload[..at]);
    for (row, (r, _)) in bytes.chunks_mut(n).zip(ranks()) {
        row.iter_mut().zip(r).for_each(|(b, &y)| *b = y as u8);
    }
    // The device reads each word little-endian (a no-op on little-endian hosts).
    payload[..at].iter_mut().for_each(|w| *w = u32::from_le(*w));
    h[H_RANK_W as usize] = (start + at) as u32;
    for (slot, (_, w)) in payload[at..at + m_rank].iter_mut().zip(ranks()) {
        *slot = (w as f32).to_bits();
    }
    at += m_rank;
    h[H_PL_META as usize] = (start + at) as u32;
    let worth_start = start + at + PL_META as usize * m_pl;
    for (i, (scores, w)) in pls().enumerate() {
        let (lo, hi) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let mut nodes = grid.nodes(hi - lo);
        let x_lo = nodes.next().expect("a grid has at least one node");
        payload[at..at + PL_META as usize].copy_from_slice(&[
            (w as f32).to_bits(),
            (x_lo as f32).to_bits(),
            1 + nodes.count() as u32,
            (worth_start + i * n) as u32,
        ]);
        at += PL_META as usize;
    }
    for (scores, _) in pls() {
        let hi = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for (slot, s) in payload[at..at + n].iter_mut().zip(scores) {
            *slot = ((s - hi).exp() as f32).to_bits();
        }
        at += n;
    }
    debug_assert_eq!(at, payload.len());
    h[H_VEC as usize] = layout.vec_off as u32;
    h[H_SCALAR as usize] = layout.scalar_off as u32;
    h[H_CHECK as usize] = layout.check_off as u32;
    match policy {
        Some(policy) => state[..n].iter_mut().zip(policy).for_each(|(s, &v)| *s = v as f32),
        None => state[..n].fill(1.0 / n as f32),
    }
    state[layout.scalar_off - layout.vec_off + S_ACTIVE as usize] = f32::from_bits(1);
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
