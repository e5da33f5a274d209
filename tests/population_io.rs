//! Population files: JSON, JSON Lines and PrefLib. Round-trips, the PrefLib
//! semantics (counts → weights, 1-based → 0-based, `.soi` rotations) and every
//! error path, whose one-line message must name the file, line and field.

mod common;

use std::path::{Path, PathBuf};

use ualign::error::{Error, Location};
use ualign::population::json::{parse_jsonl, parse_population, to_json, write_jsonl};
use ualign::population::load::{load_population, load_populations};
use ualign::population::preflib::{load_preflib, parse_preflib};
use ualign::{Kind, Population, UserType};

fn assets(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/populations").join(name)
}

/// Writes `text` to a fresh file under the system temp dir and returns its path.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-io-{}-{}", std::process::id(), name.replace('.', "-")));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Parses `text` as `f.json` and returns the error message, checking it is one
/// line that starts with `f.json:LINE: FIELD:`.
fn json_error(text: &str, line: usize, field: &str) -> String {
    let err = parse_population(text, &Location::file("f.json")).expect_err("input should be rejected");
    check_message(&err, &format!("f.json:{line}: {field}: "))
}

fn check_message(err: &Error, prefix: &str) -> String {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
    assert!(msg.starts_with(prefix), "expected prefix '{prefix}' in: {msg}");
    assert!(msg.contains("; "), "message has no fix: {msg}");
    msg
}

fn ranking(pop: &Population, t: usize) -> &[u32] {
    match &pop.types[t].kind {
        Kind::Ranking(r) => r,
        Kind::Scores(_) => panic!("type {t} is not a ranking"),
    }
}

#[test]
fn parses_the_documented_example() {
    let text = r#"{"responses": 3, "labels": ["a","b","c"], "types": [{"weight": 0.6, "ranking": [0,2,1]}, {"weight": 0.4, "scores": [0.0, 1.5, -2.0]}]}"#;
    let pop = parse_population(text, &Location::file("x.json")).unwrap();
    assert_eq!(pop.responses, 3);
    assert_eq!(pop.labels, Some(vec!["a".into(), "b".into(), "c".into()]));
    assert_eq!(pop.types[0], UserType::ranking(0.6, vec![0, 2, 1]));
    assert_eq!(pop.types[1], UserType::scores(0.4, vec![0.0, 1.5, -2.0]));
}

#[test]
fn weights_within_tolerance_are_renormalised() {
    let text =
        r#"{"responses": 2, "types": [{"weight": 0.5000001, "ranking": [0,1]}, {"weight": 0.5, "ranking": [1,0]}]}"#;
    let pop = parse_population(text, &Location::default()).unwrap();
    let total: f64 = pop.types.iter().map(|t| t.weight).sum();
    assert!((total - 1.0).abs() < 1e-15);
    assert!(pop.types[0].weight > pop.types[1].weight);
}

#[test]
fn random_populations_round_trip_exactly() {
    let mut rng = common::rng(11);
    let mut pops = Vec::new();
    for i in 0..60 {
        let mut pop = common::random_population(&mut rng, 1 + i % 7, 1 + i % 5, [0.0, 0.5, 1.0][i % 3]);
        if i % 4 == 0 {
            pop.labels = Some((0..pop.responses).map(|y| format!("resp \"{y}\" ✓")).collect());
        }
        let single = parse_population(&to_json(&pop).to_string(), &Location::default()).unwrap();
        assert_eq!(single, pop);
        pops.push(pop);
    }
    let mut buf = Vec::new();
    write_jsonl(&pops, &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.lines().count(), pops.len());
    assert_eq!(parse_jsonl(&text, &Location::file("b.jsonl")).unwrap(), pops);
    // The streamed lines are exactly the text of `to_json`.
    for (line, pop) in text.lines().zip(&pops) {
        assert_eq!(line, to_json(pop).to_string());
    }
}

