//! The first Plackett–Luce kernel, kept as the reference the fast kernel in
//! `deviation_pl` is measured and tested against: the same integral, on the
//! plain `log s` trapezoid grid ([`PlGrid::nodes`]), with the binomial
//! convolution of exponential-generating series and three exponentials per
//! (node, response).

use super::deviation_pl::PlGrid;

/// Reusable buffers, so a solve loop allocates nothing per iteration.
#[derive(Default, Clone, Debug)]
pub struct ReferenceScratch {
    binom: Vec<f64>,
    binom_k: usize,
    worth: Vec<f64>,
    support: Vec<usize>,
    powers: Vec<f64>,
    prefix: Vec<f64>,
    suffix: Vec<f64>,
    acc: Vec<f64>,
}

impl ReferenceScratch {
    fn prepare_binomials(&mut self, k: usize) {
        if self.binom_k == k && !self.binom.is_empty() {
            return;
        }
        self.binom = super::binomial_table(k);
        self.binom_k = k;
    }
}

/// `out = a ⊛ b`, the binomial convolution `out_m = Σ_i C(m,i) a_i b_{m−i}`.
#[inline]
fn binomial_product(a: &[f64], b: &[f64], binom: &[f64], out: &mut [f64]) {
    let w = a.len();
    for m in 0..w {
        let row = &binom[m * w..m * w + m + 1];
        let mut s = 0.0;
        for i in 0..=m {
            s += row[i] * a[i] * b[m - i];
        }
        out[m] = s;
    }
}

/// Adds `weight · g_t(y)` to `out[y]` for every response `y`, where `t` is the
/// Plackett–Luce type with the given scores.
pub fn deviation_pl_reference(
    scores: &[f64],
    weight: f64,
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut ReferenceScratch,
) {
    let n = scores.len();
    let w = k + 1;
    scratch.prepare_binomials(k);
    let (lo, hi) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    scratch.worth.clear();
    scratch.worth.extend(scores.iter().map(|s| (s - hi).exp()));
    // Responses outside the support contribute F_z = 1: skip them entirely.
    scratch.support.clear();
    scratch.support.extend((0..n).filter(|&z| policy[z] > 0.0));
    let m = scratch.support.len();
    // π_z^i for i = 0..k, per support member.
    scratch.powers.clear();
    for &z in &scratch.support {
        let mut p = 1.0;
        for _ in 0..=k {
            scratch.powers.push(p);
            p *= policy[z];
        }
    }
    scratch.prefix.resize((m + 1) * w, 0.0);
    scratch.suffix.resize((m + 1) * w, 0.0);
    scratch.acc.clear();
    scratch.acc.resize(n, 0.0);
    let mut series = vec![0.0; w];
    let mut cross = vec![0.0; w];

    for x in grid.nodes(hi - lo) {
        let s = x.exp();
        let node_weight = grid.step * s;
        // prefix[j] = F_{support[0]} ⊛ … ⊛ F_{support[j−1]}, suffix[j] = the rest.
        scratch.prefix[..w].fill(0.0);
        scratch.prefix[0] = 1.0;
        scratch.suffix[m * w..].fill(0.0);
        scratch.suffix[m * w] = 1.0;
        for j in 0..m {
            factor_series(scratch.worth[scratch.support[j]], s, &scratch.powers[j * w..(j + 1) * w], &mut series);
            let (done, next) = scratch.prefix.split_at_mut((j + 1) * w);
            binomial_product(&done[j * w..], &series, &scratch.binom, &mut next[..w]);
        }
        for j in (0..m).rev() {
            factor_series(scratch.worth[scratch.support[j]], s, &scratch.powers[j * w..(j + 1) * w], &mut series);
            let (head, tail) = scratch.suffix.split_at_mut((j + 1) * w);
            binomial_product(&tail[..w], &series, &scratch.binom, &mut head[j * w..]);
        }
        let kth = &scratch.binom[k * w..(k + 1) * w];
        // Responses outside the support: H = k![u^k] Π_{all support} F_z.
        let full = scratch.prefix[m * w + k];
        let mut j = 0;
        for y in 0..n {
            let h = if j < m && scratch.support[j] == y {
                // Π_{z≠y} F_z = prefix[j] ⊛ suffix[j+1]; then ⊛ G̃_y with G̃_c = π_y^c/(c+1).
                binomial_product(
                    &scratch.prefix[j * w..(j + 1) * w],
                    &scratch.suffix[(j + 1) * w..(j + 2) * w],
                    &scratch.binom,
                    &mut cross,
                );
                let pw = &scratch.powers[j * w..(j + 1) * w];
                let mut h = 0.0;
                for c in 0..=k {
                    h += kth[c] * pw[c] / (c as f64 + 1.0) * cross[k - c];
                }
                j += 1;
                h
            } else {
                full
            };
            let wy = scratch.worth[y];
            scratch.acc[y] += node_weight * wy * (-s * wy).exp() * h;
        }
    }
    for y in 0..n {
        out[y] += weight * scratch.acc[y];
    }
}

/// EGF coefficients of `F_z(u) = 1 + e^{−s w_z}(e^{π_z u} − 1)`: `[1, e π, e π², …]`.
#[inline]
fn factor_series(worth: f64, s: f64, powers: &[f64], out: &mut [f64]) {
    let e = (-s * worth).exp();
    out[0] = 1.0;
    for i in 1..out.len() {
        out[i] = e * powers[i];
    }
}
