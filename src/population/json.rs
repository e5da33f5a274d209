//! Population files in JSON and JSON Lines (the loaders that choose a
//! format by extension are in `load.rs`).
//!
//! One population is one JSON object:
//!
//! ```json
//! {"responses": 3, "labels": ["a", "b", "c"],
//!  "types": [{"weight": 0.6, "ranking": [0, 2, 1]}, {"weight": 0.4, "scores": [0.0, 1.5, -2.0]}]}
//! ```
//!
//! `labels` is optional; every type has a positive `weight` and exactly one of
//! `ranking` (a permutation of `0..responses`, best first) or `scores`
//! (Plackett–Luce log-worths). Weights must sum to 1 (within
//! [`WEIGHT_SUM_TOLERANCE`](super::WEIGHT_SUM_TOLERANCE)). Unknown keys are
//! errors, so a typo never silently drops data. A JSON Lines file (`.jsonl`)
//! holds one such object per line; blank lines are skipped.
//!
//! Valid text in the usual shape is read in one pass by `json_direct`;
//! anything it does not take goes through serde_json's value tree, which
//! reads any JSON and words the error. Every error is one line
//! `FILE:LINE: field: problem; fix`. Semantic errors (a ranking that is not
//! a permutation, …) point at the line where the offending value starts,
//! found by re-scanning the text (see [`locate`]).

use std::io::Write;

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::{json_direct, json_strict, normalised_population, Kind, Population, UserType};
use crate::error::{Error, Location, Result};

/// Parses one population from JSON text. `loc` names the file; when it carries
/// a line, that is the line the text starts on (JSON Lines), and reported
/// lines are offset from it.
pub fn parse_population(text: &str, loc: &Location) -> Result<Population> {
    let line_of = |inner: usize| -> Location {
        let mut at = loc.clone();
        at.line = Some(loc.line.unwrap_or(1) + inner.saturating_sub(1));
        at
    };
    if text.trim().is_empty() {
        return Err(Error::Input {
            location: line_of(1),
            field: "population".into(),
            problem: "is empty".into(),
            fix: "write a population as a JSON object {\"responses\": n, \"types\": [...]}".into(),
        });
    }
    if let Some(pop) = json_direct::population(text) {
        return Ok(pop);
    }
    if text.starts_with('\u{feff}') {
        return Err(super::bom_error(line_of(1)));
    }
    // An error at the end of the text (a truncated record) is reported by
    // serde on the line after the final newline: name the record's last line.
    let last_line = text.lines().count().max(1);
    let value: Value =
        json_strict::from_str(text).map_err(|e| syntax_error(text, &e, line_of(e.line().clamp(1, last_line))))?;
    population_from_value(&value).map_err(|e| {
        let line = match &e {
            Error::Input { field, .. } => locate(text, field).map(|offset| line_at(text, offset)).unwrap_or(1),
            _ => 1,
        };
        e.located(&line_of(line))
    })
}

/// Parses JSON Lines text: one population per non-blank line, lines in
/// parallel; the error reported is the one on the first bad line.
pub fn parse_jsonl(text: &str, loc: &Location) -> Result<Vec<Population>> {
    let lines: Vec<(usize, &str)> = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
    let first = loc.line.unwrap_or(1);
    let parsed: Vec<Result<Population>> =
        lines.par_iter().map(|&(i, line)| parse_jsonl_text(line, loc, first + i)).collect();
    let pops = parsed.into_iter().collect::<Result<Vec<_>>>()?;
    if pops.is_empty() {
        return Err(Error::Input {
            location: loc.clone(),
            field: "populations".into(),
            problem: "the file holds no population (it is empty or blank)".into(),
            fix: "write one population per line as a JSON object".into(),
        });
    }
    Ok(pops)
}

/// Parses one line of a JSON Lines file, `line` its 1-based number, into
/// `pop`, reusing its vectors.
pub(crate) fn parse_jsonl_line_into(bytes: &[u8], loc: &Location, line: usize, pop: &mut Population) -> Result<()> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::Input {
        location: loc.clone().at_line(line),
        field: "file".into(),
        problem: "cannot be read (not UTF-8)".into(),
        fix: "give one population per line as a JSON object".into(),
    })?;
    if !json_direct::population_into(text, pop) {
        *pop = parse_jsonl_text(text, loc, line)?;
    }
    Ok(())
}

