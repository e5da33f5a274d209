//! PrefLib ordinal data: `.soc` (strict complete orders), `.soi` (strict
//! incomplete orders), `.toc` (complete orders with ties) and `.toi`
//! (incomplete orders with ties), in the current format and the legacy one.
//!
//! Current format: header lines `# KEY: value` (we read `NUMBER ALTERNATIVES`,
//! `NUMBER VOTERS`, `NUMBER UNIQUE ORDERS`, `DATA TYPE` and `ALTERNATIVE NAME i`;
//! others are ignored), then one line `count: a,{b,c},d` per order, best first,
//! braces around alternatives ranked equal. Legacy format: the number of
//! alternatives, one line `i,name` per alternative, a line
//! `voters,sum of counts,unique orders`, then lines `count,a,{b,c},d`.
//!
//! How a file becomes a population (each order read as it means):
//! - Alternatives are 1-based in the file and 0-based in ualign (`i` → `i − 1`);
//!   `ALTERNATIVE NAME i` headers become the labels. Legacy files whose
//!   alternative lines are numbered `0..n−1` are read as 0-based.
//! - Each distinct order is one type with weight `count / total count` (lines
//!   repeating an order are merged). An order without ties is a ranking type;
//!   `{…}` groups are tie classes of a weak-order type (the voter is
//!   indifferent inside a group: ties broken uniformly at random).
//! - Incomplete orders (`.soi`/`.toi`): the unlisted alternatives form one tie
//!   class at the bottom, exactly as the data says (no expansion).
//! - Order lines with count 0 carry no voter: skipped, and counted in a notice.
//! - A `NUMBER VOTERS` header (legacy: the sum of counts) must match the sum
//!   of the counts, and a `NUMBER UNIQUE ORDERS` header (legacy: the third
//!   number) the number of order lines, which catches truncated files.
//!   A complete-order file whose orders all rank the same `c` alternatives,
//!   fewer than `NUMBER ALTERNATIVES`, is reported at that header. Without a
//!   `NUMBER ALTERNATIVES` header, `n` is the largest alternative named or listed.
//! - At most [`MAX_TYPE_ENTRIES`] entries (distinct orders × alternatives).

use std::collections::HashMap;
use std::path::Path;

use super::{normalised_population, Population, UserType};
use crate::error::{Error, Location, Result};

/// Bound on distinct orders × alternatives (32 MiB of `u32`: the sushi data,
/// 100 alternatives and 5,000 orders, is 500,000), so a huge file fails with
/// a message instead of exhausting memory.
pub const MAX_TYPE_ENTRIES: usize = 1 << 23;

/// Most alternatives a PrefLib file may have (real ones have at most a few
/// thousand); a header claiming more is refused before anything is sized by it.
pub const MAX_ALTERNATIVES: usize = 1 << 20;

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
                fix: "name PrefLib files .soc/.toc (complete orders) or .soi/.toi (incomplete orders)".into(),
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

/// Parses PrefLib text. `partial` allows incomplete orders (`.soi`/`.toi`);
/// otherwise every order must list all alternatives (`.soc`/`.toc`).
pub fn parse_preflib(text: &str, loc: &Location, partial: bool) -> Result<Population> {
    parse_preflib_with_notes(text, loc, partial).map(|(pop, _)| pop)
}

