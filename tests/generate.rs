//! Synthetic populations: reproducibility, structure, statistics,
//! and parameter validation.

mod common;

use ualign::error::Location;
use ualign::population::generate::{generate, generate_one, GenSpec, Model, DEFAULT_TYPES};
use ualign::population::json::{parse_jsonl, write_jsonl};
use ualign::{Kind, Population};

const MODELS: [Model; 6] = [Model::Impartial, Model::Mallows, Model::Pl, Model::Bt, Model::Cycle, Model::Condorcet];

fn spec(model: Model, responses: usize, types: Option<usize>, count: usize, seed: u64) -> GenSpec {
    GenSpec { model, responses, types, count, seed, ..GenSpec::default() }
}

fn rankings(pop: &Population) -> Vec<&[u32]> {
    pop.types
        .iter()
        .map(|t| match &t.kind {
            Kind::Ranking(r) => r.as_slice(),
            Kind::Scores(_) | Kind::WeakOrder(_) => panic!("expected a ranking type"),
        })
        .collect()
}

#[test]
fn same_seed_same_output_and_index_independent_of_count() {
    for model in MODELS {
        let types = if matches!(model, Model::Bt | Model::Cycle) { None } else { Some(5) };
        let small = generate(&spec(model, 6, types, 4, 99)).unwrap();
        let large = generate(&spec(model, 6, types, 9, 99)).unwrap();
        assert_eq!(small, generate(&spec(model, 6, types, 4, 99)).unwrap(), "{model}: not reproducible");
        assert_eq!(small[..], large[..4], "{model}: population i depends on count");
        assert_eq!(generate_one(&spec(model, 6, types, 1, 99), 7).unwrap(), large[7], "{model}: generate_one differs");
        assert_ne!(small[0], small[1], "{model}: populations should differ");
        assert_ne!(small, generate(&spec(model, 6, types, 4, 100)).unwrap(), "{model}: the seed is ignored");
    }
}

/// Pins a few exact values so that a change of stream derivation, sampler or
/// arithmetic (or a platform whose floating point differs) is noticed: the
/// generators promise the same bits everywhere.
#[test]
fn generated_bits_are_pinned() {
    let pop = generate_one(&spec(Model::Pl, 3, Some(2), 1, 2024), 5).unwrap();
    let bits: Vec<u64> = pop
        .types
        .iter()
        .flat_map(|t| match &t.kind {
            Kind::Scores(s) => std::iter::once(t.weight).chain(s.iter().copied()).collect::<Vec<_>>(),
            Kind::Ranking(_) | Kind::WeakOrder(_) => unreachable!(),
        })
        .map(f64::to_bits)
        .collect();
    assert_eq!(bits, PINNED_PL_BITS, "values: {:?}", pop.types);
    let pop = generate_one(&spec(Model::Mallows, 6, Some(2), 1, 2024), 5).unwrap();
    assert_eq!(rankings(&pop), PINNED_MALLOWS);
}

const PINNED_PL_BITS: [u64; 8] = [
    4603502266181823418,
    4606053465746155434,
    4605166447596688035,
    4602148096650352064,
    4601031925154293901,
    13828665636664483403,
    13827053453915460637,
    4602164693368196851,
];
const PINNED_MALLOWS: [&[u32]; 2] = [&[1, 3, 4, 0, 2, 5], &[3, 1, 2, 5, 4, 0]];

