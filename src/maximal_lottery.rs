//! The canonical maximal lottery: the NLHF policy when the pairwise margins
//! leave a choice.
//!
//! For the skew-symmetric margin matrix `M(x,y) = P(x≻y) − P(y≻x)` the
//! maximal lotteries are `ML = {π ∈ Δ : (πᵀM)_y ≥ 0 for every y}`, the
//! optimal strategies of a symmetric zero-sum game: a polytope, usually one
//! point, but a segment or more when margins tie (e.g. two responses that
//! every type ranks next to each other, half of the weight each way round).
//! A simplex method then returns whichever vertex its path reaches, so the
//! NLHF policy — and its `R_k` at k > 1 — would depend on the solver.
//!
//! The canonical choice is the **maximum-entropy maximal lottery**
//! `argmax_{π ∈ ML} −Σ π_y ln π_y`: unique (strict concavity on a convex
//! set), invariant under relabelling the responses, and it splits mass evenly
//! between exact clones. It is computed in three steps:
//!
//! 1. One linear program finds a point in the relative interior of `ML` and
//!    the face's structure. By strict complementarity (Goldman–Tucker) every
//!    response `y` either carries mass in some maximal lottery (it is
//!    *essential*; then `(πᵀM)_y = 0` for every maximal lottery) or has
//!    `(πᵀM)_y > 0` in some maximal lottery. On the cone
//!    `{x ≥ 0 : xᵀM ≥ 0}` the LP maximises `Σ t_y + Σ s_y` with
//!    `t_y ≤ min(1, x_y)` and `s_y ≤ min(1, (xᵀM)_y)`; since the cone is closed
//!    under sums, the optimum has `t_y = 1` exactly on the essential set `E`
//!    and `s_y = 1` exactly on the slack rows, and `x/Σx` is in the relative
//!    interior. Most populations skip this LP: a support proved from the
//!    top cycle (`support`) gives the same face without it.
//! 2. `ML` is then `{π : π_y = 0 off E, Σπ = 1, (πᵀM)_y = 0 on the rows that
//!    are never slack, (πᵀM)_y ≥ 0 on the slack rows, π ≥ 0}`. The null space
//!    of the equality rows (one-sided Jacobi SVD) gives the face's dimension:
//!    0 means the maximal lottery is unique.
//! 3. Otherwise entropy is maximised over the face by Newton's method in the
//!    null-space coordinates, with a log barrier `μ Σ ln (πᵀM)_y` for the
//!    slack rows driven from `μ = 1` to `1e-16` (entropy itself keeps `π > 0`
//!    on `E`). The result is verified to be a maximal lottery to `1e-12`.

use microlp::{ComparisonOp, OptimizationDirection, Problem};

use crate::linalg::{cholesky_solve, least_squares};

mod support;

/// A maximal lottery and what is known about the set it was chosen from.
#[derive(Clone, Debug, PartialEq)]
pub struct MaximalLottery {
    pub policy: Vec<f64>,
    /// True when the maximal lottery is the only one (the face is a point).
    /// False when it is the maximum-entropy point of a larger set, or when
    /// the structure could not be certified (then `dimension` is `None`).
    pub unique: bool,
    /// The dimension of the set of maximal lotteries, when certified.
    pub dimension: Option<usize>,
}

/// Singular values below this (relative to the largest entry, at least 1)
/// count as zero: the margins of real populations tie exactly or differ by
/// far more than rounding.
const RANK_TOL: f64 = 1e-9;

/// The canonical (maximum-entropy) maximal lottery of a margin matrix
/// (`margin[x][y] = P(x≻y) − P(y≻x)`). `None` when the linear program or the
/// verification fails numerically; the caller then falls back to a vertex.
pub fn canonical(margin: &[Vec<f64>]) -> Option<MaximalLottery> {
    let n = margin.len();
    // A proved support settles step 1 without the LP (see `support`); its
    // face is the LP's, so a unique lottery comes out bit for bit the same.
    // A larger face needs the LP's relative-interior point to start from.
    if let Some(s) = support::proven_support(margin) {
        if let [winner] = s[..] {
            // A Condorcet winner: steps 2 and 3 give its point mass exactly
            // (the equalities are `0·π_w = 0`, `π_w = 1`).
            let policy = (0..n).map(|y| if y == winner { 1.0 } else { 0.0 }).collect();
            return Some(MaximalLottery { policy, unique: true, dimension: Some(0) });
        }
        let on = |y: usize| s.binary_search(&y).is_ok();
        let essential: Vec<bool> = (0..n).map(on).collect();
        let slack: Vec<bool> = (0..n).map(|y| !on(y)).collect();
        if let Some(found) = on_face(margin, &essential, &slack, None) {
            return Some(found);
        }
    }
    let face = relative_interior(margin)?;
    on_face(margin, &face.essential, &face.slack, Some(&face.point))
}

