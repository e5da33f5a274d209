//! The files the command line writes by name (`generate --out`, `heatmap
//! --out`). One policy, as for a sweep's directory: an existing file is
//! never replaced unless the user passes `--force`, and the answer comes
//! before any work. A file is written under a temporary name in its own
//! directory and renamed into place once complete (see
//! `ualign::results::table::write_atomic_with`), so a failure such as a full
//! disk leaves the old file or none, never half of one, and the error names
//! the file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use ualign::error::{Error, Result};

/// How a named output is to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A regular file (new, or replaced with `--force`): written to a
    /// temporary sibling, then renamed.
    File,
    /// Something that exists and is not a regular file, given with
    /// `--force` (`/dev/stdout`, a named pipe): written in place, since
    /// renaming over it would replace the device or pipe itself.
    Stream,
}

/// Checks that `path` may be written: refused when it is a directory, or
/// exists and `force` is off. `example` is a file name to suggest.
pub fn check(path: &Path, force: bool, example: &str) -> Result<Target> {
    let Ok(meta) = std::fs::metadata(path) else { return Ok(Target::File) };
    if meta.is_dir() {
        return Err(Error::input(
            "--out",
            format!("{} is a directory", path.display()),
            format!("name a file to write, e.g. --out {example}"),
        ));
    }
    if !force {
        return Err(Error::input(
            "--out",
            format!("{} already exists", path.display()),
            "pass --force to replace it, or choose another file",
        ));
    }
    Ok(if meta.is_file() { Target::File } else { Target::Stream })
}

/// Writes `path` (checked by [`check`]) with `fill`; every I/O error names
/// the file.
pub fn write(path: &Path, target: Target, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let name = || path.display().to_string();
    let renamed = |e: Error| match e {
        Error::Io { source, .. } => Error::io(name(), source),
        other => other,
    };
    match target {
        Target::File => {
            let mut failure = None;
            ualign::results::table::write_atomic_with(path, |w| {
                fill(w).map_err(|e| match e {
                    Error::Io { source, .. } => source,
                    other => {
                        let text = other.to_string();
                        failure = Some(other);
                        std::io::Error::other(text)
                    }
                })
            })
            .map_err(|e| failure.take().unwrap_or(e))
            .map_err(renamed)
        }
        Target::Stream => {
            let file = File::create(path).map_err(|e| Error::io(name(), e))?;
            let mut w = BufWriter::new(file);
            fill(&mut w).map_err(renamed)?;
            w.flush().map_err(|e| Error::io(name(), e))
        }
    }
}
