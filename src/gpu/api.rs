//! The public operations of [`GpuEngine`]: limits, deviation vectors,
//! self-play, and the per-kernel entry points the twin tests use.

use rayon::prelude::*;
use std::time::Instant;

use super::batch::{self, PackedBatch, Slot};
use super::contract::{self, Params};
use super::runner::{Entry, PhaseTimes};
use super::{GpuEngine, LANES};
use crate::cpu::{checkpoint_schedule, Reduced, SelfPlayRun, StepRule, GRID_F32};
use crate::dynamics::{Dynamics, Solution, SolveOptions};
use crate::error::{Error, Result};
use crate::population::{check_k, check_policy, Population};

/// Largest n: one lane per response in a workgroup of [`LANES`].
pub const MAX_RESPONSES: usize = LANES as usize;
/// Largest k: the PL kernel keeps a series of k + 1 coefficients per lane.
pub const MAX_K: usize = contract::MAX_K as usize;
/// Largest number of user types per population (u32 offsets stay far from
/// overflow; the device's buffer limits are checked separately).
pub const MAX_TYPES: usize = 65_536;
/// f32 cannot resolve `E_k` below about 1e-7: the device stops on
/// `E_k ≤ max(tol, DEVICE_TOL_FLOOR)`.
pub const DEVICE_TOL_FLOOR: f64 = 5e-7;
/// A GPU solution counts as converged when its exact f64 re-evaluation has
/// `E_k ≤ max(tol, GPU_CONVERGED_TOL)` (docs/theory.md).
pub const GPU_CONVERGED_TOL: f64 = 1e-6;

const ENGINE: &str = "the GPU engine";

impl GpuEngine {
    /// Checks that every population and `k` fit the kernels and the device.
    pub fn check_limits(&self, pops: &[Population], k: usize) -> Result<()> {
        check_k(k)?;
        if k > MAX_K {
            return Err(limit("k", k, MAX_K, "use --backend cpu for larger k"));
        }
        let max_words = (self.summary.max_storage_buffer_binding_size.min(self.summary.max_buffer_size) / 4) as usize;
        for (i, pop) in pops.iter().enumerate() {
            if pop.responses > MAX_RESPONSES {
                return Err(limit(
                    &format!("responses of population {i}"),
                    pop.responses,
                    MAX_RESPONSES,
                    "use --backend cpu",
                ));
            }
            let tied = pop.types.iter().filter(|t| matches!(t.kind, crate::Kind::WeakOrder(_))).count();
            if tied > 0 {
                // The kernels know strict rankings and Plackett–Luce types only.
                return Err(Error::Limit {
                    what: format!("types with ties (weak orders) in population {i}"),
                    value: tied,
                    limit: 0,
                    engine: ENGINE.into(),
                    fix: "use --backend cpu (the exact engine evaluates ties)".into(),
                });
            }
            if pop.types.len() > MAX_TYPES {
                return Err(limit(
                    &format!("types of population {i}"),
                    pop.types.len(),
                    MAX_TYPES,
                    "merge identical types or use --backend cpu",
                ));
            }
            let words = batch::data_words(pop) + batch::common_words(k, 0);
            if words > max_words {
                return Err(Error::Limit {
                    what: format!("packed size of population {i} (bytes)"),
                    value: words * 4,
                    limit: max_words * 4,
                    engine: format!("adapter '{}' (max storage buffer binding)", self.summary.name),
                    fix: "use fewer types or --backend cpu".into(),
                });
            }
        }
        Ok(())
    }

    /// `g(π)` for each population and its policy, in f32 on the device
    /// (accurate to about 1e-6; docs/theory.md asks 1e-5).
    pub fn deviation_batch(&self, pops: &[Population], policies: &[Vec<f64>], k: usize) -> Result<Vec<Vec<f64>>> {
        if pops.len() != policies.len() {
            return Err(Error::input(
                "policies",
                format!("{} policies for {} populations", policies.len(), pops.len()),
                "give one policy per population",
            ));
        }
        for (i, (pop, policy)) in pops.iter().zip(policies).enumerate() {
            check_policy(policy, pop.responses).map_err(|e| e.in_field(&format!("populations[{i}]")))?;
        }
        self.check_limits(pops, k)?;
        let mut out = Vec::with_capacity(pops.len());
        for range in self.chunks(pops, k, 0) {
            let chunk = &pops[range.clone()];
            let mut packed = batch::pack(chunk, Some(&policies[range]), k, &[], &GRID_F32);
            // One dispatch, or on a software adapter as many as its loop budget needs.
            for (passes, nodes) in self.evaluation_split(chunk, k)? {
                let mut params = Params::for_batch(&packed, k);
                (params.pass_begin, params.pass_end) = (passes.start, passes.end);
                (params.node_begin, params.node_end) = (nodes.start, nodes.end);
                packed.state = self.run(Entry::Evaluate, &packed, params, 1)?;
            }
            out.extend((0..packed.layouts.len()).map(|p| widen(packed.vector(p, Slot::Deviation))));
        }
        Ok(out)
    }

