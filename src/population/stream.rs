//! A JSON Lines batch read in chunks, so a file of any length is processed
//! with bounded memory and its results can be written as they finish.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use super::json::parse_jsonl_line_into;
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
    /// The bytes of the current chunk's non-blank lines, back to back;
    /// reused from chunk to chunk, so reading allocates nothing per line.
    text: Vec<u8>,
    /// Each of those lines: its 1-based number and where it lies in `text`.
    spans: Vec<(usize, Range<usize>)>,
    /// Populations handed back by [`Chunks::recycle`], to read into.
    spare: Vec<Population>,
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
        Ok(Chunks {
            source,
            chunk: chunk.max(1),
            loc,
            line: 0,
            read: 0,
            text: Vec::new(),
            spans: Vec::new(),
            spare: Vec::new(),
        })
    }

    /// Reads up to `chunk` non-blank lines and parses them in parallel; the
    /// error reported is the one on the first bad line.
    fn next_lines(&mut self) -> Result<Vec<Population>> {
        let Source::Lines(reader) = &mut self.source else { return Ok(Vec::new()) };
        self.text.clear();
        self.spans.clear();
        while self.spans.len() < self.chunk {
            let start = self.text.len();
            let got = reader
                .by_ref()
                .take(MAX_INPUT_BYTES + 1)
                .read_until(b'\n', &mut self.text)
                .map_err(|e| read_error(&self.loc, self.line + 1, e))?;
            if got == 0 {
                self.source = Source::Done;
                break;
            }
            self.line += 1;
            if got as u64 > MAX_INPUT_BYTES {
                return Err(read_error(&self.loc, self.line, too_large()));
            }
            if is_blank(&self.text[start..]) {
                self.text.truncate(start);
            } else {
                self.spans.push((self.line, start..self.text.len()));
            }
        }
        let mut pops = std::mem::take(&mut self.spare);
        pops.truncate(self.spans.len());
        pops.resize_with(self.spans.len(), || Population { responses: 0, labels: None, types: Vec::new() });
        let (text, loc) = (&self.text, &self.loc);
        let parsed: Vec<Result<()>> = pops
            .par_iter_mut()
            .zip(self.spans.par_iter())
            .map(|(pop, (at, span))| parse_jsonl_line_into(&text[span.clone()], loc, *at, pop))
            .collect();
        parsed.into_iter().collect::<Result<()>>()?;
        Ok(pops)
    }

    /// Hands back a chunk's populations once done with them: the next chunk
    /// is read into them, reusing their vectors.
    pub fn recycle(&mut self, pops: Vec<Population>) {
        self.spare = pops;
    }
}

/// A line holding only whitespace (as `str::trim` counts it), which JSON
/// Lines skips. Any printable ASCII character settles it at once, so a
/// population line costs one byte here.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| !b.is_ascii_graphic()) && std::str::from_utf8(line).is_ok_and(|s| s.trim().is_empty())
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
