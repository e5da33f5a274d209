//! A cell file written while its cell runs. Each chunk of populations is
//! formatted as soon as it is computed and handed to a thread that writes it
//! and flushes it to disk, so that when the cell ends little is left to
//! format, write or wait for. Until it is complete the file is a temporary
//! sibling (as every result file, see `write_atomic`): a run killed or
//! failing mid-cell leaves no cell file, and a resumed run recomputes the
//! cell.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::results::table::temporary_for;
use crate::sweep::outcome::{CellText, PopulationOutcome};

/// Bytes written before the writer flushes them to disk (a few chunks of a
/// large cell, none of a small one).
const FLUSH_EVERY: usize = 8 << 20;

/// A cell file being written; see [`super::Store::cell_file`].
pub struct CellFile {
    path: PathBuf,
    tmp: PathBuf,
    text: CellText,
    /// The text before the first population, written with the first chunk.
    head: Option<Vec<u8>>,
    /// Formatted text to the writer thread, and whether to flush it to disk
    /// (at most one chunk waits, so the text held in memory stays within
    /// three chunks' worth: one written, one waiting, one formatted).
    to_writer: Option<SyncSender<(Vec<Vec<u8>>, bool)>>,
    /// Buffers the writer has emptied, for the next chunk.
    emptied: Receiver<Vec<Vec<u8>>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl CellFile {
    pub(super) fn create(path: &Path, head: Vec<u8>) -> Result<CellFile> {
        let tmp = temporary_for(path)?;
        let file = File::create(&tmp).map_err(|e| Error::io(tmp.display().to_string(), e))?;
        let (to_writer, text) = sync_channel::<(Vec<Vec<u8>>, bool)>(1);
        let (give_back, emptied) = channel();
        let writer = std::thread::Builder::new().name("ualign-cell-file".into()).spawn(move || {
            let mut file = file;
            let mut unflushed = 0;
            for (blocks, flush) in text {
                blocks.iter().try_for_each(|b| file.write_all(b))?;
                unflushed += blocks.iter().map(Vec::len).sum::<usize>();
                // The disk works on a large cell's chunks while the next is
                // computed, rather than on the whole file at the end; a small
                // cell is flushed once, at the end.
                if flush && unflushed >= FLUSH_EVERY {
                    file.sync_data()?;
                    unflushed = 0;
                }
                let _ = give_back.send(blocks);
            }
            file.sync_all()
        });
        let writer = writer.map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(path.display().to_string(), e)
        })?;
        Ok(CellFile {
            path: path.to_path_buf(),
            tmp,
            text: CellText::default(),
            head: Some(head),
            to_writer: Some(to_writer),
            emptied,
            writer: Some(writer),
        })
    }

    /// Writes the next populations of the cell (in population order).
    pub fn push(&mut self, outcomes: &[PopulationOutcome]) -> Result<()> {
        let mut blocks = self.emptied.try_recv().unwrap_or_default();
        self.text.outcomes(outcomes, &mut blocks);
        if let Some(head) = self.head.take() {
            blocks.insert(0, head);
        }
        self.send(blocks, true)
    }

    /// Writes the end of the cell, waits until all of it is on disk (one
    /// flush of the whole file) and gives the file its name.
    pub fn finish(mut self, wall_s: f64) -> Result<()> {
        let tail = [CellText::tail(wall_s), b"\n".to_vec()];
        let rest = self.head.take().into_iter().chain(tail).collect();
        self.send(rest, false)?;
        self.stop_writer().and_then(|()| fs::rename(&self.tmp, &self.path)).map_err(|e| self.failed(e))
    }

    fn send(&mut self, blocks: Vec<Vec<u8>>, flush: bool) -> Result<()> {
        let sent = self.to_writer.as_ref().is_some_and(|w| w.send((blocks, flush)).is_ok());
        if sent {
            return Ok(());
        }
        // The writer stopped: its error says why.
        let error = self.stop_writer().err().unwrap_or_else(|| io::Error::other("the cell file's writer stopped"));
        Err(self.failed(error))
    }

    /// Ends the writer thread once it has written what it was sent.
    fn stop_writer(&mut self) -> io::Result<()> {
        drop(self.to_writer.take());
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(written)) => written,
            Some(Err(_)) => Err(io::Error::other("the cell file's writer thread panicked")),
            None => Ok(()),
        }
    }

    fn failed(&self, e: io::Error) -> Error {
        let _ = fs::remove_file(&self.tmp);
        Error::io(self.path.display().to_string(), e)
    }
}

