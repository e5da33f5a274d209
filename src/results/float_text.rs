//! The text of an f64 in the result tables, as Rust's `{}` and `{:e}` write
//! it, without `core::fmt`: a table of a row per population formats tens of
//! millions of numbers, and the formatting machinery (digit generation by
//! Grisu with a Dragon fallback, padding and sign handling per call) costs
//! several times the numbers themselves.
//!
//! Both `{}` and `{:e}` print the shortest digits that parse back to the same
//! f64, the closest of them to it; `zmij` computes the same digits (but for
//! ties, see [`may_tie`]). Its layout differs a little (`1.0`, `1e+20`,
//! plain decimals from 1e-5 to 1e16): where it is not `{}`'s or `{:e}`'s
//! once a `.0` or a `+` is dropped, the digits and the decimal exponent are
//! read back from its text and laid out as `{}` (plain decimals, no
//! exponent, no trailing `.0`) or `{:e}` (`d.ddde-N`, no `+`, no padding).

/// Appends `format!("{x}")` to `out`.
pub fn push_display(out: &mut Vec<u8>, x: f64) {
    push(out, x, false);
}

/// Appends `format!("{x:e}")` to `out`.
pub fn push_lower_exp(out: &mut Vec<u8>, x: f64) {
    push(out, x, true);
}

fn push(out: &mut Vec<u8>, x: f64, exp: bool) {
    if !x.is_finite() {
        out.extend_from_slice(if x.is_nan() {
            b"NaN"
        } else if x < 0.0 {
            b"-inf"
        } else {
            b"inf"
        });
        return;
    }
    if may_tie(x) {
        use std::io::Write as _;
        // Writing into a Vec cannot fail.
        let _ = if exp { write!(out, "{x:e}") } else { write!(out, "{x}") };
        return;
    }
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(x).as_bytes();
    // Most numbers need no other layout than zmij's, but for a `.0` or a
    // `+`: zmij writes plain decimals from 1e-5 to 1e16, and `d.ddde±N`
    // outside, zero included (`0.0`).
    match (exp, text.iter().position(|&b| b == b'e')) {
        (false, None) => out.extend_from_slice(text.strip_suffix(b".0").unwrap_or(text)),
        (true, Some(e)) => {
            out.extend_from_slice(&text[..=e]);
            out.extend_from_slice(text[e + 1..].strip_prefix(b"+").unwrap_or(&text[e + 1..]));
        }
        (true, None) if x == 0.0 => out.extend_from_slice(if x.is_sign_negative() { b"-0e0" } else { b"0e0" }),
        (true, None) => Decimal::parse(text).push_exp(out),
        (false, Some(_)) => Decimal::parse(text).push_plain(out),
    }
}

/// Whether two shortest digit strings may be equally close to `x`: then
/// `zmij` takes the even last digit and `core::fmt` does not always
/// (`715957926182189.25` is `…189.3` to `{}`, `…189.2` to `zmij`). Such a
/// tie is `x = D + 10^q / 2` with `D` a multiple of `10^q`, `D` and
/// `D + 10^q` both within half an ulp of `x` (so `10^q ≤ ulp`), and at most
/// 17 digits in `D` (so at most 18 significant digits in `x`). Numbers that
/// meet both conditions are rare (magnitudes near 1e15, or integers past
/// 2^53), and `core::fmt` writes them.
fn may_tie(x: f64) -> bool {
    const LIMIT: u128 = 1_000_000_000_000_000_000;
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    if biased == 0x7ff || (biased == 0 && fraction == 0) {
        return false;
    }
    // x = m × 2^e with m odd; the ulp is 2^ulp_exponent.
    let ulp_exponent = biased.max(1) - 1075;
    let (mut m, mut e) = if biased == 0 { (fraction, -1074) } else { (fraction | 1 << 52, biased - 1075) };
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += zeros as i32;
    if e < 0 {
        // x = m × 5^k / 10^k: k decimals, the last a 5 (m × 5^k is odd), so
        // q = 1 − k; 10^(1−k) ≤ 2^ulp_exponent is 2^-ulp_exponent ≤ 10^(k−1).
        let k = -e as u32;
        let a = -ulp_exponent as u32;
        k <= 26 && (m as u128) * 5u128.pow(k) < LIMIT && a < 128 && 1u128 << a <= 10u128.pow(k - 1)
    } else if x.abs() < 9007199254740992.0 {
        // An integer with an ulp of at most 1: q ≤ 0 would need a decimal.
        false
    } else {
        // An integer: m × 2^e with its trailing decimal zeros removed.
        let mut fives = 0;
        while m % 5 == 0 {
            m /= 5;
            fives += 1;
        }
        let shift = e - fives.min(e);
        shift < 64 && ((m as u128) << shift) < LIMIT
    }
}

/// The shortest round-trip digits of a finite nonzero f64: the value is
/// `0.DIGITS × 10^point`, sign aside. At most 17 digits.
struct Decimal {
    negative: bool,
    digits: [u8; 24],
    len: usize,
    point: i32,
}

