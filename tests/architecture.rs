//! The library's shape, checked on its source: module dependencies point one
//! way (no import cycles at any level of the module tree), and only the
//! command line (`src/main.rs`, `src/cli/`) prints or uses clap.
//!
//! A reference is any `crate::…` or `super::…` path in code (comments are
//! skipped, so doc links do not count). A module may use its ancestors and
//! declare or re-export its descendants; every other reference is an edge
//! between the two sibling subtrees that hold its ends, and each level of
//! the tree must be acyclic.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path below the crate root, e.g. `["sweep", "config"]`.
type ModPath = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read src").map(|e| e.expect("dir entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The library's files (the binary's `main.rs` and `cli/` excluded) with their module paths.
fn library_modules() -> BTreeMap<ModPath, String> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        if parts[0] == "main.rs" || parts[0] == "cli" {
            continue;
        }
        let last = parts.pop().unwrap();
        match last.as_str() {
            "lib.rs" | "mod.rs" => {}
            other => parts.push(other.trim_end_matches(".rs").to_string()),
        }
        modules.insert(parts, strip_comments(&fs::read_to_string(&file).unwrap()));
    }
    modules
}

/// The source without `//` comments (line and doc) and without string contents.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' && !(prev == '\'' && chars.get(i + 1) == Some(&'\'')) {
                in_str = !in_str;
                kept.push(c);
            } else if !in_str {
                kept.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

/// Every path written after `crate::` or `super::` in `code`, as absolute
/// segment lists (`super` resolved against `here`). Brace groups expand.
fn referenced_paths(code: &str, here: &ModPath) -> Vec<ModPath> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    for start in 0..code.len() {
        let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if !boundary || !code.is_char_boundary(start) {
            continue;
        }
        let rest = &code[start..];
        let (mut base, mut tail) = if let Some(t) = rest.strip_prefix("crate::") {
            (Vec::new(), t)
        } else if rest.starts_with("super::") {
            // `super` is the parent of the module this file defines (for a
            // mod.rs as for a leaf file), once per `super::`.
            let ups = count_prefix(rest, "super::");
            (here[..here.len().saturating_sub(ups)].to_vec(), &rest["super::".len() * ups..])
        } else {
            continue;
        };
        collect(&mut base, &mut tail, &mut paths);
    }
    paths
}

fn count_prefix(mut s: &str, p: &str) -> usize {
    let mut n = 0;
    while let Some(t) = s.strip_prefix(p) {
        n += 1;
        s = t;
    }
    n
}

/// Reads `a::b::{c, d::e}` from `tail` onto `base`, pushing each full path.
fn collect(base: &mut ModPath, tail: &mut &str, out: &mut Vec<ModPath>) {
    let mut path = base.clone();
    loop {
        let t = tail.trim_start();
        if let Some(group) = t.strip_prefix('{') {
            let mut inner = group;
            loop {
                let mut sub = path.clone();
                collect(&mut sub, &mut inner, out);
                inner = inner.trim_start();
                if let Some(r) = inner.strip_prefix(',') {
                    inner = r;
                    if let Some(r) = inner.trim_start().strip_prefix('}') {
                        *tail = r;
                        return;
                    }
                } else if let Some(r) = inner.strip_prefix('}') {
                    *tail = r;
                    return;
                } else {
                    *tail = inner;
                    return;
                }
            }
        }
        match ident_at(t) {
            Some((id, r)) => {
                path.push(id.to_string());
                *tail = r;
                match r.strip_prefix("::") {
                    Some(r2) => *tail = r2,
                    None => break,
                }
            }
            None => {
                *tail = t;
                break;
            }
        }
    }
    out.push(path);
}

/// The longest module path that prefixes `path`.
fn owning_module(path: &ModPath, modules: &BTreeMap<ModPath, String>) -> ModPath {
    (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains_key(p)).unwrap_or_default()
}