    /// Self-play from the uniform policy for every population, on the device
    /// (docs/theory.md; the loop of `cpu::selfplay`, which documents it). The final
    /// policies are re-evaluated exactly in f64, so the result is the CPU
    /// engine's `Solution`.
    pub fn solve_batch(&self, pops: &[Population], k: usize, opts: &SolveOptions) -> Result<Vec<Solution>> {
        let runs = self.selfplay_batch(pops, k, opts)?;
        // f32 overflows long before f64: a step size too large is an error, never a policy.
        if let Some(run) = runs.iter().find(|r| !(r.max_g.is_finite() && crate::cpu::on_simplex(&r.policy))) {
            return Err(crate::dynamics::diverged(opts, run.iterations));
        }
        Ok(runs
            .into_par_iter()
            .zip(pops)
            .map(|(run, pop)| Solution::from_run(run, pop, k, opts.tol.max(GPU_CONVERGED_TOL)))
            .collect())
    }

    /// The raw self-play runs (f32 state widened to f64), before the exact
    /// re-evaluation of [`solve_batch`](Self::solve_batch).
    pub fn selfplay_batch(&self, pops: &[Population], k: usize, opts: &SolveOptions) -> Result<Vec<SelfPlayRun>> {
        crate::dynamics::check_options(k, opts)?;
        self.check_limits(pops, k)?;
        let schedule: Vec<u32> = checkpoint_schedule(opts.iters, opts.checkpoints).iter().map(|&t| t as u32).collect();
        let rule = match opts.dynamics {
            Dynamics::Pga => contract::RULE_PGA,
            Dynamics::Mwu => contract::RULE_MWU,
            Dynamics::Optimistic => contract::RULE_OPTIMISTIC,
            Dynamics::Extragradient => contract::RULE_EXTRAGRADIENT,
        };
        // Extragradient evaluates g twice per iteration.
        let evaluations = if opts.dynamics == Dynamics::Extragradient { 2 } else { 1 };
        let max_chunk = self.selfplay_chunk_cap(pops, k, evaluations)?;
        let mut runs = Vec::with_capacity(pops.len());
        *self.phase_times.lock().unwrap_or_else(|p| p.into_inner()) = PhaseTimes::default();
        for range in self.chunks(pops, k, schedule.len()) {
            let started = Instant::now();
            let mut packed = batch::pack(&pops[range], None, k, &schedule, &GRID_F32);
            self.phase_times.lock().unwrap_or_else(|p| p.into_inner()).pack += started.elapsed();
            let mut params = Params::for_batch(&packed, k);
            params.rule = rule;
            params.eta = opts.eta as f32;
            params.tol = opts.tol.max(DEVICE_TOL_FLOOR) as f32;
            params.iters_total = opts.iters as u32;
            params.iters_chunk = first_chunk(&packed, k, opts.iters);
            packed.state = self.run(Entry::SelfPlay, &packed, params, max_chunk)?;
            let started = Instant::now();
            runs.par_extend(
                (0..packed.layouts.len()).into_par_iter().map(|p| decode_run(&packed, p, k, params.tol as f64)),
            );
            self.phase_times.lock().unwrap_or_else(|p| p.into_inner()).decode += started.elapsed();
        }
        Ok(runs)
    }

    /// Twin of `cpu::project_simplex` for a batch of vectors (n ≤ [`MAX_RESPONSES`] each).
    pub fn project_batch(&self, vectors: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let mut packed = self.vector_batch(vectors.iter().map(|v| v.len()))?;
        for (p, v) in vectors.iter().enumerate() {
            packed.set_vector(p, Slot::Policy, v);
        }
        packed.state = self.run(Entry::Project, &packed, Params::for_batch(&packed, 1), 1)?;
        Ok((0..vectors.len()).map(|p| widen(packed.vector(p, Slot::Policy))).collect())
    }

