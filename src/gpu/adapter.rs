//! Finding adapters: listing them for `ualign info` and ranking them for
//! [`GpuEngine::new`](super::GpuEngine::new).

use serde::Serialize;

use crate::error::{Error, Result};

/// One adapter as `ualign info` shows it, with the limits that bound batches.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdapterSummary {
    pub name: String,
    /// `Vulkan`, `Metal`, `Dx12`, `Gl`.
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu`, `Other`.
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    /// A software rasteriser (device type Cpu, or a known software driver).
    pub software: bool,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroups_per_dimension: u32,
}

impl AdapterSummary {
    pub(crate) fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let lower = format!("{} {}", info.name, info.driver).to_lowercase();
        let software = info.device_type == wgpu::DeviceType::Cpu
            || ["llvmpipe", "lavapipe", "swiftshader", "softpipe", "basic render"].iter().any(|s| lower.contains(s));
        AdapterSummary {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver,
            driver_info: info.driver_info,
            software,
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        }
    }
}

/// The adapters of `backends` (or of `WGPU_BACKEND`, when it is set).
fn adapters_of(backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends.with_env();
    // The instance need not outlive its adapters (wgpu keeps what they use).
    let instance = wgpu::Instance::new(desc);
    pollster::block_on(instance.enumerate_adapters(backends.with_env()))
}

/// Every adapter worth trying: the primary backends (Vulkan, Metal, DX12)
/// first, GL only when they find nothing. Wherever both exist the GL adapters
/// duplicate the primary ones, and probing EGL on a headless machine prints
/// noise on stderr at every start.
fn all_adapters() -> Vec<wgpu::Adapter> {
    let primary = adapters_of(wgpu::Backends::PRIMARY);
    if !primary.is_empty() {
        return primary;
    }
    adapters_of(wgpu::Backends::GL)
}

/// Every adapter wgpu can see, in preference order.
pub fn list_adapters() -> Vec<AdapterSummary> {
    let mut adapters: Vec<AdapterSummary> = all_adapters().iter().map(AdapterSummary::of).collect();
    adapters.sort_by_key(rank);
    adapters
}

/// Hardware before software; discrete before integrated; Vulkan first.
fn rank(a: &AdapterSummary) -> (u8, u8, u8) {
    let kind = match a.device_type.as_str() {
        "DiscreteGpu" => 0,
        "IntegratedGpu" => 1,
        "VirtualGpu" => 2,
        "Other" => 3,
        _ => 4,
    };
    let backend = match a.backend.as_str() {
        "Vulkan" => 0,
        "Metal" => 1,
        "Dx12" => 2,
        _ => 3,
    };
    (a.software as u8, kind, backend)
}

/// The adapters [`GpuEngine::new`](super::GpuEngine::new) may open, best first.
pub(crate) fn ranked(name: Option<&str>, allow_software: bool) -> Result<Vec<wgpu::Adapter>> {
    let adapters = all_adapters();
    if adapters.is_empty() {
        return Err(Error::Gpu(
            "no GPU adapter found; install a Vulkan driver (Linux: mesa-vulkan-drivers gives the software adapter lavapipe) or use --backend cpu".into(),
        ));
    }
    let seen: Vec<String> =
        adapters.iter().map(|a| AdapterSummary::of(a)).map(|s| format!("{} ({})", s.name, s.backend)).collect();
    let mut chosen: Vec<(AdapterSummary, wgpu::Adapter)> = adapters
        .into_iter()
        .map(|a| (AdapterSummary::of(&a), a))
        .filter(|(s, _)| name.is_none_or(|want| s.name.to_lowercase().contains(&want.to_lowercase())))
        .collect();
    if chosen.is_empty() {
        return Err(Error::Gpu(format!(
            "no adapter matches --adapter '{}'; available: {}",
            name.unwrap_or_default(),
            seen.join(", ")
        )));
    }
    if !allow_software {
        chosen.retain(|(s, _)| !s.software);
        if chosen.is_empty() {
            return Err(Error::Gpu(format!(
                "only software adapters are available ({}); allow them (--backend gpu or auto) or use --backend cpu",
                seen.join(", ")
            )));
        }
    }
    chosen.sort_by_key(|(s, _)| rank(s));
    Ok(chosen.into_iter().map(|(_, a)| a).collect())
}

/// Vulkan drivers probe for a Wayland display while wgpu enumerates adapters,
/// and libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set` on a
/// headless machine. That line looks like one of ours, so give the probe a
/// private, empty runtime directory to look in (only when none is set).
/// Call it before any other thread reads the environment (start of `main`,
/// or once before the first [`GpuEngine::new`](super::GpuEngine::new) in a test binary).
pub fn quiet_wayland_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("ualign-runtime-{user}"));
    if std::fs::create_dir_all(&dir).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}
