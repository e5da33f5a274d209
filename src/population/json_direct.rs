//! One pass from population JSON text to a [`Population`], for the common
//! case of a batch: valid text in the shape ualign writes.
//!
//! It reads the bytes once, with no intermediate structs, and sizes every
//! ranking and score vector from `responses`. It accepts a subset of JSON
//! (strings without escapes; keys `responses`, `labels`, `types`, `weight`,
//! `ranking`, `scores`, each at most once, in any order) and gives `None`
//! for anything else, valid or not: the caller then parses with serde_json,
//! which reads any JSON and words the error. So this parser never has to
//! explain a problem, only to agree with serde_json on what it accepts.
//!
//! Numbers: integers are plain digits; a float's text is checked against
//! the JSON grammar and converted by `str::parse::<f64>`, which rounds
//! correctly, as serde_json does with `float_roundtrip`: the same bits.

use super::{Kind, Population, UserType};

/// The population `text` holds, or `None` when it is not in the accepted
/// subset or is not a valid population.
pub(super) fn population(text: &str) -> Option<Population> {
    let mut pop = Population { responses: 0, labels: None, types: Vec::new() };
    population_into(text, &mut pop).then_some(pop)
}

/// [`population`] read into `pop`, reusing its vectors (a batch reads each
/// chunk into the populations of the one before, so a long run allocates
/// almost nothing per population). On `false` `pop` holds no meaning.
pub(super) fn population_into(text: &str, pop: &mut Population) -> bool {
    let mut p = Parser { text, b: text.as_bytes(), i: 0 };
    let (mut responses, mut labels, mut types) = (None, false, false);
    p.ws();
    let read = p.object(|p, key| {
        match key {
            b"responses" if responses.is_none() => responses = Some(p.index()?),
            b"labels" if !labels => {
                p.labels(pop.labels.get_or_insert_with(Vec::new))?;
                labels = true;
            }
            b"types" if !types => {
                p.types(responses.unwrap_or(0) as usize, &mut pop.types)?;
                types = true;
            }
            _ => return None,
        }
        Some(())
    });
    p.ws();
    let (Some(()), true, Some(n), true) = (read, p.i == p.b.len(), responses, types) else { return false };
    if n == 0 {
        return false;
    }
    pop.responses = n as usize;
    if !labels {
        pop.labels = None;
    }
    pop.normalise().is_ok()
}

