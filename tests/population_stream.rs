//! A JSON Lines batch read chunk by chunk: the same populations, in file
//! order, as reading it whole; blank lines skipped; errors name their line.

use std::path::PathBuf;

use ualign::population::load::load_populations;
use ualign::population::stream::{Chunks, CHUNK};

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ualign-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn line(first: u32) -> String {
    let (a, b) = (first, 1 - first);
    format!(r#"{{"responses": 2, "types": [{{"weight": 1, "ranking": [{a}, {b}]}}]}}"#)
}

#[test]
fn chunks_concatenate_to_the_whole_file() {
    let lines: Vec<String> = (0..7).map(|i| line(i % 2)).collect();
    let path = temp_file("seven.jsonl", &(lines.join("\n\n  \n") + "\n"));
    let whole = load_populations(&path).unwrap();
    let chunks: Vec<_> = Chunks::open(&path, 3).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
    assert_eq!(chunks.concat(), whole);
}

#[test]
fn a_bad_line_is_named_by_its_line_number() {
    let text = format!("{}\n\n{}\n{{\"responses\": 2}}\n", line(0), line(1));
    let path = temp_file("bad.jsonl", &text);
    let results: Vec<_> = Chunks::open(&path, 10).unwrap().collect();
    assert_eq!(results.len(), 1);
    let err = results[0].as_ref().unwrap_err().to_string();
    assert!(err.contains("bad.jsonl:4"), "{err}");
}

#[test]
fn an_empty_batch_is_an_error_and_a_single_population_file_a_batch_of_one() {
    let empty = temp_file("empty.jsonl", "\n  \n");
    let err = Chunks::open(&empty, 10).unwrap().next().unwrap().unwrap_err().to_string();
    assert!(err.contains("holds no population"), "{err}");
    let one = temp_file("one.json", &line(1));
    let chunks: Vec<_> = Chunks::open(&one, 10).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].len(), 1);
}

/// A file of `count` lines, line `i` (1-based) the population of
/// `responses(i)` responses; `bad` lines replaced by broken ones.
fn numbered_file(name: &str, count: usize, bad: &[(usize, &str)]) -> PathBuf {
    let mut text = String::new();
    for i in 1..=count {
        match bad.iter().find(|(at, _)| *at == i) {
            Some((_, line)) => text.push_str(line),
            None => text.push_str(&sized(responses(i))),
        }
        text.push('\n');
    }
    temp_file(name, &text)
}

fn responses(line: usize) -> usize {
    1 + line % 7
}

/// A population of `n` responses, one ranking type.
fn sized(n: usize) -> String {
    let ranking: Vec<String> = (0..n).rev().map(|y| y.to_string()).collect();
    format!(r#"{{"responses": {n}, "types": [{{"weight": 1, "ranking": [{}]}}]}}"#, ranking.join(", "))
}

#[test]
fn a_large_batch_parsed_in_parallel_keeps_file_order() {
    let path = numbered_file("order.jsonl", 9_000, &[]);
    let pops: Vec<_> = Chunks::open(&path, CHUNK).unwrap().collect::<Result<Vec<_>, _>>().unwrap().concat();
    assert_eq!(pops.len(), 9_000);
    for (i, pop) in pops.iter().enumerate() {
        assert_eq!(pop.responses, responses(i + 1), "population {i} out of order");
    }
    assert_eq!(load_populations(&path).unwrap(), pops);
}

#[test]
fn the_first_bad_line_of_a_large_batch_is_the_one_reported() {
    // Both bad lines fall in the second chunk and are parsed at the same
    // time; the earlier one is reported, whichever thread finishes first.
    let bad = [(6_001, r#"{"responses": 2, "types": [{"weight": 1, "ranking": [0, 0]}]}"#), (8_000, "{")];
    let path = numbered_file("bad-middle.jsonl", 9_000, &bad);
    let mut chunks = Chunks::open(&path, CHUNK).unwrap();
    assert_eq!(chunks.next().unwrap().unwrap().len(), CHUNK);
    let err = chunks.next().unwrap().unwrap_err().to_string();
    assert!(err.contains("/bad-middle.jsonl:6001: types[0].ranking: lists response 0 twice"), "{err}");
    assert!(chunks.next().is_none(), "reading goes on after an error");
    let err = load_populations(&path).unwrap_err().to_string();
    assert!(err.contains("/bad-middle.jsonl:6001: types[0].ranking:"), "{err}");
}

#[test]
fn a_line_that_is_not_utf8_is_named_by_its_line_number() {
    let mut bytes = format!("{}\n\n{}\n", line(0), line(1)).into_bytes();
    bytes.extend_from_slice(b"{\"responses\": 2, \"labels\": [\"\xff\", \"b\"]}\n");
    let path = temp_file("latin1.jsonl", "");
    std::fs::write(&path, bytes).unwrap();
    let err = Chunks::open(&path, 10).unwrap().next().unwrap().unwrap_err().to_string();
    assert!(err.contains("/latin1.jsonl:4: file: cannot be read (not UTF-8); "), "{err}");
}

#[test]
fn chunks_read_into_recycled_populations_hold_nothing_of_the_old_ones() {
    // Shapes that change from line to line, so each chunk is read into
    // populations of another shape: labels or none, rankings and scores,
    // more or fewer types and responses.
    let lines = [
        r#"{"responses": 3, "labels": ["a", "b", "c"], "types": [{"weight": 0.5, "ranking": [2, 0, 1]}, {"weight": 0.5, "scores": [0.5, -1, 2]}]}"#,
        r#"{"responses": 2, "types": [{"weight": 1, "scores": [0, 1]}]}"#,
        r#"{"types": [{"ranking": [1, 0], "weight": 0.25}, {"scores": [3, 1], "weight": 0.75}], "responses": 2}"#,
        r#"{"responses": 4, "labels": ["w", "x", "y", "z"], "types": [{"weight": 1, "ranking": [3, 2, 1, 0]}]}"#,
        r#"{"responses": 1, "labels": ["only \"one\""], "types": [{"weight": 1, "ranking": [0]}]}"#,
        r#"{"responses": 3, "types": [{"weight": 0.2, "ranking": [0, 1, 2]}, {"weight": 0.3, "ranking": [1, 2, 0]}, {"weight": 0.5, "scores": [1, 1, 1]}]}"#,
        r#"{"responses": 2, "types": [{"weight": 1, "ranking": [0, 1]}]}"#,
    ];
    let path = temp_file("shapes.jsonl", &(lines.join("\n") + "\n"));
    let whole = load_populations(&path).unwrap();
    for chunk in [1, 2, 3] {
        let mut chunks = Chunks::open(&path, chunk).unwrap();
        let mut read = Vec::new();
        while let Some(pops) = chunks.next() {
            let pops = pops.unwrap();
            read.extend(pops.iter().cloned());
            chunks.recycle(pops);
        }
        assert_eq!(read, whole, "chunks of {chunk}");
    }
}
