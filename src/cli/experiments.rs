//! `generate`, `info`, `sweep`, `heatmap` and `merge`.

use std::path::{Path, PathBuf};

use ualign::error::{Error, Result};
use ualign::population::generate::{self, GenSpec};
use ualign::population::json as popjson;
use ualign::{gpu, plot, sweep};

use super::{out_file, output};
use super::{GenerateArgs, HeatmapArgs, MergeArgs, SweepArgs};

/// The bundled default experiment, compiled in so `ualign sweep` works from any directory.
const DEFAULT_SWEEP: &str = include_str!("../../assets/sweeps/default.toml");

pub fn generate(a: GenerateArgs) -> Result<()> {
    let defaults = GenSpec::default();
    let spec = GenSpec {
        model: a.model.into(),
        responses: a.responses,
        types: a.types,
        count: a.count,
        seed: a.seed,
        phi: a.phi.unwrap_or(defaults.phi),
        sigma: a.sigma.unwrap_or(defaults.sigma),
        margin: a.margin.unwrap_or(defaults.margin),
    };
    // Refused before the work: the file is checked first.
    let target = a.out.as_deref().map(|path| out_file::check(path, a.force, "populations.jsonl")).transpose()?;
    let pops = generate::generate(&spec).map_err(Error::as_flag)?;
    match a.out.zip(target) {
        Some((path, target)) => {
            out_file::write(&path, target, |w| popjson::write_jsonl(&pops, w))?;
            output::note(&format!("ualign: wrote {} populations to {}", pops.len(), path.display()));
        }
        None => popjson::write_jsonl(&pops, std::io::stdout().lock()).map_err(|e| match e {
            Error::Io { source, .. } => Error::io(output::STDOUT, source),
            other => other,
        })?,
    }
    Ok(())
}

pub fn info() -> Result<()> {
    let adapters = gpu::list_adapters();
    if adapters.is_empty() {
        return output::print(&format!(
            "no GPU adapter found: eval, solve, compare and sweep run on the CPU engine ({} threads)\n",
            rayon::current_num_threads()
        ));
    }
    let mut text = format!(
        "{} adapter(s), in the order --backend gpu tries them (--backend auto uses only hardware ones, \
         for self-play batches of at least {} populations):\n",
        adapters.len(),
        ualign::engine::AUTO_GPU_MIN_POPULATIONS
    );
    for a in &adapters {
        text += &super::format::adapter(a);
    }
    output::print(&text)
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    let (config, name) = match &a.config {
        Some(path) => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "sweep".into());
            (sweep::Config::load(path)?, stem)
        }
        None => (sweep::Config::parse(DEFAULT_SWEEP, Path::new("assets/sweeps/default.toml"))?, "default".to_string()),
    };
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("out").join(name));
    let shard = a.shard.as_deref().map(sweep::Shard::parse).transpose().map_err(Error::as_flag)?;
    let opts = sweep::RunOptions {
        resume: a.resume,
        shard,
        backend: a.backend.map(Into::into),
        progress: true,
        large: a.large,
        log: Some(output::note),
        // A shard holds part of the grid: its figures come after `ualign merge`.
        figures: shard.is_none().then_some(figures as sweep::run::Figures),
    };
    let summary = sweep::run(&config, &out, &opts)?;
    output::print(&super::format::sweep_summary(&summary, &out))
}

/// The default figures of a sweep, from the tables it just wrote (the title
/// is the manifest's).
fn figures(out: &Path, config: &sweep::Config, tables: &sweep::store::Tables) -> Result<Vec<PathBuf>> {
    let res = plot::data::Results {
        title: config.title.clone(),
        cells: tables.cells.clone(),
        history: tables.history.clone(),
        populations: tables.populations.clone(),
    };
    plot::default_figures_of(out, &res)
}

pub fn heatmap(a: HeatmapArgs) -> Result<()> {
    if out_file::check(&a.out, a.force, "figure.png")? == out_file::Target::Stream {
        return Err(Error::input(
            "--out",
            format!("{} is not a regular file", a.out.display()),
            "name a .png or .svg file to write",
        ));
    }
    match (&a.facet_x, &a.facet_y) {
        (Some(fx), Some(fy)) => plot::heatmap_facets(&a.dir, (&a.x, &a.y), &a.metric, (fx, fy), &a.filters, &a.out)?,
        _ if !a.filters.is_empty() => plot::heatmap_where(&a.dir, &a.x, &a.y, &a.metric, &a.filters, &a.out)?,
        _ => plot::heatmap(&a.dir, &a.x, &a.y, &a.metric, &a.out)?,
    }
    output::note(&format!("ualign: wrote {}", a.out.display()));
    Ok(())
}

pub fn merge(a: MergeArgs) -> Result<()> {
    sweep::merge(&a.dirs, &a.out)?;
    plot::default_figures(&a.out)?;
    output::note(&format!("ualign: merged {} directories into {}", a.dirs.len(), a.out.display()));
    Ok(())
}
