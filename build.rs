//! Build-time shader validation (vello style): compose the compute module
//! exactly as the host uses it, parse and validate it with naga, and fail the
//! build with the shader file and line when anything is wrong. Needs no GPU.
//!
//! The composed module is written to `$OUT_DIR/ualign.wgsl`; the host embeds
//! that very file (`src/gpu/shader.rs`), so what runs is what was validated.

use std::{env, fs, path::Path, process::exit};

/// The shader files, in composition order (WGSL has no #include).
const MODULE_FILES: &[&str] = &[
    "layout.wgsl",
    "reductions.wgsl",
    "deviation_ranking.wgsl",
    "deviation_pl.wgsl",
    "project_simplex.wgsl",
    "dynamics_step.wgsl",
    "reduce_metrics.wgsl",
    "selfplay.wgsl",
];

fn main() {
    println!("cargo:rerun-if-changed=shaders");
    let mut source = String::new();
    // (file, first line of the file in the composed source, 1-based)
    let mut starts: Vec<(&str, usize)> = Vec::new();
    for file in MODULE_FILES {
        let path = Path::new("shaders").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
        starts.push((file, source.lines().count() + 1));
        source.push_str(&text);
        if !text.ends_with('\n') {
            source.push('\n');
        }
    }
    let locate = |line: usize| -> String {
        let (file, start) = starts.iter().rev().find(|(_, start)| *start <= line).copied().unwrap_or(("?", 1));
        format!("shaders/{file}:{}", line - start + 1)
    };
    let module = match naga::front::wgsl::parse_str(&source) {
        Ok(module) => module,
        Err(e) => {
            let at = e.location(&source).map(|l| locate(l.line_number as usize)).unwrap_or_default();
            fail(&format!(
                "WGSL parse error at {at}: {}\n{}",
                e.message(),
                e.emit_to_string_with_path(&source, "composed ualign.wgsl")
            ))
        }
    };
    let mut validator =
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
    if let Err(e) = validator.validate(&module) {
        let at = e.location(&source).map(|l| locate(l.line_number as usize)).unwrap_or_default();
        fail(&format!(
            "WGSL validation error at {at}: {}\n{}",
            e.as_inner(),
            e.emit_to_string_with_path(&source, "composed ualign.wgsl")
        ));
    }
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("ualign.wgsl");
    fs::write(&out, &source).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("error: shader check failed: {message}");
    exit(1)
}