/// Valid inputs the value tree accepts in other spellings take the same
/// meaning on the fast path: null labels, integer scores, key order,
/// whitespace.
#[test]
fn valid_spellings_parse_alike() {
    let plain = parse_population(
        r#"{"responses": 2, "types": [{"weight": 0.25, "ranking": [1, 0]}, {"weight": 0.75, "scores": [0.0, 1.5]}]}"#,
        &Location::default(),
    )
    .unwrap();
    for text in [
        r#"{"types": [{"ranking": [1, 0], "weight": 0.25}, {"scores": [0, 1.5], "weight": 0.75}], "responses": 2}"#,
        r#"{ "responses" : 2 , "labels" : null , "types" : [ { "weight" : 0.25 , "ranking" : [ 1 , 0 ] } , { "weight" : 0.75 , "scores" : [ 0.0 , 1.5 ] } ] }"#,
    ] {
        assert_eq!(parse_population(text, &Location::default()).unwrap(), plain, "{text}");
    }
}

#[test]
fn bundled_examples_load() {
    let c3 = load_population(&assets("condorcet3.json")).unwrap();
    assert_eq!((c3.responses, c3.types.len()), (3, 3));
    assert_eq!(ranking(&c3, 1), &[1, 2, 0]);
    assert!(c3.types.iter().all(|t| (t.weight - 1.0 / 3.0).abs() < 1e-15));

    let two = load_population(&assets("two_responses.json")).unwrap();
    assert_eq!(two.types[0], UserType::ranking(0.55, vec![0, 1]));
    assert!((common::oracle::p_beats(&two, &[0], &[1]) - 0.55).abs() < 1e-15);

    let bt = load_population(&assets("bt_2_1.json")).unwrap();
    match &bt.types[..] {
        [UserType { weight, kind: Kind::Scores(s) }] => {
            assert_eq!(*weight, 1.0);
            assert!(((s[0] - s[1]).exp() - 2.0).abs() < 1e-15, "worth ratio must be 2");
        }
        other => panic!("expected one Plackett–Luce type, got {other:?}"),
    }

    let mixed = load_populations(&assets("mixed.jsonl")).unwrap();
    assert_eq!(mixed.len(), 5, "the blank line is skipped");
    assert_eq!(mixed[0], c3);
    assert!(mixed[3].types.iter().any(|t| matches!(t.kind, Kind::Scores(_))));
    let err = load_population(&assets("mixed.jsonl")).unwrap_err();
    assert!(err.to_string().contains("holds 5 populations"), "{err}");

    // A single-population file is a batch of one.
    assert_eq!(load_populations(&assets("two_responses.json")).unwrap(), vec![two]);
    assert_eq!(load_populations(&assets("sample.soc")).unwrap().len(), 1);
    assert_eq!(load_population(&assets("sample.soi")).unwrap().types.len(), 7);
}

#[test]
fn jsonl_holding_one_population_loads_as_one() {
    let path = temp_file("one.jsonl", "\n{\"responses\": 1, \"types\": [{\"weight\": 1, \"ranking\": [0]}]}\n\n");
    assert_eq!(load_population(&path).unwrap().responses, 1);
}

// ---------------------------------------------------------------- errors

#[test]
fn unreadable_file_names_the_path() {
    let path = std::env::temp_dir().join("ualign-no-such-dir/missing.json");
    let err = load_population(&path).unwrap_err();
    let msg = check_message(&err, &format!("{}: file: ", path.display()));
    assert!(msg.contains("cannot be read"), "{msg}");
    let err = load_populations(&path.with_extension("jsonl")).unwrap_err();
    assert!(err.to_string().contains("missing.jsonl"), "{err}");
}

#[test]
fn unknown_extension_is_rejected() {
    let path = temp_file("pop.yaml", "responses: 3");
    let msg = check_message(&load_population(&path).unwrap_err(), &format!("{}: file: ", path.display()));
    assert!(msg.contains(".jsonl"), "{msg}");
}

#[test]
fn empty_inputs_are_rejected() {
    json_error("", 1, "population");
    json_error("  \n \n", 1, "population");
    let path = temp_file("empty.jsonl", "\n\n");
    let msg = check_message(&load_populations(&path).unwrap_err(), &format!("{}: populations: ", path.display()));
    assert!(msg.contains("no population"), "{msg}");
    let path = temp_file("empty.json", "");
    check_message(&load_population(&path).unwrap_err(), &format!("{}:1: population: ", path.display()));
}

