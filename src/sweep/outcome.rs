//! What a cell's run produces, per population, and how a finished cell is
//! persisted (`DIR/cells/NNNNNN.json`).

mod json;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::grid::Cell;
use crate::dynamics::Checkpoint;
use json::JsonWriter;

/// `R_k`, `E_k` (and `R_{k,ℓ}` when the cell asks for it) of one policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyMetrics {
    /// `R_k(π)`.
    pub r: f64,
    /// `E_k(π)`.
    pub e: f64,
    /// `R_{k,ℓ}(π)`.
    pub r_ell: Option<f64>,
}

impl PolicyMetrics {
    /// From an evaluation of the policy.
    pub fn from_evaluation(ev: &crate::metrics::Evaluation) -> Self {
        PolicyMetrics { r: ev.robust_alignment, e: ev.exploitability, r_ell: ev.robust_alignment_ell }
    }
}

/// The final metrics of one population of a cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationOutcome {
    /// `n` and `m` of this population.
    pub responses: usize,
    pub types: usize,
    /// Self-play iterations performed.
    pub iterations: usize,
    /// Whether the dynamics' last iterate reached `E_k ≤ tol`.
    pub converged: bool,
    /// The population's equilibrium (see `sweep::cell_runner::equilibrium_of`).
    pub equilibrium: PolicyMetrics,
    /// Whether [`Self::equilibrium`] is one (met the tolerance). Absent in
    /// records written before the equilibrium and the dynamics were told
    /// apart, when the equilibrium was the last iterate: see
    /// [`Self::equilibrium_converged`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equilibrium_converged: Option<bool>,
    /// The dynamics' last iterate (absent in older records, where it is
    /// [`Self::equilibrium`]): see [`Self::last_iterate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_iterate: Option<PolicyMetrics>,
    /// Whether the NLHF policy is the only maximal lottery (else the
    /// maximum-entropy one); absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlhf_unique: Option<bool>,
    /// `R(μ_T)` of the time-average (no-regret) output.
    pub average_r: f64,
    /// `Reg_T`.
    pub regret: f64,
    /// Support size and entropy of the equilibrium.
    pub support: usize,
    pub entropy: f64,
    pub nlhf: PolicyMetrics,
    pub rlhf: PolicyMetrics,
    pub uniform: PolicyMetrics,
    /// Metrics at the run's checkpoints. Saved compactly, each checkpoint as
    /// the array `[iteration, exploitability, robust_alignment,
    /// average_robust_alignment, average_regret]`; records written as
    /// objects with these field names (before) load as well.
    #[serde(serialize_with = "checkpoints_as_arrays")]
    pub history: Vec<Checkpoint>,
}

/// A cell holds a history per population, most of its file: field names
/// repeated in every checkpoint would double its size.
fn checkpoints_as_arrays<S: serde::Serializer>(history: &[Checkpoint], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        history
            .iter()
            .map(|c| (c.iteration, c.exploitability, c.robust_alignment, c.average_robust_alignment, c.average_regret)),
    )
}

impl PopulationOutcome {
    /// Whether the equilibrium met the tolerance.
    pub fn equilibrium_converged(&self) -> bool {
        self.equilibrium_converged.unwrap_or(self.converged)
    }

    /// `R_k`, `E_k` of the dynamics' last iterate.
    pub fn last_iterate(&self) -> &PolicyMetrics {
        self.last_iterate.as_ref().unwrap_or(&self.equilibrium)
    }
}

/// A finished cell as saved on disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    pub cell: Cell,
    /// Which engine produced it (e.g. `cpu`, `gpu: NVIDIA H100`).
    pub backend: String,
    pub outcomes: Vec<PopulationOutcome>,
    /// Seconds the cell took. Not reproducible, so it appears only in
    /// `timings.csv` and `manifest.json`, never in the compared tables.
    /// Last in the file: a cell is saved while it runs, and this is known
    /// only at its end (files that have it before `outcomes` still load).
    pub wall_s: f64,
}

/// Populations serialised per block, in parallel.
const BLOCK: usize = 1024;

