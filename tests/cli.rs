//! The command line as a user meets it: real output on the bundled examples,
//! and one clear line (never a panic) for every kind of bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ualign(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ualign")).args(args).output().expect("the binary runs")
}

fn asset(name: &str) -> String {
    format!("{}/assets/populations/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Fails with exit status 1 and exactly one `error:` line containing every `needle`.
#[track_caller]
fn assert_one_line_error(args: &[&str], needles: &[&str]) {
    let out = ualign(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail cleanly, stderr: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: expected one error line, got: {stderr}");
    for n in needles {
        assert!(errors[0].contains(n), "{args:?}: '{}' does not mention '{n}'", errors[0]);
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The JSON a command prints; it may end with status 3 (a result that did
/// not converge is still printed in full).
fn json(args: &[&str]) -> serde_json::Value {
    let out = ualign(args);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn eval_reproduces_the_condorcet_cycle_worked_values() {
    let cycle = asset("condorcet3.json");
    for (k, expected) in [(1, 5.0 / 12.0), (2, 7.0 / 12.0), (3, 5.0 / 8.0)] {
        let v = json(&[
            "eval",
            "--population",
            &cycle,
            "--policy",
            "0.5,0.5,0",
            "--k",
            &k.to_string(),
            "--json",
            "--backend",
            "cpu",
        ]);
        let r = v["robust_alignment"].as_f64().unwrap();
        assert!((r - expected).abs() < 1e-12, "k = {k}: R = {r}");
        let g: Vec<f64> = v["deviation"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        let w: Vec<f64> = v["win_rate"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(g.iter().zip(&w).all(|(g, w)| (g + w - 1.0).abs() < 1e-15));
        assert!((v["exploitability"].as_f64().unwrap() - (k as f64 / (k as f64 + 1.0) - r)).abs() < 1e-12);
    }
}

#[test]
fn eval_reports_ell_opponents_when_asked() {
    let v = json(&[
        "eval",
        "--population",
        &asset("condorcet3.json"),
        "--policy",
        "uniform",
        "--k",
        "2",
        "--ell",
        "2",
        "--json",
        "--backend",
        "cpu",
    ]);
    assert_eq!(v["ell"], 2);
    let r = v["robust_alignment_ell"].as_f64().unwrap();
    // At an equilibrium, (k+1-ℓ)/(k+1) <= R_{k,ℓ} <= k/(k+ℓ) (docs/theory.md).
    assert!(r >= 1.0 / 3.0 - 1e-12 && r <= 0.5 + 1e-12, "R_2,2 = {r}");
}

#[test]
fn solve_reaches_the_bound_and_prints_the_documented_fields() {
    let common = ["k", "deviation", "win_rate", "robust_alignment", "exploitability", "policy", "converged", "solver"];
    let solver = ["method", "path_steps", "newton_steps", "lambda"];
    let dynamics = ["dynamics", "eta", "iterations", "average_robust_alignment", "regret"];
    let args = ["solve", "--population", &asset("two_responses.json"), "--k", "2", "--json", "--backend", "cpu"];
    for (extra, fields) in [(None, &solver[..]), (Some("pga"), &dynamics[..])] {
        let mut args = args.to_vec();
        if let Some(d) = extra {
            args.extend(["--dynamics", d]);
        }
        let v = json(&args);
        for field in common.iter().chain(fields) {
            assert!(v.get(*field).is_some(), "missing field {field}: {v}");
        }
        assert_eq!(v["converged"], true);
        assert!((v["robust_alignment"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        // A worked value (docs/theory.md): 55% prefer a, so the k = 2 equilibrium puts 3α − 1 = 0.65 on a.
        assert!((v["policy"][0].as_f64().unwrap() - 0.65).abs() < 1e-6, "{v}");
    }
}

#[test]
fn batches_print_one_json_object_per_population_in_order() {
    let out = ualign(&["solve", "--populations", &asset("mixed.jsonl"), "--k", "3", "--backend", "cpu"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let text = std::fs::read_to_string(asset("mixed.jsonl")).unwrap();
    let sizes: Vec<u64> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["responses"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), sizes.len());
    for (v, n) in lines.iter().zip(sizes) {
        assert_eq!(v["policy"].as_array().unwrap().len() as u64, n, "output out of input order");
    }
}

#[test]
fn a_batch_of_several_chunks_prints_every_line_in_input_order_as_one_population_would() {
    // 5,000 populations: two chunks, each written as many parallel blocks.
    // Line i has 2 + i % 5 responses and a ranking rotated by i, so each
    // output line can be traced to its input.
    let line = |i: usize| {
        let n = 2 + i % 5;
        let ranking: Vec<String> = (0..n).map(|y| ((y + i) % n).to_string()).collect();
        format!(
            r#"{{"responses": {n}, "types": [{{"weight": 0.75, "ranking": [{}]}}, {{"weight": 0.25, "scores": [{}]}}]}}"#,
            ranking.join(", "),
            (0..n).map(|y| format!("{}", (y * i % 7) as f64 / 3.0)).collect::<Vec<_>>().join(", ")
        )
    };
    let text: String = (0..5000).map(|i| line(i) + "\n").collect();
    let path = temp_file("order.jsonl", &text);
    let args = ["--k", "3", "--backend", "cpu", "--dynamics", "pga", "--iters", "3"];
    let out = ualign(&[&["solve", "--populations", path.to_str().unwrap()][..], &args[..]].concat());
    // Three iterations converge nowhere: every line printed, then exit status 3.
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5000);
    for i in [0, 1, 255, 256, 257, 4095, 4096, 4097, 4999] {
        let one = temp_file(&format!("one{i}.json"), &line(i));
        let single = json(&[&["solve", "--population", one.to_str().unwrap(), "--json"][..], &args[..]].concat());
        let batch: serde_json::Value = serde_json::from_str(lines[i]).unwrap();
        assert_eq!(batch, single, "line {i} of the batch");
        assert_eq!(lines[i], single.to_string(), "line {i} is not the compact text of its population's JSON");
    }
    for (i, l) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["policy"].as_array().unwrap().len(), 2 + i % 5, "line {i} out of input order");
    }
}

#[test]
fn compare_shows_nlhf_stuck_below_the_equilibrium() {
    let v =
        json(&["compare", "--population", &asset("two_responses.json"), "--k-max", "6", "--json", "--backend", "cpu"]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for row in &rows[1..] {
        let k = row["k"].as_f64().unwrap();
        assert!((row["equilibrium"].as_f64().unwrap() - k / (k + 1.0)).abs() < 1e-9, "{row}");
        assert!((row["nlhf"].as_f64().unwrap() - 0.55).abs() < 1e-12, "{row}");
    }
}

#[test]
fn generate_is_reproducible_and_feeds_solve() {
    let args = [
        "generate",
        "--model",
        "mallows",
        "--responses",
        "5",
        "--types",
        "4",
        "--count",
        "3",
        "--seed",
        "9",
        "--phi",
        "0.7",
    ];
    let a = ualign(&args);
    let b = ualign(&args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    let path = temp_file("gen.jsonl", &String::from_utf8(a.stdout).unwrap());
    let out = ualign(&["solve", "--populations", path.to_str().unwrap(), "--k", "2", "--backend", "cpu"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 3);
}

#[test]
fn the_table_output_is_readable() {
    let out = ualign(&[
        "eval",
        "--population",
        &asset("condorcet3.json"),
        "--policy",
        "1,0,0",
        "--k",
        "4",
        "--backend",
        "cpu",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("robust alignment R_k = 0.333333333"), "{text}");
    assert!(text.contains("win rate"), "{text}");
}

#[test]
fn bad_input_gets_one_line_naming_the_place_and_the_fix() {
    let cycle = asset("condorcet3.json");
    let not_perm = temp_file("notperm.json", r#"{"responses": 3, "types": [{"weight": 1.0, "ranking": [0, 1, 1]}]}"#);
    let weights = temp_file("weights.jsonl", "{\"responses\": 2, \"types\": [{\"weight\": 1.0, \"ranking\": [0, 1]}]}\n{\"responses\": 2, \"types\": [{\"weight\": 0.7, \"ranking\": [0, 1]}]}\n");
    let negative = temp_file(
        "negative.json",
        r#"{"responses": 2, "types": [{"weight": -0.5, "ranking": [0, 1]}, {"weight": 1.5, "ranking": [1, 0]}]}"#,
    );
    let malformed = temp_file("malformed.json", "{\"responses\": 2,\n \"types\": [}");
    let unknown = temp_file("unknown.json", r#"{"responses": 2, "types": [{"weight": 1.0, "rankng": [0, 1]}]}"#);
    let huge = temp_file("huge.json", r#"{"responses": 2, "types": [{"weight": 1.0, "scores": [0, 1e999]}]}"#);
    let soc = temp_file("broken.soc", "# NUMBER ALTERNATIVES: 3\n2: 1,2\n");
    let p = |p: &PathBuf| p.to_str().unwrap().to_string();
    let (not_perm, weights, negative, malformed) = (p(&not_perm), p(&weights), p(&negative), p(&malformed));
    let (unknown, huge, soc) = (p(&unknown), p(&huge), p(&soc));
    // `eval FILE POLICY K [more…]`, the shape most cases share.
    let eval = |file: &str, policy: &str, k: &str, more: &[&str]| -> Vec<String> {
        let head = ["eval", "--population", file, "--policy", policy, "--k", k];
        head.iter().chain(more).map(|s| s.to_string()).collect()
    };
    let args = |parts: &[&str]| -> Vec<String> { parts.iter().map(|s| s.to_string()).collect() };
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (eval("/no/such/file.json", "uniform", "2", &[]), vec!["/no/such/file.json"]),
        (eval(&not_perm, "uniform", "2", &[]), vec!["notperm.json:1", "types[0].ranking", "permutation"]),
        (args(&["solve", "--populations", &weights, "--k", "2"]), vec!["weights.jsonl:2", "weight", "sum"]),
        (eval(&negative, "uniform", "1", &[]), vec!["negative.json", "types[0].weight"]),
        (eval(&malformed, "uniform", "1", &[]), vec!["malformed.json:2"]),
        (eval(&unknown, "uniform", "1", &[]), vec!["unknown.json", "rankng"]),
        (eval(&huge, "uniform", "1", &[]), vec!["huge.json"]),
        (eval(&soc, "uniform", "1", &[]), vec!["broken.soc:1", "NUMBER ALTERNATIVES", "correct the header to 2"]),
        (eval(&cycle, "0.5,0.5", "2", &[]), vec!["--policy", "3 responses"]),
        (eval(&cycle, "0.5,0.6,0", "2", &[]), vec!["--policy", "sums to"]),
        (eval(&cycle, "nan,0.5,0.5", "2", &[]), vec!["--policy[0]", "NaN"]),
        (eval(&cycle, "uniform", "0", &[]), vec!["--k", "k >= 1"]),
        (eval(&cycle, "uniform", "2", &["--ell", "4"]), vec!["--ell", "k + 1"]),
        (args(&["solve", "--population", &cycle, "--k", "2", "--eta", "-1"]), vec!["--eta"]),
        (args(&["solve", "--population", &cycle, "--k", "2", "--tol", "NaN"]), vec!["--tol"]),
        (args(&["compare", "--population", &cycle, "--k-max", "0"]), vec!["--k-max"]),
        (args(&["generate", "--model", "mallows", "--responses", "5", "--phi", "1.5"]), vec!["--phi"]),
    ];
    for (args, needles) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_one_line_error(&args, &needles);
    }
}

/// `auto` evaluates on the exact CPU engine (the same numbers as `--backend
/// cpu`), while `--backend gpu` on lavapipe (which cannot run this
/// Plackett–Luce evaluation in one shader loop) is a clear error.
#[test]
fn auto_falls_back_to_the_cpu_engine_for_work_the_device_refuses() {
    let gen = ualign(&["generate", "--model", "pl", "--responses", "256", "--types", "2", "--seed", "3"]);
    assert!(gen.status.success());
    let path = temp_file("pl256.json", &String::from_utf8(gen.stdout).unwrap());
    let p = path.to_str().unwrap();
    let auto = ualign(&["eval", "--population", p, "--policy", "uniform", "--k", "64", "--json"]);
    let stderr = String::from_utf8_lossy(&auto.stderr);
    assert!(auto.status.success(), "{stderr}");
    let exact = json(&["eval", "--population", p, "--policy", "uniform", "--k", "64", "--json", "--backend", "cpu"]);
    let got: serde_json::Value = serde_json::from_slice(&auto.stdout).unwrap();
    let (a, b) = (got["robust_alignment"].as_f64().unwrap(), exact["robust_alignment"].as_f64().unwrap());
    assert_eq!(a, b, "auto {a} vs cpu {b}");
    assert!(stderr.contains("using the CPU engine"), "{stderr}");
    let info = String::from_utf8_lossy(&ualign(&["info"]).stdout).into_owned();
    if info.contains(", software;") && !info.contains(", hardware;") {
        assert_one_line_error(
            &["eval", "--population", p, "--policy", "uniform", "--k", "64", "--backend", "gpu"],
            &["limit"],
        );
    } else {
        eprintln!("note: not a software-only machine, the refusal path is not exercised: {info}");
    }
}

/// With no adapter at all (the Vulkan driver hidden, other backends off),
/// `auto` uses the CPU engine and says so in one line; `--backend gpu` fails.
#[test]
fn no_adapter_means_the_cpu_engine_with_a_notice_or_a_clear_gpu_error() {
    let without_adapters = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ualign"))
            .args(args)
            .env("WGPU_BACKEND", "vulkan")
            .env("VK_ICD_FILENAMES", "/nonexistent.json")
            .env("VK_DRIVER_FILES", "/nonexistent.json")
            .output()
            .unwrap()
    };
    let cycle = asset("condorcet3.json");
    let out = without_adapters(&["solve", "--population", &cycle, "--k", "2", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("using the CPU engine"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["converged"], true);

    let out = without_adapters(&["solve", "--population", &cycle, "--k", "2", "--backend", "gpu"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("GPU") && errors[0].contains("--backend cpu"), "{}", errors[0]);
}
