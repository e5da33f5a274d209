//! One error type for the whole crate. Every variant renders as a single line
//! that names where the problem is and how to fix it, so the CLI can print it
//! as-is and exit non-zero instead of panicking.

use std::fmt;

/// Where a bad value came from: a file (and line, for JSON Lines / PrefLib),
/// a command-line flag, or a config key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    pub file: Option<String>,
    pub line: Option<usize>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location { file: Some(path.into()), line: None }
    }
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

impl Location {
    /// `FILE:LINE: ` (or `FILE: `), or nothing for a value without a file
    /// (a command-line flag, an API argument).
    pub fn prefix(&self) -> String {
        if self.file.is_none() && self.line.is_none() {
            String::new()
        } else {
            format!("{self}: ")
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}"),
            (Some(file), None) => write!(f, "{file}"),
            (None, Some(line)) => write!(f, "line {line}"),
            (None, None) => write!(f, "input"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input: `field` names the offending field (e.g. `types[2].ranking`).
    #[error("{}{field}: {problem}; {fix}", location.prefix())]
    Input { location: Location, field: String, problem: String, fix: String },
    /// A size the chosen kernel or device cannot handle.
    #[error("{what} = {value} exceeds the limit {limit} of {engine}; {fix}")]
    Limit { what: String, value: usize, limit: usize, engine: String, fix: String },
    /// Anything the GPU reports: no adapter, lost device, out of memory, shader failure.
    #[error("GPU: {0}")]
    Gpu(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for an input error without a file (CLI flags, API callers).
    pub fn input(field: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Input { location: Location::default(), field: field.into(), problem: problem.into(), fix: fix.into() }
    }

    /// Attach (or replace) the location of an input error; other errors pass through.
    pub fn located(self, loc: &Location) -> Self {
        match self {
            Error::Input { field, problem, fix, .. } => Error::Input { location: loc.clone(), field, problem, fix },
            other => other,
        }
    }

    /// Prefix the field of an input error, e.g. `ranking` -> `types[3].ranking`.
    pub fn in_field(self, prefix: &str) -> Self {
        match self {
            Error::Input { location, field, problem, fix } => {
                let field = if field.is_empty() { prefix.to_string() } else { format!("{prefix}.{field}") };
                Error::Input { location, field, problem, fix }
            }
            other => other,
        }
    }

    /// Names an input error by the command-line flag that carried the value:
    /// `k` becomes `--k`, `policy[2]` becomes `--policy[2]`.
    pub fn as_flag(self) -> Self {
        match self {
            Error::Input { location, field, problem, fix } if location.file.is_none() => {
                let flag = field.replace('_', "-");
                let field = if flag.starts_with("--") { flag } else { format!("--{flag}") };
                Error::Input { location, field, problem, fix }
            }
            other => other,
        }
    }

    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