/// A cell file's text a piece at a time, so that a cell is saved while it
/// is computed: [`CellText::head`], [`CellText::outcomes`] for each chunk
/// of populations in order, then [`CellText::tail`]. Together the pieces
/// are `serde_json::to_writer`'s text of the [`CellRecord`], byte for byte,
/// the populations (most of the text) written directly (see [`JsonWriter`])
/// in parallel blocks.
#[derive(Debug, Default)]
pub struct CellText {
    /// Populations written so far (all but the first follow a comma).
    written: usize,
}

impl CellText {
    /// The text up to the first population.
    pub fn head(cell: &Cell, backend: &str) -> Vec<u8> {
        // The fields in `CellRecord`'s order, as its derived `Serialize` writes them.
        let mut text = b"{\"cell\":".to_vec();
        serde_json::to_writer(&mut text, cell).expect("a cell serialises");
        text.extend_from_slice(b",\"backend\":");
        serde_json::to_writer(&mut text, backend).expect("a string serialises");
        text.extend_from_slice(b",\"outcomes\":[");
        text
    }

    /// The text of the next populations, in blocks (reused: `blocks` keeps
    /// its buffers from one call to the next).
    pub fn outcomes(&mut self, outcomes: &[PopulationOutcome], blocks: &mut Vec<Vec<u8>>) {
        let first = self.written == 0;
        self.written += outcomes.len();
        blocks.resize_with(outcomes.len().div_ceil(BLOCK), Vec::new);
        blocks.par_iter_mut().zip(outcomes.par_chunks(BLOCK)).enumerate().for_each(|(b, (text, block))| {
            text.clear();
            let mut json = JsonWriter::new(text);
            for (i, p) in block.iter().enumerate() {
                if i > 0 || b > 0 || !first {
                    json.raw(b",");
                }
                json.outcome(p);
            }
        });
    }

    /// The text after the last population.
    pub fn tail(wall_s: f64) -> Vec<u8> {
        let mut text = b"],\"wall_s\":".to_vec();
        serde_json::to_writer(&mut text, &wall_s).expect("a float serialises");
        text.extend_from_slice(b"}");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces' bytes are serde_json's for the whole record, however the
    /// populations are cut into chunks.
    #[test]
    fn cell_text_is_serde_json_byte_for_byte() {
        let cell: Cell = serde_json::from_str(
            r#"{"index":3,"model":"mallows","responses":5,"types":7,"phi":0.6,"populations":40000,"seed":4,
                "k":2,"ell":1,"dynamics":"mwu","eta":0.5,"iters":1000,"tol":1e-9}"#,
        )
        .unwrap();
        let m = |x: f64| PolicyMetrics { r: x, e: 1.0 - x, r_ell: (x > 0.5).then_some(x / 7.0) };
        let outcomes: Vec<PopulationOutcome> = (0..40_000)
            .map(|i| {
                let x = (i as f64).sqrt().fract();
                PopulationOutcome {
                    responses: 5,
                    types: 7,
                    iterations: i,
                    converged: i % 2 == 0,
                    equilibrium: m(x),
                    equilibrium_converged: (i % 3 == 0).then_some(true),
                    last_iterate: (i % 5 == 0).then(|| m(x / 3.0)),
                    nlhf_unique: Some(i % 7 == 0),
                    average_r: x * 0.9,
                    regret: 1e-12 * i as f64,
                    support: i % 5,
                    entropy: x.ln_1p(),
                    nlhf: m(x * 0.5),
                    rlhf: m(x * 0.25),
                    uniform: m(0.5),
                    history: (0..i % 4).map(|t| checkpoint(t * t, x / (t + 1) as f64)).collect(),
                }
            })
            .collect();
        // Chunks as a cell is saved in them: none, one, and uneven ones that
        // cut blocks (an empty chunk included).
        let cases: [(usize, &[usize]); 5] = [
            (0, &[]),
            (0, &[0]),
            (40_000, &[40_000]),
            (40_000, &[16_384, 16_384, 7_232]),
            (40_000, &[1, 0, 1023, 1025, 37_951]),
        ];
        for (count, sizes) in cases {
            let outcomes = outcomes[..count].to_vec();
            let rec = CellRecord { cell: cell.clone(), backend: "gpu: \"x\"".into(), outcomes, wall_s: 0.1 + 0.2 };
            let mut text = CellText::head(&rec.cell, &rec.backend);
            let (mut pieces, mut blocks) = (CellText::default(), Vec::new());
            let mut rest = &rec.outcomes[..];
            for &size in sizes {
                let (chunk, after) = rest.split_at(size);
                pieces.outcomes(chunk, &mut blocks);
                blocks.iter().for_each(|b| text.extend_from_slice(b));
                rest = after;
            }
            text.extend_from_slice(&CellText::tail(rec.wall_s));
            assert!(text == serde_json::to_vec(&rec).unwrap(), "{count} populations in chunks of {sizes:?}");
        }
    }

