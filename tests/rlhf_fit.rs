//! The Bradley–Terry fit of the RLHF baseline against a straightforward
//! reference fit: the same ridge objective maximised by damped Newton steps
//! with one exponential and one `ln_1p` per pair, a Cholesky solve per step
//! and the same stopping rule, on random rankings, Plackett–Luce mixtures and
//! populations whose pairs are mostly unanimous (where only the ridge keeps
//! the rewards finite).
mod common;

use common::{random_population, rng};
use ualign::baselines::{pairwise, rlhf_policy, rlhf_rewards, ARGMAX_TIE, BT_RIDGE};
use ualign::{Population, UserType};

/// The reference ridge log-likelihood at `r`, its gradient and negated Hessian.
fn reference_state(p: &[Vec<f64>], r: &[f64], grad: &mut [f64], hess: &mut [f64]) -> f64 {
    let n = r.len();
    hess.fill(0.0);
    let mut f = 0.0;
    for x in 0..n {
        grad[x] = -BT_RIDGE * r[x];
        hess[x * n + x] = BT_RIDGE;
        f -= 0.5 * BT_RIDGE * r[x] * r[x];
    }
    for x in 0..n {
        for y in x + 1..n {
            let (pxy, pyx) = (p[x][y], p[y][x]);
            let d = r[x] - r[y];
            let e = (-d.abs()).exp();
            let big = 1.0 / (1.0 + e);
            let log1p = e.ln_1p();
            let (sxy, syx, lxy, lyx) =
                if d >= 0.0 { (big, e * big, -log1p, -d - log1p) } else { (e * big, big, d - log1p, -log1p) };
            f += pxy * lxy + pyx * lyx;
            grad[x] += pxy - (pxy + pyx) * sxy;
            grad[y] += pyx - (pxy + pyx) * syx;
            let c = (pxy + pyx) * sxy * syx;
            hess[x * n + x] += c;
            hess[y * n + y] += c;
            hess[x * n + y] -= c;
            hess[y * n + x] -= c;
        }
    }
    f
}

fn cholesky_solve(a: &[f64], n: usize, b: &[f64]) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|c| l[i * n + c] * l[j * n + c]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                if !(d > 0.0) {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    let mut x = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|c| l[i * n + c] * x[c]).sum();
        x[i] = (b[i] - s) / l[i * n + i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|c| l[c * n + i] * x[c]).sum();
        x[i] = (x[i] - s) / l[i * n + i];
    }
    Some(x)
}

/// The reference fit: Newton from 0 with an Armijo line search (noise-tolerant),
/// stopping once the decrement is at the objective's rounding level.
fn reference_rewards(pop: &Population) -> Vec<f64> {
    let n = pop.responses;
    let p = pairwise(pop);
    let (mut r, mut grad, mut hess) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * n]);
    let (mut trial_grad, mut trial_hess) = (vec![0.0; n], vec![0.0; n * n]);
    let mut f = reference_state(&p, &r, &mut grad, &mut hess);
    for _ in 0..200 {
        let Some(delta) = cholesky_solve(&hess, n, &grad) else { break };
        let decrement: f64 = grad.iter().zip(&delta).map(|(g, d)| g * d).sum();
        let noise = 1e-14 * (1.0 + f.abs());
        if !(decrement > noise) {
            r.iter_mut().zip(&delta).for_each(|(v, d)| *v += d);
            break;
        }
        let mut step = 1.0;
        loop {
            assert!(step > 1e-12, "the reference line search stalled");
            let trial: Vec<f64> = r.iter().zip(&delta).map(|(v, d)| v + step * d).collect();
            let f_trial = reference_state(&p, &trial, &mut trial_grad, &mut trial_hess);
            if f_trial >= f + 0.25 * step * decrement - noise {
                (r, f) = (trial, f_trial);
                std::mem::swap(&mut grad, &mut trial_grad);
                std::mem::swap(&mut hess, &mut trial_hess);
                break;
            }
            step *= 0.5;
        }
    }
    let mean = r.iter().sum::<f64>() / n as f64;
    r.iter().map(|v| v - mean).collect()
}

