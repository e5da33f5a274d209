//! The command line at its edges: closed pipes, full disks, sizes beyond the
//! limits, and long batches streamed in order with bounded memory.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ualign"))
}

fn ualign(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn asset(name: &str) -> String {
    format!("{}/assets/populations/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A generated batch in a fresh temporary file.
fn batch(name: &str, args: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let out = ualign(&[&["generate", "--out", path.to_str().unwrap()], args].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

#[track_caller]
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for n in needles {
        assert!(errors[0].contains(n), "'{}' does not mention '{n}'", errors[0]);
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let file = batch("pipe.jsonl", &["--model", "impartial", "--responses", "4", "--types", "4", "--count", "3000"]);
    let mut child = bin()
        .args(["eval", "--populations", file.to_str().unwrap(), "--policy", "uniform", "--k", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap(); // then the pipe closes
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with('{'), "{first}");
    assert!(out.status.success(), "{:?}", out.status);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_full_disk_is_one_error_line() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    for args in [
        vec!["eval", "--population", &asset("condorcet3.json"), "--policy", "uniform", "--k", "2"],
        vec!["solve", "--population", &asset("condorcet3.json"), "--k", "2", "--json"],
        vec!["generate", "--model", "impartial", "--responses", "3"],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = bin().args(&args).stdout(full).output().unwrap();
        assert_one_line_error(&out, &["standard output", "No space left"]);
    }
}

#[test]
fn sizes_beyond_the_limits_are_one_error_line_on_every_backend() {
    let cycle = asset("condorcet3.json");
    for k in ["1100", "70000"] {
        let out = ualign(&["eval", "--population", &cycle, "--policy", "uniform", "--k", k]);
        assert_one_line_error(&out, &["--k", "1000"]);
    }
    // The same limit on both engines, checked before any adapter is opened.
    for (iters, backend) in [("5000000000", "cpu"), ("5000000000", "gpu"), ("1e12", "auto")] {
        let out = ualign(&[
            "solve",
            "--population",
            &cycle,
            "--k",
            "2",
            "--dynamics",
            "pga",
            "--iters",
            iters,
            "--backend",
            backend,
        ]);
        assert_one_line_error(&out, &["--iters", "100000000"]);
    }
    let out = ualign(&["compare", "--population", &cycle, "--k-max", "5000"]);
    assert_one_line_error(&out, &["--k-max", "1000"]);
}

#[test]
fn an_endless_population_file_stops_at_the_size_limit() {
    if !std::path::Path::new("/dev/zero").exists() {
        return;
    }
    let out = ualign(&["eval", "--population", "/dev/zero", "--policy", "uniform", "--k", "2"]);
    assert_one_line_error(&out, &["/dev/zero", "256 MiB"]);
}

#[test]
fn eval_defaults_to_exact_values() {
    let path = asset("condorcet3.json");
    let pop = ualign::population::load::load_population(std::path::Path::new(&path)).unwrap();
    let policy = [0.2, 0.3, 0.5];
    let out = ualign(&["eval", "--population", &path, "--policy", "0.2,0.3,0.5", "--k", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let brute = common::oracle::deviation(&pop, &policy, 3);
    for (y, g) in brute.iter().enumerate() {
        let printed = v["deviation"][y].as_f64().unwrap();
        assert!((printed - g).abs() < 1e-12, "g(π)({y}) = {printed}, brute force {g}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("CPU engine"));
}

/// Peak resident memory of a child process, read from /proc while it runs
/// (VmHWM only grows, so the last reading is the peak up to that moment).
fn peak_rss_kib(child: &mut std::process::Child) -> Option<u64> {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = hwm.or(peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    peak
}

/// Runs `eval` on a batch with stdout into a file; returns the output lines
/// and the peak memory seen.
fn eval_batch(file: &std::path::Path) -> (String, Option<u64>) {
    let out_path = file.with_extension("out");
    let mut child = bin()
        .args(["eval", "--populations", file.to_str().unwrap(), "--policy", "uniform", "--k", "2"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_rss_kib(&mut child);
    assert!(child.wait().unwrap().success());
    (std::fs::read_to_string(&out_path).unwrap(), peak)
}

#[test]
fn a_batch_streams_in_input_order_across_chunks() {
    let chunk = ualign::population::stream::CHUNK;
    let count = 2 * chunk + 17;
    let file =
        batch("order.jsonl", &["--model", "pl", "--responses", "5", "--types", "6", "--count", &count.to_string()]);
    let (text, _) = eval_batch(&file);
    let pops = ualign::population::load::load_populations(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), count);
    for i in [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, count - 1] {
        let v: serde_json::Value = serde_json::from_str(lines[i]).unwrap();
        let expected = ualign::metrics::evaluate(&pops[i], &ualign::baselines::uniform(5), 2, None).unwrap();
        assert_eq!(v["robust_alignment"].as_f64().unwrap(), expected.robust_alignment, "line {i}");
    }
}

/// Memory does not grow with the file: three times the populations, about the
/// same peak (holding them all would add tens of MB).
#[test]
fn a_long_batch_is_read_with_bounded_memory() {
    let peak = |count: usize| {
        let name = format!("long{count}.jsonl");
        let count_arg = count.to_string();
        let file = batch(&name, &["--model", "mallows", "--responses", "8", "--types", "16", "--count", &count_arg]);
        let (text, peak) = eval_batch(&file);
        assert_eq!(text.lines().count(), count);
        (peak, std::fs::metadata(&file).unwrap().len())
    };
    let ((short, _), (long, long_bytes)) = (peak(15_000), peak(45_000));
    if let (Some(short), Some(long)) = (short, long) {
        let grown = long.saturating_sub(short) * 1024;
        assert!(grown < long_bytes / 5, "peak RSS {short} KiB → {long} KiB for a {long_bytes}-byte file");
    }
}

/// `auto` never runs on a software adapter: on a machine whose only adapter
/// is lavapipe (or none), a batch at the GPU threshold runs on the CPU engine
/// and prints exactly what `--backend cpu` prints.
#[test]
fn auto_never_picks_a_software_adapter() {
    let info = String::from_utf8_lossy(&ualign(&["info"]).stdout).into_owned();
    if info.contains(", hardware;") {
        eprintln!("note: a hardware adapter is present, the software-only path is not exercised");
        return;
    }
    let count = ualign::engine::AUTO_GPU_MIN_POPULATIONS.to_string();
    let file = batch("auto.jsonl", &["--model", "mallows", "--responses", "3", "--types", "3", "--count", &count]);
    let solve = |backend: &str| {
        let file = file.to_str().unwrap();
        ualign(&[
            "solve",
            "--populations",
            file,
            "--k",
            "2",
            "--dynamics",
            "pga",
            "--iters",
            "50",
            "--backend",
            backend,
        ])
    };
    let (auto, cpu) = (solve("auto"), solve("cpu"));
    let stderr = String::from_utf8_lossy(&auto.stderr);
    // 50 PGA iterations leave some populations unconverged: exit status 3.
    assert_eq!(auto.status.code(), Some(3), "{stderr}");
    assert_eq!(cpu.status.code(), Some(3));
    assert!(stderr.contains("using the CPU engine") && stderr.contains("no hardware GPU"), "{stderr}");
    assert_eq!(auto.stdout, cpu.stdout);
}