/// Steps 2 and 3 of the module doc on the face found in step 1. `point` (a
/// relative-interior point, restricted to the essential responses) is needed
/// only where the face is more than a point or its equalities are
/// numerically singular; without it those cases give `None`.
fn on_face(
    margin: &[Vec<f64>],
    is_essential: &[bool],
    is_slack: &[bool],
    point: Option<&[f64]>,
) -> Option<MaximalLottery> {
    let n = margin.len();
    // Equality rows: every essential response (and any row never slack), then Σπ = 1.
    let tight: Vec<usize> = (0..n).filter(|&y| is_essential[y] || !is_slack[y]).collect();
    let slack: Vec<usize> = (0..n).filter(|&y| !is_essential[y] && is_slack[y]).collect();
    let essential: Vec<usize> = (0..n).filter(|&y| is_essential[y]).collect();
    let e = essential.len();
    let rows = tight.len() + 1;
    let mut a = vec![0.0; rows * e];
    for (r, &y) in tight.iter().enumerate() {
        for (c, &x) in essential.iter().enumerate() {
            a[r * e + c] = margin[x][y];
        }
    }
    a[(rows - 1) * e..].fill(1.0);
    let null = null_space(&a, rows, e);
    let d = null.len();
    let embed = |q: &[f64]| {
        let mut p = vec![0.0; n];
        for (&i, &v) in essential.iter().zip(q) {
            p[i] = v;
        }
        p
    };
    let policy = if d == 0 {
        // The unique point solves the (consistent, full column rank) equalities.
        let mut b = vec![0.0; rows];
        b[rows - 1] = 1.0;
        match least_squares(&a, rows, e, &b) {
            Some(q) => embed(&q),
            None => embed(point?),
        }
    } else {
        let g: Vec<Vec<f64>> = slack.iter().map(|&y| essential.iter().map(|&x| margin[x][y]).collect()).collect();
        embed(&max_entropy(point?, &null, &g))
    };
    let total: f64 = policy.iter().sum();
    let policy: Vec<f64> = policy.iter().map(|v| v.max(0.0) / total).collect();
    (worst_margin(margin, &policy) >= -1e-12).then_some(MaximalLottery { policy, unique: d == 0, dimension: Some(d) })
}

/// The canonical maximal lottery of `margins` ([`canonical`]); if that
/// computation breaks down numerically, the simplex method's vertex,
/// polished: on the support `S` found by the LP, the equilibrium solves
/// `Σ_{x∈S} p_x M(x,y) = 0` (y ∈ S), `Σ p = 1` exactly, which we solve by
/// least squares in f64; the polished point is kept only if it is still a
/// maximal lottery (to 1e-12). Such a result has `unique: false` (not
/// certified).
pub fn canonical_or_vertex(margins: &[Vec<f64>]) -> MaximalLottery {
    let n = margins.len();
    if let Some(canonical) = canonical(margins) {
        return canonical;
    }
    let margin = |x: usize, y: usize| margins[x][y];
    let lp = maximal_lottery_lp(n, &margin);
    let vertex = |policy| MaximalLottery { policy, unique: false, dimension: None };
    let support: Vec<usize> = (0..n).filter(|&x| lp[x] > 1e-9).collect();
    let s = support.len();
    let mut a = vec![0.0; (s + 1) * s];
    let mut b = vec![0.0; s + 1];
    for (row, &y) in support.iter().enumerate() {
        for (col, &x) in support.iter().enumerate() {
            a[row * s + col] = margin(x, y);
        }
    }
    a[s * s..].fill(1.0);
    b[s] = 1.0;
    if let Some(x) = least_squares(&a, s + 1, s, &b) {
        let mut polished = vec![0.0; n];
        for (&i, &v) in support.iter().zip(&x) {
            polished[i] = v;
        }
        if polished.iter().all(|&v| v >= 0.0) && worst_margin(margins, &polished) >= -1e-12 {
            let total: f64 = polished.iter().sum();
            return vertex(polished.iter().map(|v| v / total).collect());
        }
    }
    vertex(lp)
}

