//! Sorting the large samples of the result tables (a value per population,
//! tens of thousands of them, many times per cell) by `f64::total_cmp`, in
//! linear time.
//!
//! Least-significant-digit radix sort on the order-preserving integer image
//! of each float (`total_cmp` is the order of these keys), 11 bits a pass;
//! passes whose digit is the same for every value are skipped, which for
//! samples of one metric (similar exponents) is most of the high ones. The
//! result is exactly `sort_by(f64::total_cmp)`'s: keys are the bits, so equal
//! keys are bit-identical values.

const BITS: u32 = 11;
const BUCKETS: usize = 1 << BITS;
/// Below this a comparison sort is faster.
const SMALL: usize = 512;

/// The key whose unsigned order is `f64::total_cmp`.
fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

fn value(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

const PASSES: usize = 64_usize.div_ceil(BITS as usize);

/// The digit of pass `pass` (least significant first).
fn digit(k: u64, pass: usize) -> usize {
    ((k >> (pass as u32 * BITS)) as usize) & (BUCKETS - 1)
}

/// Sorts `v` as `v.sort_by(f64::total_cmp)` would.
pub fn sort_total(v: &mut [f64]) {
    if v.len() < SMALL {
        v.sort_unstable_by(f64::total_cmp);
        return;
    }
    let mut keys: Vec<u64> = v.iter().map(|&x| key(x)).collect();
    let mut other = vec![0; keys.len()];
    // Every pass's digit counts, from one read of the keys.
    let mut counts = vec![[0usize; BUCKETS]; PASSES];
    for &k in keys.iter() {
        for (pass, c) in counts.iter_mut().enumerate() {
            c[digit(k, pass)] += 1;
        }
    }
    for (pass, c) in counts.iter_mut().enumerate() {
        if c[digit(keys[0], pass)] == keys.len() {
            continue;
        }
        let mut start = 0;
        for c in c.iter_mut() {
            let n = *c;
            *c = start;
            start += n;
        }
        for &k in keys.iter() {
            let d = digit(k, pass);
            other[c[d]] = k;
            c[d] += 1;
        }
        std::mem::swap(&mut keys, &mut other);
    }
    v.iter_mut().zip(keys.iter()).for_each(|(x, &k)| *x = value(k));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the comparison sort, bit for bit, on values with every kind
    /// of float (signed zeros, infinities, NaN of both signs, subnormals,
    /// repeats) and on samples of one metric's typical range.
    #[test]
    fn the_order_is_total_cmp_bit_for_bit() {
        let mut state = 99u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state
        };
        let special = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN, 5e-324, -5e-324, 1.0, -1.0];
        for len in [0, 1, 7, 600, 5000, 900] {
            for kind in 0..3 {
                let mut v: Vec<f64> = (0..len)
                    .map(|i| match kind {
                        0 => f64::from_bits(next()),
                        1 => special[i % special.len()] * if i % 3 == 0 { 1.0 } else { (next() % 4) as f64 },
                        _ => 0.75 + (next() >> 11) as f64 / (1u64 << 53) as f64 * 1e-3,
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_by(f64::total_cmp);
                sort_total(&mut v);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&v), bits(&want), "length {len}, kind {kind}");
            }
        }
        assert_eq!(value(key(-0.0)).to_bits(), (-0.0f64).to_bits());
    }
}
