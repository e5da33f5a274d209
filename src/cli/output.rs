//! Standard output and standard error that never panic: a closed pipe on
//! standard output (`| head -1`) ends the program quietly, any other write
//! error there (a full disk) is one error line; standard error is written
//! with [`note`], which ignores errors so the work goes on.

use std::io::{BufWriter, Stdout, Write};

use rayon::prelude::*;
use serde::Serialize;

use ualign::error::{Error, Result};

/// Where a write error on standard output is reported from.
pub const STDOUT: &str = "standard output";

/// Buffered standard output; [`Out::flush`] after each batch of lines so
/// results appear as they finish.
pub struct Out {
    w: BufWriter<Stdout>,
    /// The buffers [`Out::json_lines`] formats into, kept from batch to
    /// batch so a long run allocates (and faults in) them once.
    blocks: Vec<Vec<u8>>,
}

impl Out {
    pub fn new() -> Out {
        Out { w: BufWriter::with_capacity(1 << 16, std::io::stdout()), blocks: Vec::new() }
    }

    pub fn text(&mut self, text: &str) -> Result<()> {
        self.w.write_all(text.as_bytes()).map_err(|e| Error::io(STDOUT, e))
    }

    /// One compact JSON object per line, in the order of `items`. The lines
    /// are formatted in parallel, a block of them into each buffer, and the
    /// buffers written in order.
    pub fn json_lines<T: Serialize + Sync>(&mut self, items: &[T]) -> Result<()> {
        let used = items.len().div_ceil(LINES_PER_BLOCK);
        if self.blocks.len() < used {
            self.blocks.resize_with(used, Vec::new);
        }
        let blocks = &mut self.blocks[..used];
        let formatted: Vec<Result<()>> = blocks
            .par_iter_mut()
            .zip(items.par_chunks(LINES_PER_BLOCK))
            .map(|(buf, block)| json_block(block, buf))
            .collect();
        formatted.into_iter().collect::<Result<()>>()?;
        for buf in blocks.iter() {
            self.w.write_all(buf).map_err(|e| Error::io(STDOUT, e))?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::io(STDOUT, e))
    }
}

/// Lines per buffer of [`Out::json_lines`]: enough to make the hand-off to
/// a thread cheap, few enough that a chunk of a batch gives every core work.
const LINES_PER_BLOCK: usize = 256;

/// The JSON lines of `items`, in place of what `buf` held. The first
/// line's length sizes a new buffer, so it grows at most once more.
fn json_block<T: Serialize>(items: &[T], buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    for (i, item) in items.iter().enumerate() {
        serde_json::to_writer(&mut *buf, item).map_err(|e| Error::Other(format!("JSON encoding: {e}")))?;
        buf.push(b'\n');
        if i == 0 {
            buf.reserve(buf.len() * items.len() + buf.len() / 2);
        }
    }
    Ok(())
}

/// Writes `text` to standard output at once.
pub fn print(text: &str) -> Result<()> {
    let mut out = Out::new();
    out.text(text)?;
    out.flush()
}

/// Writes one line to standard error (a notice, a progress line, an
/// error). A write error is ignored: standard error is where it would be
/// reported, and a reader that has gone (`2>&1 | head -1`, a pager quit
/// early) must not stop a sweep that still has tables to write.
/// (`eprintln!` panics instead.)
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes()).and_then(|()| err.write_all(b"\n"));
}

/// True for the error of writing into a pipe whose reader has gone, which
/// ends the program quietly, as `yes | head -1` does.
pub fn is_closed_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { path, source } if path == STDOUT && source.kind() == std::io::ErrorKind::BrokenPipe)
}
