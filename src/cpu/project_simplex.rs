//! CPU twin of `shaders/project_simplex.wgsl`: Euclidean projection onto the
//! probability simplex.

/// Replaces `v` by its Euclidean projection onto `{π ≥ 0, Σ π = 1}`.
///
/// Sort-based (Held–Wolfe–Crowder / Duchi et al.): the projection is
/// `max(v − τ, 0)` with `τ` fixed by the largest `ρ` such that
/// `u_ρ > (Σ_{j≤ρ} u_j − 1)/ρ` for `u` sorted in decreasing order.
/// `sorted` is scratch space, reused to keep solve loops allocation-free.
pub fn project_simplex(v: &mut [f64], sorted: &mut Vec<f64>) {
    sorted.clear();
    sorted.extend_from_slice(v);
    sorted.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut cumulative = 0.0;
    let mut tau = 0.0;
    for (i, &u) in sorted.iter().enumerate() {
        cumulative += u;
        let t = (cumulative - 1.0) / (i as f64 + 1.0);
        if u > t {
            tau = t;
        } else {
            break;
        }
    }
    for x in v.iter_mut() {
        *x = (*x - tau).max(0.0);
    }
}