/// Edges grouped by the level they live on: for each parent module, edges
/// between two of its children (the subtrees holding both ends).
fn sibling_edges(modules: &BTreeMap<ModPath, String>) -> BTreeMap<ModPath, BTreeSet<(String, String, String)>> {
    let mut levels: BTreeMap<ModPath, BTreeSet<(String, String, String)>> = BTreeMap::new();
    for (here, code) in modules {
        for path in referenced_paths(code, here) {
            let target = owning_module(&path, modules);
            let common = here.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common == here.len() || common == target.len() {
                continue; // an ancestor or a descendant
            }
            let witness = format!("{} uses crate::{}", here.join("::"), path.join("::"));
            levels.entry(here[..common].to_vec()).or_default().insert((
                here[common].clone(),
                target[common].clone(),
                witness,
            ));
        }
    }
    levels
}

/// The edges that lie on a cycle: `a -> b` where `a` is reachable again from `b`.
fn edges_on_cycles(edges: &BTreeSet<(String, String, String)>) -> Vec<&(String, String, String)> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(node) = todo.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node.clone()) {
                todo.extend(edges.iter().filter(|e| e.0 == node).map(|e| e.1.clone()));
            }
        }
        false
    };
    edges.iter().filter(|(a, b, _)| reaches(b, a)).collect()
}

#[test]
fn module_dependencies_have_no_cycles() {
    let modules = library_modules();
    assert!(modules.len() > 10, "found only {} library modules under src/", modules.len());
    let mut problems = Vec::new();
    for (parent, edges) in sibling_edges(&modules) {
        let level = if parent.is_empty() { "crate".to_string() } else { parent.join("::") };
        for (a, b, witness) in edges_on_cycles(&edges) {
            problems.push(format!("in {level}: {a} -> {b} is on a cycle ({witness})"));
        }
    }
    assert!(problems.is_empty(), "import cycles:\n{}", problems.join("\n"));
}

#[test]
fn the_cycle_check_finds_a_planted_cycle() {
    // The checker itself must be able to fail: two sibling modules that use each other.
    let mut modules = BTreeMap::new();
    modules.insert(vec![], String::new());
    modules.insert(vec!["a".to_string()], "use crate::b::thing; fn f() { super::c::g() }".to_string());
    modules.insert(vec!["b".to_string()], "pub fn thing() { crate::a::f(); }".to_string());
    modules.insert(vec!["c".to_string()], "pub fn g() {}".to_string());
    let levels = sibling_edges(&modules);
    let cycle: Vec<(String, String)> =
        levels.values().flat_map(edges_on_cycles).map(|(a, b, _)| (a.clone(), b.clone())).collect();
    assert_eq!(cycle, [("a".to_string(), "b".to_string()), ("b".to_string(), "a".to_string())]);
}

#[test]
fn only_the_command_line_prints_or_uses_clap() {
    let mut problems = Vec::new();
    for (module, code) in library_modules() {
        for (i, line) in code.lines().enumerate() {
            let needles = ["println!", "print!(", "eprint!(", "clap::", "use clap", "dbg!("];
            if needles.iter().any(|n| line.contains(n)) {
                problems.push(format!("src/{}: line {}: {}", module.join("/"), i + 1, line.trim()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the library must not print or use clap (move it to src/cli):\n{}",
        problems.join("\n")
    );
}

/// `eprintln!` and `println!` panic when their reader has gone (`2>&1 |
/// head -1`): the command line writes through `src/cli/output.rs` (`note`
/// for standard error, `Out`/`print` for standard output) instead.
#[test]
fn the_command_line_writes_only_through_its_output_module() {
    let src = src_dir();
    let mut files = vec![src.join("main.rs")];
    rust_files(&src.join("cli"), &mut files);
    let mut problems = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("cli/output.rs")) {
        let code = fs::read_to_string(file).expect("read a source file");
        for (i, line) in code.lines().enumerate() {
            let code_part = line.split("//").next().unwrap_or("");
            if ["println!", "print!(", "eprint!(", "eprintln!"].iter().any(|n| code_part.contains(n)) {
                problems.push(format!("{}: line {}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(problems.is_empty(), "write through src/cli/output.rs (note, print):\n{}", problems.join("\n"));
}