/// [`parse_preflib`], also returning the notices a user should see (order
/// lines of count 0 skipped), one line each.
pub fn parse_preflib_with_notes(text: &str, loc: &Location, partial: bool) -> Result<(Population, Vec<String>)> {
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
            let listed = raw.orders.iter().flat_map(|o| o.classes.iter().flatten().copied()).max().unwrap_or(0);
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
    if n > MAX_ALTERNATIVES {
        return Err(err(
            raw.alternatives.map_or(1, |(_, l)| l),
            "NUMBER ALTERNATIVES",
            format!("is {n}, more than the limit {MAX_ALTERNATIVES}"),
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
    // Validate every order and bound the size before allocating anything
    // sized by `n` (a header may claim up to MAX_ALTERNATIVES alternatives):
    // an order adds `n` entries, so what is allocated stays within the limit.
    let mut total_count: u64 = 0;
    let mut entries: usize = 0;
    let mut seen = vec![false; n]; // cleared after each order: O(listed) per order
    for order in &raw.orders {
        let listed = order.classes.iter().map(Vec::len).sum::<usize>();
        if listed < n && !partial {
            return Err(err(
                order.line,
                "order",
                format!("lists {listed} of {n} alternatives, but an order of a .soc/.toc file must be complete"),
                "list every alternative, or name the file .soi/.toi for incomplete orders",
            ));
        }
        entries = entries.saturating_add(n);
        if entries > MAX_TYPE_ENTRIES {
            return Err(err(
                order.line,
                "orders",
                format!("hold more than {MAX_TYPE_ENTRIES} entries (orders × alternatives) by this line, the limit"),
                "use fewer alternatives or fewer distinct orders",
            ));
        }
        for &a in order.classes.iter().flatten() {
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
        order.classes.iter().flatten().for_each(|&a| seen[a - 1] = false);
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
        let distinct = raw.orders.iter().map(|o| &o.classes).collect::<std::collections::HashSet<_>>().len();
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
    if total_count == 0 {
        return Err(err(
            raw.orders[0].line,
            "count",
            "every order has count 0: no voter is left".into(),
            "give at least one order a count >= 1",
        ));
    }

    // Merge: each distinct order becomes one type. Counts are summed first and
    // divided by the total once, so a weight is exactly the rounded count / total.
    let mut index: HashMap<Vec<Vec<u32>>, usize> = HashMap::new();
    let mut types: Vec<(Vec<Vec<u32>>, u64)> = Vec::new();
    let mut zero_count_lines = 0;
    for order in &raw.orders {
        if order.count == 0 {
            zero_count_lines += 1;
            continue;
        }
        let mut classes: Vec<Vec<u32>> = order
            .classes
            .iter()
            .map(|c| {
                let mut c: Vec<u32> = c.iter().map(|&a| (a - 1) as u32).collect();
                c.sort_unstable(); // a tie class is a set
                c
            })
            .collect();
        let mut is_listed = vec![false; n];
        classes.iter().flatten().for_each(|&y| is_listed[y as usize] = true);
        let unlisted: Vec<u32> = (0..n as u32).filter(|&y| !is_listed[y as usize]).collect();
        if !unlisted.is_empty() {
            classes.push(unlisted); // tied at the bottom, as the data says
        }
        match index.get(&classes) {
            Some(&t) => types[t].1 += order.count,
            None => {
                index.insert(classes.clone(), types.len());
                types.push((classes, order.count));
            }
        }
    }
    let total = total_count as f64;
    let types = types.into_iter().map(|(c, count)| UserType::weak_order(count as f64 / total, c)).collect();
    let notes = if zero_count_lines > 0 {
        vec![format!(
            "{}: skipped {zero_count_lines} order line{} with count 0 (no voter cast them)",
            loc,
            if zero_count_lines == 1 { "" } else { "s" }
        )]
    } else {
        Vec::new()
    };
    Ok((normalised_population(n, labels, types).map_err(|e| e.located(loc))?, notes))
}

/// In a `.soc` file, orders that all rank the same `c < n` alternatives
/// `1..=c` (and no name beyond `c`) mean a wrong `NUMBER ALTERNATIVES`
/// header, not incomplete orders: said at the header.
fn check_complete_header(raw: &Sections, n: usize, loc: &Location) -> Result<()> {
    let Some((_, line)) = raw.alternatives else { return Ok(()) };
    let Some(c) = raw.orders.first().map(|o| o.classes.iter().map(Vec::len).sum::<usize>()) else { return Ok(()) };
    let permutation = |classes: &[Vec<usize>]| {
        let mut seen = vec![false; c];
        classes.iter().map(Vec::len).sum::<usize>() == c
            && classes.iter().flatten().all(|&a| a >= 1 && a <= c && !std::mem::replace(&mut seen[a - 1], true))
    };
    let same = raw.orders.iter().all(|o| permutation(&o.classes));
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

/// One order line: its count and its tie classes of alternatives, 1-based,
/// best first (a class of one for an alternative outside braces).
struct Order {
    line: usize,
    count: u64,
    classes: Vec<Vec<usize>>,
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
                            fix: "ualign reads ordinal data: PrefLib .soc, .soi, .toc or .toi files".into(),
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
        s.orders.push(Order { line, count, classes: parse_order(order, &at)? });
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
    for _ in 0..n.min(MAX_ALTERNATIVES) {
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
    // Some legacy files number their alternatives 0..n−1: read them as
    // 1-based by shifting every number by one.
    let shift = usize::from(n > 0 && s.names.iter().any(|&(i, _, _)| i == 0) && s.names.iter().all(|&(i, _, _)| i < n));
    if shift == 1 {
        s.names.iter_mut().for_each(|(i, _, _)| *i += 1);
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
        let mut classes = parse_order(order, &at)?;
        classes.iter_mut().flatten().for_each(|a| *a += shift);
        s.orders.push(Order { line, count, classes });
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
        Ok(c) => return Ok(c),
        Err(e) => not_a_count(value, &e),
    };
    Err(Error::Input {
        location: at.clone(),
        field: "count".into(),
        problem,
        fix: "start each order line with how many voters cast it".into(),
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

/// Parses `a,{b,c},d` (1-based alternatives, best first; braces group tied
/// alternatives) into tie classes.
fn parse_order(order: &str, at: &Location) -> Result<Vec<Vec<usize>>> {
    let bad = |problem: String, fix: &str| Error::Input {
        location: at.clone(),
        field: "order".into(),
        problem,
        fix: fix.into(),
    };
    let number = |token: &str, item: usize| {
        let token = token.trim();
        token.parse::<usize>().map_err(|_| {
            bad(
                format!("item {item} is '{token}', not an alternative number"),
                "list alternatives as numbers 1..n separated by commas, tied ones inside {…}",
            )
        })
    };
    let mut classes = Vec::new();
    let mut rest = order.trim();
    let mut item = 0;
    while !rest.is_empty() {
        item += 1;
        if let Some(inner) = rest.strip_prefix('{') {
            let Some((group, after)) = inner.split_once('}') else {
                return Err(bad(format!("item {item} opens {{ without a closing }}"), "close every tie group with }"));
            };
            if group.contains('{') {
                return Err(bad(
                    format!("item {item} nests {{ inside {{"),
                    "tie groups cannot nest: list them one after another",
                ));
            }
            if group.trim().is_empty() {
                return Err(bad(format!("item {item} is an empty tie group {{}}"), "drop the empty braces"));
            }
            classes.push(group.split(',').map(|t| number(t, item)).collect::<Result<Vec<usize>>>()?);
            rest = after.trim_start();
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let token = &rest[..end];
            if token.contains('}') {
                return Err(bad(format!("item {item} closes }} without an opening {{"), "open every tie group with {"));
            }
            classes.push(vec![number(token, item)?]);
            rest = &rest[end..];
        }
        match rest.strip_prefix(',') {
            Some(after) => {
                rest = after.trim_start();
                if rest.is_empty() {
                    return Err(bad("ends with a comma".into(), "remove the trailing comma"));
                }
            }
            None if rest.is_empty() => {}
            None => {
                return Err(bad(
                    format!("item {item} is followed by '{rest}', not a comma"),
                    "separate items with commas",
                ))
            }
        }
    }
    Ok(classes)
}
