//! Literal-k dispatch for the kernels: a `match` that hands the body a
//! compile-time `k` for the listed values, so loops over the series or the
//! power sum have a constant length and unroll; any other `k` runs the same
//! body with `k` itself, so the arithmetic (and every bit of the result) is
//! the same either way.

/// `with_literal_k!(k, [1 2 3], |k| body)` runs `body` with `k` bound to the
/// literal when it is one of those listed, else to the run-time value.
macro_rules! with_literal_k {
    ($k:expr, [$($lit:literal)*], |$name:ident| $body:expr) => {
        match $k {
            $($lit => {
                let $name = $lit;
                $body
            })*
            $name => $body,
        }
    };
}
pub(crate) use with_literal_k;