#[test]
fn bad_json_reports_line_and_column() {
    let text = "{\n  \"responses\": 2,\n  \"types\": [{\"weight\": 1 \"ranking\": [0, 1]}]\n}";
    let msg = json_error(text, 3, "json");
    assert!(msg.contains("column 26"), "{msg}");
    let msg = json_error("{\"responses\": 2, \"types\": [{\"weight\": 1, \"scores\": [NaN, 0]}]}", 1, "json");
    assert!(msg.contains("NaN and infinities"), "{msg}");
    let msg = json_error("{\"responses\": 2, \"types\": [{\"weight\": 1, \"scores\": [1e400, 0]}]}", 1, "json");
    assert!(msg.contains("out of range"), "{msg}");
    json_error("[{\"responses\": 1}]", 1, "population");
    let msg = json_error("{\"responses\": 1}\n{\"responses\": 2}", 2, "json");
    assert!(msg.contains(".jsonl"), "{msg}");
}

#[test]
fn unknown_and_missing_keys_are_named() {
    let text = "{\n \"responses\": 2,\n \"type\": []\n}";
    let msg = json_error(text, 3, "type");
    assert!(msg.contains("not a known key") && msg.contains("\"types\""), "{msg}");
    let text = "{\"responses\": 2, \"types\": [\n {\"weight\": 0.5, \"ranking\": [0, 1]},\n {\"weight\": 0.5, \"rankng\": [1, 0]}\n]}";
    json_error(text, 3, "types[1].rankng");
    json_error("{\"types\": []}", 1, "responses");
    json_error("{\"responses\": 2}", 1, "types");
    let text = "{\"responses\": 2, \"types\": [\n {\"ranking\": [0, 1]}\n]}";
    json_error(text, 2, "types[0].weight");
    let msg = json_error("{\"responses\": 2, \"types\": [{\"weight\": 1}]}", 1, "types[0]");
    assert!(msg.contains("neither"), "{msg}");
    let msg = json_error(
        "{\"responses\": 2, \"types\": [{\"weight\": 1, \"ranking\": [0,1], \"scores\": [0,0]}]}",
        1,
        "types[0]",
    );
    assert!(msg.contains("both"), "{msg}");
}

#[test]
fn bad_weights_are_rejected() {
    let text = "{\"responses\": 2, \"types\": [\n {\"weight\": 1.5, \"ranking\": [0, 1]},\n {\"weight\": -0.5, \"ranking\": [1, 0]}\n]}";
    let msg = json_error(text, 3, "types[1].weight");
    assert!(msg.contains("-0.5"), "{msg}");
    let text = "{\"responses\": 2, \"types\": [\n {\"weight\": 0.7, \"ranking\": [0, 1]},\n {\"weight\": 0.7, \"ranking\": [1, 0]}\n]}";
    let msg = json_error(text, 1, "types[*].weight");
    assert!(msg.contains("sum to 1.4"), "{msg}");
    json_error("{\"responses\": 1, \"types\": [{\"weight\": 0, \"ranking\": [0]}]}", 1, "types[0].weight");
    json_error("{\"responses\": 1, \"types\": [{\"weight\": \"1\", \"ranking\": [0]}]}", 1, "types[0].weight");
}

#[test]
fn bad_rankings_are_rejected() {
    let pre = "{\"responses\": 3, \"types\": [\n {\"weight\": 1,\n  \"ranking\": ";
    let msg = json_error(&format!("{pre}[0, 2, 0]}}]}}"), 3, "types[0].ranking");
    assert!(msg.contains("twice"), "{msg}");
    let msg = json_error(&format!("{pre}[0, 1]}}]}}"), 3, "types[0].ranking");
    assert!(msg.contains("has 2 entries"), "{msg}");
    let msg = json_error(&format!("{pre}[0, 1, 3]}}]}}"), 3, "types[0].ranking");
    assert!(msg.contains("contains 3"), "{msg}");
    json_error(&format!("{pre}[0, -1, 2]}}]}}"), 3, "types[0].ranking[1]");
    json_error(&format!("{pre}[0, 1.5, 2]}}]}}"), 3, "types[0].ranking[1]");
    json_error(&format!("{pre}\"0,1,2\"}}]}}"), 3, "types[0].ranking");
}