/// Parses one line of a JSON Lines file, `line` its 1-based number. The
/// location (a copy of the file name) is built only for an error.
fn parse_jsonl_text(text: &str, loc: &Location, line: usize) -> Result<Population> {
    if let Some(pop) = json_direct::population(text) {
        return Ok(pop);
    }
    parse_population(text, &loc.clone().at_line(line)).map_err(|e| jsonl_hint(e, text))
}

/// The JSON object of a population (the inverse of [`parse_population`]).
/// Floats are written in their shortest round-tripping form.
pub fn to_json(pop: &Population) -> Value {
    let mut obj = Map::new();
    obj.insert("responses".into(), Value::from(pop.responses));
    if let Some(labels) = &pop.labels {
        obj.insert("labels".into(), Value::from(labels.clone()));
    }
    let types = pop
        .types
        .iter()
        .map(|t| {
            let mut ty = Map::new();
            ty.insert("weight".into(), Value::from(t.weight));
            match &t.kind {
                Kind::Ranking(r) => ty.insert("ranking".into(), Value::from(r.clone())),
                Kind::Scores(s) => ty.insert("scores".into(), Value::from(s.clone())),
                Kind::WeakOrder(c) => ty.insert("ranking".into(), weak_order_json(c)),
            };
            Value::Object(ty)
        })
        .collect();
    obj.insert("types".into(), Value::Array(types));
    Value::Object(obj)
}

/// Writes populations as JSON Lines, one compact object per line (the text
/// of [`to_json`], streamed without building it).
pub fn write_jsonl(pops: &[Population], w: impl Write) -> Result<()> {
    let mut w = std::io::BufWriter::new(w);
    for pop in pops {
        serde_json::to_writer(&mut w, &PopulationOut::of(pop)).map_err(|e| match e.is_io() {
            // A write error (a closed pipe, a full disk) stays an I/O error
            // so the caller can end quietly on a closed pipe.
            true => Error::io("output", e.into()),
            false => Error::Other(format!("JSON encoding: {e}")),
        })?;
        w.write_all(b"\n").map_err(|e| Error::io("output", e))?;
    }
    w.flush().map_err(|e| Error::io("output", e))
}

/// A population as [`to_json`] writes it, borrowed: keys in the same
/// (alphabetical) order.
#[derive(serde::Serialize)]
struct PopulationOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a [String]>,
    responses: usize,
    types: Vec<TypeOut<'a>>,
}

/// A weak order as a `ranking` array: a singleton class as its response, a
/// larger class as an array of the responses tied in it.
fn weak_order_json(classes: &[Vec<u32>]) -> Value {
    Value::Array(
        classes.iter().map(|c| if c.len() == 1 { Value::from(c[0]) } else { Value::from(c.clone()) }).collect(),
    )
}

#[derive(serde::Serialize)]
struct TypeOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ranking: Option<&'a [u32]>,
    #[serde(rename = "ranking", skip_serializing_if = "Option::is_none")]
    tied_ranking: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scores: Option<&'a [f64]>,
    weight: f64,
}

impl<'a> PopulationOut<'a> {
    fn of(pop: &'a Population) -> Self {
        let types = pop
            .types
            .iter()
            .map(|t| match &t.kind {
                Kind::Ranking(r) => TypeOut { ranking: Some(r), tied_ranking: None, scores: None, weight: t.weight },
                Kind::Scores(s) => TypeOut { ranking: None, tied_ranking: None, scores: Some(s), weight: t.weight },
                Kind::WeakOrder(c) => {
                    TypeOut { ranking: None, tied_ranking: Some(weak_order_json(c)), scores: None, weight: t.weight }
                }
            })
            .collect();
        PopulationOut { labels: pop.labels.as_deref(), responses: pop.responses, types }
    }
}

