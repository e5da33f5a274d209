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

/// Columns per panel of [`lu_factor_in_place`]: the trailing update reads
/// a panel's rows of U (`PANEL × n` values, 256 KiB at n = 1,024) from cache
/// once per row, instead of streaming the whole matrix once per column.
const PANEL: usize = 32;

/// Rows below which the trailing update stays on one thread (spawning costs
/// more than it saves on small matrices).
const PARALLEL_ROWS: usize = 128;

/// LU factorisation with partial pivoting of a row-major `n × n` matrix, in
/// place: `a` holds the unit lower factor below the diagonal and U on and
/// above it, `pivots[j]` the row swapped with row j. Blocked by panels of
/// columns, the trailing update spread over rayon's threads by rows; each
/// entry's arithmetic is the same whichever thread computes it, so the
/// result does not depend on the thread count. `false` when a pivot falls
/// to `1e-13 · max|A|` or below (numerically singular). The dense solver
/// of the large systems (the interior-point method's, Newton's on supports
/// of hundreds of responses): half the work of Householder QR, and its row
/// operations read memory contiguously.
pub fn lu_factor_in_place(a: &mut [f64], n: usize, pivots: &mut Vec<usize>) -> bool {
    use rayon::prelude::*;
    debug_assert_eq!(a.len(), n * n);
    pivots.clear();
    pivots.resize(n, 0);
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    let mut j0 = 0;
    while j0 < n {
        let j1 = (j0 + PANEL).min(n);
        // The panel: columns j0..j1 of rows j0..n, with row swaps applied to whole rows.
        for j in j0..j1 {
            let p = (j..n).max_by(|&x, &y| a[x * n + j].abs().total_cmp(&a[y * n + j].abs())).unwrap_or(j);
            if !(a[p * n + j].abs() > 1e-13 * scale) {
                return false;
            }
            pivots[j] = p;
            if p != j {
                let (upper, lower) = a.split_at_mut(p * n);
                upper[j * n..(j + 1) * n].swap_with_slice(&mut lower[..n]);
            }
            let (top, below) = a.split_at_mut((j + 1) * n);
            let pivot_row = &top[j * n..];
            let inverse = 1.0 / pivot_row[j];
            for row in below.chunks_exact_mut(n) {
                let l = row[j] * inverse;
                row[j] = l;
                for (x, u) in row[j + 1..j1].iter_mut().zip(&pivot_row[j + 1..j1]) {
                    *x -= l * u;
                }
            }
        }
        if j1 == n {
            break;
        }
        // U12 = L11⁻¹ A12: rows j0..j1, columns j1..n.
        for p in j0..j1 {
            let (top, rest) = a.split_at_mut((p + 1) * n);
            let source = &top[p * n + j1..];
            for q in p + 1..j1 {
                let row = &mut rest[(q - p - 1) * n..(q - p) * n];
                let l = row[p];
                for (x, u) in row[j1..].iter_mut().zip(&source[..n - j1]) {
                    *x -= l * u;
                }
            }
        }
        // A22 −= L21 · U12, row by row.
        let (top, below) = a.split_at_mut(j1 * n);
        let panel_rows = &top[j0 * n..];
        let update = |row: &mut [f64]| {
            for p in j0..j1 {
                let l = row[p];
                let u = &panel_rows[(p - j0) * n + j1..(p - j0 + 1) * n];
                for (x, u) in row[j1..].iter_mut().zip(u) {
                    *x -= l * u;
                }
            }
        };
        if n - j1 >= PARALLEL_ROWS {
            below.par_chunks_exact_mut(n).with_min_len(8).for_each(update);
        } else {
            below.chunks_exact_mut(n).for_each(update);
        }
        j0 = j1;
    }
    true
}

/// Solves `A x = b` in place from the factors [`lu_factor_in_place`] left.
pub fn lu_solve_in_place(lu: &[f64], n: usize, pivots: &[usize], b: &mut [f64]) {
    for (j, &p) in pivots.iter().enumerate() {
        b.swap(j, p);
    }
    for i in 0..n {
        let s: f64 = lu[i * n..i * n + i].iter().zip(&b[..i]).map(|(l, x)| l * x).sum();
        b[i] -= s;
    }
    for i in (0..n).rev() {
        let s: f64 = lu[i * n + i + 1..(i + 1) * n].iter().zip(&b[i + 1..]).map(|(u, x)| u * x).sum();
        b[i] = (b[i] - s) / lu[i * n + i];
    }
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

    #[test]
    fn lu_solves_random_systems_and_refuses_singular_ones() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        // Sizes around the panel width and past the parallel threshold.
        for n in [1, 2, 5, 31, 32, 33, 70, 200] {
            let a: Vec<f64> = (0..n * n).map(|_| next()).collect();
            let x: Vec<f64> = (0..n).map(|_| next()).collect();
            let b: Vec<f64> = (0..n).map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum()).collect();
            let (mut lu, mut pivots, mut solved) = (a.clone(), Vec::new(), b.clone());
            assert!(lu_factor_in_place(&mut lu, n, &mut pivots), "n = {n}");
            lu_solve_in_place(&lu, n, &pivots, &mut solved);
            let error = solved.iter().zip(&x).fold(0.0f64, |m, (s, x)| m.max((s - x).abs()));
            assert!(error < 1e-9, "n = {n}: error {error:e}");
            // The same system with a repeated column is singular.
            if n > 1 {
                let mut singular = a.clone();
                (0..n).for_each(|i| singular[i * n + n - 1] = singular[i * n]);
                assert!(!lu_factor_in_place(&mut singular, n, &mut pivots), "n = {n}");
            }
        }
    }
}
