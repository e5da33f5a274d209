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

use super::{normalised_population, Kind, Population, UserType};

/// The population `text` holds, or `None` when it is not in the accepted
/// subset or is not a valid population.
pub(super) fn population(text: &str) -> Option<Population> {
    let mut p = Parser { text, b: text.as_bytes(), i: 0 };
    let (mut responses, mut labels, mut types) = (None, None, None);
    p.ws();
    p.object(|p, key| {
        match key {
            b"responses" if responses.is_none() => responses = Some(p.index()?),
            b"labels" if labels.is_none() => labels = Some(p.labels()?),
            b"types" if types.is_none() => types = Some(p.types(responses.unwrap_or(0) as usize)?),
            _ => return None,
        }
        Some(())
    })?;
    p.ws();
    if p.i != p.b.len() {
        return None;
    }
    let responses = responses.filter(|&n| n > 0)? as usize;
    normalised_population(responses, labels, types?).ok()
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

    fn labels(&mut self) -> Option<Vec<String>> {
        let mut labels = Vec::new();
        self.array(|p| {
            let (start, end) = p.str_span()?;
            labels.push(p.text[start..end].to_owned());
            Some(())
        })?;
        Some(labels)
    }

    /// The types; `n` (0 when `responses` comes later) sizes their vectors.
    fn types(&mut self, n: usize) -> Option<Vec<UserType>> {
        let mut types = Vec::new();
        self.array(|p| {
            types.push(p.user_type(n)?);
            Some(())
        })?;
        Some(types)
    }

    fn user_type(&mut self, n: usize) -> Option<UserType> {
        // Each entry takes at least two bytes of what is left, so an absurd
        // `responses` cannot make it reserve more than the text could fill.
        let n = n.min((self.b.len() - self.i) / 2 + 1);
        let (mut weight, mut kind) = (None, None);
        self.object(|p, key| {
            match key {
                b"weight" if weight.is_none() => weight = Some(p.number()?),
                b"ranking" if kind.is_none() => {
                    let mut ranking = Vec::with_capacity(n);
                    p.array(|p| {
                        ranking.push(p.index()?);
                        Some(())
                    })?;
                    kind = Some(Kind::Ranking(ranking));
                }
                b"scores" if kind.is_none() => {
                    let mut scores = Vec::with_capacity(n);
                    p.array(|p| {
                        scores.push(p.number()?);
                        Some(())
                    })?;
                    kind = Some(Kind::Scores(scores));
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(UserType { weight: weight?, kind: kind? })
    }
}
