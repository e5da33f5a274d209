//! The GPU engine: the WGSL kernels of `shaders/` driven through wgpu.
//!
//! One compute module (composed and validated by `build.rs`) holds every
//! kernel; one workgroup of [`LANES`] invocations handles one population, so
//! self-play keeps π and g in workgroup memory and runs many iterations per
//! dispatch with no read-back in between (see `docs/gpu.md`).

mod adapter;
mod api;
pub mod batch;
pub mod contract;
mod runner;

pub use runner::PhaseTimes;

pub use adapter::{list_adapters, quiet_wayland_probe, AdapterSummary};
pub use api::{PlKernel, DEVICE_TOL_FLOOR, GPU_CONVERGED_TOL, MAX_K, MAX_RESPONSES, MAX_TYPES};

use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

/// Invocations per workgroup (`WG` in shaders/layout.wgsl) = the largest n.
pub const LANES: u32 = contract::WG;
/// Workgroup memory the module declares, bytes (checked against the device).
pub use contract::WORKGROUP_BYTES;

/// llvmpipe (lavapipe) silently leaves shader loops after 65,535 iterations
/// (`LP_MAX_TGSI_LOOP_ITERATIONS`). On software adapters the Plackett–Luce
/// work of one lane per dispatch is kept under this budget, less than half
/// the limit (measured, see docs/gpu.md: one dispatch of 29,500 loop
/// iterations per lane on all 256 lanes is exact); what cannot be split that
/// far is refused with `Error::Limit`.
pub const SOFTWARE_LOOP_BUDGET: u64 = 30_000;

/// The composed compute module, exactly as build.rs validated it.
pub const SHADER_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/ualign.wgsl"));
/// The module of the twin-test kernels (compiled on first use only).
pub const TWIN_SHADER_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/ualign_twins.wgsl"));

/// A wgpu device with the ualign kernels compiled.
pub struct GpuEngine {
    device: wgpu::Device,
    queue: wgpu::Queue,
    summary: AdapterSummary,
    layout: wgpu::BindGroupLayout,
    pipelines: runner::Pipelines,
    /// The twin-test kernels, built by the first call that needs them.
    twins: OnceLock<std::result::Result<runner::Pipelines, String>>,
    /// Loop iterations one shader invocation may run (software adapters:
    /// llvmpipe silently ends any invocation after 65,535 loop iterations).
    loop_budget: Option<u64>,
    /// The Plackett–Luce kernel the dispatches ask for.
    pl_kernel: PlKernel,
    /// Set by the device-lost callback; checked after every wait.
    lost: Arc<Mutex<Option<String>>>,
    /// Where the host time of the last self-play call went.
    phase_times: Mutex<PhaseTimes>,
}

impl GpuEngine {
    /// Opens an adapter: `adapter` is a case-insensitive substring of its
    /// name; a hardware GPU is preferred, then (if `allow_software`) a
    /// software rasteriser such as lavapipe; Vulkan before the other backends.
    pub fn new(adapter: Option<&str>, allow_software: bool) -> Result<GpuEngine> {
        let candidates = adapter::ranked(adapter, allow_software)?;
        let mut refused = Vec::new();
        for candidate in candidates {
            match Self::open(candidate) {
                Ok(engine) => return Ok(engine),
                Err(e) => refused.push(e.to_string()),
            }
        }
        Err(Error::Gpu(format!("no adapter could be opened ({})", refused.join("; "))))
    }

    fn open(adapter: wgpu::Adapter) -> Result<GpuEngine> {
        let summary = AdapterSummary::of(&adapter);
        let limits = adapter.limits();
        let storage_buffers =
            contract::BINDINGS.iter().filter(|(_, kind)| *kind != contract::BufferKind::Uniform).count() as u32;
        if limits.max_compute_invocations_per_workgroup < LANES
            || limits.max_compute_workgroup_size_x < LANES
            || limits.max_compute_workgroup_storage_size < WORKGROUP_BYTES
            || limits.max_storage_buffers_per_shader_stage < storage_buffers
        {
            return Err(Error::Gpu(format!(
                "adapter '{}' lacks compute limits ualign needs ({LANES} invocations per workgroup, {WORKGROUP_BYTES} bytes of workgroup memory)",
                summary.name
            )));
        }
        let descriptor =
            wgpu::DeviceDescriptor { label: Some("ualign"), required_limits: limits, ..Default::default() };
        let (device, queue) = pollster::block_on(adapter.request_device(&descriptor))
            .map_err(|e| Error::Gpu(format!("adapter '{}' refused a device: {e}", summary.name)))?;
        let lost = Arc::new(Mutex::new(None));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            *flag.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{reason:?}: {message}"));
        });
        let layout = runner::bind_group_layout(&device);
        let pipelines = runner::Pipelines::production(&device, &layout, &summary.name)?;
        // UALIGN_LOOP_BUDGET overrides the budget (0 = unlimited), for diagnosis.
        let loop_budget = match std::env::var("UALIGN_LOOP_BUDGET").ok().and_then(|v| v.parse::<u64>().ok()) {
            Some(0) => None,
            Some(b) => Some(b),
            None => summary.software.then_some(SOFTWARE_LOOP_BUDGET),
        };
        Ok(GpuEngine {
            device,
            queue,
            summary,
            layout,
            pipelines,
            twins: OnceLock::new(),
            loop_budget,
            pl_kernel: PlKernel::Auto,
            lost,
            phase_times: Mutex::default(),
        })
    }

    pub fn adapter_name(&self) -> &str {
        &self.summary.name
    }

    /// True for a software adapter (lavapipe, llvmpipe, SwiftShader, WARP).
    pub fn is_software(&self) -> bool {
        self.summary.software
    }

    pub fn summary(&self) -> &AdapterSummary {
        &self.summary
    }

    /// Where the wall time of the last [`selfplay_batch`](Self::selfplay_batch)
    /// (or [`solve_batch`](Self::solve_batch)) went, summed over its chunks.
    pub fn last_phase_times(&self) -> PhaseTimes {
        *self.phase_times.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_lost(&self) -> Result<()> {
        match self.lost.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(why) => {
                Err(Error::Gpu(format!("device '{}' was lost ({why}); rerun, or use --backend cpu", self.summary.name)))
            }
            None => Ok(()),
        }
    }
}