#[test]
fn bad_scores_and_sizes_are_rejected() {
    let msg =
        json_error("{\"responses\": 2, \"types\": [{\"weight\": 1,\n \"scores\": [0, 1e300]}]}", 2, "types[0].scores");
    assert!(msg.contains("span"), "{msg}");
    json_error("{\"responses\": 3, \"types\": [{\"weight\": 1, \"scores\": [0, 1]}]}", 1, "types[0].scores");
    json_error("{\"responses\": 2, \"types\": [{\"weight\": 1, \"scores\": [0, null]}]}", 1, "types[0].scores[1]");
    json_error("{\"responses\": 0, \"types\": []}", 1, "responses");
    json_error("{\"responses\": 2.5, \"types\": []}", 1, "responses");
    json_error("{\"responses\": 2, \"types\": []}", 1, "types");
    json_error(
        "{\n\"responses\": 2,\n\"labels\": [\"a\"],\n\"types\": [{\"weight\": 1, \"ranking\": [0, 1]}]}",
        3,
        "labels",
    );
    json_error("{\"responses\": 1, \"labels\": [7], \"types\": [{\"weight\": 1, \"ranking\": [0]}]}", 1, "labels[0]");
}

#[test]
fn jsonl_errors_name_the_line() {
    let good = "{\"responses\": 1, \"types\": [{\"weight\": 1, \"ranking\": [0]}]}";
    let bad = "{\"responses\": 2, \"types\": [{\"weight\": 1, \"ranking\": [0, 0]}]}";
    let path = temp_file("batch.jsonl", &format!("{good}\n\n{good}\n{bad}\n"));
    let err = load_populations(&path).unwrap_err();
    check_message(&err, &format!("{}:4: types[0].ranking: ", path.display()));
    // A pretty-printed population is not JSON Lines; the message says so.
    let err = parse_jsonl("{\n\"responses\": 1}\n", &Location::file("p.jsonl")).unwrap_err();
    let msg = check_message(&err, "p.jsonl:1: json: ");
    assert!(msg.contains("single line"), "{msg}");
}

// ---------------------------------------------------------------- PrefLib

#[test]
fn soc_counts_become_weights_and_indices_shift() {
    let pop = load_preflib(&assets("sample.soc")).unwrap();
    assert_eq!(pop.responses, 4);
    assert_eq!(pop.labels.as_deref().unwrap(), ["Pasta", "Curry", "Salad", "Soup"]);
    let expected = [(4.0, [0, 1, 2, 3]), (3.0, [1, 2, 0, 3]), (2.0, [2, 0, 1, 3]), (1.0, [3, 2, 1, 0])];
    assert_eq!(pop.types.len(), expected.len());
    for (t, (count, order)) in pop.types.iter().zip(expected) {
        assert_eq!(t.kind, Kind::Ranking(order.to_vec()));
        assert!((t.weight - count / 10.0).abs() < 1e-15);
    }
    assert_eq!(load_population(&assets("sample.soc")).unwrap(), pop);
}

#[test]
fn repeated_orders_merge() {
    let text = "# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 6\n3: 1,2\n1: 2,1\n2: 1,2\n";
    let pop = parse_preflib(text, &Location::file("r.soc"), false).unwrap();
    assert_eq!(pop.types.len(), 2);
    assert_eq!(pop.types[0], UserType::ranking(5.0 / 6.0, vec![0, 1]));
    assert!((pop.types[1].weight - 1.0 / 6.0).abs() < 1e-15);
    assert_eq!(pop.labels, None);
}

