//! Small dense linear algebra for the exact polishing steps (NLHF support
//! system, Bradley–Terry Newton steps, the equilibrium refinement). Sizes are
//! at most the number of responses, so plain O(n³) routines are enough.

/// Least-squares solution of `A x = b` for a row-major `rows × cols` matrix
/// with `rows ≥ cols`, by Householder QR. Returns `None` when `A` is
/// numerically rank deficient (a diagonal entry of R below `1e-12 · ‖A‖`).
pub fn least_squares(a: &[f64], rows: usize, cols: usize, b: &[f64]) -> Option<Vec<f64>> {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    least_squares_in_place(&mut a, rows, cols, &mut b).then(|| b[..cols].to_vec())
}

/// [`least_squares`] without allocating, for the solvers that call it once
/// per population: overwrites `a` (its upper triangle with R) and `b` (its
/// first `cols` entries with x); `false` where `least_squares` gives `None`.
/// Its arithmetic is `least_squares`'s, operation for operation.
pub fn least_squares_in_place(a: &mut [f64], rows: usize, cols: usize, b: &mut [f64]) -> bool {
    debug_assert!(rows >= cols && a.len() == rows * cols && b.len() == rows);
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    for j in 0..cols {
        let norm = (j..rows).map(|i| a[i * cols + j] * a[i * cols + j]).sum::<f64>().sqrt();
        if norm <= 1e-12 * scale {
            return false;
        }
        // Reflect column j onto −sign(a_jj)·norm·e_j (the sign avoids
        // cancellation). The reflector v is column j below the diagonal with
        // v_0 = a_jj − α, read in place: below the diagonal column j is
        // never read again, so only its diagonal entry is updated, last.
        let alpha = if a[j * cols + j] > 0.0 { -norm } else { norm };
        let v0 = a[j * cols + j] - alpha;
        let v = |a: &[f64], i: usize| if i == j { v0 } else { a[i * cols + j] };
        let vv: f64 = (j..rows).map(|i| v(a, i) * v(a, i)).sum();
        if vv == 0.0 {
            continue;
        }
        let reflect = |a: &[f64], x: &dyn Fn(usize) -> f64| 2.0 * (j..rows).map(|i| v(a, i) * x(i)).sum::<f64>() / vv;
        for c in j + 1..cols {
            let f = reflect(a, &|i| a[i * cols + c]);
            for i in j..rows {
                a[i * cols + c] -= f * v(a, i);
            }
        }
        let f = reflect(a, &|i| b[i]);
        for i in j..rows {
            b[i] -= f * v(a, i);
        }
        let f = reflect(a, &|i| a[i * cols + j]);
        a[j * cols + j] -= f * v0;
    }
    // x overwrites b from the last entry up: entry j of b is read before it
    // is replaced, and the entries after it are already x.
    for j in (0..cols).rev() {
        let s: f64 = (j + 1..cols).map(|c| a[j * cols + c] * b[c]).sum();
        b[j] = (b[j] - s) / a[j * cols + j];
    }
    true
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: the same Householder least squares with its reflectors
    /// in vectors of their own, which the in-place version must match bit
    /// for bit.
    fn reference(a: &[f64], rows: usize, cols: usize, b: &[f64]) -> Option<Vec<f64>> {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
        for j in 0..cols {
            let norm = (j..rows).map(|i| a[i * cols + j] * a[i * cols + j]).sum::<f64>().sqrt();
            if norm <= 1e-12 * scale {
                return None;
            }
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

    #[test]
    fn least_squares_in_place_is_the_reference_bit_for_bit() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut solved = 0;
        for case in 0..3000 {
            let cols = 1 + case % 9;
            let rows = cols + (case / 9) % 3;
            let mut a: Vec<f64> = (0..rows * cols).map(|_| next()).collect();
            match case % 5 {
                // Rank deficient: a repeated column.
                0 if cols > 1 => {
                    for i in 0..rows {
                        a[i * cols + cols - 1] = a[i * cols];
                    }
                }
                // Structured like the support systems: ±1 entries, a zero corner.
                1 => {
                    for i in 0..rows.min(cols) {
                        a[i * cols + cols - 1] = -1.0;
                        a[(rows - 1) * cols + i] = 1.0;
                    }
                    a[rows * cols - 1] = 0.0;
                }
                _ => {}
            }
            let b: Vec<f64> = (0..rows).map(|_| next()).collect();
            let want = reference(&a, rows, cols, &b);
            let got = least_squares(&a, rows, cols, &b);
            let bits = |x: &Option<Vec<f64>>| x.as_ref().map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>());
            assert_eq!(bits(&got), bits(&want), "case {case}: {rows} × {cols}");
            solved += usize::from(want.is_some());
        }
        assert!(solved > 2000, "only {solved} systems were solvable");
    }
}
