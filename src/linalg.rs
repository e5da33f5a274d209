//! Small dense linear algebra for the exact polishing steps (NLHF support
//! system, Bradley–Terry Newton steps, the equilibrium refinement). Sizes are
//! at most the number of responses, so plain O(n³) routines are enough.

/// Least-squares solution of `A x = b` for a row-major `rows × cols` matrix
/// with `rows ≥ cols`, by Householder QR. Returns `None` when `A` is
/// numerically rank deficient (a diagonal entry of R below `1e-12 · ‖A‖`).
pub fn least_squares(a: &[f64], rows: usize, cols: usize, b: &[f64]) -> Option<Vec<f64>> {
    debug_assert!(rows >= cols && a.len() == rows * cols && b.len() == rows);
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    for j in 0..cols {
        let norm = (j..rows).map(|i| a[i * cols + j] * a[i * cols + j]).sum::<f64>().sqrt();
        if norm <= 1e-12 * scale {
            return None;
        }
        // Reflect column j onto −sign(a_jj)·norm·e_j (the sign avoids cancellation).
        let alpha = if a[j * cols + j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (j..rows).map(|i| a[i * cols + j]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        if vv == 0.0 {
            continue;
        }
        for c in j..cols {
            let dot: f64 = (j..rows).map(|i| v[i - j] * a[i * cols + c]).sum();
            let f = 2.0 * dot / vv;
            for i in j..rows {
                a[i * cols + c] -= f * v[i - j];
            }
        }
        let dot: f64 = (j..rows).map(|i| v[i - j] * b[i]).sum();
        let f = 2.0 * dot / vv;
        for i in j..rows {
            b[i] -= f * v[i - j];
        }
    }
    let mut x = vec![0.0; cols];
    for j in (0..cols).rev() {
        let s: f64 = (j + 1..cols).map(|c| a[j * cols + c] * x[c]).sum();
        x[j] = (b[j] - s) / a[j * cols + j];
    }
    Some(x)
}

/// Solves `A x = b` for a symmetric positive definite row-major `n × n`
/// matrix by Cholesky; `None` if `A` is not numerically positive definite.
pub fn cholesky_solve(a: &[f64], n: usize, b: &[f64]) -> Option<Vec<f64>> {
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
    // Forward then back substitution in one vector: entry i of `L y = b` is
    // final before the back substitution reads it, and is then replaced.
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

/// Solves `A x = b` in place for a symmetric positive definite row-major
/// `n × n` matrix by `LDLᵀ` (no square roots, one division per column):
/// reads the lower triangle of `a` (the upper one is never read) and
/// overwrites it with the unit factor `L` and `D` on the diagonal, and `b`
/// with `x`. `work` holds `n` scratch values. `false` (with `a`, `b` partly
/// overwritten) if `A` is not numerically positive definite.
pub fn ldl_solve_in_place(a: &mut [f64], n: usize, b: &mut [f64], work: &mut [f64]) -> bool {
    for j in 0..n {
        // work[c] = L_jc · D_c for c < j, then column j from row i's prefix.
        let (done, rest) = a.split_at_mut(j * n);
        let row_j = &mut rest[..n];
        for c in 0..j {
            work[c] = row_j[c] * done[c * n + c];
        }
        let d = row_j[j] - (0..j).map(|c| row_j[c] * work[c]).sum::<f64>();
        if !(d > 0.0) {
            return false;
        }
        row_j[j] = d;
        let inverse = 1.0 / d;
        for i in j + 1..n {
            let row_i = &mut a[i * n..][..=j];
            let v = row_i[j] - row_i[..j].iter().zip(&work[..j]).map(|(l, w)| l * w).sum::<f64>();
            row_i[j] = v * inverse;
        }
    }
    // L y = b, then Lᵀ x = D⁻¹ y, in one vector; the back substitution by
    // rows of L (each final x_i is subtracted from the entries above it), so
    // that it reads L contiguously and carries no chain of additions.
    for i in 0..n {
        b[i] -= a[i * n..][..i].iter().zip(&b[..i]).map(|(l, v)| l * v).sum::<f64>();
    }
    for i in 0..n {
        b[i] /= a[i * n + i];
    }
    for i in (1..n).rev() {
        let (above, x) = b.split_at_mut(i);
        for (v, l) in above.iter_mut().zip(&a[i * n..][..i]) {
            *v -= l * x[0];
        }
    }
    true
}