    /// Twin of `cpu::dynamics_step`: one update of each policy.
    pub fn step_batch(
        &self,
        rule: StepRule,
        policies: &[Vec<f64>],
        g: &[Vec<f64>],
        g_prev: &[Vec<f64>],
        eta: f64,
    ) -> Result<Vec<Vec<f64>>> {
        let mut packed = self.vector_batch(policies.iter().map(|v| v.len()))?;
        for p in 0..policies.len() {
            packed.set_vector(p, Slot::Policy, &policies[p]);
            packed.set_vector(p, Slot::Deviation, &g[p]);
            packed.set_vector(p, Slot::SumG, &g_prev[p]);
        }
        let mut params = Params::for_batch(&packed, 1);
        params.rule = match rule {
            StepRule::Projected => contract::RULE_PGA,
            StepRule::Multiplicative => contract::RULE_MWU,
            StepRule::OptimisticProjected => contract::RULE_OPTIMISTIC,
        };
        params.eta = eta as f32;
        packed.state = self.run(Entry::Step, &packed, params, 1)?;
        Ok((0..policies.len()).map(|p| widen(packed.vector(p, Slot::Policy))).collect())
    }

    /// Twin of `cpu::reduce_metrics`.
    pub fn reduce_batch(&self, policies: &[Vec<f64>], g: &[Vec<f64>], k: usize) -> Result<Vec<Reduced>> {
        let mut packed = self.vector_batch(policies.iter().map(|v| v.len()))?;
        for p in 0..policies.len() {
            packed.set_vector(p, Slot::Policy, &policies[p]);
            packed.set_vector(p, Slot::Deviation, &g[p]);
        }
        packed.state = self.run(Entry::Reduce, &packed, Params::for_batch(&packed, k), 1)?;
        let fair = 1.0 / (k as f64 + 1.0);
        Ok((0..policies.len())
            .map(|p| {
                let max_deviation = packed.scalar(p, 0) as f64;
                Reduced {
                    max_deviation,
                    exploitability: max_deviation - fair,
                    robust_alignment: 1.0 - max_deviation,
                    sum_residual: packed.scalar(p, 1) as f64 - fair,
                    support: packed.scalar(p, 2) as usize,
                    entropy: packed.scalar(p, 3) as f64,
                }
            })
            .collect())
    }

    /// The (PL type passes, log-s nodes) ranges of the `evaluate` dispatches:
    /// everything at once, unless a software adapter's loop budget needs
    /// the Plackett–Luce work split over several dispatches.
    fn evaluation_split(
        &self,
        pops: &[Population],
        k: usize,
    ) -> Result<Vec<(std::ops::Range<u32>, std::ops::Range<u32>)>> {
        let Some(budget) = self.loop_budget else { return Ok(vec![(0..u32::MAX, 0..u32::MAX)]) };
        let shared = self.pl_kernel.shared(k);
        let per_node = pops
            .iter()
            .filter(|p| pl_passes(p, k, shared) > 0)
            .map(|p| pl_node_loops(p.responses, k, shared))
            .max()
            .unwrap_or(0);
        let passes = pops.iter().map(|p| pl_passes(p, k, shared)).max().unwrap_or(0) as u32;
        let nodes = pops.iter().map(|p| pl_max_nodes(p)).max().unwrap_or(0) as u32;
        if passes == 0 {
            return Ok(vec![(0..u32::MAX, 0..u32::MAX)]);
        }
        // Every dispatch pays the call's and one pass's fixed loops.
        let fixed = pops.iter().map(|p| pl_call_loops(p, shared)).max().unwrap_or(0);
        let per_pass = pl_pass_loops(k, shared);
        if fixed + per_pass + per_node > budget {
            return Err(self.budget_error(fixed + per_pass + per_node, budget));
        }
        let node_chunk = ((budget - fixed - per_pass) / per_node).min(nodes as u64).max(1) as u32;
        let pass_chunk = ((budget - fixed) / (per_pass + node_chunk as u64 * per_node)).max(1) as u32;
        let mut out = Vec::new();
        for p in (0..passes).step_by(pass_chunk as usize) {
            for q in (0..nodes).step_by(node_chunk as usize) {
                out.push((p..p + pass_chunk, q..q + node_chunk));
            }
        }
        Ok(out)
    }