impl Decimal {
    /// The digits of zmij's text of a finite nonzero number.
    fn parse(text: &[u8]) -> Decimal {
        let negative = text[0] == b'-';
        let text = &text[usize::from(negative)..];
        let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
            Some(e) => (&text[..e], parse_exponent(&text[e + 1..])),
            None => (text, 0),
        };
        let mut d = Decimal { negative, digits: [0; 24], len: 0, point: 0 };
        // The value is 0.DIGITS × 10^(digits before the dot − leading zeros
        // + exponent): `0.001234` is 0.1234 × 10^(1 − 3).
        let dot = mantissa.iter().position(|&b| b == b'.').unwrap_or(mantissa.len());
        let mut leading_zeros = 0;
        for &b in mantissa.iter().filter(|&&b| b != b'.') {
            if b == b'0' && d.len == 0 {
                leading_zeros += 1;
            } else {
                d.digits[d.len] = b;
                d.len += 1;
            }
        }
        while d.len > 1 && d.digits[d.len - 1] == b'0' {
            d.len -= 1;
        }
        d.point = dot as i32 - leading_zeros + exponent;
        d
    }

    /// `{}`: plain decimals, zeros filled in on either side.
    fn push_plain(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        let digits = &self.digits[..self.len];
        if self.point <= 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-self.point) as usize, b'0');
            out.extend_from_slice(digits);
        } else if (self.point as usize) < self.len {
            let (integer, fraction) = digits.split_at(self.point as usize);
            out.extend_from_slice(integer);
            out.push(b'.');
            out.extend_from_slice(fraction);
        } else {
            out.extend_from_slice(digits);
            out.resize(out.len() + self.point as usize - self.len, b'0');
        }
    }

    /// `{:e}`: one digit, the others after a dot, then `e` and the exponent.
    fn push_exp(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        out.push(self.digits[0]);
        if self.len > 1 {
            out.push(b'.');
            out.extend_from_slice(&self.digits[1..self.len]);
        }
        out.push(b'e');
        out.extend_from_slice(itoa::Buffer::new().format(self.point - 1).as_bytes());
    }
}

/// `+12`, `-7` or `308` as written after `e`.
fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits.iter().fold(0i32, |v, &b| v * 10 + i32::from(b - b'0'));
    if negative {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(x: f64) -> String {
        let mut out = Vec::new();
        push_display(&mut out, x);
        String::from_utf8(out).unwrap()
    }

    fn lower_exp(x: f64) -> String {
        let mut out = Vec::new();
        push_lower_exp(&mut out, x);
        String::from_utf8(out).unwrap()
    }

    fn check(x: f64) {
        assert_eq!(display(x), format!("{x}"), "{{}} of {:#x}", x.to_bits());
        assert_eq!(lower_exp(x), format!("{x:e}"), "{{:e}} of {:#x}", x.to_bits());
    }

    #[test]
    fn edge_cases_are_written_as_core_fmt_writes_them() {
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.0001,
            0.00012,
            123456.789,
            1e14,
            1e15,
            1e16,
            1e20,
            1e-9,
            1.3877787807814457e-16,
            0.1 + 0.2,
            5e-324,
            -5e-324,
            2.2250738585072014e-308,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            9007199254740993.0,
            5.444310685350916e14,
            -4.932096661796888e-226,
            3.439070283483335e35,
            100.0,
            1234.5,
            0.5,
        ];
        for x in edges {
            check(x);
        }
        assert_eq!(display(1e14), "100000000000000");
        assert_eq!(lower_exp(1e-9), "1e-9");
        assert_eq!(lower_exp(f64::INFINITY), "inf");
    }

    #[test]
    fn powers_of_ten_and_their_neighbours() {
        for e in -325..=309 {
            let p: f64 = format!("1e{e}").parse().unwrap();
            for x in [p, p.next_up(), p.next_down(), p.next_up().next_up(), p.next_down().next_down()] {
                check(x);
                check(-x);
            }
        }
        // Every binary exponent, at the bottom, middle and top of its range.
        for exp in 0..0x7ffu64 {
            for mantissa in [0, 1, 1 << 51, (1 << 52) - 1] {
                check(f64::from_bits(exp << 52 | mantissa));
            }
        }
    }

    /// Exact decimal midpoints of every length around 17 digits: numbers
    /// with a few binary fraction digits near 1e15, and integers past 2^53.
    #[test]
    fn ties_are_written_as_core_fmt_writes_them() {
        let mut state = 5u64;
        for _ in 0..100_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let m = (state >> 11) as f64;
            for scale in [0.5, 0.25, 0.125, 0.0625, 0.03125, 2.0, 4.0, 8.0, 16.0, 64.0, 1024.0] {
                check(m * scale);
            }
            let digits = (state >> 40) as f64;
            for power in [1e3, 1e4, 1e5] {
                check(digits * power + power / 2.0);
            }
        }
        // The numbers of the tables take the fast path; midpoints do not.
        assert!(!may_tie(0.1 + 0.2) && !may_tie(0.7999999999999998) && !may_tie(1e-9) && !may_tie(12345.0));
        assert!(!may_tie(0.5) && !may_tie(0.75) && !may_tie(0.0001220703125));
        // 715957926182189.25, halfway between …189.2 and …189.3.
        assert!(may_tie(f64::from_bits(0x4304_5947_8ee9_e96a)) && may_tie(2f64.powi(55)));
    }

    #[test]
    fn random_bit_patterns() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..1_000_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let bits = state ^ (state >> 29);
            check(f64::from_bits(bits));
            // Values of the tables' typical magnitudes, where `{}` applies.
            let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
            check(unit * 10f64.powi((i % 24) - 8));
        }
    }
}
