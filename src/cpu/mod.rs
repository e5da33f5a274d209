//! The exact f64 CPU engine. Each file is the twin of the WGSL kernel of the
//! same name in `shaders/`; the tests hold the two against each other and
//! against a brute-force oracle.

pub mod deviation_pl;
pub mod deviation_ranking;
pub mod dynamics_step;
pub mod project_simplex;
pub mod reduce_metrics;
pub mod selfplay;

pub use deviation_pl::{deviation_pl, PlGrid, PlScratch, GRID_F32, GRID_F64};
pub use deviation_ranking::deviation_ranking;
pub use dynamics_step::{dynamics_step, StepRule};
pub use project_simplex::project_simplex;
pub use reduce_metrics::{reduce_metrics, Reduced, SUPPORT_EPS};
pub use selfplay::{checkpoint_schedule, on_simplex, selfplay, SelfPlayRun};

use crate::population::{Kind, Population};

/// Reusable buffers for [`deviation_into`].
#[derive(Default, Clone, Debug)]
pub struct Scratch {
    pub pl: PlScratch,
}

/// The deviation vector `g(π)(y) = P(y ≻ π^{⊗k})` for every response `y`.
///
/// The population, policy and `k` are assumed valid (see `population`).
pub fn deviation(pop: &Population, policy: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; pop.responses];
    deviation_into(pop, policy, k, &mut out, &mut Scratch::default());
    out
}

/// [`deviation`] into a caller-owned buffer (overwritten), allocation-free
/// for ranking populations.
pub fn deviation_into(pop: &Population, policy: &[f64], k: usize, out: &mut [f64], scratch: &mut Scratch) {
    out.fill(0.0);
    for t in &pop.types {
        match &t.kind {
            Kind::Ranking(r) => deviation_ranking(r, t.weight, policy, k, out),
            Kind::Scores(s) => deviation_pl(s, t.weight, policy, k, &GRID_F64, out, &mut scratch.pl),
        }
    }
}
