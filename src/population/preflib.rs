//! PrefLib ordinal data: `.soc` (strict complete orders) and `.soi` (strict
//! incomplete orders), in the current format and the legacy one.
//!
//! Current format: header lines `# KEY: value` (we read `NUMBER ALTERNATIVES`,
//! `NUMBER VOTERS`, `DATA TYPE` and `ALTERNATIVE NAME i`; others are ignored),
//! then one line `count: a,b,c` per order, best first. Legacy format: the number
//! of alternatives, one line `i,name` per alternative, a line
//! `voters,sum of counts,unique orders`, then lines `count,a,b,c`.
//!
//! How a file becomes a population:
//! - Alternatives are 1-based in the file and 0-based in ualign (`i` → `i − 1`);
//!   `ALTERNATIVE NAME i` headers become the labels.
//! - Each distinct order is one ranking type with weight `count / total count`
//!   (lines repeating an order are merged).
//! - `.soi`: an order ranks the responses it lists first, in its order, and the
//!   set `U` of unlisted responses last, tied. ualign's ranking types are
//!   strict, so the tie is broken by splitting that order's count evenly over
//!   the `|U|` cyclic rotations of `U` taken in index order: with
//!   `U = (u_0, …, u_{r−1})` the rotations are `(u_j, u_{j+1}, …, u_{j−1})`,
//!   each appended to the listed prefix with count `count / r`. Every unlisted
//!   response then takes every tied position exactly once, every listed
//!   response still beats every unlisted one, and the number of types grows
//!   by `|U|`, not `|U|!`. (Rotations are a cyclic, not a full,
//!   symmetrisation: for `|U| ≥ 3` a pairwise comparison inside `U` is not
//!   always an even split, e.g. `u_0` beats `u_1` in 2 of 3 rotations.)
//! - Orders with ties `{…}` (`.toc`/`.toi` data) are rejected: break the ties
//!   first. A `.toc`/`.toi` file without ties reads like `.soc`/`.soi`.
//! - A `NUMBER VOTERS` header (legacy: the sum of counts) must match the sum
//!   of the counts, and a `NUMBER UNIQUE ORDERS` header (legacy: the third
//!   number) the number of distinct orders, which catches truncated files.
//!   A `.soc` file whose orders all rank the same `c` alternatives, fewer
//!   than `NUMBER ALTERNATIVES`, is reported at that header. Without a
//!   `NUMBER ALTERNATIVES` header, `n` is the largest alternative named or listed.
//! - At most [`MAX_TYPE_ENTRIES`] ranking entries (types × responses) are built.

use std::collections::HashMap;
use std::path::Path;

use super::{normalised_population, Population, UserType};
use crate::error::{Error, Location, Result};

/// Bound on types × responses after expanding `.soi` rotations (256 MiB of
/// `u32`), so a huge partial file fails with a message instead of exhausting memory.
pub const MAX_TYPE_ENTRIES: usize = 1 << 26;

/// Loads a PrefLib file: `.soc`/`.toc` as complete orders, `.soi`/`.toi` as
/// incomplete ones.
pub fn load_preflib(path: &Path) -> Result<Population> {
    let loc = Location::file(path.display().to_string());
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    let partial = match ext.as_str() {
        "soc" | "toc" => false,
        "soi" | "toi" => true,
        _ => {
            return Err(Error::Input {
                location: loc,
                field: "file".into(),
                problem: format!("has the extension '{ext}', not a PrefLib ordinal one"),
                fix: "name PrefLib files .soc (complete orders) or .soi (incomplete orders)".into(),
            })
        }
    };
    let text = crate::limits::read_capped(path).map_err(|e| Error::Input {
        location: loc.clone(),
        field: "file".into(),
        problem: format!("cannot be read ({e})"),
        fix: "check the path and that the file is readable UTF-8 text".into(),
    })?;
    parse_preflib(&text, &loc, partial)
}