    /// Self-play on a software adapter: the PL work of one iteration must fit
    /// the loop budget (it cannot be split); returns the iterations per dispatch.
    fn selfplay_chunk_cap(&self, pops: &[Population], k: usize, evaluations: u64) -> Result<u32> {
        let Some(budget) = self.loop_budget else { return Ok(u32::MAX) };
        let shared = self.pl_kernel.shared(k);
        let worst = pops
            .iter()
            .map(|p| {
                let passes = pl_passes(p, k, shared);
                let nodes = pl_max_nodes(p) * pl_node_loops(p.responses, k, shared);
                let per_call = pl_call_loops(p, shared) + passes * (pl_pass_loops(k, shared) + nodes);
                if passes == 0 {
                    0
                } else {
                    evaluations * per_call
                }
            })
            .max()
            .unwrap_or(0);
        if worst > budget {
            return Err(self.budget_error(worst, budget));
        }
        Ok((budget / worst.max(1)) as u32)
    }

    fn budget_error(&self, loops: u64, budget: u64) -> Error {
        Error::Limit {
            what: "loop iterations per shader invocation".into(),
            value: loops as usize,
            limit: budget as usize,
            engine: format!("the software adapter '{}' (llvmpipe ends longer invocations)", self.summary.name),
            fix: "use a hardware GPU, fewer or smaller Plackett–Luce types, or --backend cpu".into(),
        }
    }

    fn vector_batch(&self, lengths: impl Iterator<Item = usize>) -> Result<PackedBatch> {
        let lengths: Vec<usize> = lengths.collect();
        if let Some(&n) = lengths.iter().find(|&&n| n == 0 || n > MAX_RESPONSES) {
            return Err(limit(
                "vector length",
                n,
                MAX_RESPONSES,
                &format!("use vectors of 1..={MAX_RESPONSES} entries"),
            ));
        }
        if lengths.len() > self.summary.max_compute_workgroups_per_dimension as usize {
            return Err(limit(
                "vectors per call",
                lengths.len(),
                self.summary.max_compute_workgroups_per_dimension as usize,
                "split the call",
            ));
        }
        Ok(batch::pack_vectors(&lengths))
    }

    /// Splits the batch into runs of consecutive populations that fit one
    /// dispatch (workgroups per dimension) and one buffer binding.
    fn chunks(&self, pops: &[Population], k: usize, checkpoints: usize) -> Vec<std::ops::Range<usize>> {
        let max_words = (self.summary.max_storage_buffer_binding_size.min(self.summary.max_buffer_size) / 4) as usize;
        let max_groups = self.summary.max_compute_workgroups_per_dimension as usize;
        let common = batch::common_words(k, checkpoints);
        let mut out = Vec::new();
        let (mut start, mut data, mut state) = (0, common, 0);
        for (i, pop) in pops.iter().enumerate() {
            let (d, s) = (batch::data_words(pop), batch::state_words(pop.responses, checkpoints));
            if i > start && (data + d > max_words || state + s > max_words || i - start == max_groups) {
                out.push(start..i);
                (start, data, state) = (i, common, 0);
            }
            data += d;
            state += s;
        }
        if start < pops.len() {
            out.push(start..pops.len());
        }
        out
    }
}

fn limit(what: &str, value: usize, limit: usize, fix: &str) -> Error {
    Error::Limit { what: what.into(), value, limit, engine: ENGINE.into(), fix: fix.into() }
}

fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// A first guess of iterations per dispatch (about 2^27 multiply-adds);
/// the runner then adapts it to the measured time.
fn first_chunk(packed: &PackedBatch, k: usize, iters: usize) -> u32 {
    let mut work = 0f64;
    for p in 0..packed.layouts.len() {
        let field = |f: u32| packed.header(p, f) as f64;
        let (n, m_rank, m_pl) = (field(contract::H_N), field(contract::H_M_RANK), field(contract::H_M_PL));
        work += m_rank * n * (k as f64 + 4.0) + m_pl * 50.0 * n * n * (k * k) as f64 / 2.0 + n * n;
    }
    ((1u64 << 27) as f64 / work.max(1.0)).clamp(1.0, iters as f64) as u32
}

/// Which Plackett–Luce kernel the shaders run (`PL_*` in
/// shaders/deviation_pl.wgsl): both compute the same sums; `Auto` takes the
/// shared-series kernel from k = `PL_SHARED_MIN_K` on. Benches force one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlKernel {
    #[default]
    Auto,
    /// Each lane builds its own leave-one-out product: O(n·k²) per lane and node.
    PerLane,
    /// Prefix and suffix running series shared by a segment: O(n·k) per lane and node.
    Shared,
}

