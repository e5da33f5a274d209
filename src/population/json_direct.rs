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
/// subset or is not a valid population. `text` need not be UTF-8: what this
/// accepts is ASCII outside labels, and labels are checked.
pub(super) fn population(text: &[u8]) -> Option<Population> {
    let mut p = Parser { b: text, i: 0 };
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
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
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
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
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
            if self.eat(b']') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// A string without escapes or control characters: its bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.peek() != b'"' {
            return None;
        }
        let start = self.i + 1;
        let len = self.b[start..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        self.i = start + len;
        if self.peek() != b'"' {
            return None;
        }
        self.i += 1;
        Some(&self.b[start..start + len])
    }

    /// A whole number `0 ..= u32::MAX` written as plain digits.
    fn index(&mut self) -> Option<u32> {
        let start = self.i;
        let mut value = 0u64;
        while let c @ b'0'..=b'9' = self.peek() {
            value = value * 10 + u64::from(c - b'0');
            if value > u64::from(u32::MAX) {
                return None;
            }
            self.i += 1;
        }
        let digits = self.i - start;
        let leading_zero = digits > 1 && self.b[start] == b'0';
        if digits == 0 || leading_zero || matches!(self.peek(), b'.' | b'e' | b'E') {
            return None;
        }
        Some(value as u32)
    }

    /// A finite number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        self.i += (self.peek() == b'-') as usize;
        match self.peek() {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == b'.' {
            self.i += 1;
            if !self.peek().is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), b'e' | b'E') {
            self.i += 1;
            self.i += matches!(self.peek(), b'+' | b'-') as usize;
            if !self.peek().is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        // The bytes checked above are ASCII, so this cannot split a character.
        let text = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        text.parse::<f64>().ok().filter(|x| x.is_finite())
    }

    fn digits(&mut self) {
        while self.peek().is_ascii_digit() {
            self.i += 1;
        }
    }

    fn labels(&mut self) -> Option<Vec<String>> {
        let mut labels = Vec::new();
        self.array(|p| {
            let label = std::str::from_utf8(p.string()?).ok()?;
            labels.push(label.to_owned());
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
