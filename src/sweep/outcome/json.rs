//! A population's outcome as JSON, written directly into a byte buffer:
//! the bytes of `serde_json::to_writer` (same key order, `null` for an absent
//! `r_ell` and for non-finite floats, omitted absent `Option` fields,
//! checkpoints as arrays), without serde's per-field machinery. A cell file
//! is mostly these records, so their cost is most of a cell's saving.

use super::{PolicyMetrics, PopulationOutcome};

/// Appends JSON text to a buffer, reusing its number formatters.
pub(super) struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    float: zmij::Buffer,
    int: itoa::Buffer,
}

impl<'a> JsonWriter<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>) -> Self {
        JsonWriter { out, float: zmij::Buffer::new(), int: itoa::Buffer::new() }
    }

    // Inlined so that each constant key is copied by a few moves rather than
    // a call to `memcpy`.
    #[inline(always)]
    pub(super) fn raw(&mut self, text: &[u8]) {
        self.out.extend_from_slice(text);
    }

    /// As serde_json: the shortest round-trip text, `null` if not finite.
    #[inline(always)]
    fn f64(&mut self, x: f64) {
        if x.is_finite() {
            append_short(self.out, self.float.format_finite(x).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
    }

    fn usize(&mut self, x: usize) {
        append_short(self.out, self.int.format(x).as_bytes());
    }

    fn bool(&mut self, x: bool) {
        self.raw(if x { b"true" } else { b"false" });
    }

    fn metrics(&mut self, m: &PolicyMetrics) {
        self.raw(b"{\"r\":");
        self.f64(m.r);
        self.raw(b",\"e\":");
        self.f64(m.e);
        self.raw(b",\"r_ell\":");
        match m.r_ell {
            Some(x) => self.f64(x),
            None => self.raw(b"null"),
        }
        self.raw(b"}");
    }

    /// One outcome, fields in `PopulationOutcome`'s declaration order.
    pub(super) fn outcome(&mut self, p: &PopulationOutcome) {
        self.raw(b"{\"responses\":");
        self.usize(p.responses);
        self.raw(b",\"types\":");
        self.usize(p.types);
        self.raw(b",\"iterations\":");
        self.usize(p.iterations);
        self.raw(b",\"converged\":");
        self.bool(p.converged);
        self.raw(b",\"equilibrium\":");
        self.metrics(&p.equilibrium);
        if let Some(x) = p.equilibrium_converged {
            self.raw(b",\"equilibrium_converged\":");
            self.bool(x);
        }
        if let Some(m) = &p.last_iterate {
            self.raw(b",\"last_iterate\":");
            self.metrics(m);
        }
        if let Some(x) = p.nlhf_unique {
            self.raw(b",\"nlhf_unique\":");
            self.bool(x);
        }
        self.raw(b",\"average_r\":");
        self.f64(p.average_r);
        self.raw(b",\"regret\":");
        self.f64(p.regret);
        self.raw(b",\"support\":");
        self.usize(p.support);
        self.raw(b",\"entropy\":");
        self.f64(p.entropy);
        self.raw(b",\"nlhf\":");
        self.metrics(&p.nlhf);
        self.raw(b",\"rlhf\":");
        self.metrics(&p.rlhf);
        self.raw(b",\"uniform\":");
        self.metrics(&p.uniform);
        self.raw(b",\"history\":[");
        for (i, c) in p.history.iter().enumerate() {
            self.raw(if i == 0 { b"[" } else { b",[" });
            self.usize(c.iteration);
            for x in [c.exploitability, c.robust_alignment, c.average_robust_alignment, c.average_regret] {
                self.raw(b",");
                self.f64(x);
            }
            self.raw(b"]");
        }
        self.raw(b"]}");
    }
}

/// Appends a number's text (at most 24 bytes) with copies of fixed sizes,
/// two overlapping ones, which compile to a few moves: a `memcpy` call per
/// number cost as much as formatting it.
#[inline(always)]
fn append_short(out: &mut Vec<u8>, text: &[u8]) {
    const ROOM: usize = 32;
    let n = text.len();
    if n > ROOM {
        out.extend_from_slice(text);
        return;
    }
    let at = out.len();
    out.extend_from_slice(&[0; ROOM]);
    let to = &mut out[at..at + ROOM];
    if n >= 16 {
        to[..16].copy_from_slice(&text[..16]);
        to[n - 16..n].copy_from_slice(&text[n - 16..]);
    } else if n >= 8 {
        to[..8].copy_from_slice(&text[..8]);
        to[n - 8..n].copy_from_slice(&text[n - 8..]);
    } else if n >= 4 {
        to[..4].copy_from_slice(&text[..4]);
        to[n - 4..n].copy_from_slice(&text[n - 4..]);
    } else if n > 0 {
        to[0] = text[0];
        to[n / 2] = text[n / 2];
        to[n - 1] = text[n - 1];
    }
    out.truncate(at + n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::Checkpoint;

    fn text(p: &PopulationOutcome) -> Vec<u8> {
        let mut out = Vec::new();
        JsonWriter::new(&mut out).outcome(p);
        out
    }

    /// Edge values: non-finite floats (serde_json writes `null`), signed
    /// zeros, subnormals, extremes of `usize`, every `Option` absent and
    /// present, empty and non-empty histories.
    #[test]
    fn short_texts_are_appended_whole() {
        let text: Vec<u8> = (b'a'..=b'z').chain(b'A'..=b'Z').collect();
        for n in 0..=text.len() {
            let mut out = b"x".to_vec();
            append_short(&mut out, &text[..n]);
            assert_eq!(out[1..], text[..n]);
            assert_eq!(out[0], b'x');
        }
    }

    #[test]
    fn outcome_is_serde_json_byte_for_byte() {
        let floats = [
            0.0,
            -0.0,
            1.0,
            0.1 + 0.2,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            -1e-300,
            1e21,
            123456789.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let metrics = |i: usize| PolicyMetrics {
            r: floats[i % floats.len()],
            e: floats[(i + 3) % floats.len()],
            r_ell: (i % 2 == 0).then_some(floats[(i + 7) % floats.len()]),
        };
        for i in 0..64 {
            let p = PopulationOutcome {
                responses: [0, 1, 8, usize::MAX][i % 4],
                types: i,
                iterations: i * 1_000_003,
                converged: i % 3 == 0,
                equilibrium: metrics(i),
                equilibrium_converged: [None, Some(true), Some(false)][i % 3],
                last_iterate: (i % 4 < 2).then(|| metrics(i + 1)),
                nlhf_unique: [None, Some(false), Some(true)][(i / 3) % 3],
                average_r: floats[(i + 1) % floats.len()],
                regret: floats[(i + 2) % floats.len()],
                support: i % 9,
                entropy: floats[(i + 5) % floats.len()],
                nlhf: metrics(i + 2),
                rlhf: metrics(i + 5),
                uniform: metrics(i + 9),
                history: (0..i % 5)
                    .map(|t| Checkpoint {
                        iteration: t * t,
                        exploitability: floats[(i + t) % floats.len()],
                        robust_alignment: floats[(i + 2 * t + 1) % floats.len()],
                        average_robust_alignment: floats[(3 * i + t) % floats.len()],
                        average_regret: floats[(i * t + 4) % floats.len()],
                    })
                    .collect(),
            };
            let ours = text(&p);
            let serde = serde_json::to_vec(&p).unwrap();
            assert!(ours == serde, "{}\n{}", String::from_utf8_lossy(&ours), String::from_utf8_lossy(&serde));
        }
    }
}
