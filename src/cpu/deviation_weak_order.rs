//! The deviation vector of one weak-order type (tie classes `C_1 ≻ C_2 ≻ …`,
//! ties broken uniformly at random), exactly, without enumerating the
//! order's linear extensions (docs/theory.md, "Types with ties").
//!
//! A uniformly random extension orders each class by independent uniform
//! keys `U_x`. Given `U_y = u`, every other member of y's class lies below y
//! independently with probability u, so the mass below y is
//! `B_j + X_u`, with `B_j` the mass of the worse classes and
//! `X_u = Σ_{x ∈ C_j∖y} π_x ξ_x`, `ξ_x ~ Bernoulli(u)`. The ranking closed form
//! `∫_0^1 (B + v p)^k dv` (p = π_y) expands in powers of `X_u`:
//!
//! ```text
//! g_t(y) = ∫_0^1 Σ_{d=0..k} C(k, d) R_{k−d} E[X_u^d] du,
//! R_e = ∫_0^1 (B_j + v p)^e dv = Σ_{i=0..e} (B_j + p)^i B_j^{e−i} / (e + 1),
//! ```
//!
//! and the moments `E[X_u^d]` are the exponential-generating coefficients of
//! `Π_{x ∈ C_j∖y} (1 − u + u e^{π_x z})` (prefix and suffix products over the
//! class, so all members cost one pass). The integrand is a polynomial in u
//! of degree at most min(k, members of positive mass), so Gauss–Legendre
//! with half that many nodes integrates it exactly. Every term is
//! non-negative: nothing cancels. Binomial coefficients stay inside f64 for
//! k ≤ 1,000 (`C(1000, 500) ≈ 2.7e299`), and each product of a binomial with
//! the moments is itself a probability-sized term.
//!
//! Cost per class of s members, D of positive mass: `O((D/2 + 1) · s · k²)`.
//! Singleton classes cost `O(k)`, as a ranking.

/// Reusable buffers, so a solve loop allocates nothing per call.
#[derive(Default, Clone, Debug)]
pub struct WeakOrderScratch {
    /// `binom[a * (k+1) + b] = C(a, b)` for `a, b ≤ k`, built for `binom_k`.
    binom: Vec<f64>,
    binom_k: usize,
    /// Positive-mass members of the current class.
    members: Vec<usize>,
    prefix: Vec<f64>,
    suffix: Vec<f64>,
    /// `c_d = C(k, d) R_{k−d}` of the current response.
    weights: Vec<f64>,
    /// `g_t(y)` of the current class's members (same order as the class).
    value: Vec<f64>,
    nodes: Vec<(f64, f64)>,
}

impl WeakOrderScratch {
    fn prepare(&mut self, k: usize) {
        if self.binom_k == k && !self.binom.is_empty() {
            return;
        }
        self.binom = super::binomial_table(k);
        self.binom_k = k;
    }
}

/// Adds `weight · g_t(y)` to `out[y]` for every response `y`, where `t` is
/// the weak order with the given tie classes (best first, a partition of
/// `0..n`).
pub fn deviation_weak_order(
    classes: &[Vec<u32>],
    weight: f64,
    policy: &[f64],
    k: usize,
    out: &mut [f64],
    scratch: &mut WeakOrderScratch,
) {
    scratch.prepare(k);
    let mut below = 0.0;
    for class in classes.iter().rev() {
        class_values(class, below, policy, k, scratch);
        for (&y, &g) in class.iter().zip(&scratch.value) {
            out[y as usize] += weight * g;
        }
        below += class.iter().map(|&x| policy[x as usize]).sum::<f64>();
    }
}