#[test]
fn soi_splits_unlisted_responses_over_rotations() {
    let pop = load_preflib(&assets("sample.soi")).unwrap();
    let expected: [(f64, [u32; 4]); 7] = [
        (5.0, [0, 1, 2, 3]),
        (1.0, [1, 0, 2, 3]),
        (1.0, [1, 2, 3, 0]),
        (1.0, [1, 3, 0, 2]),
        (1.0, [2, 0, 1, 3]),
        (1.0, [2, 0, 3, 1]),
        (2.0, [3, 0, 1, 2]),
    ];
    assert_eq!(pop.types.len(), expected.len());
    for (t, (count, order)) in pop.types.iter().zip(expected) {
        assert_eq!(t.kind, Kind::Ranking(order.to_vec()));
        assert!((t.weight - count / 12.0).abs() < 1e-15, "{t:?}");
    }
    // Each unlisted response takes each tied position equally often: for the
    // ballot "2" (0-based: 1 first, then {0, 2, 3}), positions 1..3 each hold
    // every one of 0, 2, 3 exactly once.
    for pos in 1..4 {
        let mut held: Vec<u32> = (1..4).map(|t| ranking(&pop, t)[pos]).collect();
        held.sort_unstable();
        assert_eq!(held, [0, 2, 3]);
    }
    // Listed responses beat unlisted ones with the ballot's full weight:
    // only the ballot "2" (3 voters) puts 1 first, and 1 beats 0 in it always.
    let oracle = common::oracle::p_beats(&pop, &[1], &[0]);
    let direct: f64 = pop.types.iter().filter(|t| ranking_pos(t, 1) < ranking_pos(t, 0)).map(|t| t.weight).sum();
    assert!((oracle - direct).abs() < 1e-15);
}

fn ranking_pos(t: &UserType, y: u32) -> usize {
    match &t.kind {
        Kind::Ranking(r) => r.iter().position(|&x| x == y).unwrap(),
        Kind::Scores(_) => unreachable!(),
    }
}

#[test]
fn soi_with_one_unlisted_or_none_listed() {
    let text = "# NUMBER ALTERNATIVES: 3\n1: 2,3\n2:\n";
    let pop = parse_preflib(text, &Location::file("p.soi"), true).unwrap();
    // "2,3" → [1,2,0] (one type, count 1); "" → the rotations [0,1,2],
    // [1,2,0], [2,0,1] with count 2/3 each, the second merging with the first.
    let expected = [(5.0 / 9.0, vec![1, 2, 0]), (2.0 / 9.0, vec![0, 1, 2]), (2.0 / 9.0, vec![2, 0, 1])];
    assert_eq!(pop.types.len(), 3);
    for (t, (w, order)) in pop.types.iter().zip(expected) {
        assert_eq!(t.kind, Kind::Ranking(order));
        assert!((t.weight - w).abs() < 1e-15, "{t:?}");
    }
}

#[test]
fn legacy_format_matches_current_format() {
    let legacy = "4\n1,Pasta\n2,Curry\n3,Salad\n4,Soup\n10,10,4\n4,1,2,3,4\n3,2,3,1,4\n2,3,1,2,4\n1,4,3,2,1\n";
    let pop = parse_preflib(legacy, &Location::file("old.soc"), false).unwrap();
    assert_eq!(pop, load_preflib(&assets("sample.soc")).unwrap());
    let legacy_soi = "3\n1,a\n2,b\n3,c\n3,3,2\n2,1\n1,3,2,1\n";
    let pop = parse_preflib(legacy_soi, &Location::file("old.soi"), true).unwrap();
    assert_eq!(pop.types.len(), 3);
    assert_eq!(ranking(&pop, 0), &[0, 1, 2]);
    assert_eq!(ranking(&pop, 1), &[0, 2, 1]);
    let msg =
        check_message(&parse_preflib("3\n1,a\n2,b\n", &Location::file("old.soc"), false).unwrap_err(), "old.soc:");
    assert!(msg.contains("ALTERNATIVE NAME"), "{msg}");
}

#[test]
fn toc_without_ties_reads_as_soc() {
    let path = temp_file("clean.toc", "# NUMBER ALTERNATIVES: 2\n1: 2,1\n");
    assert_eq!(load_population(&path).unwrap().types, vec![UserType::ranking(1.0, vec![1, 0])]);
}

fn preflib_error(text: &str, partial: bool, line: usize, field: &str) -> String {
    let err = parse_preflib(text, &Location::file("d.soi"), partial).expect_err("input should be rejected");
    check_message(&err, &format!("d.soi:{line}: {field}: "))
}