    fn checkpoint(iteration: usize, x: f64) -> Checkpoint {
        Checkpoint {
            iteration,
            exploitability: x,
            robust_alignment: 1.0 - x,
            average_robust_alignment: x / 3.0,
            average_regret: -x * 1e-300,
        }
    }

    /// Checkpoints are saved as arrays and read back bit for bit; records
    /// saved with checkpoints as objects still load, to the same values.
    #[test]
    fn checkpoints_are_saved_as_arrays_and_objects_still_load() {
        let m = PolicyMetrics { r: 0.1 + 0.2, e: 5e-324, r_ell: Some(-0.0) };
        let history =
            vec![checkpoint(0, 0.0), checkpoint(3, 2.0 / 3.0), checkpoint(1 << 40, 1e-17), checkpoint(7, -0.0)];
        let outcome = PopulationOutcome {
            responses: 8,
            types: 16,
            iterations: 83,
            converged: true,
            equilibrium: m.clone(),
            equilibrium_converged: Some(true),
            last_iterate: None,
            nlhf_unique: None,
            average_r: 0.7980194306635012,
            regret: 0.1643872549294052,
            support: 6,
            entropy: 1.5228511400996356,
            nlhf: m.clone(),
            rlhf: m.clone(),
            uniform: m,
            history,
        };
        let text = serde_json::to_string(&outcome).unwrap();
        assert!(text.contains(r#""history":[[0,0.0,1.0,0.0,-0.0],[3,"#), "{text}");
        let back: PopulationOutcome = serde_json::from_str(&text).unwrap();
        let bits = |o: &PopulationOutcome| {
            o.history
                .iter()
                .map(|c| {
                    let x = [c.exploitability, c.robust_alignment, c.average_robust_alignment, c.average_regret];
                    (c.iteration, x.map(f64::to_bits))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&back), bits(&outcome));
        assert_eq!(back, outcome);
        // The same record as written before: checkpoints as objects.
        let mut old = serde_json::to_value(&outcome).unwrap();
        old["history"] = serde_json::to_value(&outcome.history).unwrap();
        assert!(old["history"][1]["exploitability"].is_number());
        let old: PopulationOutcome = serde_json::from_str(&old.to_string()).unwrap();
        assert_eq!(bits(&old), bits(&outcome));
    }

    /// Records written before the equilibrium and the dynamics were told
    /// apart still load (resume), with the last iterate as the equilibrium.
    #[test]
    fn older_records_read_their_equilibrium_as_the_last_iterate() {
        let m = PolicyMetrics { r: 0.5, e: 0.1, r_ell: None };
        let new = PopulationOutcome {
            responses: 3,
            types: 3,
            iterations: 10,
            converged: false,
            equilibrium: PolicyMetrics { r: 2.0 / 3.0, e: 0.0, r_ell: None },
            equilibrium_converged: Some(true),
            last_iterate: Some(m.clone()),
            nlhf_unique: Some(false),
            average_r: 0.6,
            regret: 0.5,
            support: 3,
            entropy: 1.0,
            nlhf: m.clone(),
            rlhf: m.clone(),
            uniform: m.clone(),
            history: Vec::new(),
        };
        let mut json = serde_json::to_value(&new).unwrap();
        assert_eq!(serde_json::from_value::<PopulationOutcome>(json.clone()).unwrap(), new);
        for field in ["equilibrium_converged", "last_iterate", "nlhf_unique"] {
            json.as_object_mut().unwrap().remove(field);
        }
        let old: PopulationOutcome = serde_json::from_value(json).unwrap();
        assert!(!old.equilibrium_converged());
        assert_eq!(old.last_iterate(), &old.equilibrium);
        assert!(new.equilibrium_converged() && new.last_iterate() == &m);
    }
}