#[test]
fn every_model_builds_valid_populations_of_the_right_shape() {
    for model in MODELS {
        for n in [2usize, 3, 7, 40] {
            for pop in generate(&spec(model, n, None, 3, n as u64)).unwrap() {
                pop.validate().unwrap();
                let m = match model {
                    Model::Bt => 1,
                    Model::Cycle => n,
                    _ => DEFAULT_TYPES,
                };
                assert_eq!((pop.responses, pop.types.len()), (n, m), "{model}");
                let total: f64 = pop.types.iter().map(|t| t.weight).sum();
                assert!((total - 1.0).abs() < 1e-12, "{model}: weights sum to {total}");
                let pl = matches!(model, Model::Pl | Model::Bt);
                assert!(pop.types.iter().all(|t| matches!(t.kind, Kind::Scores(_)) == pl), "{model}");
            }
        }
    }
    // n = 1 works where it makes sense.
    assert_eq!(generate_one(&spec(Model::Impartial, 1, Some(3), 1, 0), 0).unwrap().responses, 1);
    assert_eq!(generate_one(&spec(Model::Bt, 1, None, 1, 0), 0).unwrap().types.len(), 1);
}

#[test]
fn generated_populations_round_trip_through_jsonl() {
    let pops: Vec<Population> = MODELS.iter().flat_map(|&m| generate(&spec(m, 5, None, 2, 3)).unwrap()).collect();
    let mut buf = Vec::new();
    write_jsonl(&pops, &mut buf).unwrap();
    assert_eq!(parse_jsonl(std::str::from_utf8(&buf).unwrap(), &Location::file("g.jsonl")).unwrap(), pops);
}

#[test]
fn mallows_phi_zero_is_the_centre() {
    for i in 0..5 {
        let pop = generate_one(&GenSpec { phi: 0.0, ..spec(Model::Mallows, 9, Some(6), 1, 5) }, i).unwrap();
        let r = rankings(&pop);
        assert!(r.iter().all(|x| *x == r[0]), "φ = 0 must repeat the centre: {r:?}");
    }
}

/// Kendall distance of Mallows(φ) samples to the centre has mean
/// Σ_i E[d_i], d_i ∈ 0..=i with P(d) ∝ φ^d (repeated insertion). The centre is
/// recovered from the φ = 0 population of the same seed and index: it is the
/// first draw of the stream, so it does not depend on φ.
#[test]
fn mallows_kendall_distance_has_the_right_mean() {
    let (n, m) = (7usize, 4000usize);
    for phi in [0.3, 0.8, 1.0] {
        let base = GenSpec { phi, ..spec(Model::Mallows, n, Some(m), 1, 77) };
        let centre = rankings(&generate_one(&GenSpec { phi: 0.0, ..base.clone() }, 2).unwrap())[0].to_vec();
        let pop = generate_one(&base, 2).unwrap();
        let rank_of = |r: &[u32]| {
            let mut pos = vec![0usize; n];
            r.iter().enumerate().for_each(|(p, &y)| pos[y as usize] = p);
            pos
        };
        let c = rank_of(&centre);
        let distances: Vec<f64> = rankings(&pop)
            .iter()
            .map(|r| {
                let p = rank_of(r);
                let inversions = (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b)));
                inversions.filter(|&(a, b)| (c[a] < c[b]) != (p[a] < p[b])).count() as f64
            })
            .collect();
        let mean = distances.iter().sum::<f64>() / m as f64;
        let var = distances.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
        let expected: f64 = (0..n)
            .map(|i| {
                let w: Vec<f64> = (0..=i).map(|d| phi.powi(d as i32)).collect();
                w.iter().enumerate().map(|(d, x)| d as f64 * x).sum::<f64>() / w.iter().sum::<f64>()
            })
            .sum();
        let se = (var / m as f64).sqrt();
        assert!((mean - expected).abs() < 5.0 * se, "φ = {phi}: mean {mean}, expected {expected} ± {se}");
    }
}

#[test]
fn impartial_rankings_put_every_response_first_equally_often() {
    let (n, m) = (5usize, 10_000usize);
    let pop = generate_one(&spec(Model::Impartial, n, Some(m), 1, 8), 0).unwrap();
    let mut first = vec![0usize; n];
    rankings(&pop).iter().for_each(|r| first[r[0] as usize] += 1);
    let expect = m as f64 / n as f64;
    let chi2: f64 = first.iter().map(|&c| (c as f64 - expect).powi(2) / expect).sum();
    assert!(chi2 < 20.0, "χ² = {chi2} (4 dof) for first places {first:?}");
}

