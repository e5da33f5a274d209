//! Backend choice: the same computations on the GPU (WGSL kernels through
//! wgpu) or on the exact f64 CPU engine, behind one interface.
//!
//! Whatever runs, the numbers returned describe their policy exactly: the
//! GPU's self-play policies are re-evaluated in f64 by the CPU engine, and
//! `converged` is judged on that exact `E_k` against the caller's `tol`.
//! The library never prints: what the caller should tell the user (which
//! engine, a tolerance the device cannot honour, a batch sent to the CPU)
//! comes back as notices, see [`Engine::take_notices`].

use std::sync::Mutex;

use crate::dynamics::{self, Dynamics, Solution, SolveOptions};
use crate::equilibrium::{self, Equilibrium, EquilibriumOptions};
use crate::error::{Error, Result};
use crate::gpu::{GpuEngine, DEVICE_TOL_FLOOR};
use crate::population::Population;

/// What the user asked for with `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The CPU engine, or a hardware GPU for self-play batches of at least
    /// 4,096 populations; never a software adapter.
    #[default]
    Auto,
    /// A GPU adapter (hardware or software) or an error.
    Gpu,
    /// The exact f64 CPU engine on all cores.
    Cpu,
}

/// The work an engine is opened for; `auto` decides from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One evaluation per population (`eval`): always the CPU engine under
    /// `auto`, since one exact evaluation costs less than a device launch.
    Evaluate,
    /// Self-play for a batch of (at least) this many populations.
    SelfPlay { populations: usize },
}

pub use crate::limits::AUTO_GPU_MIN_POPULATIONS;

enum Device {
    Cpu,
    /// The GPU engine; `fallback` (chosen by `auto`) sends work the device
    /// refuses for its size limits to the CPU engine instead of failing.
    Gpu {
        gpu: Box<GpuEngine>,
        fallback: bool,
    },
}

/// An opened engine.
pub struct Engine {
    device: Device,
    /// Notices for the user, gathered until [`Engine::take_notices`].
    notices: Mutex<Vec<String>>,
}

impl Engine {
    /// Opens the engine the choice asks for. The first notice says which was
    /// chosen and why.
    pub fn select(choice: BackendChoice, adapter: Option<&str>, work: Workload) -> Result<Engine> {
        let cpu = |why: String| Engine::new(Device::Cpu, why);
        match choice {
            BackendChoice::Cpu => Ok(cpu(cpu_notice("--backend cpu"))),
            BackendChoice::Gpu => {
                let gpu = GpuEngine::new(adapter, true).map_err(|e| match e {
                    Error::Gpu(msg) => Error::Gpu(format!("{msg} (`ualign info` lists the adapters)")),
                    other => other,
                })?;
                let notice = gpu_notice(&gpu);
                Ok(Engine::new(Device::Gpu { gpu: Box::new(gpu), fallback: false }, notice))
            }
            BackendChoice::Auto => match work {
                Workload::Evaluate => Ok(cpu(cpu_notice("auto, one exact evaluation per population"))),
                Workload::SelfPlay { populations } if populations < AUTO_GPU_MIN_POPULATIONS => Ok(cpu(cpu_notice(
                    &format!("auto, {populations} population(s) < {AUTO_GPU_MIN_POPULATIONS} for a GPU"),
                ))),
                Workload::SelfPlay { .. } => match GpuEngine::new(adapter, false) {
                    Ok(gpu) => {
                        let notice = gpu_notice(&gpu);
                        Ok(Engine::new(Device::Gpu { gpu: Box::new(gpu), fallback: true }, notice))
                    }
                    Err(Error::Gpu(msg)) => Ok(cpu(cpu_notice(&format!("auto, no hardware GPU: {msg}")))),
                    Err(other) => Err(other),
                },
            },
        }
    }

    fn new(device: Device, notice: String) -> Engine {
        Engine { device, notices: Mutex::new(vec![notice]) }
    }

    pub fn name(&self) -> String {
        match &self.device {
            Device::Cpu => "cpu".to_string(),
            Device::Gpu { gpu, .. } => format!("gpu: {}", gpu.adapter_name()),
        }
    }

