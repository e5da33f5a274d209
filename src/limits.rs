//! The limits every engine shares, checked in one place before any work.
//!
//! Every option check of `solve` and `equilibrium` (both engines) lives
//! here, so the CPU and GPU engines accept and refuse the same inputs with
//! the same messages. This module is a leaf: it takes plain numbers, and the
//! option structs of `dynamics` and `equilibrium` call it.
//!
//! The GPU engine has tighter limits of its own (n ≤ 256, k ≤ 64, see
//! `gpu::MAX_K`); those are checked when it is chosen, and `auto` sends work
//! beyond them to the CPU engine.

use crate::error::{Error, Result};

/// Largest k. The exact engine builds binomial coefficients `C(k, i)` in f64,
/// which overflow past k ≈ 1,029 (the deviation vector becomes NaN), and its
/// Plackett–Luce tables grow as k²; 1,000 keeps both well inside f64 and memory.
pub const MAX_K: usize = 1_000;

/// Largest iteration cap of one self-play run. It fits the GPU's 32-bit
/// counters with room to spare and bounds the work of one call: at a
/// microsecond per iteration of a tiny population this is under two minutes
/// per population.
pub const MAX_ITERS: usize = 100_000_000;

/// Largest population file (and largest line of a JSON Lines batch) read, in
/// bytes: far above any real preference data set, far below a machine's memory.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Smallest self-play batch for which `auto` opens a hardware GPU (and the
/// chunk size in which batches are streamed, so one chunk is one such batch).
///
/// Chosen conservatively, not measured on hardware: the CPU engine solves
/// 1,024 populations (n = 16, m = 32, k = 4, 200 iterations) in about 0.13 s
/// on two cores, too little work for a device launch (adapter, device,
/// kernel compilation, transfers) to pay off; a GPU can only win on batches
/// several times larger. Smaller batches, and every batch on a machine with only a software
/// adapter, run on the CPU engine.
pub const AUTO_GPU_MIN_POPULATIONS: usize = 4_096;

/// Most cells a sweep runs without `--large` (`RunOptions::large`). Each
/// cell is a file of its own under `cells/`, a row of `cells.csv`, a line of
/// progress and a tile of the figures, with a fixed cost of milliseconds
/// beyond its populations; 10,000 cells is already a directory of 10,000
/// files and a heatmap too dense to read, so a larger grid is far more
/// often a list written too long (`k = [1, …, 1000]` times another axis)
/// than an intended experiment.
pub const MAX_SWEEP_CELLS: usize = 10_000;

/// Most populations (summed over the cells) a sweep runs without
/// `--large`. Every population leaves about 1.8 kB on disk (its cell file
/// with 24 checkpoints and its row of `populations.csv`) and about 1.3 kB
/// in memory until the tables are written: one cell of 100,000 populations
/// (n = 8, m = 16, k = 4, pga) wrote 180 MB and peaked at 131 MB resident
/// (`/usr/bin/time -v ualign sweep` on a 2-core AMD EPYC, 6 s). So 10^6
/// populations stay near 2 GB of disk and memory, and 10^7 would not fit an
/// ordinary machine.
pub const MAX_SWEEP_POPULATIONS: u128 = 1_000_000;

/// Refuses a sweep of more than [`MAX_SWEEP_CELLS`] cells or
/// [`MAX_SWEEP_POPULATIONS`] populations unless `large` says the user means it.
pub fn check_sweep_size(cells: usize, populations: u128, large: bool) -> Result<()> {
    if large || (cells <= MAX_SWEEP_CELLS && populations <= MAX_SWEEP_POPULATIONS) {
        return Ok(());
    }
    Err(Error::input(
        "grid",
        format!(
            "has {cells} cells and {populations} populations, more than the {MAX_SWEEP_CELLS} cells or \
             {MAX_SWEEP_POPULATIONS} populations a sweep runs unasked (about 1.8 kB of disk and 1.3 kB of memory per population)"
        ),
        "shorten the lists or lower `populations`, split the grid with --shard, or pass --large if you mean it",
    ))
}

