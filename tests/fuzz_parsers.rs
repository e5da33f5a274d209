//! Property-based fuzzing of every parser of user input: population JSON,
//! JSON Lines batches (in memory and streamed from a file), PrefLib
//! `.soc`/`.soi`, the sweep TOML config and `--policy` on the command line.
//!
//! The property: any input ends in a value or an error, never a panic, a
//! hang (each case must finish within [`CASE_SECONDS`]) or an allocation out
//! of proportion to it (the peak of the heap during one case stays under
//! [`CASE_BYTES`], measured by a counting allocator). Inputs are the seeds
//! in `tests/fuzz_corpus/PARSER/` (valid files and ones that reach each
//! error branch), those seeds mutated (bytes cut, repeated, replaced, or
//! grammar tokens inserted), token soup, and arbitrary bytes. The number of
//! cases is bounded so the file runs in seconds; `PROPTEST_CASES=100000
//! cargo test --test fuzz_parsers` fuzzes longer. Failures proptest finds
//! are kept in `tests/fuzz_parsers.proptest-regressions` and replayed first
//! on every run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use ualign::error::Location;
use ualign::population::json::{parse_jsonl, parse_population};
use ualign::population::preflib::parse_preflib;
use ualign::population::stream::Chunks;

/// Longest a single case may take (a debug build on a loaded machine
/// parses these inputs in well under a millisecond).
const CASE_SECONDS: u64 = 5;
/// Largest heap growth of one case: the inputs are at most a few kB, so
/// anything near this is an allocation sized from a number in the input.
const CASE_BYTES: usize = 64 << 20;

// ------------------------------------------------------------ the allocator

/// The system allocator, counting the bytes live now and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One case at a time across the tests of this file, so the peak is one
/// parser's (the parsers' own threads count too: the counter is global).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `parse` on `what`, failing the case on a slow run or a large peak.
/// (A panic fails it too: proptest reports it with the input.)
fn bounded(what: &str, parse: impl FnOnce()) -> Result<(), TestCaseError> {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    parse();
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    prop_assert!(took < Duration::from_secs(CASE_SECONDS), "took {took:?} on {what:?}");
    prop_assert!(peak < CASE_BYTES, "allocated {peak} bytes at once on {what:?}");
    Ok(())
}

// ------------------------------------------------------------ inputs

fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..Config::default()
    }
}

