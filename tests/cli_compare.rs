//! `ualign compare` never labels a non-equilibrium as one: unconverged rows
//! are marked, reported in JSON and give exit status 3 (input errors give 1);
//! the NLHF column says when the maximal lottery is not unique.

use std::process::{Command, Output};

fn ualign(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ualign")).args(args).output().expect("the binary runs")
}

fn temp_population(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ualign-cli-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A perturbed Condorcet cycle on 5 responses (the cyclic shifts of one
/// ranking): projected gradient ascent with η = 1 cycles there at k = 2.
fn perturbed_cycle() -> String {
    let weights = [0.22, 0.19, 0.20, 0.19, 0.20];
    let types: Vec<String> = (0..5)
        .map(|s| {
            let ranking: Vec<String> = (0..5).map(|i| ((i + s) % 5).to_string()).collect();
            format!("{{\"weight\": {}, \"ranking\": [{}]}}", weights[s], ranking.join(","))
        })
        .collect();
    temp_population("cycle5.json", &format!("{{\"responses\": 5, \"types\": [{}]}}", types.join(",")))
}

const PGA: [&str; 8] = ["--dynamics", "pga", "--eta", "1", "--iters", "20000", "--backend", "cpu"];

#[test]
fn an_unconverged_equilibrium_row_is_marked_and_exits_with_status_3() {
    let pop = perturbed_cycle();
    let mut args = vec!["compare", "--population", &pop, "--k-max", "2"];
    args.extend(PGA);
    let out = ualign(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    let row2 = stdout.lines().find(|l| l.trim_start().starts_with("2 ")).expect("a k = 2 row");
    let row1 = stdout.lines().find(|l| l.trim_start().starts_with("1 ")).expect("a k = 1 row");
    assert!(row2.contains('*') && !row1.contains('*'), "{stdout}");
    assert!(stdout.contains("* not converged"), "{stdout}");

    args.push("--json");
    let out = ualign(&args);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["converged"], false, "{v}");
    assert_eq!(v["rows"][0]["converged"], true, "{v}");
    assert_eq!(v["rows"][1]["converged"], false, "{v}");
    // Not an equilibrium: strictly below the bound k/(k+1).
    assert!(v["rows"][1]["equilibrium"].as_f64().unwrap() < 2.0 / 3.0 - 1e-3, "{v}");
    assert_eq!(v["nlhf_unique"], true, "{v}");
}

#[test]
fn converged_rows_are_unmarked_and_exit_with_status_0() {
    let pop = perturbed_cycle();
    // Multiplicative weights with a small step converges on the same cycle.
    let args =
        ["compare", "--population", &pop, "--k-max", "3", "--dynamics", "mwu", "--eta", "0.5", "--backend", "cpu"];
    let out = ualign(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains('*'), "{stdout}");
}

#[test]
fn tied_margins_are_reported_as_a_non_unique_nlhf() {
    let pop = temp_population(
        "tie.json",
        r#"{"responses": 2, "types": [{"weight": 0.5, "ranking": [0, 1]}, {"weight": 0.5, "ranking": [1, 0]}]}"#,
    );
    let out = ualign(&["compare", "--population", &pop, "--k-max", "2", "--json", "--backend", "cpu"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nlhf_unique"], false, "{v}");
    let table = ualign(&["compare", "--population", &pop, "--k-max", "2", "--backend", "cpu"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("not unique"));
}