/// `g_t(y)` for every member `y` of one class, into `scratch.value`, given
/// the mass `below` of the worse classes.
fn class_values(class: &[u32], below: f64, policy: &[f64], k: usize, scratch: &mut WeakOrderScratch) {
    let w = k + 1;
    let WeakOrderScratch { binom, members, prefix, suffix, weights, value, nodes, .. } = scratch;
    value.clear();
    value.resize(class.len(), 0.0);
    members.clear();
    members.extend(class.iter().map(|&x| x as usize).filter(|&x| policy[x] > 0.0));
    let d = members.len();
    if class.len() == 1 || d == 0 {
        // Nothing of positive mass can be tied with y: the ranking form.
        for (v, &y) in value.iter_mut().zip(class) {
            *v = power_sum_mean(below + policy[y as usize], below, k);
        }
        return;
    }
    gauss_legendre_unit(k.min(d) / 2 + 1, nodes);
    prefix.resize((d + 1) * w, 0.0);
    suffix.resize((d + 1) * w, 0.0);
    weights.resize(w, 0.0);
    let binom_k = &binom[k * w..(k + 1) * w];
    for &(u, node_weight) in nodes.iter() {
        // prefix[i] = Π_{j<i} F_j, suffix[i] = Π_{j≥i} F_j, with
        // F_j = 1 − u + u e^{π z}: EGF coefficients 1, u π, u π², ….
        prefix[..w].fill(0.0);
        prefix[0] = 1.0;
        suffix[d * w..].fill(0.0);
        suffix[d * w] = 1.0;
        for i in 0..d {
            let (done, next) = prefix.split_at_mut((i + 1) * w);
            times_member(&done[i * w..], policy[members[i]], u, binom, &mut next[..w]);
        }
        for i in (0..d).rev() {
            let (head, tail) = suffix.split_at_mut((i + 1) * w);
            times_member(&tail[..w], policy[members[i]], u, binom, &mut head[i * w..]);
        }
        let mut i = 0;
        for (v, &y) in value.iter_mut().zip(class) {
            let y = y as usize;
            let p = policy[y];
            // c_d = C(k, d) R_{k−d}, R_e the ranking form at exponent e.
            let lifted = below + p;
            let mut sum = 0.0;
            let mut lifted_pow = 1.0;
            for e in 0..=k {
                // sum = Σ_{i=0..e} lifted^i below^{e−i} (all terms ≥ 0).
                sum = if e == 0 { 1.0 } else { sum * below + lifted_pow };
                weights[k - e] = binom_k[k - e] * sum / (e + 1) as f64;
                lifted_pow *= lifted;
            }
            let moments_value = if p > 0.0 {
                // E[X^d] of the class less y: prefix[i] ⊛ suffix[i+1].
                let (pre, suf) = (&prefix[i * w..(i + 1) * w], &suffix[(i + 1) * w..(i + 2) * w]);
                i += 1;
                let mut total = 0.0;
                for (a, &pa) in pre.iter().enumerate() {
                    if pa == 0.0 {
                        continue;
                    }
                    let mut inner = 0.0;
                    for (b, &sb) in suf[..w - a].iter().enumerate() {
                        inner += binom[(a + b) * w + a] * sb * weights[a + b];
                    }
                    total += pa * inner;
                }
                total
            } else {
                // y has no mass: the whole class's positive-mass members.
                prefix[d * w..].iter().zip(weights.iter()).map(|(m, c)| m * c).sum()
            };
            *v += node_weight * moments_value;
        }
    }
}

/// `out = a ⊛ F` (binomial convolution, degree ≤ k) with
/// `F = 1 − u + u e^{p z}`, whose EGF coefficients are `1, u p, u p², …`.
fn times_member(a: &[f64], p: f64, u: f64, binom: &[f64], out: &mut [f64]) {
    let w = out.len();
    for r in 0..w {
        let row = &binom[r * w..r * w + r + 1];
        let mut acc = a[r];
        let mut power = u; // u p^{r−j} for j = r − 1 down to 0
        for j in (0..r).rev() {
            power *= p;
            acc += row[j] * a[j] * power;
        }
        out[r] = acc;
    }
}

/// `Σ_{i=0..k} L^i B^{k−i} / (k + 1)`: the ranking closed form (all terms
/// non-negative).
fn power_sum_mean(l: f64, b: f64, k: usize) -> f64 {
    super::deviation_ranking::power_sum(l, b, k) / (k + 1) as f64
}

/// The `q`-point Gauss–Legendre rule on `[0, 1]` into `out` as
/// `(node, weight)`: exact for polynomials of degree ≤ 2q − 1. Nodes by
/// Newton's method on the Legendre polynomial from the usual cosine
/// estimates.
pub fn gauss_legendre_unit(q: usize, out: &mut Vec<(f64, f64)>) {
    out.clear();
    for i in 0..q {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (q as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            // P_q(x) and P_q'(x) by the three-term recurrence.
            let (mut p0, mut p1) = (1.0, x);
            for m in 2..=q {
                let p2 = ((2 * m - 1) as f64 * x * p1 - (m - 1) as f64 * p0) / m as f64;
                p0 = p1;
                p1 = p2;
            }
            let pq = if q == 0 { 1.0 } else { p1 };
            let pq_minus = if q == 1 { 1.0 } else { p0 };
            derivative = q as f64 * (x * pq - pq_minus) / (x * x - 1.0);
            let step = pq / derivative;
            x -= step;
            if step.abs() <= 1e-16 {
                break;
            }
        }
        let weight = 2.0 / ((1.0 - x * x) * derivative * derivative);
        out.push(((1.0 - x) / 2.0, weight / 2.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_of_degree_2q_minus_1_exactly() {
        let mut rule = Vec::new();
        for q in [1, 2, 3, 5, 17, 64, 251] {
            gauss_legendre_unit(q, &mut rule);
            for degree in [0, 1, 2 * q - 1] {
                let integral: f64 = rule.iter().map(|&(x, w)| w * x.powi(degree as i32)).sum();
                let exact = 1.0 / (degree as f64 + 1.0);
                assert!((integral - exact).abs() <= 1e-13 * exact.max(1e-3), "q = {q}, degree {degree}: {integral}");
            }
        }
    }

    #[test]
    fn a_class_of_two_splits_the_tie_evenly() {
        // Classes {0, 1} ≻ {2}: half the extensions put 0 above 1.
        let policy = [0.3, 0.5, 0.2];
        for k in [1, 2, 5] {
            let mut got = vec![0.0; 3];
            deviation_weak_order(&[vec![0, 1], vec![2]], 1.0, &policy, k, &mut got, &mut WeakOrderScratch::default());
            let mut want = vec![0.0; 3];
            super::super::deviation_ranking(&[0, 1, 2], 0.5, &policy, k, &mut want);
            super::super::deviation_ranking(&[1, 0, 2], 0.5, &policy, k, &mut want);
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() <= 1e-15, "k = {k}: {got:?} against {want:?}");
            }
        }
    }
}