/// A serde syntax error as a one-line input error with line and column.
fn syntax_error(text: &str, e: &serde_json::Error, location: Location) -> Error {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    if let Some(key) = message.strip_prefix(json_strict::DUPLICATE) {
        return Error::Input {
            location,
            field: key.trim_matches('"').into(),
            problem: format!("appears twice in one object (the second at column {})", e.column()),
            fix: format!("keep one {key}: of repeated keys only one value would be read"),
        };
    }
    // JSON has no NaN or Infinity; say so rather than "expected value".
    let rest = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let rest = rest.get(e.column().saturating_sub(1)..).unwrap_or("");
    let non_finite = ["NaN", "Infinity", "-Infinity", "inf", "-inf", "nan"].iter().any(|w| rest.starts_with(w));
    let fix = if non_finite {
        "NaN and infinities are not valid: give every weight and score as a finite number"
    } else if message.contains("out of range") {
        "numbers must fit in a 64-bit float; scores are log-worths and should be small"
    } else if message.starts_with("EOF") {
        "the JSON ends early: close every [ and { (is the file truncated?)"
    } else if message.contains("trailing characters") {
        "a .json file holds one population; put several in a .jsonl file, one per line"
    } else {
        "fix the JSON syntax at that column"
    };
    Error::Input {
        location,
        field: "json".into(),
        problem: match e.column() {
            // Column 0: serde stopped past the final newline.
            0 => format!("invalid JSON at the end of the text: {message}"),
            column => format!("invalid JSON at column {column}: {message}"),
        },
        fix: fix.into(),
    }
}

/// In JSON Lines a population spread over several lines fails with an EOF
/// error; say why.
pub(crate) fn jsonl_hint(e: Error, line: &str) -> Error {
    match e {
        Error::Input { location, field, problem, .. } if field == "json" && problem.contains("EOF") => Error::Input {
            location,
            field,
            problem: format!("{problem} (line is '{}')", truncate(line.trim(), 40)),
            fix: "JSON Lines needs each population on a single line".into(),
        },
        other => other,
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn population_from_value(value: &Value) -> Result<Population> {
    let obj =
        as_object(value, "population", "write the population as a JSON object {\"responses\": n, \"types\": [...]}")?;
    check_keys(obj, &["responses", "labels", "types"])?;
    let responses = match obj.get("responses") {
        None => return Err(missing("responses", "give the number of candidate responses, e.g. \"responses\": 3")),
        Some(v) => index(v, "responses", u32::MAX as u64)? as usize,
    };
    if responses == 0 {
        return Err(Error::input("responses", "is 0", "give at least one candidate response"));
    }
    let labels = match obj.get("labels") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(Error::input(
                        format!("labels[{i}]"),
                        format!("is {}, not a string", kind_of(other)),
                        "write every label as a JSON string",
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(other) => {
            return Err(Error::input(
                "labels",
                format!("is {}, not an array", kind_of(other)),
                "give labels as an array of strings, one per response, or leave it out",
            ))
        }
    };
    let types = match obj.get("types") {
        None => {
            return Err(missing("types", "give the user types as \"types\": [{\"weight\": 1, \"ranking\": [...]}]"))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| user_type(v).map_err(|e| e.in_field(&format!("types[{i}]"))))
            .collect(),
        Some(other) => Err(Error::input(
            "types",
            format!("is {}, not an array", kind_of(other)),
            "give the user types as an array of objects",
        )),
    }?;
    normalised_population(responses, labels, types)
}

fn user_type(value: &Value) -> Result<UserType> {
    let obj = as_object(value, "", "write each type as {\"weight\": w, \"ranking\": [...]} or with \"scores\"")?;
    check_keys(obj, &["weight", "ranking", "scores"])?;
    let weight = match obj.get("weight") {
        None => return Err(missing("weight", "give every type a positive \"weight\"")),
        Some(v) => number(v, "weight")?,
    };
    let kind = match (obj.get("ranking"), obj.get("scores")) {
        (Some(_), Some(_)) => {
            return Err(Error::input(
                "",
                "has both \"ranking\" and \"scores\"",
                "keep exactly one: a ranking type or a Plackett–Luce (scores) type",
            ))
        }
        (None, None) => {
            return Err(Error::input(
                "",
                "has neither \"ranking\" nor \"scores\"",
                "add \"ranking\": [best, ..., worst] or \"scores\": [log-worths]",
            ))
        }
        (Some(r), None) => {
            let items = as_array(r, "ranking", "give the ranking as an array of response indices, best first")?;
            // An entry is a response, or an array of responses ranked equal (a tie class).
            let classes = items
                .iter()
                .enumerate()
                .map(|(j, v)| match v {
                    Value::Array(tied) => tied
                        .iter()
                        .enumerate()
                        .map(|(i, v)| index(v, &format!("ranking[{j}][{i}]"), u32::MAX as u64).map(|y| y as u32))
                        .collect::<Result<Vec<u32>>>(),
                    _ => index(v, &format!("ranking[{j}]"), u32::MAX as u64).map(|y| vec![y as u32]),
                })
                .collect::<Result<Vec<Vec<u32>>>>()?;
            if classes.iter().any(|c| c.len() != 1) {
                Kind::WeakOrder(classes)
            } else {
                Kind::Ranking(classes.into_iter().map(|c| c[0]).collect())
            }
        }
        (None, Some(s)) => {
            let items = as_array(s, "scores", "give the scores as an array of numbers, one per response")?;
            let scores = items
                .iter()
                .enumerate()
                .map(|(j, v)| number(v, &format!("scores[{j}]")))
                .collect::<Result<Vec<f64>>>()?;
            Kind::Scores(scores)
        }
    };
    Ok(UserType { weight, kind })
}

/// Unknown keys are errors whose field is the key itself, so the message
/// (and the line) point at the typo.
fn check_keys(obj: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    if let Some(key) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        let list = allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
        return Err(Error::input(key.as_str(), "is not a known key", format!("use only {list}")));
    }
    Ok(())
}

fn missing(key: &str, fix: &str) -> Error {
    Error::input(key, "is missing", fix)
}

fn as_object<'a>(value: &'a Value, field: &str, fix: &str) -> Result<&'a Map<String, Value>> {
    match value {
        Value::Object(obj) => Ok(obj),
        Value::Array(_) if field == "population" => Err(Error::input(
            field,
            "is an array, not an object",
            "write one population per file as an object; for many populations use JSON Lines (.jsonl)",
        )),
        other => Err(Error::input(field, format!("is {}, not an object", kind_of(other)), fix)),
    }
}