impl PlKernel {
    pub(crate) fn code(self) -> u32 {
        match self {
            PlKernel::Auto => contract::PL_AUTO,
            PlKernel::PerLane => contract::PL_PER_LANE,
            PlKernel::Shared => contract::PL_SHARED,
        }
    }

    fn shared(self, k: usize) -> bool {
        match self {
            PlKernel::Auto => k as u32 >= contract::PL_SHARED_MIN_K,
            PlKernel::PerLane => false,
            PlKernel::Shared => true,
        }
    }
}

impl GpuEngine {
    /// Forces one Plackett–Luce kernel (benches compare the two).
    #[doc(hidden)]
    pub fn set_pl_kernel(&mut self, kernel: PlKernel) {
        self.pl_kernel = kernel;
    }
}

// Loop iterations of one lane in the PL kernels, counted from the WGSL
// (shaders/deviation_pl.wgsl), every branch taken, plus a margin of 2.

/// Lanes per PL segment: the population's segment width, for the shared
/// kernel at least the series length (`pl_width` of the shader).
fn pl_width(n: usize, k: usize, shared: bool) -> usize {
    if shared {
        n.next_power_of_two().max((k + 1).next_power_of_two())
    } else {
        n.next_power_of_two()
    }
}

fn pl_types(pop: &Population) -> u64 {
    pop.types.iter().filter(|t| matches!(t.kind, crate::Kind::Scores(_))).count() as u64
}

fn pl_passes(pop: &Population, k: usize, shared: bool) -> u64 {
    pl_types(pop).div_ceil((LANES as usize / pl_width(pop.responses, k, shared)) as u64)
}

/// One PL call outside its passes (the shared kernel's node bound).
fn pl_call_loops(pop: &Population, shared: bool) -> u64 {
    2 + if shared { pl_types(pop) } else { 0 }
}

fn pl_max_nodes(pop: &Population) -> u64 {
    pop.types
        .iter()
        .filter_map(|t| match &t.kind {
            crate::Kind::Scores(s) => {
                let (lo, hi) = s.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                Some(GRID_F32.nodes(hi - lo).count() as u64)
            }
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// One PL pass outside its nodes: the pass loop (and the `G̃_y` series).
fn pl_pass_loops(k: usize, shared: bool) -> u64 {
    if shared {
        1 + k as u64 + 1
    } else {
        1
    }
}

/// One node of one PL pass. Shared: the running series up and down the n
/// responses (per step the lane's copy of the series and one coefficient's
/// convolution, at most k terms), then the triple product at degree k.
/// Per lane: series reset, n convolutions, the final sum.
fn pl_node_loops(n: usize, k: usize, shared: bool) -> u64 {
    let (n, k) = (n as u64, k as u64);
    if shared {
        1 + 2 * n * (1 + (k + 1) + k) + (k + 1) * (k + 2) / 2
    } else {
        1 + k + n * (1 + k + k * (k + 1) / 2) + k + 1
    }
}

fn decode_run(packed: &PackedBatch, p: usize, k: usize, device_tol: f64) -> SelfPlayRun {
    use contract::{S_CP, S_INNER, S_MAX_G, S_T};
    let fair = 1.0 / (k as f64 + 1.0);
    let max_g = packed.scalar(p, S_MAX_G) as f64;
    let recorded = packed.scalar_u32(p, S_CP) as usize;
    SelfPlayRun {
        policy: renormalise(widen(packed.vector(p, Slot::Policy))),
        iterations: packed.scalar_u32(p, S_T) as usize,
        stopped_on_tol: max_g - fair <= device_tol,
        max_g,
        sum_g: widen(packed.vector(p, Slot::SumG)),
        inner: packed.scalar(p, S_INNER) as f64,
        checkpoints: (0..recorded)
            .map(|c| {
                let (t, g, s, i) = packed.checkpoint(p, c);
                (t as usize, g as f64, s as f64, i as f64)
            })
            .collect(),
    }
}

/// f32 rounding leaves Σπ a few ulps off 1: put the policy back on the
/// simplex in f64 before the exact re-evaluation.
fn renormalise(mut policy: Vec<f64>) -> Vec<f64> {
    policy.iter_mut().for_each(|p| *p = p.max(0.0));
    let total: f64 = policy.iter().sum();
    policy.iter_mut().for_each(|p| *p /= total);
    policy
}
