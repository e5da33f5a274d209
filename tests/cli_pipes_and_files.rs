//! Output the user did not plan for: a reader of standard error that has
//! gone, an output file that already exists or cannot be written, and a
//! sweep grid far larger than meant.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ualign::limits::{check_sweep_size, MAX_SWEEP_CELLS, MAX_SWEEP_POPULATIONS};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ualign"))
}

fn ualign(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-pipes-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exit status 1 and exactly one `error:` line containing every needle.
#[track_caller]
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    common::assert_one_line_error(out, "", needles)
}

const SMALL: &str = r#"
title = "small"
backend = "cpu"
model = "impartial"
responses = [3, 4]
types = 4
k = [1, 2]
populations = 3
seed = 1
"#;

fn small_config(root: &Path) -> PathBuf {
    let config = root.join("small.toml");
    std::fs::write(&config, SMALL).unwrap();
    config
}

/// Runs `args` with standard error (and standard output, when `stdout` is
/// false) going into a pipe whose reader is already gone.
fn with_closed_pipes(args: &[&str], read_stdout: bool) -> (Option<i32>, String) {
    let mut child = bin().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    drop(child.stderr.take());
    if !read_stdout {
        drop(child.stdout.take());
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_sweep_whose_stderr_reader_has_gone_still_writes_its_tables() {
    let root = scratch("stderr");
    let config = small_config(&root);
    for (name, read_stdout) in [("stdout_read", true), ("both_closed", false)] {
        let out = root.join(name);
        let (code, stdout) = with_closed_pipes(&["sweep", s(&config), "--out", s(&out)], read_stdout);
        assert_eq!(code, Some(0), "{name}: exit status {code:?}");
        for table in ["cells.csv", "populations.csv", "history.csv", "manifest.json"] {
            assert!(out.join(table).is_file(), "{name}: no {table}");
        }
        let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        assert!(manifest.contains("\"complete\": true"), "{manifest}");
        if read_stdout {
            assert!(stdout.contains("cells.csv"), "the summary is missing: {stdout}");
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_error_into_a_closed_stderr_exits_1_not_a_panic() {
    let (code, _) =
        with_closed_pipes(&["eval", "--population", "/nonexistent.json", "--policy", "uniform", "--k", "1"], false);
    assert_eq!(code, Some(1));
    // A batch whose notices and results both meet closed pipes.
    let root = scratch("batch");
    let batch = root.join("b.jsonl");
    common::run_ok(&["generate", "--model", "impartial", "--responses", "4", "--count", "50", "--out", s(&batch)]);
    let (code, _) = with_closed_pipes(&["solve", "--populations", s(&batch), "--k", "2", "--backend", "cpu"], false);
    assert!(code == Some(0) || code == Some(3), "exit status {code:?}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn generate_refuses_an_existing_file_unless_forced_and_leaves_no_temporary() {
    let root = scratch("generate");
    let file = root.join("p.jsonl");
    let gen = |seed: &str, extra: &[&str]| {
        ualign(
            &[&["generate", "--model", "impartial", "--responses", "3", "--seed", seed, "--out", s(&file)], extra]
                .concat(),
        )
    };
    assert!(gen("1", &[]).status.success());
    let first = std::fs::read(&file).unwrap();
    assert_one_line_error(&gen("2", &[]), &["--out", "already exists", "--force"]);
    assert_eq!(std::fs::read(&file).unwrap(), first, "the refused run changed the file");
    let forced = gen("2", &["--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    let second = std::fs::read(&file).unwrap();
    assert_ne!(second, first);
    assert!(second.ends_with(b"\n") && second.starts_with(b"{\"responses\":3"));
    let names: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["p.jsonl"], "a temporary file was left behind");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_failed_write_names_the_file_and_keeps_a_device_in_place() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let before = std::fs::metadata("/dev/full").unwrap();
    let out = ualign(&["generate", "--model", "impartial", "--responses", "3", "--out", "/dev/full"]);
    assert_one_line_error(&out, &["/dev/full", "already exists"]);
    let out = ualign(&[
        "generate",
        "--model",
        "impartial",
        "--responses",
        "3",
        "--count",
        "100",
        "--force",
        "--out",
        "/dev/full",
    ]);
    assert_one_line_error(&out, &["/dev/full", "No space left"]);
    // Written in place: the device is still a device, not a renamed file.
    let after = std::fs::metadata("/dev/full").unwrap();
    assert!(!after.is_file());
    assert_eq!(before.len(), after.len());
}

#[test]
fn heatmap_refuses_an_existing_file_unless_forced() {
    let root = scratch("heatmap");
    let config = small_config(&root);
    let dir = root.join("sweep");
    common::run_ok(&["sweep", s(&config), "--out", s(&dir)]);
    let png = root.join("gap.png");
    let draw = |extra: &[&str]| {
        ualign(&[&["heatmap", s(&dir), "--x", "k", "--y", "responses", "--out", s(&png)], extra].concat())
    };
    std::fs::write(&png, b"not a figure").unwrap();
    assert_one_line_error(&draw(&[]), &["--out", "already exists", "--force"]);
    assert_eq!(std::fs::read(&png).unwrap(), b"not a figure");
    assert!(draw(&["--force"]).status.success());
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    assert_one_line_error(
        &ualign(&["heatmap", s(&dir), "--x", "k", "--y", "responses", "--out", "/dev/null", "--force"]),
        &["/dev/null", "not a regular file"],
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_huge_grid_is_announced_and_refused_before_any_work_unless_large() {
    let root = scratch("huge");
    // 11 × 10 × 10 × 10 = 11,000 cells of one population each.
    let cells = root.join("cells.toml");
    std::fs::write(
        &cells,
        "backend = \"cpu\"\nmodel = \"impartial\"\nresponses = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]\n\
         types = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\nk = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n\
         seed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\npopulations = 1\n",
    )
    .unwrap();
    // Two cells of 600,000 populations.
    let pops = root.join("pops.toml");
    std::fs::write(
        &pops,
        "backend = \"cpu\"\nmodel = \"impartial\"\nresponses = 3\nk = [1, 2]\npopulations = 600000\n",
    )
    .unwrap();
    let out = root.join("out");
    for (config, count, needle) in [
        (&cells, "11000 cells, 11000 populations", "11000 cells"),
        (&pops, "2 cells, 1200000 populations", "1200000 populations"),
    ] {
        let run = ualign(&["sweep", s(config), "--out", s(&out)]);
        assert_one_line_error(&run, &[needle, "--large", "--shard"]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.lines().next().unwrap().contains(count), "the size is not said first: {stderr}");
        assert!(!out.exists(), "a refused sweep created {}", out.display());
    }
    // --large passes the size check: the next check (the results directory) answers.
    let file = root.join("a_file");
    std::fs::write(&file, "").unwrap();
    let run = ualign(&["sweep", s(&cells), "--out", s(&file), "--large"]);
    assert_one_line_error(&run, &["is a file, not a directory"]);
    // A shard small enough runs unasked; its size names the shard.
    let run = ualign(&["sweep", s(&cells), "--out", s(&file), "--shard", "0/2"]);
    assert_one_line_error(&run, &["is a file, not a directory"]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("5500 cells (shard 0/2 of a grid of 11000 cells)"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_sweep_size_limits_are_inclusive_and_large_lifts_them() {
    assert!(check_sweep_size(MAX_SWEEP_CELLS, MAX_SWEEP_POPULATIONS, false).is_ok());
    assert!(check_sweep_size(MAX_SWEEP_CELLS + 1, 1, false).is_err());
    assert!(check_sweep_size(1, MAX_SWEEP_POPULATIONS + 1, false).is_err());
    assert!(check_sweep_size(usize::MAX, u128::MAX, true).is_ok());
}
