//! Loading population files: the format is chosen by extension and the text
//! handed to its parser (`json` or `preflib`, which know nothing of each other).

use std::path::Path;

use super::json::{parse_jsonl, parse_population};
use super::preflib;
use super::Population;
use crate::error::{Error, Location, Result};

/// Loads one population, choosing the format by extension: `.json`, PrefLib
/// `.soc`, `.soi`, `.toc` or `.toi`, or a `.jsonl` file holding exactly one
/// population.
pub fn load_population(path: &Path) -> Result<Population> {
    load_population_with_notes(path).map(|(pop, _)| pop)
}

/// [`load_population`], also returning the notices a user should see about
/// how the file was read (e.g. PrefLib order lines of count 0 skipped).
pub fn load_population_with_notes(path: &Path) -> Result<(Population, Vec<String>)> {
    let (text, loc) = read(path)?;
    match format_of(path, &loc)? {
        Format::Json => Ok((parse_population(&text, &loc)?, Vec::new())),
        Format::PrefLib { partial } => preflib::parse_preflib_with_notes(&text, &loc, partial),
        Format::JsonLines => {
            let mut pops = parse_jsonl(&text, &loc)?;
            if pops.len() != 1 {
                return Err(Error::Input {
                    location: loc,
                    field: "population".into(),
                    problem: format!("the file holds {} populations, but one is expected here", pops.len()),
                    fix: "pass a JSON Lines file with several populations as a batch (--populations)".into(),
                });
            }
            Ok((pops.remove(0), Vec::new()))
        }
    }
}

/// Loads a batch: a `.jsonl` file gives one population per non-blank line, in
/// file order; any single-population file is a batch of one.
pub fn load_populations(path: &Path) -> Result<Vec<Population>> {
    let (text, loc) = read(path)?;
    match format_of(path, &loc)? {
        Format::JsonLines => parse_jsonl(&text, &loc),
        Format::Json => Ok(vec![parse_population(&text, &loc)?]),
        Format::PrefLib { partial } => Ok(vec![preflib::parse_preflib(&text, &loc, partial)?]),
    }
}

enum Format {
    Json,
    JsonLines,
    PrefLib { partial: bool },
}

fn format_of(path: &Path, loc: &Location) -> Result<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "json" => Ok(Format::Json),
        "jsonl" | "ndjson" => Ok(Format::JsonLines),
        "soc" | "toc" => Ok(Format::PrefLib { partial: false }),
        "soi" | "toi" => Ok(Format::PrefLib { partial: true }),
        _ => Err(Error::Input {
            location: loc.clone(),
            field: "file".into(),
            problem: format!("has the unknown extension '{ext}'"),
            fix: "use .json (one population), .jsonl (one per line), or PrefLib .soc/.soi/.toc/.toi".into(),
        }),
    }
}

fn read(path: &Path) -> Result<(String, Location)> {
    let loc = Location::file(path.display().to_string());
    match crate::limits::read_capped(path) {
        Ok(text) => Ok((text, loc)),
        Err(e) => Err(Error::Input {
            location: loc,
            field: "file".into(),
            problem: format!("cannot be read ({e})"),
            fix: "check the path and that the file is readable UTF-8 text".into(),
        }),
    }
}
