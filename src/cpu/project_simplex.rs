//! CPU twin of `shaders/project_simplex.wgsl`: Euclidean projection onto the
//! probability simplex.

/// Replaces `v` by its Euclidean projection onto `{π ≥ 0, Σ π = 1}`.
///
/// The projection is `max(v − τ, 0)` for the unique `τ` with
/// `Σ max(v − τ, 0) = 1`. We find `τ` by Michelot's active-set iteration
/// instead of sorting: start with every entry active and
/// `τ = (Σ_active v − 1)/|active|`, drop the entries `≤ τ`, recompute, and
/// stop when nothing is dropped. `τ` only grows, the largest entry is never
/// dropped, and the active set at the end is exactly the support of the
/// projection, so the result equals the sort-based (Held–Wolfe–Crowder)
/// projection; it takes a few O(n) passes instead of an O(n log n) sort.
/// `active` is scratch space, reused to keep solve loops allocation-free.
pub fn project_simplex(v: &mut [f64], active: &mut Vec<f64>) {
    active.clear();
    active.extend_from_slice(v);
    let mut tau = (active.iter().sum::<f64>() - 1.0) / active.len() as f64;
    loop {
        let before = active.len();
        active.retain(|&x| x > tau);
        if active.len() == before {
            break;
        }
        tau = (active.iter().sum::<f64>() - 1.0) / active.len() as f64;
    }
    for x in v.iter_mut() {
        *x = (*x - tau).max(0.0);
    }
}
