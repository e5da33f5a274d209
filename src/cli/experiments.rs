//! `generate`, `info`, `sweep`, `heatmap` and `merge`.

use std::fs::File;
use std::io::{BufWriter, Write};

use ualign::error::{Error, Result};
use ualign::population::generate::{self, GenSpec};
use ualign::population::json as popjson;
use ualign::{gpu, plot, sweep};

use super::{GenerateArgs, HeatmapArgs, MergeArgs, SweepArgs};

/// The bundled default experiment, compiled in so `ualign sweep` works from any directory.
const DEFAULT_SWEEP: &str = include_str!("../../assets/sweeps/default.toml");

pub fn generate(a: GenerateArgs) -> Result<()> {
    let defaults = GenSpec::default();
    let spec = GenSpec {
        model: a.model,
        responses: a.responses,
        types: a.types,
        count: a.count,
        seed: a.seed,
        phi: a.phi.unwrap_or(defaults.phi),
        sigma: a.sigma.unwrap_or(defaults.sigma),
        margin: a.margin.unwrap_or(defaults.margin),
    };
    let pops = generate::generate(&spec).map_err(Error::as_flag)?;
    match a.out {
        Some(path) => {
            let file = File::create(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
            let mut w = BufWriter::new(file);
            popjson::write_jsonl(&pops, &mut w)?;
            w.flush().map_err(|e| Error::io(path.display().to_string(), e))?;
            eprintln!("ualign: wrote {} populations to {}", pops.len(), path.display());
        }
        None => popjson::write_jsonl(&pops, std::io::stdout().lock())?,
    }
    Ok(())
}

pub fn info() -> Result<()> {
    let adapters = gpu::list_adapters();
    if adapters.is_empty() {
        println!(
            "no GPU adapter found: eval, solve, compare and sweep run on the CPU engine ({} threads)",
            rayon::current_num_threads()
        );
        return Ok(());
    }
    println!("{} adapter(s), in the order --backend auto tries them:", adapters.len());
    for a in &adapters {
        print!("{}", super::format::adapter(a));
    }
    Ok(())
}

fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::input(
            "--shard",
            format!("'{text}' is not I/N"),
            "give the 0-based slice and the count, e.g. --shard 0/4",
        )
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(Error::input("--shard", format!("slice {i} of {n} does not exist"), "use I/N with 0 <= I < N"));
    }
    Ok((i, n))
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    let _ = (a.config, a.out, a.resume, a.shard.as_deref().map(parse_shard), a.backend, DEFAULT_SWEEP);
    Err(Error::Other("WIRING: sweep runner lands with the sweep branch".into()))
}

pub fn heatmap(a: HeatmapArgs) -> Result<()> {
    plot::heatmap(&a.dir, &a.x, &a.y, &a.metric, &a.out)?;
    eprintln!("ualign: wrote {}", a.out.display());
    Ok(())
}

pub fn merge(a: MergeArgs) -> Result<()> {
    sweep::merge(&a.dirs, &a.out)?;
    eprintln!("ualign: merged {} directories into {}", a.dirs.len(), a.out.display());
    Ok(())
}
