//! Result files: atomic writes, CSV tables and reading them back.
//!
//! Every file a sweep leaves behind is written to a temporary file in the
//! same directory ([`temporary_for`]), flushed, then renamed: through
//! [`write_atomic`], or, for a cell file written while its cell runs, by
//! `sweep::store::CellFile`. So a run killed at any moment leaves either the
//! old file or the new one, never half of one (and perhaps a temporary file,
//! which readers skip and a resumed run deletes). Numbers are written with [`fmt_f64`], the shortest text that parses
//! back to the same f64, so re-reading and re-writing a table is lossless and
//! byte-stable.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::float_text;
use crate::error::{Error, Location, Result};

/// Writes `bytes` to `path` atomically: a temporary sibling file is written,
/// synced and renamed over `path`. Creates the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] for content produced by `fill` straight into the file
/// (buffered), so a large file is never held in memory as a whole.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temporary_for(path)?;
    let result = (|| {
        let mut file = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        fill(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path.display().to_string(), e));
    }
    Ok(())
}

/// The temporary sibling a file is written to before it takes its name
/// (see [`is_temporary`]); creates the directory if needed.
pub fn temporary_for(path: &Path) -> Result<PathBuf> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(dir.join(format!(".{name}.tmp-{}", std::process::id())))
}

/// True for the temporary files a run killed mid-write leaves behind (those
/// of [`write_atomic`], and the cell files being written, see
/// [`temporary_for`]); readers skip them and a resumed run deletes them.
pub fn is_temporary(path: &Path) -> bool {
    path.file_name().map(|n| n.to_string_lossy().contains(".tmp-")).unwrap_or(false)
}

/// Formats an f64 so that it parses back to the identical value: plain
/// decimals in the usual range, scientific notation for tiny magnitudes
/// (exploitabilities like `3.1e-11`), empty for "not applicable" (NaN).
pub fn fmt_f64(x: f64) -> String {
    let mut text = Vec::with_capacity(24);
    push_f64(&mut text, x);
    String::from_utf8(text).expect("a formatted number is ASCII")
}

/// [`fmt_f64`] appended to `out`, without allocating: the rows of large
/// tables are formatted straight into byte buffers (the text of `{}` and
/// `{:e}`, see [`float_text`]).
pub fn push_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_nan() {
        // Not applicable: an empty cell.
        return;
    }
    if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e15) {
        float_text::push_lower_exp(out, x);
    } else {
        float_text::push_display(out, x);
    }
}

/// An optional number: empty cell when absent.
pub fn fmt_opt(x: Option<f64>) -> String {
    x.map(fmt_f64).unwrap_or_default()
}

/// A CSV table held as text: a header and rows of cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<String>) -> Self {
        Table { header, rows: Vec::new() }
    }

    /// Appends a row; it must have one cell per header column.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "row width differs from the header");
        self.rows.push(row);
    }

    /// The CSV text (RFC 4180 quoting where needed, `\n` line ends).
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        csv_text(std::iter::once(&self.header).chain(&self.rows))
    }

    /// Writes the table atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_csv()?)
    }

    /// Reads a CSV file written by [`Table::write`].
    pub fn read(path: &Path) -> Result<Table> {
        let text = fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_slice());
        let bad = |e| invalid_table(path, e);
        let header = r.headers().map_err(bad)?.iter().map(str::to_string).collect();
        let mut table = Table::new(header);
        for rec in r.records() {
            table.rows.push(rec.map_err(bad)?.iter().map(str::to_string).collect());
        }
        Ok(table)
    }

    /// Index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A numeric column (empty or unparsable cells become NaN).
    pub fn numbers(&self, col: usize) -> Vec<f64> {
        self.rows.iter().map(|r| r[col].parse::<f64>().unwrap_or(f64::NAN)).collect()
    }
}

/// The CSV text of records, quoted as [`Table::to_csv`] quotes them. A record
/// may be part of a row: its text then joins the rest with a comma.
pub fn csv_text<R: IntoIterator<Item = F>, F: AsRef<[u8]>>(records: impl IntoIterator<Item = R>) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let io = |e: csv::Error| Error::Other(format!("CSV encoding failed: {e}"));
    for record in records {
        w.write_record(record).map_err(io)?;
    }
    w.into_inner().map_err(|e| Error::Other(format!("CSV encoding failed: {e}")))
}

/// The error for a file that is not a CSV table as written here.
pub fn invalid_table(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line() as usize);
    Error::Input {
        location: Location { file: Some(path.display().to_string()), line },
        field: "csv".into(),
        problem: format!("is not a valid results table ({e})"),
        fix: "re-run the sweep (or `ualign merge`) to regenerate it".into(),
    }
}

/// `dir/name` as a path (small helper to keep call sites short).
pub fn in_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_exactly() {
        for x in [0.0, 1.0, 0.75, 2.0 / 3.0, 1e-300, 3.123456789e-11, -4.5e-17, 123456.789, 1e20] {
            assert_eq!(fmt_f64(x).parse::<f64>().unwrap(), x, "{x}");
        }
        assert_eq!(fmt_f64(f64::NAN), "");
        assert_eq!(fmt_f64(0.5), "0.5");
        assert_eq!(fmt_f64(2.5e-11), "2.5e-11");
    }

    /// The definition of [`fmt_f64`], through `core::fmt`.
    fn reference(x: f64) -> String {
        if x.is_nan() {
            String::new()
        } else if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e15) {
            format!("{x:e}")
        } else {
            format!("{x}")
        }
    }

    /// Around both thresholds, at every magnitude and sign, and on random
    /// values: the text of `core::fmt`, byte for byte.
    #[test]
    fn numbers_are_written_as_core_fmt_writes_them() {
        let mut values = vec![0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, 5e-324, 1e-4, 1e15];
        for e in -325..=309 {
            let p: f64 = format!("1e{e}").parse().unwrap();
            values.extend([p, p.next_up(), p.next_down(), -p, -p.next_up(), -p.next_down()]);
        }
        let mut state = 7u64;
        for _ in 0..500_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            values.push(f64::from_bits(state ^ (state >> 31)));
            values.push((state >> 11) as f64 / (1u64 << 53) as f64);
        }
        for x in values {
            assert_eq!(fmt_f64(x), reference(x), "{:#x}", x.to_bits());
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("ualign-table-{}", std::process::id()));
        let path = dir.join("t.csv");
        let mut t = Table::new(vec!["a".into(), "b".into()]);
        t.push(vec!["1".into(), "x,y".into()]);
        t.write(&path).unwrap();
        t.push(vec!["2".into(), "".into()]);
        t.write(&path).unwrap();
        assert_eq!(Table::read(&path).unwrap(), t);
        let leftovers: Vec<_> =
            fs::read_dir(&dir).unwrap().filter(|e| is_temporary(&e.as_ref().unwrap().path())).collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