/// Most responses for the computations that hold dense `n × n` matrices:
/// the equilibrium solver (Jacobian, Newton's system), the pairwise
/// preferences and margins behind NLHF, RLHF and `compare`. One such f64
/// matrix is 512 MiB at this n and the solver holds a few at once, so a
/// 24 GiB machine still has room; at n = 65,535 one would be 34 GB. Checked
/// before anything is allocated. Self-play dynamics and evaluations need
/// only `O(m·n)` memory and are not bound by it.
pub const MAX_DENSE_RESPONSES: usize = 8_192;

/// Checks `n ≤` [`MAX_DENSE_RESPONSES`] for `what` (a command or method).
pub fn check_dense_responses(n: usize, what: &str) -> Result<()> {
    if n <= MAX_DENSE_RESPONSES {
        return Ok(());
    }
    let gib = (n as f64).powi(2) * 8.0 / (1u64 << 30) as f64;
    Err(Error::Limit {
        what: format!("responses for {what}, which holds dense n x n matrices ({gib:.1} GiB each at this n)"),
        value: n,
        limit: MAX_DENSE_RESPONSES,
        engine: "the exact engine".into(),
        fix: format!(
            "use at most {MAX_DENSE_RESPONSES} responses here; self-play (--dynamics) and eval of a given policy need no such matrix"
        ),
    })
}

/// Checks 1 ≤ k ≤ [`MAX_K`].
pub fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::input("k", "is 0", "k counts the sampled responses: use k >= 1"));
    }
    if k > MAX_K {
        return Err(Error::input(
            "k",
            format!("is {k}, above the largest supported k = {MAX_K}"),
            format!("use k <= {MAX_K} (binomial coefficients C(k, i) leave f64 beyond it)"),
        ));
    }
    Ok(())
}

/// Checks the self-play options (step size `eta`, iteration cap `iters`,
/// tolerance `tol`) the same way for every engine.
pub fn check_solve(k: usize, eta: f64, iters: usize, tol: f64) -> Result<()> {
    check_k(k)?;
    if !(eta.is_finite() && eta > 0.0) {
        return Err(Error::input("eta", format!("is {eta}"), "the step size must be a finite number > 0"));
    }
    if iters == 0 {
        return Err(Error::input("iters", "is 0", "allow at least 1 iteration"));
    }
    if iters > MAX_ITERS {
        return Err(Error::input(
            "iters",
            format!("is {iters}, above the largest supported cap {MAX_ITERS}"),
            format!("use --iters <= {MAX_ITERS} (1e8)"),
        ));
    }
    if !(tol >= 0.0) {
        return Err(Error::input(
            "tol",
            format!("is {tol}"),
            "the tolerance on E_k must be >= 0 (0 = never stop early)",
        ));
    }
    Ok(())
}

/// Checks the equilibrium solver's options (tolerance `tol`, QRE path step
/// cap `max_path_steps`) the same way for every engine.
pub fn check_equilibrium(k: usize, tol: f64, max_path_steps: usize) -> Result<()> {
    check_k(k)?;
    if !(tol.is_finite() && tol > 0.0) {
        return Err(Error::input("tol", format!("is {tol}"), "the tolerance on E_k must be a finite number > 0"));
    }
    if max_path_steps == 0 {
        return Err(Error::input("max_path_steps", "is 0", "allow at least one step on the QRE path"));
    }
    Ok(())
}

/// Reads a whole text file, refusing one larger than [`MAX_INPUT_BYTES`]
/// (so `/dev/zero` or a mistyped multi-gigabyte path ends with an error
/// instead of filling memory).
pub fn read_capped(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_INPUT_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// The error of an input beyond [`MAX_INPUT_BYTES`].
pub fn too_large() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("larger than the limit of {} MiB per file or line", MAX_INPUT_BYTES >> 20),
    )
}
