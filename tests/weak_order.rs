//! Types with ties (weak orders): the exact kernel against the brute force
//! that applies the tie rule to every draw, and against the explicit
//! mixture of the order's linear extensions; the solver, the pairwise
//! margins, R_{k,ℓ}, JSON and the GPU's refusal.
mod common;

use common::oracle;
use rand::Rng;
use ualign::{cpu, Kind, Population, UserType};

/// A random weak order over `n` responses: a random permutation cut into
/// classes at random places.
fn random_classes(rng: &mut impl Rng, n: usize) -> Vec<Vec<u32>> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut classes = vec![vec![order[0]]];
    for &y in &order[1..] {
        if rng.random_bool(0.55) {
            classes.last_mut().unwrap().push(y);
        } else {
            classes.push(vec![y]);
        }
    }
    classes
}

fn random_weak_population(rng: &mut impl Rng, n: usize, m: usize) -> Population {
    let types = (0..m)
        .map(|_| {
            let w = rng.random_range(0.1..1.0);
            if rng.random_bool(0.2) {
                let mut r: Vec<u32> = (0..n as u32).collect();
                for i in (1..n).rev() {
                    r.swap(i, rng.random_range(0..=i));
                }
                UserType::ranking(w, r)
            } else {
                UserType::weak_order(w, random_classes(rng, n))
            }
        })
        .collect::<Vec<_>>();
    let total: f64 = types.iter().map(|t| t.weight).sum();
    let types = types.into_iter().map(|t| UserType { weight: t.weight / total, ..t }).collect();
    Population::new(n, None, types).unwrap()
}

/// Every linear extension of the classes (each class permuted in every way).
fn extensions(classes: &[Vec<u32>]) -> Vec<Vec<u32>> {
    fn permutations(items: &[u32]) -> Vec<Vec<u32>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut all = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, first);
                all.push(tail);
            }
        }
        all
    }
    let mut orders = vec![Vec::new()];
    for class in classes {
        orders = orders
            .iter()
            .flat_map(|o: &Vec<u32>| permutations(class).into_iter().map(move |p| [o.clone(), p].concat()))
            .collect();
    }
    orders
}

/// `g` of the population as the explicit mixture of linear extensions.
fn extension_mixture(pop: &Population, policy: &[f64], k: usize) -> Vec<f64> {
    let mut g = vec![0.0; pop.responses];
    for t in &pop.types {
        match &t.kind {
            Kind::WeakOrder(classes) => {
                let all = extensions(classes);
                for r in &all {
                    cpu::deviation_ranking(r, t.weight / all.len() as f64, policy, k, &mut g);
                }
            }
            Kind::Ranking(r) => cpu::deviation_ranking(r, t.weight, policy, k, &mut g),
            Kind::Scores(_) => unreachable!(),
        }
    }
    g
}

fn worst_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn weak_orders_match_the_brute_force_over_every_draw() {
    let mut rng = common::rng(81);
    let mut worst: f64 = 0.0;
    for case in 0..120 {
        let n = 2 + case % 4;
        let k = 1 + case % 4;
        let pop = random_weak_population(&mut rng, n, 1 + case % 3);
        let policy = common::random_policy(&mut rng, n);
        let err = worst_gap(&cpu::deviation(&pop, &policy, k), &oracle::deviation(&pop, &policy, k));
        worst = worst.max(err);
    }
    eprintln!("weak orders against brute force: worst error {worst:.1e}");
    assert!(worst <= 1e-13, "worst error {worst:.2e}");
}

#[test]
fn weak_orders_match_the_mixture_of_their_linear_extensions_at_large_k() {
    let mut rng = common::rng(82);
    let mut worst: f64 = 0.0;
    for case in 0..60 {
        let n = 3 + case % 5;
        let k = [5, 16, 50, 171, 400, 1000][case % 6];
        let pop = random_weak_population(&mut rng, n, 2);
        let policy = common::random_policy(&mut rng, n);
        let err = worst_gap(&cpu::deviation(&pop, &policy, k), &extension_mixture(&pop, &policy, k));
        worst = worst.max(err);
    }
    eprintln!("weak orders against their linear extensions (k <= 1,000): worst error {worst:.1e}");
    assert!(worst <= 1e-13, "worst error {worst:.2e}");
}

