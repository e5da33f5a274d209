//! A JSON Lines batch read in chunks, so a file of any length is processed
//! with bounded memory and its results can be written as they finish.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use rayon::prelude::*;

use super::json::{jsonl_hint, parse_population};
use super::load::load_population;
use super::Population;
use crate::error::{Error, Location, Result};
use crate::limits::{too_large, MAX_INPUT_BYTES};

/// Populations per chunk: enough to keep every core busy between writes (and
/// as many as `auto` needs to consider a GPU, so a full first chunk decides),
/// few enough that a chunk of large populations stays small in memory.
pub const CHUNK: usize = crate::limits::AUTO_GPU_MIN_POPULATIONS;

/// The populations of a batch file, `chunk` at a time, in file order.
/// A `.jsonl`/`.ndjson` file gives one population per non-blank line; any
/// other population file is a batch of one.
pub struct Chunks {
    source: Source,
    chunk: usize,
    loc: Location,
    /// 1-based number of the last line read.
    line: usize,
    /// Populations handed out so far.
    pub read: usize,
}

enum Source {
    Lines(Box<dyn BufRead + Send>),
    One(Option<Population>),
    Done,
}

impl Chunks {
    /// Opens `path` (a single-population file is read and parsed at once).
    pub fn open(path: &Path, chunk: usize) -> Result<Chunks> {
        let loc = Location::file(path.display().to_string());
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        let source = if ext == "jsonl" || ext == "ndjson" {
            let file = File::open(path).map_err(|e| Error::Input {
                location: loc.clone(),
                field: "file".into(),
                problem: format!("cannot be read ({e})"),
                fix: "check the path and that the file is readable UTF-8 text".into(),
            })?;
            Source::Lines(Box::new(BufReader::with_capacity(1 << 20, file)))
        } else {
            Source::One(Some(load_population(path)?))
        };
        Ok(Chunks { source, chunk: chunk.max(1), loc, line: 0, read: 0 })
    }

    /// Reads up to `chunk` non-blank lines and parses them in parallel.
    fn next_lines(&mut self) -> Result<Vec<Population>> {
        let Source::Lines(reader) = &mut self.source else { return Ok(Vec::new()) };
        let mut lines: Vec<(usize, String)> = Vec::with_capacity(self.chunk);
        while lines.len() < self.chunk {
            let mut bytes = Vec::new();
            let got = reader
                .by_ref()
                .take(MAX_INPUT_BYTES + 1)
                .read_until(b'\n', &mut bytes)
                .map_err(|e| read_error(&self.loc, self.line + 1, e))?;
            if got == 0 {
                self.source = Source::Done;
                break;
            }
            self.line += 1;
            if bytes.len() as u64 > MAX_INPUT_BYTES {
                return Err(read_error(&self.loc, self.line, too_large()));
            }
            let text = String::from_utf8(bytes).map_err(|_| {
                read_error(&self.loc, self.line, std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
            })?;
            if !text.trim().is_empty() {
                lines.push((self.line, text));
            }
        }
        let parsed: Vec<Result<Population>> = lines
            .par_iter()
            .map(|(at, line)| parse_population(line, &self.loc.clone().at_line(*at)).map_err(|e| jsonl_hint(e, line)))
            .collect();
        parsed.into_iter().collect()
    }
}

impl Iterator for Chunks {
    type Item = Result<Vec<Population>>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = match &mut self.source {
            Source::Done => return None,
            Source::One(pop) => {
                let one = pop.take().map(|p| vec![p]);
                self.source = Source::Done;
                Ok(one.unwrap_or_default())
            }
            Source::Lines(_) => self.next_lines(),
        };
        match result {
            Ok(pops) if pops.is_empty() && self.read == 0 => {
                self.source = Source::Done;
                Some(Err(Error::Input {
                    location: self.loc.clone(),
                    field: "populations".into(),
                    problem: "the file holds no population (it is empty or blank)".into(),
                    fix: "write one population per line as a JSON object".into(),
                }))
            }
            Ok(pops) if pops.is_empty() => None,
            Ok(pops) => {
                self.read += pops.len();
                Some(Ok(pops))
            }
            Err(e) => {
                self.source = Source::Done;
                Some(Err(e))
            }
        }
    }
}

fn read_error(loc: &Location, line: usize, e: std::io::Error) -> Error {
    Error::Input {
        location: loc.clone().at_line(line),
        field: "file".into(),
        problem: format!("cannot be read ({e})"),
        fix: "give one population per line as a JSON object".into(),
    }
}
