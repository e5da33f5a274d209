//! Backend choice: the same computations on the GPU (WGSL kernels through
//! wgpu) or on the exact f64 CPU engine, behind one interface.

use crate::dynamics::{self, Dynamics, Solution, SolveOptions};
use crate::equilibrium::{self, Equilibrium, EquilibriumOptions};
use crate::error::{Error, Result};
use crate::gpu::GpuEngine;
use crate::population::Population;

/// What the user asked for with `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A hardware GPU if there is one, then a software adapter, then the CPU engine.
    #[default]
    Auto,
    /// A GPU adapter (hardware or software) or an error.
    Gpu,
    /// The exact f64 CPU engine on all cores.
    Cpu,
}

pub enum Engine {
    Cpu,
    /// The GPU engine; `fallback` (chosen by `auto`) sends work the device
    /// refuses for its size limits to the CPU engine instead of failing.
    Gpu {
        gpu: Box<GpuEngine>,
        fallback: bool,
    },
}

impl Engine {
    /// Opens the engine the choice asks for and returns it with a one-line
    /// notice saying which was chosen (print it on stderr).
    ///
    /// `software_in_auto` says whether `auto` may settle on a software adapter
    /// (lavapipe) before the CPU engine: yes for `eval`/`solve`/`compare`, no
    /// for sweeps, where a software rasteriser runs the same work slower than
    /// the native f64 engine. `gpu` always accepts one.
    pub fn select(choice: BackendChoice, adapter: Option<&str>, software_in_auto: bool) -> Result<(Engine, String)> {
        match choice {
            BackendChoice::Cpu => {
                Ok((Engine::Cpu, format!("using the CPU engine (f64, {} threads)", rayon::current_num_threads())))
            }
            BackendChoice::Gpu => {
                let gpu = GpuEngine::new(adapter, true).map_err(|e| match e {
                    Error::Gpu(msg) => Error::Gpu(format!("{msg} (`ualign info` lists the adapters)")),
                    other => other,
                })?;
                let notice = gpu_notice(&gpu);
                Ok((Engine::Gpu { gpu: Box::new(gpu), fallback: false }, notice))
            }
            BackendChoice::Auto => match GpuEngine::new(adapter, software_in_auto) {
                Ok(gpu) => {
                    let notice = gpu_notice(&gpu);
                    Ok((Engine::Gpu { gpu: Box::new(gpu), fallback: true }, notice))
                }
                Err(Error::Gpu(msg)) => {
                    Ok((Engine::Cpu, format!("no usable GPU adapter ({msg}); falling back to the CPU engine")))
                }
                Err(other) => Err(other),
            },
        }
    }

    pub fn name(&self) -> String {
        match self {
            Engine::Cpu => "cpu".to_string(),
            Engine::Gpu { gpu, .. } => format!("gpu: {}", gpu.adapter_name()),
        }
    }

    /// `g(π)` for every population and its policy.
    pub fn deviation_batch(&self, pops: &[Population], policies: &[Vec<f64>], k: usize) -> Result<Vec<Vec<f64>>> {
        let on_cpu = || {
            use rayon::prelude::*;
            pops.par_iter().zip(policies).map(|(p, pi)| crate::cpu::deviation(p, pi, k)).collect()
        };
        match self {
            Engine::Cpu => Ok(on_cpu()),
            Engine::Gpu { gpu, fallback } => or_cpu(gpu.deviation_batch(pops, policies, k), *fallback, || Ok(on_cpu())),
        }
    }

    /// Self-play to equilibrium for every population.
    pub fn solve_batch(&self, pops: &[Population], k: usize, opts: &SolveOptions) -> Result<Vec<Solution>> {
        let on_cpu = || dynamics::solve_batch(pops, k, opts).into_iter().collect();
        match self {
            Engine::Cpu => on_cpu(),
            Engine::Gpu { gpu, fallback } => or_cpu(gpu.solve_batch(pops, k, opts), *fallback, on_cpu),
        }
    }
}

/// The self-play run the GPU does in bulk before the CPU polishes each
/// population: PGA, η = 1, stopping at `E_k ≤ 1e-6` (f32 resolution) or
/// after 10,000 iterations. Any policy near an equilibrium will do; the
/// Newton finish (or, where the dynamics cycled, the homotopy) does the rest.
pub const GPU_WARM_START: SolveOptions =
    SolveOptions { dynamics: Dynamics::Pga, eta: 1.0, iters: 10_000, tol: 1e-6, checkpoints: 0 };

impl Engine {
    /// The symmetric equilibrium of every population, exact in f64. On the
    /// CPU engine: [`equilibrium::solve_batch`]. On the GPU: the dynamics of
    /// [`GPU_WARM_START`] for the whole batch on the device, then
    /// [`equilibrium::polish`] of every returned policy on the CPU (which
    /// runs the full solver where the dynamics ended far from equilibrium).
    pub fn equilibrium_batch(
        &self,
        pops: &[Population],
        k: usize,
        opts: &EquilibriumOptions,
    ) -> Result<Vec<Equilibrium>> {
        equilibrium::check_options(k, opts)?;
        let on_cpu = || equilibrium::solve_batch(pops, k, opts).into_iter().collect();
        match self {
            Engine::Cpu => on_cpu(),
            Engine::Gpu { gpu, fallback } => {
                let warm = match gpu.selfplay_batch(pops, k, &GPU_WARM_START) {
                    Err(Error::Limit { .. }) if *fallback => return on_cpu(),
                    other => other?,
                };
                // A start off the simplex (f32 overflow) is replaced by uniform: polish then runs the full solver.
                let starts: Vec<Vec<f64>> = warm
                    .into_iter()
                    .zip(pops)
                    .map(|(run, pop)| {
                        if crate::cpu::on_simplex(&run.policy) {
                            run.policy
                        } else {
                            vec![1.0 / pop.responses as f64; pop.responses]
                        }
                    })
                    .collect();
                equilibrium::polish_batch(pops, k, &starts, opts).into_iter().collect()
            }
        }
    }
}

/// A size the device refuses (e.g. llvmpipe's loop limit for Plackett–Luce
/// work) goes to the CPU engine when `auto` chose the GPU, with a notice;
/// with `--backend gpu` it stays an error.
fn or_cpu<T>(result: Result<T>, fallback: bool, cpu: impl FnOnce() -> Result<T>) -> Result<T> {
    match result {
        Err(e @ Error::Limit { .. }) if fallback => {
            eprintln!("ualign: the GPU refuses this batch ({e}); running it on the CPU engine");
            cpu()
        }
        other => other,
    }
}

fn gpu_notice(gpu: &GpuEngine) -> String {
    let kind = if gpu.is_software() { "software adapter" } else { "GPU" };
    format!("using the {kind} {} (f32 kernels)", gpu.adapter_name())
}
