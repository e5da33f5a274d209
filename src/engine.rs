//! Backend choice: the same computations on the GPU (WGSL kernels through
//! wgpu) or on the exact f64 CPU engine, behind one interface.

use crate::dynamics::{self, Solution, SolveOptions};
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
    Gpu(Box<GpuEngine>),
}

impl Engine {
    /// Opens the engine the choice asks for and returns it with a one-line
    /// notice saying which was chosen (print it on stderr).
    pub fn select(choice: BackendChoice, adapter: Option<&str>) -> Result<(Engine, String)> {
        match choice {
            BackendChoice::Cpu => {
                Ok((Engine::Cpu, format!("using the CPU engine (f64, {} threads)", rayon::current_num_threads())))
            }
            BackendChoice::Gpu => {
                let gpu = GpuEngine::new(adapter, true).map_err(|e| match e {
                    Error::Gpu(msg) => {
                        Error::Gpu(format!("{msg}; run `ualign info` to list adapters, or use --backend cpu"))
                    }
                    other => other,
                })?;
                let notice = gpu_notice(&gpu);
                Ok((Engine::Gpu(Box::new(gpu)), notice))
            }
            BackendChoice::Auto => match GpuEngine::new(adapter, true) {
                Ok(gpu) => {
                    let notice = gpu_notice(&gpu);
                    Ok((Engine::Gpu(Box::new(gpu)), notice))
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
            Engine::Gpu(g) => format!("gpu: {}", g.adapter_name()),
        }
    }

    /// `g(π)` for every population and its policy.
    pub fn deviation_batch(&self, pops: &[Population], policies: &[Vec<f64>], k: usize) -> Result<Vec<Vec<f64>>> {
        match self {
            Engine::Cpu => {
                use rayon::prelude::*;
                Ok(pops.par_iter().zip(policies).map(|(p, pi)| crate::cpu::deviation(p, pi, k)).collect())
            }
            Engine::Gpu(g) => g.deviation_batch(pops, policies, k),
        }
    }

    /// Self-play to equilibrium for every population.
    pub fn solve_batch(&self, pops: &[Population], k: usize, opts: &SolveOptions) -> Result<Vec<Solution>> {
        match self {
            Engine::Cpu => dynamics::solve_batch(pops, k, opts).into_iter().collect(),
            Engine::Gpu(g) => g.solve_batch(pops, k, opts),
        }
    }
}

fn gpu_notice(gpu: &GpuEngine) -> String {
    let kind = if gpu.is_software() { "software adapter" } else { "GPU" };
    format!("using the {kind} {} (f32 kernels)", gpu.adapter_name())
}