/// Parses PrefLib text. `partial` allows incomplete orders (`.soi`); otherwise
/// every order must list all alternatives (`.soc`).
pub fn parse_preflib(text: &str, loc: &Location, partial: bool) -> Result<Population> {
    let at = |line: usize| loc.clone().at_line(line);
    let err = |line: usize, field: &str, problem: String, fix: &str| Error::Input {
        location: at(line),
        field: field.into(),
        problem,
        fix: fix.into(),
    };
    let raw = read_sections(text, loc)?;

    let n = match raw.alternatives {
        Some((n, _)) => n,
        None => {
            let listed = raw.orders.iter().flat_map(|o| o.items.iter().copied()).max().unwrap_or(0);
            listed.max(raw.names.iter().map(|&(i, _, _)| i).max().unwrap_or(0))
        }
    };
    if n == 0 {
        return Err(err(
            raw.alternatives.map_or(1, |(_, l)| l),
            "NUMBER ALTERNATIVES",
            "is 0".into(),
            "a file needs at least one alternative",
        ));
    }
    if n > MAX_TYPE_ENTRIES {
        return Err(err(
            raw.alternatives.map_or(1, |(_, l)| l),
            "NUMBER ALTERNATIVES",
            format!("is {n}, more than the limit {MAX_TYPE_ENTRIES}"),
            "use fewer alternatives",
        ));
    }
    if raw.orders.is_empty() {
        return Err(err(
            text.lines().count().max(1),
            "orders",
            "the file holds no orders".into(),
            "add lines `count: a,b,c` after the header",
        ));
    }

    for &(i, _, line) in &raw.names {
        if i == 0 || i > n {
            let fix = match raw.alternatives {
                Some((_, header)) if i > n => format!(
                    "number the alternatives 1..{n}, or correct NUMBER ALTERNATIVES (line {header}) if the file has {i} or more"
                ),
                _ => "number the alternatives 1..NUMBER ALTERNATIVES".into(),
            };
            return Err(err(
                line,
                &format!("ALTERNATIVE NAME {i}"),
                format!("names alternative {i}, but alternatives are numbered 1..{n}"),
                &fix,
            ));
        }
    }
    let mut named: HashMap<&str, (usize, usize)> = HashMap::new();
    for &(i, ref name, line) in &raw.names {
        if let Some((first, first_line)) = named.insert(name.as_str(), (i, line)).filter(|&(first, _)| first != i) {
            return Err(err(
                line,
                &format!("ALTERNATIVE NAME {i}"),
                format!("is '{name}', the name of alternative {first} too (line {first_line})"),
                "give every alternative a distinct name",
            ));
        }
    }

    if !partial {
        check_complete_header(&raw, n, loc)?;
    }
    // Validate every order and bound the expanded size before allocating
    // anything sized by `n` (a header may claim up to MAX_TYPE_ENTRIES
    // alternatives): an order adds at least `n` entries, so what is
    // allocated stays within the limit.
    let mut total_count: u64 = 0;
    let mut entries: usize = 0;
    for order in &raw.orders {
        let unlisted = n.saturating_sub(order.items.len());
        if unlisted > 0 && !partial {
            return Err(err(
                order.line,
                "order",
                format!("lists {} of {n} alternatives, but a .soc order must be complete", order.items.len()),
                "list every alternative, or name the file .soi for incomplete orders",
            ));
        }
        entries = entries.saturating_add(unlisted.max(1).saturating_mul(n));
        if entries > MAX_TYPE_ENTRIES {
            return Err(err(
                order.line,
                "orders",
                format!(
                    "expand to more than {MAX_TYPE_ENTRIES} ranking entries (types × responses) by this line, the limit"
                ),
                "use fewer alternatives or orders that list more of them",
            ));
        }
        let mut seen = vec![false; n];
        for &a in &order.items {
            if a == 0 {
                return Err(err(
                    order.line,
                    "order",
                    format!("lists alternative 0, but alternatives are numbered 1..{n}"),
                    "PrefLib alternatives are 1-based: use 1..NUMBER ALTERNATIVES",
                ));
            }
            if a > n {
                let fix = match raw.alternatives {
                    Some((_, line)) => format!(
                        "correct the order, or NUMBER ALTERNATIVES (line {line}) if the file has {a} or more alternatives"
                    ),
                    None => "correct the order".into(),
                };
                return Err(err(
                    order.line,
                    "order",
                    format!("lists alternative {a}, but alternatives are numbered 1..{n}"),
                    &fix,
                ));
            }
            if std::mem::replace(&mut seen[a - 1], true) {
                return Err(err(
                    order.line,
                    "order",
                    format!("lists alternative {a} twice"),
                    "list each alternative at most once",
                ));
            }
        }
        total_count = total_count.checked_add(order.count).ok_or_else(|| {
            err(order.line, "count", "the counts overflow a 64-bit integer".into(), "use smaller counts")
        })?;
    }
    // Labels only when the file names alternatives (an unnamed one is
    // called by its 1-based number).
    let labels = (!raw.names.is_empty()).then(|| {
        let mut labels: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        for (i, name, _) in &raw.names {
            labels[i - 1] = name.clone();
        }
        labels
    });
    if let Some((unique, line)) = raw.unique {
        let distinct = raw.orders.iter().map(|o| &o.items).collect::<std::collections::HashSet<_>>().len();
        if unique != distinct as u64 {
            return Err(err(
                line,
                "NUMBER UNIQUE ORDERS",
                format!("says {unique}, but the file holds {distinct} distinct orders"),
                "the file may be truncated: restore the missing orders or correct the header",
            ));
        }
    }
    if let Some((voters, line)) = raw.voters {
        if voters != total_count {
            return Err(err(
                line,
                "NUMBER VOTERS",
                format!("says {voters}, but the orders' counts sum to {total_count}"),
                "the file may be truncated: restore the missing orders or correct the header",
            ));
        }
    }

    // Expand and merge: each distinct strict ranking becomes one type. Counts
    // are summed first and divided by the total once, so a weight is exactly
    // the rounded count / total whenever no rotation splits it.
    let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut types: Vec<(Vec<u32>, f64)> = Vec::new();
    let total = total_count as f64;
    for order in &raw.orders {
        let listed: Vec<u32> = order.items.iter().map(|&a| (a - 1) as u32).collect();
        let mut is_listed = vec![false; n];
        listed.iter().for_each(|&y| is_listed[y as usize] = true);
        let unlisted: Vec<u32> = (0..n as u32).filter(|&y| !is_listed[y as usize]).collect();
        let rotations = unlisted.len().max(1);
        let share = order.count as f64 / rotations as f64;
        for j in 0..rotations {
            let mut ranking = listed.clone();
            ranking.extend_from_slice(&unlisted[j.min(unlisted.len())..]);
            ranking.extend_from_slice(&unlisted[..j.min(unlisted.len())]);
            match index.get(&ranking) {
                Some(&t) => types[t].1 += share,
                None => {
                    index.insert(ranking.clone(), types.len());
                    types.push((ranking, share));
                }
            }
        }
    }
    let types = types.into_iter().map(|(r, count)| UserType::ranking(count / total, r)).collect();
    normalised_population(n, labels, types).map_err(|e| e.located(loc))
}

