//! The exact f64 CPU engine. Each file is the twin of the WGSL kernel of the
//! same name in `shaders/`; the tests hold the two against each other and
//! against a brute-force oracle.

pub mod deviation_pl;
#[doc(hidden)]
pub mod deviation_pl_reference;
pub mod deviation_ranking;
#[doc(hidden)]
pub mod deviation_ranking_avx512;
pub mod deviation_weak_order;
pub mod dynamics_step;
pub(crate) mod literal_k;
pub mod project_simplex;
pub mod reduce_metrics;
pub mod selfplay;

pub use deviation_pl::{deviation_pl, deviation_pl_types, PlGrid, PlScratch, GRID_F32, GRID_F64};
pub use deviation_ranking::deviation_ranking;
pub use deviation_weak_order::{deviation_weak_order, WeakOrderScratch};
pub use dynamics_step::{dynamics_step, StepRule};
pub use project_simplex::project_simplex;
pub use reduce_metrics::{reduce_metrics, Reduced, SUPPORT_EPS};
pub use selfplay::{checkpoint_schedule, on_simplex, selfplay, SelfPlayRun};

use crate::population::{Kind, Population};

/// Pascal's triangle up to row `k`, row-major with rows of `k + 1`:
/// `table[a * (k + 1) + b] = C(a, b)` for `b ≤ a ≤ k`, zero above the
/// diagonal. Built by additions only, so every entry is exact while it fits
/// 2^53 and correctly rounded sums beyond (C(1000, 500) ≈ 2.7e299 still fits
/// f64). The kernels whose series are in exponential-generating form use it.
pub(crate) fn binomial_table(k: usize) -> Vec<f64> {
    let w = k + 1;
    let mut table = vec![0.0; w * w];
    for a in 0..w {
        table[a * w] = 1.0;
        for b in 1..=a {
            let up = if b < a { table[(a - 1) * w + b] } else { 0.0 };
            table[a * w + b] = table[(a - 1) * w + b - 1] + up;
        }
    }
    table
}

/// Reusable buffers for [`deviation_into`].
#[derive(Default, Clone, Debug)]
pub struct Scratch {
    pub pl: PlScratch,
    pub weak: WeakOrderScratch,
    pub rankings: deviation_ranking_avx512::RankScratch,
}

std::thread_local! {
    static THREAD_SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Runs `f` with this thread's [`Scratch`] (a fresh one if it is already in
/// use further up the stack). The ranking kernel keeps a population's
/// inverse rankings in its scratch, so one-off evaluations of the same
/// population on one thread (a polish, then its baselines) build them once
/// instead of once per call.
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    THREAD_SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// The deviation vector `g(π)(y) = P(y ≻ π^{⊗k})` for every response `y`.
///
/// The population, policy and `k` are assumed valid (see `population`).
pub fn deviation(pop: &Population, policy: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; pop.responses];
    with_scratch(|scratch| deviation_into(pop, policy, k, &mut out, scratch));
    out
}

/// [`deviation`] into a caller-owned buffer (overwritten), allocation-free
/// for ranking populations.
pub fn deviation_into(pop: &Population, policy: &[f64], k: usize, out: &mut [f64], scratch: &mut Scratch) {
    out.fill(0.0);
    // With at most 16 responses (and AVX-512) all ranking types go at once.
    let done = deviation_ranking_avx512::rankings_into(pop, policy, k, out, &mut scratch.rankings);
    if done == deviation_ranking_avx512::Done::All {
        return;
    }
    let rankings_done = done == deviation_ranking_avx512::Done::Rankings;
    // Plackett–Luce types go to the kernel a few at a time (it runs them in
    // vector lanes); the group lives on the stack.
    const GROUP: usize = 8;
    let mut group: [(f64, &[f64]); GROUP] = [(0.0, &[]); GROUP];
    let mut len = 0;
    for t in &pop.types {
        match &t.kind {
            Kind::Ranking(_) if rankings_done => {}
            Kind::Ranking(r) => deviation_ranking(r, t.weight, policy, k, out),
            Kind::WeakOrder(classes) => deviation_weak_order(classes, t.weight, policy, k, out, &mut scratch.weak),
            Kind::Scores(s) => {
                group[len] = (t.weight, s);
                len += 1;
                if len == GROUP {
                    deviation_pl_types(&group, policy, k, &GRID_F64, out, &mut scratch.pl);
                    len = 0;
                }
            }
        }
    }
    if len > 0 {
        deviation_pl_types(&group[..len], policy, k, &GRID_F64, out, &mut scratch.pl);
    }
}