/// The maximal lottery by the simplex method, clipped to the simplex.
fn maximal_lottery_lp(n: usize, margin: &impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let mut problem = Problem::new(OptimizationDirection::Maximize);
    let vars: Vec<_> = (0..n).map(|_| problem.add_var(0.0, (0.0, 1.0))).collect();
    // The game is symmetric, so its value is 0; bound v to keep the LP bounded.
    let value = problem.add_var(1.0, (-1.0, 1.0));
    for y in 0..n {
        let mut row: Vec<_> = vars.iter().enumerate().map(|(x, &v)| (v, margin(x, y))).collect();
        row.push((value, -1.0));
        problem.add_constraint(row.as_slice(), ComparisonOp::Ge, 0.0);
    }
    let ones: Vec<_> = vars.iter().map(|&v| (v, 1.0)).collect();
    problem.add_constraint(ones.as_slice(), ComparisonOp::Eq, 1.0);
    match problem.solve() {
        Ok(solution) => {
            let raw: Vec<f64> = vars.iter().map(|&v| solution[v].max(0.0)).collect();
            let total: f64 = raw.iter().sum();
            raw.iter().map(|v| v / total).collect()
        }
        // A maximal lottery always exists (minimax theorem), so the LP is
        // feasible and bounded; a solver failure here is a numerical breakdown
        // of the simplex method. Fall back to the uniform policy, which the
        // caller's metrics then score honestly.
        Err(_) => vec![1.0 / n as f64; n],
    }
}

/// [`canonical`] with step 1 always by the linear program: slower, and the
/// reference the proved-support path is checked against.
pub fn canonical_by_lp(margin: &[Vec<f64>]) -> Option<MaximalLottery> {
    let face = relative_interior(margin)?;
    on_face(margin, &face.essential, &face.slack, Some(&face.point))
}

/// `min_y (πᵀM)_y`: 0 at a maximal lottery, negative elsewhere.
pub fn worst_margin(margin: &[Vec<f64>], p: &[f64]) -> f64 {
    let n = margin.len();
    (0..n).map(|y| (0..n).map(|x| p[x] * margin[x][y]).sum::<f64>()).fold(f64::INFINITY, f64::min)
}

struct Face {
    /// A relative-interior point, restricted to the essential responses.
    point: Vec<f64>,
    essential: Vec<bool>,
    slack: Vec<bool>,
}

/// Step 1 of the module doc: the essential set, the slack rows and a
/// relative-interior point, from one LP.
fn relative_interior(margin: &[Vec<f64>]) -> Option<Face> {
    let n = margin.len();
    let mut lp = Problem::new(OptimizationDirection::Maximize);
    let x: Vec<_> = (0..n).map(|_| lp.add_var(0.0, (0.0, f64::INFINITY))).collect();
    let t: Vec<_> = (0..n).map(|_| lp.add_var(1.0, (0.0, 1.0))).collect();
    let s: Vec<_> = (0..n).map(|_| lp.add_var(1.0, (0.0, 1.0))).collect();
    for y in 0..n {
        lp.add_constraint([(x[y], 1.0), (t[y], -1.0)], ComparisonOp::Ge, 0.0);
        let mut row: Vec<_> = (0..n).filter(|&c| c != y).map(|c| (x[c], margin[c][y])).collect();
        row.push((s[y], -1.0));
        lp.add_constraint(row.as_slice(), ComparisonOp::Ge, 0.0);
    }
    let sol = lp.solve().ok()?;
    let essential: Vec<bool> = t.iter().map(|&v| sol[v] > 0.5).collect();
    let slack: Vec<bool> = s.iter().map(|&v| sol[v] > 0.5).collect();
    let raw: Vec<f64> = (0..n).filter(|&y| essential[y]).map(|y| sol[x[y]].max(0.0)).collect();
    let total: f64 = raw.iter().sum();
    if raw.is_empty() || !(total > 0.0) || !total.is_finite() {
        return None;
    }
    Some(Face { point: raw.iter().map(|v| v / total).collect(), essential, slack })
}

/// An orthonormal basis (as vectors of length `cols`) of the null space of
/// the row-major `rows × cols` matrix `a`, by one-sided Jacobi: rotate the
/// columns of `a` until they are mutually orthogonal, accumulating the
/// rotations in `V`; the columns of `V` whose rotated column has (relative)
/// norm below [`RANK_TOL`] span the null space.
fn null_space(a: &[f64], rows: usize, cols: usize) -> Vec<Vec<f64>> {
    let scale = a.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    // Column c of `a` is u[c * rows..][..rows]; column c of V is v[c * cols..][..cols].
    let mut u: Vec<f64> = (0..cols).flat_map(|c| (0..rows).map(move |r| a[r * cols + c])).collect();
    let mut v = vec![0.0; cols * cols];
    (0..cols).for_each(|c| v[c * cols + c] = 1.0);
    let dot = |p: &[f64], q: &[f64]| p.iter().zip(q).map(|(a, b)| a * b).sum::<f64>();
    for _sweep in 0..60 {
        let mut rotated = false;
        for i in 0..cols {
            for j in i + 1..cols {
                let (ui, uj) = (&u[i * rows..][..rows], &u[j * rows..][..rows]);
                let (alpha, beta, gamma) = (dot(ui, ui), dot(uj, uj), dot(ui, uj));
                if gamma.abs() <= 1e-15 * (alpha * beta).sqrt() || gamma == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let tan = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let tan = if zeta == 0.0 { 1.0 } else { tan };
                let cos = 1.0 / (1.0 + tan * tan).sqrt();
                let sin = cos * tan;
                for (m, len) in [(&mut u, rows), (&mut v, cols)] {
                    let (lo, hi) = m.split_at_mut(j * len);
                    for (p, q) in lo[i * len..][..len].iter_mut().zip(hi[..len].iter_mut()) {
                        let (a, b) = (*p, *q);
                        *p = cos * a - sin * b;
                        *q = sin * a + cos * b;
                    }
                }
            }
        }
        if !rotated {
            break;
        }
    }
    (0..cols)
        .filter(|&c| {
            let uc = &u[c * rows..][..rows];
            dot(uc, uc).sqrt() <= RANK_TOL * scale
        })
        .map(|c| v[c * cols..][..cols].to_vec())
        .collect()
}