/// In a `.soc` file, orders that all rank the same `c < n` alternatives
/// `1..=c` (and no name beyond `c`) mean a wrong `NUMBER ALTERNATIVES`
/// header, not incomplete orders: said at the header.
fn check_complete_header(raw: &Sections, n: usize, loc: &Location) -> Result<()> {
    let Some((_, line)) = raw.alternatives else { return Ok(()) };
    let Some(c) = raw.orders.first().map(|o| o.items.len()) else { return Ok(()) };
    let permutation = |items: &[usize]| {
        let mut seen = vec![false; c];
        items.len() == c && items.iter().all(|&a| a >= 1 && a <= c && !std::mem::replace(&mut seen[a - 1], true))
    };
    let same = raw.orders.iter().all(|o| permutation(&o.items));
    if c == 0 || c >= n || !same || raw.names.iter().any(|&(i, _, _)| i > c) {
        return Ok(());
    }
    Err(Error::Input {
        location: loc.clone().at_line(line),
        field: "NUMBER ALTERNATIVES".into(),
        problem: format!("says {n}, but every order ranks the same {c} alternatives 1..{c}"),
        fix: format!("correct the header to {c}; if the orders are incomplete, name the file .soi"),
    })
}

/// One order line: its count and its alternatives, 1-based, best first.
struct Order {
    line: usize,
    count: u64,
    items: Vec<usize>,
}

