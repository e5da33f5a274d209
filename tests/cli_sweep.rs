//! `ualign sweep`, `merge` and `heatmap` as a user runs them: a sweep killed
//! with SIGKILL and resumed, and a sweep run as two shards and merged, give
//! the same files as one uninterrupted run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ualign"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-cli-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Slow enough per cell (a fixed iteration count, tol = 0) that a kill lands mid-run.
const SLOW: &str = r#"
title = "kill and resume"
backend = "cpu"
model = "impartial"
responses = [5, 6]
types = 12
k = [2, 3]
dynamics = "mwu"
iters = 40000
tol = 0.0
populations = 48
seed = 5
"#;

const QUICK: &str = r#"
title = "shards"
backend = "cpu"
model = ["impartial", "condorcet"]
responses = [4, 6]
types = 8
k = [1, 2, 3]
populations = 6
seed = 2
"#;

fn run_ok(args: &[&str]) {
    let out = bin().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
}

fn finished_cells(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cells"))
        .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
        .unwrap_or(0)
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_to_the_same_files() {
    let root = scratch("kill");
    let config = root.join("slow.toml");
    std::fs::write(&config, SLOW).unwrap();
    let (whole, killed) = (root.join("whole"), root.join("killed"));
    run_ok(&["sweep", config.to_str().unwrap(), "--out", whole.to_str().unwrap()]);

    let mut child = bin()
        .args(["sweep", config.to_str().unwrap(), "--out", killed.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while finished_cells(&killed) == 0 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let done = finished_cells(&killed);
    assert!(done >= 1 && done < 4, "the kill should land mid-run ({done} of 4 cells finished)");

    // Without --resume an existing run is refused rather than overwritten.
    let refused = bin().args(["sweep", config.to_str().unwrap(), "--out", killed.to_str().unwrap()]).output().unwrap();
    assert!(!refused.status.success());
    run_ok(&["sweep", config.to_str().unwrap(), "--out", killed.to_str().unwrap(), "--resume"]);
    for file in ["cells.csv", "populations.csv", "history.csv"] {
        assert_eq!(read(&whole, file), read(&killed, file), "{file} differs after kill -9 and --resume");
    }
}

#[test]
fn two_shards_merged_equal_one_unsharded_run() {
    let root = scratch("shards");
    let config = root.join("quick.toml");
    std::fs::write(&config, QUICK).unwrap();
    let c = config.to_str().unwrap();
    let [whole, s0, s1, merged] = ["whole", "s0", "s1", "merged"].map(|d| root.join(d));
    run_ok(&["sweep", c, "--out", whole.to_str().unwrap()]);
    run_ok(&["sweep", c, "--out", s0.to_str().unwrap(), "--shard", "0/2"]);
    run_ok(&["sweep", c, "--out", s1.to_str().unwrap(), "--shard", "1/2"]);
    assert!(read(&s0, "cells.csv").lines().count() < read(&whole, "cells.csv").lines().count());
    run_ok(&["merge", s0.to_str().unwrap(), s1.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    for file in ["cells.csv", "populations.csv", "history.csv"] {
        assert_eq!(read(&whole, file), read(&merged, file), "{file} differs between merged shards and one run");
    }

    // Redraw a heatmap from the saved results, without recomputing.
    let png = root.join("gap.png");
    run_ok(&[
        "heatmap",
        whole.to_str().unwrap(),
        "--x",
        "k",
        "--y",
        "responses",
        "--metric",
        "gap",
        "--out",
        png.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "not a real PNG ({} bytes)", bytes.len());
}

#[test]
fn malformed_configs_fail_before_any_work_naming_the_key() {
    let root = scratch("bad");
    for (text, needles) in [
        ("model = \"impartial\"\nresponses = 4\nk = 2\npopulatons = 3\n", vec!["bad.toml:4", "populatons"]),
        ("model = \"impartial\"\nresponses = []\nk = 2\n", vec!["bad.toml:2", "responses"]),
        ("model = \"impartial\"\nresponses = 4\nk = 1100\n", vec!["bad.toml:3", "k", "1000"]),
        ("preflib = \"missing.soc\"\nk = 2\n", vec!["bad.toml:1", "preflib"]),
        ("model = \"impartial\"\nresponses = 4\nk = [2, 0]\n", vec!["bad.toml:3", "k"]),
    ] {
        let config = root.join("bad.toml");
        std::fs::write(&config, text).unwrap();
        let out_dir = root.join("never");
        let out = bin().args(["sweep", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {stderr}");
        let line =
            stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {stderr}"));
        for n in needles {
            assert!(line.contains(n), "'{line}' does not mention '{n}'");
        }
        assert!(!out_dir.exists(), "work started before the config was checked");
    }
}