#[test]
fn pl_scores_have_the_requested_spread() {
    let sigma = 2.5;
    let pop = generate_one(&GenSpec { sigma, ..spec(Model::Pl, 500, Some(20), 1, 4) }, 0).unwrap();
    let scores: Vec<f64> = pop
        .types
        .iter()
        .flat_map(|t| match &t.kind {
            Kind::Scores(s) => s.clone(),
            Kind::Ranking(_) | Kind::WeakOrder(_) => unreachable!(),
        })
        .collect();
    let k = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / k;
    let sd = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
    assert!(mean.abs() < 5.0 * sigma / k.sqrt(), "mean {mean}");
    assert!((sd / sigma - 1.0).abs() < 0.03, "sd {sd} for σ = {sigma}");
    let big = GenSpec { sigma: 40.0, ..spec(Model::Pl, 50, Some(2), 1, 4) };
    let msg = generate_one(&big, 0).unwrap_err().to_string();
    assert!(msg.starts_with("sigma: ") && msg.contains("span"), "{msg}");
}

#[test]
fn cycle_is_the_cyclic_shifts_with_equal_weights() {
    let pop = generate_one(&spec(Model::Cycle, 6, None, 1, 12), 3).unwrap();
    let r = rankings(&pop);
    for (s, shifted) in r.iter().enumerate() {
        let expect: Vec<u32> = r[0][s..].iter().chain(&r[0][..s]).copied().collect();
        assert_eq!(*shifted, expect.as_slice());
        assert!((pop.types[s].weight - 1.0 / 6.0).abs() < 1e-15);
    }
    assert!(generate_one(&spec(Model::Cycle, 6, Some(6), 1, 12), 3).is_ok());
}

#[test]
fn condorcet_winner_beats_everyone_by_exactly_the_margin() {
    for (margin, m) in [(0.05, 7usize), (0.2, 2), (0.5, 3), (0.5, 1)] {
        for i in 0..4 {
            let pop = generate_one(&GenSpec { margin, ..spec(Model::Condorcet, 6, Some(m), 1, 31) }, i).unwrap();
            assert_eq!(pop.types.len(), m);
            let n = pop.responses;
            let winners: Vec<usize> =
                (0..n).filter(|&w| (0..n).all(|y| y == w || common::oracle::p_beats(&pop, &[w], &[y]) > 0.5)).collect();
            assert_eq!(winners.len(), 1, "exactly one Condorcet winner");
            let w = winners[0];
            for y in (0..n).filter(|&y| y != w) {
                let p = common::oracle::p_beats(&pop, &[w], &[y]);
                assert!((p - (0.5 + margin)).abs() < 1e-12, "P(w ≻ {y}) = {p}, margin {margin}");
            }
        }
    }
    // The winner is drawn per population, not fixed.
    let winners: std::collections::HashSet<u32> =
        generate(&spec(Model::Condorcet, 6, Some(4), 12, 1)).unwrap().iter().map(|p| rankings(p)[0][0]).collect();
    assert!(winners.len() > 1);
}

