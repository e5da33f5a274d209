//! A JSON Lines batch read chunk by chunk: the same populations, in file
//! order, as reading it whole; blank lines skipped; errors name their line.

use std::path::PathBuf;

use ualign::population::load::load_populations;
use ualign::population::stream::Chunks;

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
