//! Shared by the GPU tests: one engine per test binary, or a visible skip.
#![allow(dead_code)]

use std::sync::OnceLock;

use ualign::gpu::GpuEngine;

/// True under `CI=true`, where a GPU test must run (CI installs lavapipe).
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The GPU engine (a software adapter such as lavapipe is fine), or `None`
/// after printing "SKIPPED: no GPU adapter". Under `CI=true` a missing
/// adapter fails the test instead.
pub fn engine() -> Option<&'static GpuEngine> {
    static ENGINE: OnceLock<Option<GpuEngine>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        // As the CLI does: keep libwayland's XDG_RUNTIME_DIR complaint out of the output.
        ualign::gpu::quiet_wayland_probe();
        match GpuEngine::new(None, true) {
            Ok(e) => {
                eprintln!("GPU tests on adapter: {} ({})", e.adapter_name(), e.summary().backend);
                Some(e)
            }
            Err(e) if ci() => panic!("CI=true but the GPU engine is unavailable: {e}"),
            Err(_) => None,
        }
    });
    if engine.is_none() {
        eprintln!("SKIPPED: no GPU adapter");
    }
    engine.as_ref()
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}