fn as_array<'a>(value: &'a Value, field: &str, fix: &str) -> Result<&'a Vec<Value>> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(Error::input(field, format!("is {}, not an array", kind_of(other)), fix)),
    }
}

/// A non-negative integer no larger than `max`.
fn index(value: &Value, field: &str, max: u64) -> Result<u64> {
    match value.as_u64() {
        Some(i) if i <= max => Ok(i),
        Some(i) => Err(Error::input(field, format!("is {i}, which is too large"), format!("use a value up to {max}"))),
        None => Err(Error::input(
            field,
            format!("is {}, not a whole number >= 0", show(value)),
            "write it as a non-negative integer such as 2",
        )),
    }
}

fn number(value: &Value, field: &str) -> Result<f64> {
    match value.as_f64() {
        Some(x) => Ok(x),
        None => Err(Error::input(field, format!("is {}, not a number", show(value)), "write it as a finite number")),
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Number(x) => x.to_string(),
        other => kind_of(other).to_string(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

/// Byte offset where the value named by an error field (`types[2].ranking`,
/// `types[0].scores[3]`, `labels`) starts in valid JSON text. Stops at the
/// deepest part of the path it can find (`types[*].weight` → `types`).
/// Returns `None` only when not even the first key is present.
pub fn locate(text: &str, field: &str) -> Option<usize> {
    let mut path = Vec::new();
    for part in field.split('.') {
        let (name, mut rest) = part.split_once('[').map(|(n, r)| (n, Some(r))).unwrap_or((part, None));
        if !name.is_empty() {
            path.push(Step::Key(name));
        }
        while let Some(r) = rest {
            let (idx, after) = r.split_once(']')?;
            match idx.parse::<usize>() {
                Ok(i) => path.push(Step::Index(i)),
                Err(_) => break,
            }
            rest = after.strip_prefix('[');
            if rest.is_none() {
                break;
            }
        }
        if part.contains("[*]") {
            break;
        }
    }
    let mut scan = Scanner { b: text.as_bytes(), i: 0 };
    scan.ws();
    let mut found = None;
    for step in path {
        if !scan.enter(step) {
            break;
        }
        found = Some(scan.i);
    }
    found
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// A minimal walker over JSON text already known to be valid.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    /// Skips a string starting at its opening quote; returns its raw content.
    fn string(&mut self) -> &[u8] {
        self.i += 1;
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i] != b'"' {
            self.i += if self.b[self.i] == b'\\' { 2 } else { 1 };
        }
        let raw = &self.b[start..self.i.min(self.b.len())];
        self.i += 1;
        raw
    }

    fn skip_value(&mut self) {
        match self.peek() {
            b'"' => {
                self.string();
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                {
                    self.i += 1;
                }
            }
        }
    }

    /// Moves from the start of a container to the start of the member `step`.
    fn enter(&mut self, step: Step) -> bool {
        match (step, self.peek()) {
            (Step::Key(key), b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.peek() != b'"' {
                        return false;
                    }
                    let matches = self.string() == key.as_bytes();
                    self.ws();
                    self.i += 1; // ':'
                    self.ws();
                    if matches {
                        return true;
                    }
                    self.skip_value();
                    self.ws();
                    if self.peek() != b',' {
                        return false;
                    }
                    self.i += 1;
                }
            }
            (Step::Index(target), b'[') => {
                self.i += 1;
                for _ in 0..target {
                    self.ws();
                    self.skip_value();
                    self.ws();
                    if self.peek() != b',' {
                        return false;
                    }
                    self.i += 1;
                }
                self.ws();
                self.peek() != b']'
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The direct parser against serde_json: on every text it accepts, the
    //! population the value tree gives, bit for bit; everything else falls
    //! through to serde_json unchanged.

    use rand::{Rng, SeedableRng};

    use super::*;

    /// The population serde_json's value tree gives (the path that words errors).
    fn via_value(text: &str) -> Option<Population> {
        let value: Value = serde_json::from_str(text).ok()?;
        population_from_value(&value).ok()
    }

    /// Equal, with every float compared by its bits (so -0.0 ≠ 0.0).
    fn assert_same_bits(a: &Population, b: &Population) {
        assert_eq!(a, b);
        for (s, t) in a.types.iter().zip(&b.types) {
            assert_eq!(s.weight.to_bits(), t.weight.to_bits());
            if let (Kind::Scores(x), Kind::Scores(y)) = (&s.kind, &t.kind) {
                assert_eq!(
                    x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
            }
        }
    }

    fn direct_agrees(text: &str) {
        let direct = json_direct::population(text).unwrap_or_else(|| panic!("direct parser refused {text}"));
        let value = via_value(text).unwrap_or_else(|| panic!("serde_json refused {text}"));
        assert_same_bits(&direct, &value);
    }

    #[test]
    fn the_direct_parser_reads_every_layout_as_serde_json_does() {
        for text in [
            r#"{"responses":3,"types":[{"ranking":[0,2,1],"weight":0.6},{"scores":[0.0,1.5,-2.0],"weight":0.4}]}"#,
            " {\r\n\t\"types\" : [ { \"weight\" : 1 , \"ranking\" : [ 1 , 0 ] } ] ,\n \"responses\" : 2 } \n",
            r#"{"labels":["a","β b",""],"responses":3,"types":[{"weight":1e0,"scores":[-0,-0.0,0E+3]}]}"#,
            r#"{"responses":2,"types":[{"weight":0.25,"scores":[1e-320,-4.9406564584124654e-324]},{"weight":75e-2,"ranking":[1,0]}]}"#,
            r#"{"responses":3,"types":[{"weight":1,"scores":[12.345678901234567890123,2.2250738585072011e-308,-5]}]}"#,
        ] {
            direct_agrees(text);
        }
    }

    #[test]
    fn the_direct_parser_rounds_random_floats_as_serde_json_does() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let x = f64::from_bits(rng.random::<u64>());
            // Scores must be finite and span at most MAX_SCORE_SPAN.
            let x = if x.is_finite() && x.abs() < 40.0 { x } else { rng.random_range(-40.0..40.0) };
            let digits = rng.random_range(1..25);
            for written in [format!("{x:e}"), format!("{x:.digits$e}"), format!("{x:.digits$}"), format!("{x:?}")] {
                direct_agrees(&format!(r#"{{"responses":1,"types":[{{"weight":1,"scores":[{written}]}}]}}"#));
            }
        }
    }

    #[test]
    fn anything_outside_the_subset_falls_through_to_serde_json() {
        let ok = |types: &str| format!(r#"{{"responses":2,"types":[{types}]}}"#);
        // Valid JSON the direct parser leaves to serde_json.
        let escaped = r#"{"responses":2,"labels":["a\"","\u0062"],"types":[{"weight":1,"ranking":[0,1]}]}"#;
        let null_labels = r#"{"responses":2,"labels":null,"types":[{"weight":1,"ranking":[0,1]}]}"#;
        for text in [escaped, null_labels] {
            assert!(json_direct::population(text).is_none(), "{text}");
            let parsed = parse_population(text, &Location::file("f.json")).unwrap();
            assert_same_bits(&parsed, &via_value(text).unwrap());
        }
        // Invalid JSON or invalid populations: refused here, worded by serde_json.
        for text in [
            ok(r#"{"weight":1,"ranking":[0,01]}"#),
            ok(r#"{"weight":1,"ranking":[0,1.0]}"#),
            ok(r#"{"weight":1,"ranking":[0,-1]}"#),
            ok(r#"{"weight":1,"ranking":[0,4294967296]}"#),
            ok(r#"{"weight":1,"ranking":[0,1,]}"#),
            ok(r#"{"weight":+1,"ranking":[0,1]}"#),
            ok(r#"{"weight":1.,"ranking":[0,1]}"#),
            ok(r#"{"weight":.5,"ranking":[0,1]},{"weight":.5,"ranking":[1,0]}"#),
            ok(r#"{"weight":1e,"ranking":[0,1]}"#),
            ok(r#"{"weight":NaN,"ranking":[0,1]}"#),
            ok(r#"{"weight":1,"scores":[0,1e999]}"#),
            ok(r#"{"weight":1,"ranking":[0,1],"scores":[0,1]}"#),
            ok(r#"{"weight":1,"ranking":[0,0]}"#),
            ok(r#"{"weight":1,"weight":1,"ranking":[0,1]}"#),
            r#"{"responses":2,"responses":2,"types":[{"weight":1,"ranking":[0,1]}]}"#.into(),
            r#"{"responses":2,"labels":["a","a"],"types":[{"weight":1,"ranking":[0,1]}]}"#.into(),
            "\u{feff}{\"responses\":1,\"types\":[{\"weight\":1,\"ranking\":[0]}]}".into(),
            ok(r#"{"weight":1,"rankng":[0,1]}"#),
            ok(r#"{"ranking":[0,1]}"#),
            r#"{"responses":0,"types":[]}"#.into(),
            r#"{"responses":4294967295,"types":[{"weight":1,"ranking":[0]}]}"#.into(),
            r#"{"responses":2,"types":[{"weight":1,"ranking":[0,1]}]} x"#.into(),
            r#"{"responses":2,"types":[{"weight":1,"ranking":[0,1]}]"#.into(),
            "{\"responses\":2,\"labels\":[\"a\tb\",\"c\"],\"types\":[{\"weight\":1,\"ranking\":[0,1]}]}".into(),
        ] {
            assert!(json_direct::population(&text).is_none(), "{text}");
            assert!(parse_population(&text, &Location::file("f.json")).is_err(), "{text}");
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named_by_its_line() {
        let bytes = b"{\"responses\":2,\"labels\":[\"\xff\",\"b\"],\"types\":[{\"weight\":1,\"ranking\":[0,1]}]}";
        let mut pop = via_value(r#"{"responses":1,"types":[{"weight":1,"ranking":[0]}]}"#).unwrap();
        let err = parse_jsonl_line_into(bytes, &Location::file("b.jsonl"), 7, &mut pop).unwrap_err().to_string();
        assert!(err.starts_with("b.jsonl:7: file: cannot be read (not UTF-8); "), "{err}");
    }
}