#[test]
fn invalid_parameters_are_rejected_with_the_field_named() {
    let cases: Vec<(GenSpec, &str)> = vec![
        (spec(Model::Impartial, 0, None, 1, 0), "responses"),
        (spec(Model::Impartial, 65_536, None, 1, 0), "responses"),
        (spec(Model::Cycle, 1, None, 1, 0), "responses"),
        (spec(Model::Condorcet, 1, None, 1, 0), "responses"),
        (spec(Model::Impartial, 3, Some(0), 1, 0), "types"),
        (spec(Model::Bt, 3, Some(4), 1, 0), "types"),
        (spec(Model::Cycle, 3, Some(4), 1, 0), "types"),
        (spec(Model::Condorcet, 3, Some(1), 1, 0), "types"),
        (spec(Model::Impartial, 60_000, Some(2_000), 1, 0), "types"),
        (spec(Model::Impartial, 3, None, 0, 0), "count"),
        (spec(Model::Impartial, 1_000, Some(1_000), 1_000, 0), "count"),
        (GenSpec { phi: 1.5, ..GenSpec::default() }, "phi"),
        (GenSpec { phi: -0.1, ..GenSpec::default() }, "phi"),
        (GenSpec { phi: f64::NAN, ..GenSpec::default() }, "phi"),
        (GenSpec { sigma: 0.0, ..GenSpec::default() }, "sigma"),
        (GenSpec { sigma: f64::INFINITY, ..GenSpec::default() }, "sigma"),
        (GenSpec { margin: 0.0, ..GenSpec::default() }, "margin"),
        (GenSpec { margin: 0.51, ..GenSpec::default() }, "margin"),
    ];
    for (spec, field) in cases {
        let msg = generate(&spec).expect_err(&format!("{spec:?} should be rejected")).to_string();
        assert!(msg.starts_with(&format!("{field}: ")), "{msg}");
        assert!(!msg.contains('\n') && msg.contains("; "), "{msg}");
    }
}

#[test]
fn specs_deserialize_with_defaults_and_reject_unknown_keys() {
    let s: GenSpec = serde_json::from_str(r#"{"model": "condorcet", "responses": 4, "margin": 0.25}"#).unwrap();
    assert_eq!(s, GenSpec { model: Model::Condorcet, responses: 4, margin: 0.25, ..GenSpec::default() });
    assert!(serde_json::from_str::<GenSpec>(r#"{"modle": "pl"}"#).is_err());
    assert_eq!(serde_json::to_string(&Model::Pl).unwrap(), "\"pl\"");
}

/// The JSON Lines text of the first 1,000 populations (100 for `n = 1`) of
/// every model, hashed (FNV-1a): the values `ualign generate` wrote for
/// these specs when the hashes were taken, so the generators' speed-ups
/// cannot change a bit of a population. Each is also fully validated, as
/// the generators check only in debug builds.
#[test]
fn generated_populations_are_pinned_by_hash() {
    let with = |model, responses, types, seed, phi, margin| GenSpec {
        model,
        responses,
        types,
        count: 1000,
        seed,
        phi,
        margin,
        ..GenSpec::default()
    };
    let cases = [
        (with(Model::Impartial, 8, Some(16), 1, 0.5, 0.1), 0xc4a548e1a9b7254c_u64),
        (with(Model::Mallows, 9, Some(7), 2, 0.6, 0.1), 0x0996e6cb44a68c4a),
        (with(Model::Mallows, 5, Some(3), 2, 1.0, 0.1), 0x55924ed33df79c81),
        (with(Model::Pl, 7, Some(5), 3, 0.5, 0.1), 0xd155459bac3aeb0f),
        (with(Model::Bt, 7, None, 4, 0.5, 0.1), 0x0d640072cc646583),
        (with(Model::Cycle, 6, None, 5, 0.5, 0.1), 0x7eb8011d87c50a15),
        (with(Model::PerturbedCycle, 6, None, 6, 0.5, 0.1), 0xc1edf720020b942c),
        (with(Model::Condorcet, 6, Some(5), 7, 0.5, 0.1), 0x5d8d842ed2affdd4),
        (with(Model::Condorcet, 6, Some(5), 7, 0.5, 0.5), 0x1e277169bd9909b1),
        (GenSpec { count: 100, ..with(Model::Impartial, 1, Some(3), 7, 0.5, 0.1) }, 0x5f6894a190c4a91a),
    ];
    for (spec, hash) in cases {
        let pops = generate(&spec).unwrap();
        for pop in &pops {
            assert_eq!(
                &ualign::population::normalised_population(pop.responses, None, pop.types.clone()).unwrap(),
                pop
            );
        }
        let mut text = Vec::new();
        write_jsonl(&pops, &mut text).unwrap();
        assert_eq!(ualign::sweep::store::fnv1a(&text), hash, "{spec:?}");
    }
}