#[test]
fn preflib_errors_name_line_and_field() {
    let head = "# DATA TYPE: soc\n# NUMBER ALTERNATIVES: 3\n";
    let msg = preflib_error(&format!("{head}2: 1,{{2,3}}\n"), false, 3, "order");
    assert!(msg.contains("tied"), "{msg}");
    // Every order ranks the same 2 alternatives: the header is wrong, or the orders are incomplete.
    let msg = preflib_error(&format!("{head}2: 1,2\n"), false, 2, "NUMBER ALTERNATIVES");
    assert!(msg.contains("correct the header to 2") && msg.contains(".soi"), "{msg}");
    // Orders of different lengths are incomplete orders.
    let msg = preflib_error(&format!("{head}2: 1,2\n1: 1,2,3\n"), false, 3, "order");
    assert!(msg.contains(".soi"), "{msg}");
    let msg = preflib_error(&format!("{head}1: 1,2,3\n2: 0,1,2\n"), false, 4, "order");
    assert!(msg.contains("1-based"), "{msg}");
    preflib_error(&format!("{head}2: 1,2,4\n"), false, 3, "order");
    let msg = preflib_error(&format!("{head}2: 1,2,2\n"), false, 3, "order");
    assert!(msg.contains("twice"), "{msg}");
    preflib_error(&format!("{head}2: 1,x,3\n"), false, 3, "order");
    preflib_error(&format!("{head}0: 1,2,3\n"), false, 3, "count");
    preflib_error(&format!("{head}-1: 1,2,3\n"), false, 3, "count");
    preflib_error(&format!("{head}1,2,3\n"), false, 3, "order");
    let msg = preflib_error(&format!("{head}# NUMBER VOTERS: 5\n2: 1,2,3\n"), false, 3, "NUMBER VOTERS");
    assert!(msg.contains("truncated"), "{msg}");
    preflib_error("# NUMBER ALTERNATIVES: three\n", false, 1, "NUMBER ALTERNATIVES");
    preflib_error("# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 3: c\n1: 1,2\n", false, 2, "ALTERNATIVE NAME 3");
    preflib_error("# DATA TYPE: wmd\n", false, 1, "DATA TYPE");
    preflib_error(head, false, 2, "orders");
    preflib_error("", false, 1, "file");
    preflib_error("hello\n", false, 1, "header");
    let path = temp_file("tied.toi", "# NUMBER ALTERNATIVES: 3\n1: 1\n4: {1,2},3\n");
    check_message(&load_population(&path).unwrap_err(), &format!("{}:3: order: ", path.display()));
}

#[test]
fn rankings_are_checked_alike_on_either_side_of_64_responses() {
    // Up to 64 responses the check keeps the responses seen in one word,
    // beyond in a vector: the same verdicts and messages either way.
    for n in [3u32, 64, 65, 200] {
        let pop = |ranking: Vec<u32>| Population::new(n as usize, None, vec![UserType::ranking(1.0, ranking)]);
        let identity: Vec<u32> = (0..n).collect();
        assert!(pop(identity.iter().rev().copied().collect()).is_ok(), "n = {n}");
        let mut repeated = identity.clone();
        repeated[n as usize - 1] = n - 2;
        let msg = pop(repeated).unwrap_err().to_string();
        assert!(msg.contains(&format!("types[0].ranking: lists response {} twice", n - 2)), "{msg}");
        let mut beyond = identity.clone();
        beyond[0] = n;
        let msg = pop(beyond).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("types[0].ranking: contains {n}, but responses are numbered 0..{}", n - 1)),
            "{msg}"
        );
    }
}