fn argmax_set(r: &[f64]) -> Vec<usize> {
    let top = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (0..r.len()).filter(|&x| r[x] >= top - ARGMAX_TIE).collect()
}

/// Checks one population; returns the widest reward range seen.
fn check(pop: &Population, label: &str) -> f64 {
    let fitted = rlhf_rewards(pop);
    let reference = reference_rewards(pop);
    for (x, (a, b)) in fitted.iter().zip(&reference).enumerate() {
        assert!((a - b).abs() <= 1e-9, "{label}: reward {x}: {a} against the reference {b}\n{fitted:?}\n{reference:?}");
    }
    let policy = rlhf_policy(pop, None).unwrap();
    let winners = argmax_set(&reference);
    let expected: Vec<f64> =
        (0..pop.responses).map(|x| if winners.contains(&x) { 1.0 / winners.len() as f64 } else { 0.0 }).collect();
    assert_eq!(policy, expected, "{label}: argmax policy");
    let (lo, hi) = reference.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    hi - lo
}

#[test]
fn the_fit_matches_the_reference_on_random_mixtures() {
    let mut r = rng(4242);
    for case in 0..600 {
        let n = 2 + case % 23;
        let m = [1, 2, 3, 5, 16][case % 5];
        let pl = [0.0, 0.5, 1.0][case / 5 % 3];
        let pop = random_population(&mut r, n, m, pl);
        check(&pop, &format!("case {case} (n = {n}, m = {m}, PL fraction {pl})"));
    }
}

/// One ranking makes every pair unanimous: the ridge alone sets the gaps, and
/// at n = 160 the rewards span more than the range in which the fit takes
/// `e^{−|d|}` as a ratio of per-response exponentials, so both ways of
/// computing it are compared with the reference.
#[test]
fn the_fit_matches_the_reference_where_the_ridge_sets_the_gaps() {
    let mut widest: f64 = 0.0;
    for n in [2, 3, 8, 30, 160] {
        let ranking: Vec<u32> = (0..n as u32).map(|i| (i * 7 + 3) % n as u32).collect();
        let one = Population::new(n, None, vec![UserType::ranking(1.0, ranking.clone())]).unwrap();
        widest = widest.max(check(&one, &format!("one ranking of {n}")));
        // Two rankings that differ in one adjacent swap: all other pairs unanimous.
        let mut swapped = ranking.clone();
        swapped.swap(0, 1);
        let two =
            Population::new(n, None, vec![UserType::ranking(0.7, ranking), UserType::ranking(0.3, swapped)]).unwrap();
        widest = widest.max(check(&two, &format!("two rankings of {n}")));
    }
    assert!(widest > 600.0, "no case reached the per-pair exponentials (widest range {widest})");
}

/// The argmax policy is read from the win totals when they single out a
/// response clearly, and from the fit otherwise: exact ties (a ranking and
/// its reverse, equal weights: every reward equal), near ties on either side
/// of the clear lead, and Condorcet cycles, all against the reference fit.
#[test]
fn the_argmax_policy_matches_the_reference_at_ties_and_near_ties() {
    for n in [2usize, 3, 5, 8] {
        let ranking: Vec<u32> = (0..n as u32).collect();
        let reversed: Vec<u32> = ranking.iter().rev().copied().collect();
        let mut rotated = ranking.clone();
        rotated.rotate_left(1);
        for eps in [0.0, 1e-12, 1e-9, 1e-7, 3e-7, 1e-6, 1e-5, 1e-3] {
            let pair = Population::new(
                n,
                None,
                vec![UserType::ranking(0.5 + eps, ranking.clone()), UserType::ranking(0.5 - eps, reversed.clone())],
            )
            .unwrap();
            check(&pair, &format!("n = {n}, a ranking and its reverse, lead {eps}"));
            let cycle = Population::new(
                n,
                None,
                vec![
                    UserType::ranking(1.0 / 3.0 + eps, ranking.clone()),
                    UserType::ranking(1.0 / 3.0, rotated.clone()),
                    UserType::ranking(1.0 / 3.0 - eps, reversed.clone()),
                ],
            )
            .unwrap();
            check(&cycle, &format!("n = {n}, three rankings, lead {eps}"));
        }
    }
}