struct Parser<'a> {
    text: &'a str,
    /// The bytes of `text`.
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    // The scanning loops below advance a local index and store it once:
    // stepping `self.i` itself costs a store per byte.

    fn ws(&mut self) {
        let mut i = self.i;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(i) {
            i += 1;
        }
        self.i = i;
    }

    /// Consumes `c` (after whitespace) when it is next.
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let next = self.peek() == c;
        self.i += next as usize;
        next
    }

    /// `{ "key": value, ... }`, `member` reading each value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &[u8]) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            self.ws();
            member(self, key)?;
            match self.next_token() {
                Some(b',') => {}
                Some(b'}') => return Some(()),
                _ => return None,
            }
        }
    }

    /// `[ item, ... ]`, `item` reading each element.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(());
        }
        loop {
            self.ws();
            item(self)?;
            match self.next_token() {
                Some(b',') => {}
                Some(b']') => return Some(()),
                _ => return None,
            }
        }
    }

    /// The next byte after whitespace, consumed.
    fn next_token(&mut self) -> Option<u8> {
        self.ws();
        let c = *self.b.get(self.i)?;
        self.i += 1;
        Some(c)
    }

    /// A string without escapes or control characters: its bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.str_span().map(|(start, end)| &self.b[start..end])
    }

    /// Where the text of a string without escapes or control characters lies.
    fn str_span(&mut self) -> Option<(usize, usize)> {
        if self.peek() != b'"' {
            return None;
        }
        let start = self.i + 1;
        let mut end = start;
        while let Some(&c) = self.b.get(end) {
            if c == b'"' {
                self.i = end + 1;
                return Some((start, end));
            }
            if c == b'\\' || c < 0x20 {
                return None;
            }
            end += 1;
        }
        None
    }

    /// A whole number `0 ..= u32::MAX` written as plain digits.
    fn index(&mut self) -> Option<u32> {
        let start = self.i;
        let mut i = start;
        let mut value = 0u64;
        while let Some(&c @ b'0'..=b'9') = self.b.get(i) {
            value = value * 10 + u64::from(c - b'0');
            if value > u64::from(u32::MAX) {
                return None;
            }
            i += 1;
        }
        let leading_zero = i - start > 1 && self.b[start] == b'0';
        if i == start || leading_zero || matches!(self.b.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i = i;
        Some(value as u32)
    }

    /// A finite number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        let mut i = start + (self.peek() == b'-') as usize;
        match self.b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = self.digits(i),
            _ => return None,
        }
        if self.b.get(i) == Some(&b'.') {
            let fraction = i + 1;
            i = self.digits(fraction);
            if i == fraction {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.b.get(i) {
            i += 1;
            i += matches!(self.b.get(i), Some(b'+' | b'-')) as usize;
            let exponent = i;
            i = self.digits(i);
            if i == exponent {
                return None;
            }
        }
        self.i = i;
        self.text[start..i].parse::<f64>().ok().filter(|x| x.is_finite())
    }

    /// The end of the run of digits from `i`.
    fn digits(&self, mut i: usize) -> usize {
        while self.b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    }

    fn labels(&mut self, labels: &mut Vec<String>) -> Option<()> {
        labels.clear();
        self.array(|p| {
            let (start, end) = p.str_span()?;
            labels.push(p.text[start..end].to_owned());
            Some(())
        })
    }

    /// The types into `types`, reusing the vectors of those already there;
    /// `n` (0 when `responses` comes later) sizes new vectors.
    fn types(&mut self, n: usize, types: &mut Vec<UserType>) -> Option<()> {
        let mut count = 0;
        self.array(|p| {
            if count == types.len() {
                types.push(UserType { weight: 0.0, kind: Kind::Ranking(Vec::new()) });
            }
            p.user_type(n, &mut types[count])?;
            count += 1;
            Some(())
        })?;
        types.truncate(count);
        Some(())
    }

    fn user_type(&mut self, n: usize, t: &mut UserType) -> Option<()> {
        // Each entry takes at least two bytes of what is left, so an absurd
        // `responses` cannot make it reserve more than the text could fill.
        let n = n.min((self.b.len() - self.i) / 2 + 1);
        let (mut weight, mut kind) = (None, false);
        self.object(|p, key| {
            match key {
                b"weight" if weight.is_none() => weight = Some(p.number()?),
                b"ranking" if !kind => {
                    let mut ranking = match &mut t.kind {
                        Kind::Ranking(r) => std::mem::take(r),
                        Kind::Scores(_) | Kind::WeakOrder(_) => Vec::new(),
                    };
                    ranking.clear();
                    ranking.reserve(n);
                    let read = p.array(|p| {
                        ranking.push(p.index()?);
                        Some(())
                    });
                    t.kind = Kind::Ranking(ranking);
                    read?;
                    kind = true;
                }
                b"scores" if !kind => {
                    let mut scores = match &mut t.kind {
                        Kind::Scores(s) => std::mem::take(s),
                        Kind::Ranking(_) | Kind::WeakOrder(_) => Vec::new(),
                    };
                    scores.clear();
                    scores.reserve(n);
                    let read = p.array(|p| {
                        scores.push(p.number()?);
                        Some(())
                    });
                    t.kind = Kind::Scores(scores);
                    read?;
                    kind = true;
                }
                _ => return None,
            }
            Some(())
        })?;
        t.weight = weight?;
        kind.then_some(())
    }
}