#[derive(Default)]
struct Sections {
    /// `NUMBER ALTERNATIVES` and its line.
    alternatives: Option<(usize, usize)>,
    /// `NUMBER VOTERS` (legacy: sum of counts) and its line.
    voters: Option<(u64, usize)>,
    /// `NUMBER UNIQUE ORDERS` (legacy: the third number) and its line.
    unique: Option<(u64, usize)>,
    /// `(i, name, line)` from `ALTERNATIVE NAME i: name`.
    names: Vec<(usize, String, usize)>,
    orders: Vec<Order>,
}

fn read_sections(text: &str, loc: &Location) -> Result<Sections> {
    if text.starts_with('\u{feff}') {
        return Err(super::bom_error(loc.clone().at_line(1)));
    }
    let first = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty());
    match first {
        None => Err(Error::Input {
            location: loc.clone().at_line(1),
            field: "file".into(),
            problem: "is empty".into(),
            fix: "a PrefLib file starts with `# KEY: value` headers followed by `count: a,b,c` orders".into(),
        }),
        Some((_, l)) if l.trim_start().starts_with('#') => read_current(text, loc),
        Some(_) => read_legacy(text, loc),
    }
}

fn read_current(text: &str, loc: &Location) -> Result<Sections> {
    let mut s = Sections::default();
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        let at = loc.clone().at_line(line);
        let trimmed = raw_line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('#') {
            let Some((key, value)) = header.split_once(':') else { continue };
            let key = key.trim().to_ascii_uppercase();
            let value = value.trim();
            match key.as_str() {
                "NUMBER ALTERNATIVES" if !value.is_empty() => {
                    s.alternatives = Some((parse_number(value, &key, &at)? as usize, line));
                }
                "NUMBER VOTERS" if !value.is_empty() => s.voters = Some((parse_number(value, &key, &at)?, line)),
                "NUMBER UNIQUE ORDERS" if !value.is_empty() => {
                    s.unique = Some((parse_number(value, &key, &at)?, line));
                }
                "DATA TYPE" if !value.is_empty() => {
                    let kind = value.to_ascii_lowercase();
                    if !matches!(kind.as_str(), "soc" | "soi" | "toc" | "toi") {
                        return Err(Error::Input {
                            location: at,
                            field: key,
                            problem: format!("is '{value}', not ordinal preference data"),
                            fix: "ualign reads strict orders: PrefLib .soc or .soi files".into(),
                        });
                    }
                }
                _ => {
                    if let Some(index) = key.strip_prefix("ALTERNATIVE NAME") {
                        let i = parse_number(index.trim(), &key, &at)? as usize;
                        s.names.push((i, value.to_string(), line));
                    }
                }
            }
            continue;
        }
        let Some((count, order)) = trimmed.split_once(':') else {
            return Err(Error::Input {
                location: at,
                field: "order".into(),
                problem: format!("'{trimmed}' is not of the form `count: a,b,c`"),
                fix: "write each order as its count, a colon, then the alternatives best first".into(),
            });
        };
        let count = parse_count(count.trim(), &at)?;
        s.orders.push(Order { line, count, items: parse_order(order, &at)? });
    }
    Ok(s)
}