#[test]
fn preflib_headers_that_disagree_with_the_orders_are_named() {
    let sample = std::fs::read_to_string(assets("sample.soc")).unwrap();
    let edit = |from: &str, to: &str| {
        assert!(sample.contains(from), "{from}");
        sample.replace(from, to)
    };
    // A wrong NUMBER UNIQUE ORDERS (line 12), and a truncated file.
    let msg = preflib_error(&edit("UNIQUE ORDERS: 4", "UNIQUE ORDERS: 5"), false, 12, "NUMBER UNIQUE ORDERS");
    assert!(msg.contains("says 5, but the file holds 4 distinct orders"), "{msg}");
    let truncated = edit("NUMBER VOTERS: 10", "NUMBER VOTERS: 9").replace("1: 4,3,2,1\n", "");
    preflib_error(&truncated, false, 12, "NUMBER UNIQUE ORDERS");
    // Legacy: the third number of the voters line.
    let legacy = "2\n1,a\n2,b\n3,3,3\n2,1,2\n1,2,1\n";
    let msg = preflib_error(legacy, false, 4, "NUMBER UNIQUE ORDERS");
    assert!(msg.contains("holds 2 distinct orders"), "{msg}");
    // A wrong NUMBER ALTERNATIVES is named at the header, with the right fix.
    let msg = preflib_error(&edit("ALTERNATIVES: 4", "ALTERNATIVES: 5"), false, 10, "NUMBER ALTERNATIVES");
    assert!(msg.contains("says 5") && msg.contains("correct the header to 4"), "{msg}");
    let msg = preflib_error(&edit("ALTERNATIVES: 4", "ALTERNATIVES: 3"), false, 16, "ALTERNATIVE NAME 4");
    assert!(msg.contains("numbered 1..3") && msg.contains("NUMBER ALTERNATIVES (line 10)"), "{msg}");
    let no_names: String =
        sample.lines().filter(|l| !l.contains("ALTERNATIVE NAME")).map(|l| format!("{l}\n")).collect();
    let msg = preflib_error(&no_names.replace("ALTERNATIVES: 4", "ALTERNATIVES: 3"), false, 13, "order");
    assert!(msg.contains("lists alternative 4") && msg.contains("NUMBER ALTERNATIVES (line 10)"), "{msg}");
    // A count beyond 64 bits is too large, not "not a number".
    let msg = preflib_error(&edit("\n4: 1,2,3,4", "\n99999999999999999999: 1,2,3,4"), false, 17, "count");
    assert!(msg.contains("larger than 18446744073709551615"), "{msg}");
    let msg = preflib_error(&edit("VOTERS: 10", "VOTERS: 123456789012345678901234"), false, 11, "NUMBER VOTERS");
    assert!(msg.contains("larger than"), "{msg}");
    let msg = preflib_error(&edit("\n4: 1,2,3,4", "\n-4: 1,2,3,4"), false, 17, "count");
    assert!(msg.contains("negative"), "{msg}");
    // Two alternatives of one name.
    let msg = preflib_error(&edit("NAME 3: Salad", "NAME 3: Pasta"), false, 15, "ALTERNATIVE NAME 3");
    assert!(msg.contains("'Pasta'") && msg.contains("alternative 1") && msg.contains("line 13"), "{msg}");
    // A byte order mark.
    let msg = preflib_error(&format!("\u{feff}{sample}"), false, 1, "file");
    assert!(msg.contains("byte order mark"), "{msg}");
}

#[test]
fn json_repeated_keys_repeated_labels_and_a_bom_are_named() {
    let loc = Location::file("p.json");
    let err = |text: &str| parse_population(text, &loc).expect_err(text);
    let msg = check_message(
        &err("{\"responses\": 2,\n \"types\": [{\"weight\": 0.5, \"ranking\": [0, 1], \"weight\": 1}]}"),
        "p.json:2: weight: appears twice",
    );
    assert!(msg.contains("keep one \"weight\""), "{msg}");
    check_message(
        &err(r#"{"responses": 2, "types": [{"weight": 1, "ranking": [0, 1]}], "responses": 3}"#),
        "p.json:1: responses: appears twice",
    );
    let msg = check_message(
        &err(r#"{"responses": 3, "labels": ["a", "b", "a"], "types": [{"weight": 1, "ranking": [0, 1, 2]}]}"#),
        "p.json:1: labels[2]: is \"a\", the same as labels[0]",
    );
    assert!(msg.contains("distinct label"), "{msg}");
    let good = r#"{"responses": 1, "types": [{"weight": 1, "ranking": [0]}]}"#;
    check_message(&err(&format!("\u{feff}{good}")), "p.json:1: file: starts with a UTF-8 byte order mark");
    // In JSON Lines, on the line that has it.
    let jsonl = parse_jsonl(&format!("{good}\n\u{feff}{good}\n"), &Location::file("b.jsonl")).unwrap_err();
    check_message(&jsonl, "b.jsonl:2: file: starts with a UTF-8 byte order mark");
    let path = temp_file("bom.json", &format!("\u{feff}{good}"));
    let msg = load_population(&path).unwrap_err().to_string();
    assert!(msg.contains("byte order mark"), "{msg}");
}
