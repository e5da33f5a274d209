//! Linear-interpolation percentiles of the result tables, from sorted
//! values or by selection: both read the same two order statistics (by
//! `f64::total_cmp`) and interpolate them by the same formula, so they give
//! the same bits.

/// The ranks a percentile (`q` in [0, 1]) of `len` sorted values reads, and
/// the weight of the upper one.
fn ranks(len: usize, q: f64) -> (usize, usize, f64) {
    let pos = q * (len - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    (lo, hi, pos - lo as f64)
}

/// Linear-interpolation percentile (`q` in [0, 1]) of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let (lo, hi, w) = ranks(sorted.len(), q);
    sorted[lo] + (sorted[hi] - sorted[lo]) * w
}

/// [`percentile`] of the values sorted by `total_cmp`, in linear time: the
/// values are reordered (partitioned around the ranks read), not sorted.
pub fn percentile_unsorted(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let (lo, hi, w) = ranks(values.len(), q);
    let (below, &mut upper, _) = values.select_nth_unstable_by(hi, f64::total_cmp);
    // The rank below `hi` is the largest of the values placed before it.
    let lower = if lo == hi { upper } else { below.iter().copied().max_by(f64::total_cmp).expect("lo < hi") };
    lower + (upper - lower) * w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(x: f64) -> u64 {
        x.to_bits()
    }

    #[test]
    fn percentiles_interpolate_sorted_values() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!([percentile(&v, 0.05), percentile(&v, 0.5), percentile(&v, 0.95)], [1.2, 3.0, 4.8]);
        assert_eq!(percentile(&[1.0, 2.0], 0.5), 1.5);
        assert!(percentile(&[], 0.5).is_nan());
        assert!(percentile_unsorted(&mut [], 0.5).is_nan());
    }

    /// Against sorting, bit for bit, on every length up to 40 and some
    /// larger ones, with repeats, signed zeros and infinities.
    #[test]
    fn selection_gives_the_bits_of_sorting() {
        let mut state = 7u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let special = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, 5e-324, -1.5];
        for len in (1..=40).chain([255, 256, 1000, 1001]) {
            for kind in 0..3 {
                let mut v: Vec<f64> = (0..len)
                    .map(|_| match kind {
                        0 => (next() % 1000) as f64 / 999.0,
                        1 => (next() % 5) as f64 - 2.0,
                        _ => special[next() % special.len()],
                    })
                    .collect();
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
                    let want = percentile(&sorted, q);
                    assert_eq!(bits(percentile_unsorted(&mut v, q)), bits(want), "length {len}, kind {kind}, q {q}");
                }
            }
        }
    }
}