#[test]
fn a_large_bottom_class_is_exact_and_keeps_the_sum_rule() {
    // A .soi-like order: 3 responses listed, 197 tied at the bottom.
    let n = 200;
    let classes = vec![vec![5], vec![17], vec![2], (0..n as u32).filter(|y| ![5, 17, 2].contains(y)).collect()];
    let pop = Population::new(n, None, vec![UserType::weak_order(1.0, classes)]).unwrap();
    let mut rng = common::rng(83);
    for k in [1, 4, 8, 30] {
        let policy = common::random_policy(&mut rng, n);
        let g = cpu::deviation(&pop, &policy, k);
        let residual: f64 = g.iter().zip(&policy).map(|(g, p)| g * p).sum::<f64>() - 1.0 / (k as f64 + 1.0);
        assert!(residual.abs() <= 1e-14, "k = {k}: sum rule off by {residual:e}");
        // Tied responses of equal mass have equal g.
        let uniform = vec![1.0 / n as f64; n];
        let g = cpu::deviation(&pop, &uniform, k);
        let bottom: Vec<f64> = (0..n).filter(|y| ![5, 17, 2].contains(y)).map(|y| g[y]).collect();
        assert!(bottom.iter().all(|v| (v - bottom[0]).abs() <= 1e-15), "k = {k}");
    }
}

#[test]
fn the_solver_reaches_the_equilibrium_of_weak_order_populations() {
    let mut rng = common::rng(84);
    for case in 0..24 {
        let n = 3 + case % 6;
        let k = 1 + case % 4;
        let pop = random_weak_population(&mut rng, n, 2 + case % 5);
        let solution =
            ualign::equilibrium::solve(&pop, k, &ualign::equilibrium::EquilibriumOptions::default()).unwrap();
        let exact = cpu::deviation(&pop, &solution.policy, k);
        let e = exact.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - 1.0 / (k as f64 + 1.0);
        assert!(solution.converged && e <= 1e-9, "case {case} (n = {n}, k = {k}): E_k = {e:e}");
    }
}

#[test]
fn pairwise_margins_count_a_tie_as_half() {
    let pop = Population::new(3, None, vec![UserType::weak_order(1.0, vec![vec![0, 1], vec![2]])]).unwrap();
    let pairwise = ualign::baselines::Pairwise::of(&pop);
    let p = |x: usize, y: usize| pairwise.p[x * 3 + y];
    assert_eq!((p(0, 1), p(1, 0), p(0, 2), p(2, 0), p(1, 2)), (0.5, 0.5, 1.0, 0.0, 1.0));
}

#[test]
fn robust_alignment_against_ell_responses_matches_the_brute_force() {
    let mut rng = common::rng(85);
    for case in 0..20 {
        let n = 3 + case % 3;
        let k = 1 + case % 3;
        let ell = 1 + case % 2;
        let pop = random_weak_population(&mut rng, n, 2);
        let policy = common::random_policy(&mut rng, n);
        let got = ualign::metrics::robust_alignment_ell(&pop, &policy, k, ell).unwrap();
        let mut best: f64 = 0.0;
        let mut multiset = vec![0usize; ell];
        loop {
            best = best.max(oracle::p_beats_product(&pop, &multiset, &policy, k));
            let Some(i) = (0..ell).rev().find(|&i| multiset[i] + 1 < n) else { break };
            multiset[i] += 1;
            for j in i + 1..ell {
                multiset[j] = multiset[i];
            }
        }
        assert!((got - (1.0 - best)).abs() <= 1e-13, "case {case}: {got} against {}", 1.0 - best);
    }
}

#[test]
fn json_writes_tie_classes_as_nested_arrays_and_reads_them_back() {
    let text = r#"{"responses": 4, "types": [{"weight": 0.5, "ranking": [2, [0, 3], 1]}, {"weight": 0.5, "ranking": [[0], 1, 2, 3]}]}"#;
    let pop = ualign::population::json::parse_population(text, &ualign::error::Location::file("t.json")).unwrap();
    assert_eq!(pop.types[0].kind, Kind::WeakOrder(vec![vec![2], vec![0, 3], vec![1]]));
    assert_eq!(pop.types[1].kind, Kind::Ranking(vec![0, 1, 2, 3]));
    let written = ualign::population::json::to_json(&pop).to_string();
    assert!(written.contains("[2,[0,3],1]"), "{written}");
    let again = ualign::population::json::parse_population(&written, &ualign::error::Location::file("t.json")).unwrap();
    assert_eq!(again, pop);
    let mut jsonl = Vec::new();
    ualign::population::json::write_jsonl(std::slice::from_ref(&pop), &mut jsonl).unwrap();
    assert!(String::from_utf8(jsonl).unwrap().contains("\"ranking\":[2,[0,3],1]"));
}

#[test]
fn json_refuses_a_response_listed_twice_across_tie_classes() {
    let text = r#"{"responses": 3, "types": [{"weight": 1, "ranking": [[0, 1], [1, 2]]}]}"#;
    let err = ualign::population::json::parse_population(text, &ualign::error::Location::file("t.json")).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}
