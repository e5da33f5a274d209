//! What a new user meets on a wrong step: one error line that names the fix,
//! nothing left behind by a failed merge, a quiet end on a closed pipe, and
//! the line of a truncated record.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ualign(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ualign")).args(args).output().expect("the binary runs")
}

fn asset(name: &str) -> String {
    format!("{}/assets/populations/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-cli-messages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exit status 1 and exactly one `error:` line containing every needle.
#[track_caller]
fn assert_one_line_error(args: &[&str], needles: &[&str]) {
    common::assert_one_line_error(&ualign(args), &format!("{args:?}"), needles)
}

const SHARDED: &str = r#"
title = "merge cleanup"
backend = "cpu"
model = "impartial"
responses = [3, 4]
types = 4
k = [1, 2]
populations = 2
seed = 1
"#;

#[test]
fn a_failed_merge_leaves_nothing_behind_and_can_be_retried() {
    let root = scratch("merge");
    let config = root.join("sharded.toml");
    std::fs::write(&config, SHARDED).unwrap();
    let [s0, s1, out, empty] = ["s0", "s1", "merged", "empty"].map(|d| root.join(d));
    common::run_ok(&["sweep", s(&config), "--out", s(&s0), "--shard", "0/2"]);
    common::run_ok(&["sweep", s(&config), "--out", s(&s1), "--shard", "1/2"]);

    // One shard only: some cell is missing, after others were copied.
    for _ in 0..2 {
        assert_one_line_error(&["merge", s(&s0), "--out", s(&out)], &["in none of the directories"]);
        assert!(!out.exists(), "the failed merge left {} behind", out.display());
    }
    // An empty directory given by the user stays, and stays empty.
    std::fs::create_dir_all(&empty).unwrap();
    assert_one_line_error(&["merge", s(&s0), "--out", s(&empty)], &["in none of the directories"]);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    // The retry with every shard succeeds in both.
    common::run_ok(&["merge", s(&s0), s(&s1), "--out", s(&out)]);
    common::run_ok(&["merge", s(&s0), s(&s1), "--out", s(&empty)]);
    assert!(out.join("manifest.json").exists() && empty.join("cells.csv").exists());

    // A file where a directory belongs, and a shard that does not exist.
    let file = root.join("b.jsonl");
    std::fs::write(&file, "").unwrap();
    assert_one_line_error(&["merge", s(&s0), s(&s1), "--out", s(&file)], &["is a file, not a directory"]);
    assert_one_line_error(&["sweep", s(&config), "--out", s(&file)], &["is a file, not a directory"]);
    let missing = root.join("nonexist");
    assert_one_line_error(&["merge", s(&s0), s(&missing), "--out", s(&root.join("m2"))], &["does not exist"]);
    assert!(!root.join("m2").exists());

    // --where is a plain filter without facets.
    let png = root.join("where.png");
    common::run_ok(&["heatmap", s(&out), "--x", "k", "--y", "responses", "--where", "responses=4", "--out", s(&png)]);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let none = root.join("none.png");
    assert_one_line_error(
        &["heatmap", s(&out), "--x", "k", "--y", "responses", "--where", "responses=9", "--out", s(&none)],
        &["--where", "matches no cell"],
    );
    assert!(!none.exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn generate_into_a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ualign"))
        .args(["generate", "--model", "impartial", "--responses", "8", "--count", "100000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with(b"{\"responses\":8"), "{}", String::from_utf8_lossy(&first));
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_truncated_record_is_reported_on_its_own_line() {
    let root = scratch("truncated");
    let good = r#"{"responses": 2, "types": [{"ranking": [0, 1], "weight": 1}]}"#;
    let lines = root.join("m.jsonl");
    std::fs::write(&lines, format!("{good}\n{good}\n{{\"responses\": 3, \"types\": [\n{good}\n")).unwrap();
    let one = root.join("one.json");
    std::fs::write(&one, "{\"responses\": 3, \"types\": [\n").unwrap();
    for (input, flag, at) in [(&lines, "--populations", "m.jsonl:3:"), (&one, "--population", "one.json:1:")] {
        assert_one_line_error(&["eval", flag, s(input), "--policy", "uniform", "--k", "2"], &[at, "EOF"]);
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn wrong_paths_and_flags_name_the_fix() {
    let root = scratch("paths");
    let pop = asset("condorcet3.json");
    assert_one_line_error(
        &["generate", "--model", "impartial", "--responses", "3", "--out", s(&root)],
        &["is a directory", "name a file"],
    );
    assert_one_line_error(&["sweep", s(&root)], &["is a directory, not a sweep config"]);
    assert_one_line_error(&["sweep", s(&root.join("nonexist.toml"))], &["does not exist", "TOML"]);
    // A negative probability reaches the probability check, not clap.
    assert_one_line_error(&["eval", "--population", &pop, "--policy", "-0.5,1.5,0", "--k", "2"], &["--policy", ">= 0"]);
    assert_one_line_error(
        &["eval", "--population", &pop, "--policy", "uniform", "--k", "2", "--backend", "cpu", "--adapter", "x"],
        &["--adapter", "--backend gpu"],
    );
    for cmd in [&["solve", "--k", "2"][..], &["compare", "--k-max", "2"][..]] {
        let args = [cmd, &["--population", &pop, "--tol", "0"][..]].concat();
        assert_one_line_error(&args, &["--tol", "equilibrium solver needs a tolerance > 0", "--dynamics"]);
    }
    // With --dynamics, tol 0 runs every iteration.
    let out = common::run_ok(&[
        "solve",
        "--population",
        &pop,
        "--k",
        "2",
        "--dynamics",
        "pga",
        "--iters",
        "50",
        "--tol",
        "0",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("after 50 iterations"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn eval_json_says_the_precision_and_tables_print_no_negative_zero() {
    let pop = asset("condorcet3.json");
    let out = common::run_ok(&["eval", "--population", &pop, "--policy", "1,0,0", "--k", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["precision"], "f64");
    // A point mass has entropy 0 (computed as a sum that may be -0.0).
    let table = common::run_ok(&["eval", "--population", &pop, "--policy", "1,0,0", "--k", "1"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("entropy 0.0000 nats"), "{text}");
    assert!(!text.contains("-0.0000"), "{text}");
}

#[test]
fn heatmap_refusals_are_one_line() {
    let root = scratch("heatmap");
    let config = root.join("small.toml");
    std::fs::write(&config, SHARDED).unwrap();
    let out = root.join("run");
    common::run_ok(&["sweep", s(&config), "--out", s(&out)]);
    let png = root.join("h.png");
    let heatmap = |extra: &[&str], needles: &[&str]| {
        let mut args = vec!["heatmap", s(&out), "--out", s(&png)];
        args.extend_from_slice(extra);
        assert_one_line_error(&args, needles);
    };
    heatmap(&["--x", "k", "--y", "k"], &["--y", "\"k\" is already --x"]);
    heatmap(&["--x", "k", "--y", "responses", "--metric", "model"], &["--metric", "not numeric"]);
    heatmap(&["--x", "k", "--y", "responses", "--metric", "eq_r_ell_mean"], &["--metric", "has no finite value"]);
    heatmap(
        &["--x", "k", "--y", "responses", "--facet-x", "model", "--facet-y", "k"],
        &["--facet-y", "\"k\" is already --x"],
    );
    assert!(!png.exists(), "a refused heatmap wrote a figure");
    let _ = std::fs::remove_dir_all(&root);
}