fn read_legacy(text: &str, loc: &Location) -> Result<Sections> {
    let mut s = Sections::default();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty());
    let legacy_fix = "legacy PrefLib files start with the number of alternatives, then `i,name` lines";
    let (line, first) = lines.next().unwrap_or((1, ""));
    let at = loc.clone().at_line(line);
    let n: usize = first.parse().map_err(|_| Error::Input {
        location: at.clone(),
        field: "header".into(),
        problem: format!("'{first}' is neither a `# KEY: value` header nor a number of alternatives"),
        fix: legacy_fix.into(),
    })?;
    s.alternatives = Some((n, line));
    for _ in 0..n.min(MAX_TYPE_ENTRIES) {
        let (line, l) = lines.next().unwrap_or((line, ""));
        let at = loc.clone().at_line(line);
        let Some((i, name)) = l.split_once(',') else {
            return Err(Error::Input {
                location: at,
                field: "ALTERNATIVE NAME".into(),
                problem: format!("'{l}' is not of the form `i,name`"),
                fix: format!("give {n} lines `i,name` after the number of alternatives"),
            });
        };
        let i = parse_number(i.trim(), "ALTERNATIVE NAME", &at)? as usize;
        s.names.push((i, name.trim().to_string(), line));
    }
    let Some((line, l)) = lines.next() else {
        return Ok(s); // no orders: reported by the caller
    };
    let at = loc.clone().at_line(line);
    let fields: Vec<&str> = l.split(',').map(str::trim).collect();
    if fields.len() != 3 {
        return Err(Error::Input {
            location: at,
            field: "voters".into(),
            problem: format!("'{l}' is not of the form `voters,sum of counts,unique orders`"),
            fix: "after the alternatives, give the line `voters,sum of counts,unique orders`".into(),
        });
    }
    s.voters = Some((parse_number(fields[1], "sum of counts", &at)?, line));
    s.unique = Some((parse_number(fields[2], "unique orders", &at)?, line));
    for (line, l) in lines {
        let at = loc.clone().at_line(line);
        let (count, order) = l.split_once(',').unwrap_or((l, ""));
        let count = parse_count(count.trim(), &at)?;
        s.orders.push(Order { line, count, items: parse_order(order, &at)? });
    }
    Ok(s)
}

fn parse_number(value: &str, field: &str, at: &Location) -> Result<u64> {
    value.parse::<u64>().map_err(|e| Error::Input {
        location: at.clone(),
        field: field.into(),
        problem: not_a_count(value, &e),
        fix: "write it as a non-negative integer".into(),
    })
}

fn parse_count(value: &str, at: &Location) -> Result<u64> {
    let problem = match value.parse::<u64>() {
        Ok(c) if c > 0 => return Ok(c),
        Ok(_) => "is 0".to_string(),
        Err(e) => not_a_count(value, &e),
    };
    Err(Error::Input {
        location: at.clone(),
        field: "count".into(),
        problem,
        fix: "start each order line with how many voters cast it (>= 1)".into(),
    })
}

/// Why `value` is not a whole number that fits in 64 bits.
fn not_a_count(value: &str, e: &std::num::ParseIntError) -> String {
    match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("'{value}' is larger than {}, the largest count read", u64::MAX),
        std::num::IntErrorKind::Empty => "is empty".to_string(),
        _ if value.starts_with('-') && value[1..].bytes().all(|b| b.is_ascii_digit()) => {
            format!("'{value}' is negative")
        }
        _ => format!("'{value}' is not a whole number"),
    }
}

/// Parses `a,b,c` (1-based alternatives, best first); ties `{…}` are rejected.
fn parse_order(order: &str, at: &Location) -> Result<Vec<usize>> {
    if order.contains('{') || order.contains('}') {
        return Err(Error::Input {
            location: at.clone(),
            field: "order".into(),
            problem: "has tied alternatives {…}, but ualign's ranking types are strict orders".into(),
            fix: "use .soc/.soi data (PrefLib strict orders) or break the ties before loading".into(),
        });
    }
    if order.trim().is_empty() {
        return Ok(Vec::new());
    }
    order
        .split(',')
        .enumerate()
        .map(|(col, token)| {
            let token = token.trim();
            token.parse::<usize>().map_err(|_| Error::Input {
                location: at.clone(),
                field: "order".into(),
                problem: format!("item {} is '{token}', not an alternative number", col + 1),
                fix: "list alternatives as numbers 1..n separated by commas".into(),
            })
        })
        .collect()
}