/// Step 3 of the module doc: maximises entropy over
/// `{p0 + N z : p > 0, G p ≥ 0}` (`N` = `null`, rows of `G` = `g`) from the
/// strictly feasible `p0`, by barrier Newton steps in `z`.
fn max_entropy(p0: &[f64], null: &[Vec<f64>], g: &[Vec<f64>]) -> Vec<f64> {
    let (e, d) = (p0.len(), null.len());
    let point =
        |z: &[f64]| -> Vec<f64> { (0..e).map(|i| p0[i] + (0..d).map(|j| null[j][i] * z[j]).sum::<f64>()).collect() };
    let rows = |p: &[f64]| -> Vec<f64> { g.iter().map(|r| r.iter().zip(p).map(|(a, b)| a * b).sum()).collect() };
    let objective = |p: &[f64], mu: f64| -> f64 {
        if p.iter().any(|&v| !(v > 0.0)) {
            return f64::NEG_INFINITY;
        }
        let gp = rows(p);
        if gp.iter().any(|&v| !(v > 0.0)) {
            return f64::NEG_INFINITY;
        }
        -p.iter().map(|v| v * v.ln()).sum::<f64>() + mu * gp.iter().map(|v| v.ln()).sum::<f64>()
    };
    let mut z = vec![0.0; d];
    let mut mu = if g.is_empty() { 0.0 } else { 1.0 };
    loop {
        for _ in 0..100 {
            let p = point(&z);
            let gp = rows(&p);
            // Gradient and negated Hessian in π, then reduced to z.
            let mut grad: Vec<f64> = p.iter().map(|v| -(v.ln() + 1.0)).collect();
            let mut hess = vec![0.0; e * e];
            for i in 0..e {
                hess[i * e + i] = 1.0 / p[i];
            }
            for (r, &v) in g.iter().zip(&gp) {
                for i in 0..e {
                    grad[i] += mu * r[i] / v;
                    for j in 0..e {
                        hess[i * e + j] += mu * r[i] * r[j] / (v * v);
                    }
                }
            }
            let rg: Vec<f64> = null.iter().map(|nj| nj.iter().zip(&grad).map(|(a, b)| a * b).sum()).collect();
            let hn: Vec<Vec<f64>> =
                null.iter().map(|nj| (0..e).map(|i| (0..e).map(|k| hess[i * e + k] * nj[k]).sum()).collect()).collect();
            let mut rh = vec![0.0; d * d];
            for a in 0..d {
                for b in 0..d {
                    rh[a * d + b] = null[a].iter().zip(&hn[b]).map(|(x, y)| x * y).sum();
                }
            }
            let Some(step) = cholesky_solve(&rh, d, &rg) else { break };
            let decrement: f64 = rg.iter().zip(&step).map(|(a, b)| a * b).sum();
            if !(decrement > 1e-24) {
                break;
            }
            let current = objective(&p, mu);
            let mut t = 1.0;
            let mut moved = false;
            while t > 1e-12 {
                let trial: Vec<f64> = z.iter().zip(&step).map(|(a, b)| a + t * b).collect();
                if objective(&point(&trial), mu) >= current {
                    z = trial;
                    moved = true;
                    break;
                }
                t *= 0.5;
            }
            if !moved {
                break;
            }
        }
        if mu < 1e-16 {
            break;
        }
        mu *= 0.1;
    }
    point(&z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_space_of_a_rank_one_matrix() {
        // [1 1 0; 2 2 0]: null space spanned by (1,-1,0)/√2 and (0,0,1).
        let a = [1.0, 1.0, 0.0, 2.0, 2.0, 0.0];
        let basis = null_space(&a, 2, 3);
        assert_eq!(basis.len(), 2);
        for v in &basis {
            assert!((v[0] + v[1]).abs() < 1e-14 && (v.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-14);
        }
        assert!(null_space(&[1.0, 0.0, 0.0, 1.0], 2, 2).is_empty());
    }
}