/// The seed files of one parser, as bytes.
fn seeds(parser: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus").join(parser);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// One edit of a byte string; positions are fractions of its length.
#[derive(Clone, Debug)]
enum Edit {
    Cut(f64, usize),
    Insert(f64, String),
    Replace(f64, usize, String),
    Repeat(f64, usize),
    Truncate(f64),
}

fn edit(tokens: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    let token = prop_oneof![
        3 => proptest::sample::select(tokens).prop_map(String::from),
        1 => "[ -~]{0,6}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        (0.0..1.0, 1..12usize).prop_map(|(at, n)| Edit::Cut(at, n)),
        (0.0..1.0, token.clone()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (0.0..1.0, 1..6usize, token).prop_map(|(at, n, t)| Edit::Replace(at, n, t)),
        (0.0..1.0, 1..24usize).prop_map(|(at, n)| Edit::Repeat(at, n)),
        (0.0..1.0).prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    let at = |b: &Vec<u8>, f: f64| ((b.len() as f64 * f) as usize).min(b.len());
    for e in edits {
        match e {
            Edit::Cut(f, n) => {
                let i = at(&b, *f);
                b.drain(i..(i + n).min(b.len()));
            }
            Edit::Insert(f, t) => {
                let i = at(&b, *f);
                b.splice(i..i, t.bytes());
            }
            Edit::Replace(f, n, t) => {
                let i = at(&b, *f);
                b.splice(i..(i + n).min(b.len()), t.bytes());
            }
            Edit::Repeat(f, n) => {
                let i = at(&b, *f);
                let part = b[i..(i + n).min(b.len())].to_vec();
                b.splice(i..i, part);
            }
            Edit::Truncate(f) => {
                let i = at(&b, *f);
                b.truncate(i);
            }
        }
    }
    b
}

/// Inputs for one parser: its seeds as they are, mutated seeds, token
/// soup and arbitrary bytes.
fn inputs(parser: &str, tokens: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(parser);
    let n = seeds.len();
    let plain = seeds.clone();
    prop_oneof![
        1 => (0..n).prop_map(move |i| plain[i].clone()),
        6 => (0..n, proptest::collection::vec(edit(tokens), 1..8)).prop_map(move |(i, e)| apply(&seeds[i], &e)),
        2 => proptest::collection::vec(proptest::sample::select(tokens), 0..48).prop_map(|t| t.concat().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    " ",
    "\n",
    "\r\n",
    "\t",
    "\\",
    "\\u0000",
    "\\ud800",
    "\u{feff}",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "2",
    "3",
    "-1",
    "01",
    "1.",
    ".5",
    "0.5",
    "1e",
    "1e999",
    "-1e-999",
    "NaN",
    "Infinity",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "1e308",
    "\"responses\"",
    "\"types\"",
    "\"labels\"",
    "\"weight\"",
    "\"ranking\"",
    "\"scores\"",
    "\"x\"",
    "\"\"",
    "[0,1,2]",
    "[0,0]",
    "{\"weight\":1,\"ranking\":[0]}",
];

const PREFLIB_TOKENS: &[&str] = &[
    "#",
    ":",
    ",",
    "\n",
    "\r\n",
    " ",
    "{",
    "}",
    "\u{feff}",
    "# NUMBER ALTERNATIVES: ",
    "# NUMBER VOTERS: ",
    "# NUMBER UNIQUE ORDERS: ",
    "# ALTERNATIVE NAME ",
    "# DATA TYPE: ",
    "soc",
    "soi",
    "toc",
    "wmd",
    "0",
    "1",
    "2",
    "3",
    "4",
    "10",
    "-1",
    "x",
    "67108864",
    "67108865",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "1: 1,2,3\n",
    "2: 3,1\n",
    "1:\n",
    "{1,2}",
];

const TOML_TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    ",",
    "\"",
    "\n",
    " ",
    "#",
    "{",
    "}",
    "[table]",
    "[[x]]",
    "title",
    "backend",
    "checkpoints",
    "rlhf_beta",
    "model",
    "preflib",
    "responses",
    "types",
    "phi",
    "sigma",
    "margin",
    "populations",
    "seed",
    "k",
    "ell",
    "dynamics",
    "eta",
    "iters",
    "tol",
    "\"cpu\"",
    "\"gpu\"",
    "\"auto\"",
    "\"impartial\"",
    "\"mallows\"",
    "\"pl\"",
    "\"bt\"",
    "\"cycle\"",
    "\"condorcet\"",
    "\"perturbed_cycle\"",
    "\"pga\"",
    "\"mwu\"",
    "0",
    "1",
    "2",
    "-1",
    "1e9",
    "1e999",
    "nan",
    "inf",
    "0.5",
    "1.5",
    "16777217",
    "18446744073709551615",
    "true",
    "[1, 2, 3, 4, 5, 6, 7, 8]",
];

const POLICY_TOKENS: &[&str] = &[
    ",",
    " ",
    "0",
    "1",
    "0.5",
    "0.2",
    "0.3",
    "-0",
    "-1",
    "1e-300",
    "1e999",
    "NaN",
    "inf",
    "-inf",
    "uniform",
    "nlhf",
    "rlhf",
    "e",
    ".",
    "+",
    "--k",
    "\u{feff}",
    "0.3333333",
];

// ------------------------------------------------------------ the parsers

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    fn population_json_never_panics(input in inputs("json", JSON_TOKENS)) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let text = text(&input);
        bounded(&text, || {
            let _ = parse_population(&text, &Location::file("fuzz.json"));
        })?;
    }

    #[test]
    fn json_lines_never_panic(input in inputs("jsonl", JSON_TOKENS)) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let text = text(&input);
        bounded(&text, || {
            let _ = parse_jsonl(&text, &Location::file("fuzz.jsonl"));
        })?;
    }

    #[test]
    fn preflib_never_panics(input in inputs("preflib", PREFLIB_TOKENS), partial in any::<bool>()) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let text = text(&input);
        bounded(&text, || {
            let _ = parse_preflib(&text, &Location::file("fuzz.soi"), partial);
        })?;
    }

    #[test]
    fn sweep_config_never_panics(input in inputs("toml", TOML_TOKENS)) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let text = text(&input);
        bounded(&text, || {
            // Expanding a parsed grid is part of reading it (bounded by the
            // sweep size limit, so only small grids here).
            if let Ok(config) = ualign::sweep::Config::parse(&text, Path::new("fuzz.toml")) {
                if config.cell_count_bound() <= 1_000 {
                    let _ = config.cells();
                }
            }
        })?;
    }
}

proptest! {
    #![proptest_config(config(1_000))]

    /// The streamed reader of a batch file, bytes as they are (not UTF-8 too).
    #[test]
    fn a_streamed_batch_never_panics(input in inputs("jsonl", JSON_TOKENS)) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let path = std::env::temp_dir().join(format!("ualign-fuzz-{}.jsonl", std::process::id()));
        std::fs::write(&path, &input).unwrap();
        bounded(&text(&input), || {
            if let Ok(chunks) = Chunks::open(&path, 2) {
                for chunk in chunks {
                    if chunk.is_err() {
                        break;
                    }
                }
            }
        })?;
        let _ = std::fs::remove_file(&path);
    }
}

proptest! {
    #![proptest_config(config(200))]

    /// `--policy` through the binary (its parser lives in the command line):
    /// any text gives a result (0), an input error (1) or clap's usage error
    /// (2), never a panic (101) or a signal.
    #[test]
    fn policy_text_never_panics(input in inputs("policy", POLICY_TOKENS)) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        // An argument cannot hold a NUL byte.
        let policy = text(&input).replace('\0', "").trim_end_matches('\n').to_string();
        let population = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/populations/condorcet3.json");
        let out = Command::new(env!("CARGO_BIN_EXE_ualign"))
            .args(["eval", "--population", population, "--k", "2", "--backend", "cpu", "--policy", &policy])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(matches!(out.status.code(), Some(0..=2)), "{:?} on {policy:?}: {stderr}", out.status);
        prop_assert!(!stderr.contains("panicked"), "{policy:?}: {stderr}");
    }
}

#[test]
fn every_seed_is_read_without_panicking() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    for seed in seeds("json") {
        let _ = parse_population(&text(&seed), &Location::file("seed.json"));
    }
    for seed in seeds("jsonl") {
        let _ = parse_jsonl(&text(&seed), &Location::file("seed.jsonl"));
    }
    for seed in seeds("preflib") {
        for partial in [false, true] {
            let _ = parse_preflib(&text(&seed), &Location::file("seed.soi"), partial);
        }
    }
    // The bundled sweeps are valid, so the mutations start from real grids.
    for name in ["default.toml", "ell_opponents.toml", "convergence_map.toml", "every_key.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus/toml").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        ualign::sweep::Config::parse(&text, &path).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