    /// The floating-point type [`Engine::deviation_batch`] computes in:
    /// `"f32"` on a GPU, `"f64"` on the CPU.
    pub fn precision(&self) -> &'static str {
        match &self.device {
            Device::Cpu => "f64",
            Device::Gpu { .. } => "f32",
        }
    }

    /// True for the CPU engine: its self-play runs a population at a time,
    /// so callers may run each population's whole work in one task.
    pub fn runs_on_cpu(&self) -> bool {
        matches!(self.device, Device::Cpu)
    }

    /// The GPU engine when `--backend gpu` asked for it (no CPU fallback):
    /// its own limits must then be checked up front.
    pub fn strict_gpu(&self) -> Option<&GpuEngine> {
        match &self.device {
            Device::Gpu { gpu, fallback: false } => Some(gpu),
            _ => None,
        }
    }

    /// The notices gathered since the last call (each distinct one once).
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn notice(&self, line: String) {
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        if !notices.contains(&line) {
            notices.push(line);
        }
    }

    /// `g(π)` for every population and its policy. On the GPU these are f32
    /// values widened to f64 (accurate to about 1e-6), with a notice saying so.
    pub fn deviation_batch(&self, pops: &[Population], policies: &[Vec<f64>], k: usize) -> Result<Vec<Vec<f64>>> {
        let on_cpu = || {
            use rayon::prelude::*;
            pops.par_iter().zip(policies).map(|(p, pi)| crate::cpu::deviation(p, pi, k)).collect()
        };
        match &self.device {
            Device::Cpu => Ok(on_cpu()),
            Device::Gpu { gpu, fallback } => {
                self.notice("g(π) computed in f32 on the GPU (accurate to about 1e-6); --backend cpu is exact".into());
                self.or_cpu(gpu.deviation_batch(pops, policies, k), *fallback, || Ok(on_cpu()))
            }
        }
    }

    /// Self-play to equilibrium for every population. `tol` and `iters` mean
    /// the same on every engine; `converged` is `E_k ≤ tol` on the exact f64
    /// evaluation of the final policy.
    pub fn solve_batch(&self, pops: &[Population], k: usize, opts: &SolveOptions) -> Result<Vec<Solution>> {
        dynamics::check_options(k, opts)?;
        let on_cpu = || dynamics::solve_batch(pops, k, opts).into_iter().collect();
        match &self.device {
            Device::Cpu => on_cpu(),
            Device::Gpu { gpu, fallback } => {
                self.notice("self-play runs in f32; every policy printed is re-evaluated exactly in f64".into());
                if opts.tol < DEVICE_TOL_FLOOR {
                    self.notice(format!(
                        "the GPU cannot resolve E_k below {DEVICE_TOL_FLOOR:.0e} in f32: it may stop once its f32 \
                         E_k <= {DEVICE_TOL_FLOOR:.0e} (--tol is {:e}); E_k and `converged` are judged exactly in f64 \
                         against --tol; --backend cpu honours it",
                        opts.tol
                    ));
                }
                let mut solutions = self.or_cpu(gpu.solve_batch(pops, k, opts), *fallback, on_cpu)?;
                for s in &mut solutions {
                    s.converged = crate::cpu::on_simplex(&s.policy) && s.evaluation.exploitability <= opts.tol;
                }
                Ok(solutions)
            }
        }
    }

    /// A size the device refuses (e.g. llvmpipe's loop limit for Plackett–Luce
    /// work) goes to the CPU engine when `auto` chose the GPU, with a notice;
    /// with `--backend gpu` it stays an error.
    fn or_cpu<T>(&self, result: Result<T>, fallback: bool, cpu: impl FnOnce() -> Result<T>) -> Result<T> {
        match result {
            Err(e @ Error::Limit { .. }) if fallback => {
                self.notice(format!("the GPU refuses this batch ({e}); running it on the CPU engine"));
                cpu()
            }
            other => other,
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
        match &self.device {
            Device::Cpu => on_cpu(),
            Device::Gpu { gpu, fallback } => {
                self.notice(
                    "the GPU's f32 self-play is a warm start: every equilibrium is polished exactly in f64 on the CPU"
                        .into(),
                );
                let warm = match gpu.selfplay_batch(pops, k, &GPU_WARM_START) {
                    Err(e @ Error::Limit { .. }) if *fallback => {
                        self.notice(format!("the GPU refuses this batch ({e}); running it on the CPU engine"));
                        return on_cpu();
                    }
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

fn cpu_notice(why: &str) -> String {
    format!("using the CPU engine (f64, {} threads; {why})", rayon::current_num_threads())
}

fn gpu_notice(gpu: &GpuEngine) -> String {
    let kind = if gpu.is_software() { "software adapter" } else { "GPU" };
    format!("using the {kind} {} (f32 kernels)", gpu.adapter_name())
}