impl Drop for CellFile {
    /// A cell that stopped before [`CellFile::finish`] (an error) leaves no
    /// file behind.
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = self.stop_writer();
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::outcome::{CellRecord, PolicyMetrics};
    use crate::sweep::store::Store;

    fn record(count: usize) -> CellRecord {
        let cell = serde_json::from_str(
            r#"{"index":7,"model":"impartial","responses":3,"types":4,"populations":5000,"seed":2,
                "k":2,"dynamics":"pga","eta":1.0,"iters":100,"tol":1e-9}"#,
        )
        .unwrap();
        let m = |x: f64| PolicyMetrics { r: x, e: 1.0 - x, r_ell: None };
        let outcomes = (0..count)
            .map(|i| {
                let x = 1.0 / (i + 3) as f64;
                PopulationOutcome {
                    responses: 3,
                    types: 4,
                    iterations: i,
                    converged: i % 2 == 0,
                    equilibrium: m(x),
                    equilibrium_converged: Some(true),
                    last_iterate: Some(m(x / 2.0)),
                    nlhf_unique: Some(false),
                    average_r: x,
                    regret: x * x,
                    support: 2,
                    entropy: x.ln(),
                    nlhf: m(x / 3.0),
                    rlhf: m(x / 5.0),
                    uniform: m(x / 7.0),
                    history: Vec::new(),
                }
            })
            .collect();
        CellRecord { cell, backend: "cpu".into(), outcomes, wall_s: 1.5 }
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Written in chunks, the finished file is serde_json's text of the
    /// record (and loads back to it); until then only a temporary exists.
    #[test]
    fn a_cell_written_in_chunks_is_its_record() {
        let dir = std::env::temp_dir().join(format!("ualign-cell-file-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = Store::new(&dir);
        let rec = record(5000);
        let mut file = store.cell_file(&rec.cell, &rec.backend).unwrap();
        for chunk in rec.outcomes.chunks(1999) {
            file.push(chunk).unwrap();
        }
        let cells = store.cells_dir();
        assert!(files_in(&cells).iter().all(|f| f.contains(".tmp-")), "{:?}", files_in(&cells));
        file.finish(rec.wall_s).unwrap();
        assert_eq!(files_in(&cells), ["000007.json"]);
        let text = fs::read(store.cell_path(7)).unwrap();
        assert!(text == [serde_json::to_vec(&rec).unwrap(), b"\n".to_vec()].concat());
        assert_eq!(store.load(&rec.cell).unwrap(), rec);
        // A cell without populations: the head and the tail alone.
        let empty = CellRecord { outcomes: Vec::new(), ..rec };
        store.cell_file(&empty.cell, &empty.backend).unwrap().finish(empty.wall_s).unwrap();
        assert_eq!(store.load(&empty.cell).unwrap(), empty);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A cell that stops before it is finished leaves nothing behind.
    #[test]
    fn an_unfinished_cell_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("ualign-cell-file-unfinished-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = Store::new(&dir);
        let rec = record(3000);
        let mut file = store.cell_file(&rec.cell, &rec.backend).unwrap();
        file.push(&rec.outcomes[..1000]).unwrap();
        drop(file);
        assert!(files_in(&store.cells_dir()).is_empty(), "{:?}", files_in(&store.cells_dir()));
        fs::remove_dir_all(&dir).unwrap();
    }
}
