//! Standard output that never panics: a closed pipe (`| head -1`) ends the
//! program quietly, any other write error (a full disk) is one error line.

use std::io::{BufWriter, Stdout, Write};

use ualign::error::{Error, Result};

/// Where a write error on standard output is reported from.
pub const STDOUT: &str = "standard output";

/// Buffered standard output; [`Out::flush`] after each batch of lines so
/// results appear as they finish.
pub struct Out {
    w: BufWriter<Stdout>,
}

impl Out {
    pub fn new() -> Out {
        Out { w: BufWriter::with_capacity(1 << 16, std::io::stdout()) }
    }

    pub fn text(&mut self, text: &str) -> Result<()> {
        self.w.write_all(text.as_bytes()).map_err(|e| Error::io(STDOUT, e))
    }

    pub fn line(&mut self, text: &str) -> Result<()> {
        self.text(text)?;
        self.text("\n")
    }

    pub fn flush(&mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::io(STDOUT, e))
    }
}

/// Writes `text` to standard output at once.
pub fn print(text: &str) -> Result<()> {
    let mut out = Out::new();
    out.text(text)?;
    out.flush()
}

/// True for the error of writing into a pipe whose reader has gone, which
/// ends the program quietly, as `yes | head -1` does.
pub fn is_closed_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { path, source } if path == STDOUT && source.kind() == std::io::ErrorKind::BrokenPipe)
}
