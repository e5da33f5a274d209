//! CPU twin of `shaders/deviation_pl.wgsl`: the deviation vector of one
//! Plackett–Luce type, exactly up to a quadrature error far below 1e-9
//! (docs/theory.md, the integral method).
//!
//! With worths `w` (normalised so the largest is 1),
//!
//! ```text
//! g_t(y) = ∫_0^∞ w_y e^{−w_y s} H_y(s) ds,
//! H_y(s) = k! [u^k] G_y(u) Π_{z≠y} F_z(u),
//! F_z(u) = 1 + e^{−s w_z} (e^{π_z u} − 1),   G_y(u) = Σ_c π_y^c u^c / (c+1)!
//! ```
//!
//! In f64 the series are kept in ordinary form in the scaled variable
//! `u / scale` (see [`series_scale`]: coefficient `j` of a product is at most
//! `scale^j / j!`, inside f64 for every k ≤ 1,000), so a product is a plain
//! convolution; the f32 GPU twin scales coefficient `j` by `j!` instead. All
//! leave-one-out products `Π_{z≠y} F_z` come from prefix and suffix products
//! over the policy's support, `O(n·k²)` per node with no division, and each
//! `e^{−s w_z}` is computed once per node. Every term is non-negative, so
//! nothing cancels. The outer integral is a trapezoid rule in `x`, with
//! `s = e^x` (the GPU grid) or `s = e^{x − e^{−x}} / rate` (the CPU grid,
//! `rate` bounding the integrand's decay rates, see [`PlGrid::rule`]), which
//! empties the lower tail double-exponentially: a third of the nodes for the
//! same error.
//!
//! Several types of a population run side by side in vector lanes: eight
//! with AVX-512, four with AVX2 + FMA, chosen at run time. For k ≥ 8 the
//! convolutions compute four output coefficients per pass over their input
//! (independent multiply-add chains instead of one chain per coefficient).

use super::literal_k::with_literal_k;

/// The quadrature grid of the outer integral.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlGrid {
    /// Trapezoid step in `x`.
    pub step: f64,
    /// Lower end `s_lo`: the cut-off part of the integral is below `s_lo`.
    pub s_lo: f64,
    /// Upper end is `tail / w_min`: the cut-off part is below `e^{−tail}`.
    pub tail: f64,
    /// `s = e^{x − e^{−x}}` instead of `s = e^x`: the nodes below `s ≈ 1`
    /// thin out double-exponentially.
    pub taper: bool,
}

/// The grid of the f64 CPU engine: total error well below 1e-12.
pub const GRID_F64: PlGrid = PlGrid { step: 0.28, s_lo: 1e-16, tail: 40.0, taper: true };
/// The grid of the f32 GPU kernel: error about 1e-7, below f32 rounding noise.
pub const GRID_F32: PlGrid = PlGrid { step: 0.5, s_lo: 1e-7, tail: 20.0, taper: false };

impl PlGrid {
    /// Nodes `x_j = log s_j` of the plain grid (`taper` ignored) covering
    /// `[log s_lo, log(tail / w_min)]`, where `span = max score − min score`
    /// (so `w_min = e^{−span}`): the GPU kernel's layout.
    pub fn nodes(&self, span: f64) -> impl Iterator<Item = f64> + '_ {
        let x_lo = self.s_lo.ln();
        let x_hi = self.tail.ln() + span;
        let count = ((x_hi - x_lo) / self.step).ceil() as usize + 1;
        (0..count).map(move |j| x_lo + j as f64 * self.step)
    }

    /// The quadrature rule `(s_j, weight_j)` with `∫_0^∞ f ds ≈ Σ_j weight_j f(s_j)`
    /// over `[s_lo, tail / w_min]`, honouring `taper`.
    ///
    /// `rate` bounds the exponential rates of the integrand from above (the
    /// worth of `y` plus the largest worth the k draws can offer), so all of
    /// its mass lies at `s ≳ 1 / rate`: the taper thins the nodes only below
    /// that point, `s = e^{x − e^{−x}} / rate`. (A taper anchored at `s = 1`
    /// would thin them where the integrand still lives whenever many
    /// responses of similar worth are drawn: with 64 equal scores and k = 100
    /// its error was 1.4e-7.) The plain grid ignores `rate`.
    pub fn rule(&self, span: f64, rate: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        let anchor = if self.taper { rate.max(1.0).ln() } else { 0.0 };
        let (x_lo, x_hi) = if self.taper {
            (tapered_x(self.s_lo.ln() + anchor), tapered_x(self.tail.ln() + span + anchor))
        } else {
            (self.s_lo.ln(), self.tail.ln() + span)
        };
        let count = ((x_hi - x_lo) / self.step).ceil() as usize + 1;
        let taper = self.taper;
        let step = self.step;
        (0..count).map(move |j| {
            let x = x_lo + j as f64 * step;
            if taper {
                let lift = (-x).exp();
                let s = (x - lift - anchor).exp();
                (s, step * s * (1.0 + lift))
            } else {
                let s = x.exp();
                (s, step * s)
            }
        })
    }
}

/// An upper bound on the exponential rates of the integrand for a type with
/// worths `worth` (largest 1) under a policy with the given support: the
/// worth of `y` (at most 1) plus the worth of the distinct responses among k
/// draws, at most k times the largest support worth and at most the support's
/// total worth.
pub fn rate_bound<'a>(worth: impl Iterator<Item = &'a f64>, k: usize) -> f64 {
    let (top, total) = worth.fold((0.0f64, 0.0), |(top, total), &w| (top.max(w), total + w));
    1.0 + total.min(k as f64 * top)
}

/// The `x` with `x − e^{−x} = log_s` (Newton's method; the map is increasing
/// and convex-concave, and a handful of steps reach rounding).
fn tapered_x(log_s: f64) -> f64 {
    let mut x = if log_s < 0.0 { -(-log_s).ln() } else { log_s };
    for _ in 0..60 {
        let lift = (-x).exp();
        let step = (x - lift - log_s) / (1.0 + lift);
        x -= step;
        if step.abs() <= 1e-15 * (1.0 + x.abs()) {
            break;
        }
    }
    x
}

/// The series are kept in the variable `u / scale`: coefficient `j` of
/// every series is multiplied by `scale^j`. Coefficient `j` of a product of
/// the `F_z` is at most `1/j!` unscaled, which leaves f64 (underflows) long
/// before k = 1,000 (`1/171!` is below the smallest normal number), and
/// `k! [u^k]` then multiplies an underflowed number by an overflowed one.
/// With `scale = k/e` the scaled coefficients `scale^j / j!` lie between
/// about `1/√(2πk)` (at `j = k`) and `e^{k/e}` (below 1e160 at k = 1,000),
/// every term of every convolution is bounded by the same (the policy's
/// masses sum to at most 1), and what underflows is below 1e-300 of the
/// result. Small k keep `scale = 1`.
fn series_scale(k: usize) -> f64 {
    (k as f64 / std::f64::consts::E).max(1.0)
}

/// `s·w` beyond which `e^{−s w}` counts as zero.
const FLUSH: f64 = 69.0;

/// Types evaluated side by side: every series coefficient is a lane array
/// `[f64; L]`, so the convolutions run `L` wide (the policy, hence the
/// support and the series of `e^{π_z u}`, is shared by all types of a
/// population). Four lanes fill an AVX2 register, eight an AVX-512 one.
const LANES_AVX2: usize = 4;
const LANES_AVX512: usize = 8;

/// Reusable buffers, so a solve loop allocates nothing per iteration. The
/// lane arrays are stored flat (`L` values per entry) so both lane counts
/// share them.
#[derive(Default, Clone, Debug)]
pub struct PlScratch {
    worth: Vec<f64>,
    decay: Vec<f64>,
    support: Vec<usize>,
    /// Per support member `z`, [`series_stride`] values: `E_i = π_z^i / i!`
    /// (the series of `e^{π_z u}`) for `1 ≤ i ≤ k` at `BLOCK + k − i`, zero
    /// elsewhere (`E_0` is not needed).
    series_rev: Vec<f64>,
    /// Per support member `y`, `k + 1 + BLOCK` values: `G_y` reversed,
    /// `π_y^{k−c} / (k−c+1)!` at `c ≤ k`, then zeros.
    g_rev: Vec<f64>,
    prefix: Vec<f64>,
    suffix: Vec<f64>,
    acc: Vec<f64>,
}

/// `a·b + c`, fused where the caller was compiled with FMA (`FMA = true`):
/// without the instruction `mul_add` would be a slow library call.
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Lane-wise `a·b + c` with a scalar `b`.
#[inline(always)]
fn madd_lanes<const FMA: bool, const L: usize>(a: [f64; L], b: f64, c: [f64; L]) -> [f64; L] {
    std::array::from_fn(|l| madd::<FMA>(a[l], b, c[l]))
}

/// Lane-wise `e^{−x}` for `0 ≤ x < FLUSH`, to a few ulp: `x = n ln 2 + r` with
/// `|r| ≤ ln 2 / 2`, a degree-13 Taylor polynomial for `e^{−r}` and `2^{−n}`
/// from the exponent bits. Straight-line code, so the lanes vectorise (a
/// libm call per lane does not).
#[inline(always)]
fn exp_neg_lanes<const FMA: bool, const L: usize>(x: [f64; L]) -> [f64; L] {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding 1.5·2^52 rounds to an integer held in the low mantissa bits.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    std::array::from_fn(|l| {
        let t = -x[l] * std::f64::consts::LOG2_E + SHIFTER;
        let n = t - SHIFTER;
        let r = madd::<FMA>(-n, LN2_LO, madd::<FMA>(-n, LN2_HI, -x[l]));
        let mut p = 1.0 / 6_227_020_800.0; // 1/13!
        for c in [
            479_001_600.0,
            39_916_800.0,
            3_628_800.0,
            362_880.0,
            40_320.0,
            5_040.0,
            720.0,
            120.0,
            24.0,
            6.0,
            2.0,
            1.0,
            1.0,
        ] {
            p = madd::<FMA>(p, r, 1.0 / c);
        }
        let bits = (t.to_bits() as i64 - SHIFTER.to_bits() as i64 + 1023) << 52;
        p * f64::from_bits(bits as u64)
    })
}

/// Output coefficients computed together by the blocked convolutions: that
/// many independent multiply-add chains, each input row loaded once per block.
const BLOCK: usize = 4;

/// Below this k the chains are short and the padding terms of the blocked
/// convolutions cost more than they save (measured: k = 4 ran 2.4× slower
/// blocked, k = 8 1.4× faster).
const BLOCKED_MIN_K: usize = 8;

/// Length of one member's zero-padded `series_rev` row.
fn series_stride(k: usize) -> usize {
    k + 2 * BLOCK
}

/// `out = a · F` truncated at degree `k`, with `F = 1 + e (E − 1)` and the
/// padded `series_rev` row of `E`. The convolution `Σ_{j<r} a_j E_{r−j}`
/// runs `BLOCK` output coefficients at a time: per `a_j`, `BLOCK`
/// independent multiply-adds (one chain per coefficient would wait on the
/// multiply-add latency at every step). The zero padding makes the terms
/// with `j ≥ r` vanish, so every step is the same `BLOCK` multiply-adds.
#[inline(always)]
fn times_factor<const FMA: bool, const L: usize>(
    a: &[[f64; L]],
    e: [f64; L],
    series_rev: &[f64],
    out: &mut [[f64; L]],
) {
    let k = a.len() - 1;
    if e == [0.0; L] {
        out[..=k].copy_from_slice(a);
        return;
    }
    out[0] = a[0];
    if k < BLOCKED_MIN_K {
        for r in 1..=k {
            // Σ_{j<r} a_j E_{r−j}, with E_{r−j} at BLOCK + k − r + j.
            let mut conv = [0.0; L];
            for (aj, &ej) in a[..r].iter().zip(&series_rev[BLOCK + k - r..BLOCK + k]) {
                conv = madd_lanes::<FMA, L>(*aj, ej, conv);
            }
            out[r] = std::array::from_fn(|l| madd::<FMA>(e[l], conv[l], a[r][l]));
        }
        return;
    }
    for r0 in (1..=k).step_by(BLOCK) {
        let mut conv = [[0.0; L]; BLOCK];
        // Terms with j ≥ r0 + BLOCK − 1 vanish for every output of the block.
        for (j, aj) in a[..(r0 + BLOCK - 1).min(k)].iter().enumerate() {
            // E_{r0+t−j} for t = 0..BLOCK, at BLOCK + k − r0 − t + j.
            let top = BLOCK + k - r0 + j;
            let ej = &series_rev[top + 1 - BLOCK..=top];
            for (t, c) in conv.iter_mut().enumerate() {
                *c = madd_lanes::<FMA, L>(*aj, ej[BLOCK - 1 - t], *c);
            }
        }
        for (t, c) in conv.iter().enumerate() {
            let r = r0 + t;
            if r <= k {
                out[r] = std::array::from_fn(|l| madd::<FMA>(e[l], c[l], a[r][l]));
            }
        }
    }
}

/// `[u^k] P · S · G` for series `P`, `S` (rows of `k + 1` lane arrays) and
/// the padded reversed row `g_rev` of `G`, as `Σ_a P_a Σ_b S_b G_{k−a−b}`:
/// the inner sums for `BLOCK` consecutive `a` side by side (independent
/// chains, each `S_b` loaded once per block); the padding zeros the terms
/// past degree `k`.
#[inline(always)]
fn leave_one_out<const FMA: bool, const L: usize>(p: &[[f64; L]], sfx: &[[f64; L]], g_rev: &[f64]) -> [f64; L] {
    let k = p.len() - 1;
    if k < BLOCKED_MIN_K {
        let mut h = [0.0; L];
        for (a, pa) in p.iter().enumerate() {
            let mut t = [0.0; L];
            for (sb, &g) in sfx[..=k - a].iter().zip(&g_rev[a..]) {
                t = madd_lanes::<FMA, L>(*sb, g, t);
            }
            h = std::array::from_fn(|l| madd::<FMA>(pa[l], t[l], h[l]));
        }
        return h;
    }
    let mut h = [[0.0; L]; BLOCK];
    for a0 in (0..=k).step_by(BLOCK) {
        let mut t = [[0.0; L]; BLOCK];
        for (b, sb) in sfx[..=k - a0].iter().enumerate() {
            let g = &g_rev[a0 + b..a0 + b + BLOCK];
            for (s, ts) in t.iter_mut().enumerate() {
                *ts = madd_lanes::<FMA, L>(*sb, g[s], *ts);
            }
        }
        for (s, (hs, ts)) in h.iter_mut().zip(&t).enumerate() {
            if a0 + s <= k {
                *hs = std::array::from_fn(|l| madd::<FMA>(p[a0 + s][l], ts[l], hs[l]));
            }
        }
    }
    std::array::from_fn(|l| (h[0][l] + h[1][l]) + (h[2][l] + h[3][l]))
}

/// Adds `weight · g_t(y)` to `out[y]` for every response `y`, where `t` is the
/// Plackett–Luce type with the given scores.
pub fn deviation_pl(
    scores: &[f64],
    weight: f64,
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    deviation_pl_types(&[(weight, scores)], policy, k, grid, out, scratch);
}

/// [`deviation_pl`] for several types `(weight, scores)` at once (the same
/// sums, several types per vector instruction).
pub fn deviation_pl_types(
    types: &[(f64, &[f64])],
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        for group in types.chunks(LANES_AVX512) {
            // SAFETY: the CPU has just been checked for all three features.
            unsafe { group_avx512(group, policy, k, grid, out, scratch) };
        }
        return;
    }
    deviation_pl_types_avx2(types, policy, k, grid, out, scratch);
}

/// [`deviation_pl_types`] without the AVX-512 path (four lanes, AVX2 + FMA
/// where the CPU has them), so tests can hold the paths against each other.
#[doc(hidden)]
pub fn deviation_pl_types_avx2(
    types: &[(f64, &[f64])],
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    for group in types.chunks(LANES_AVX2) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has just been checked for both features.
            unsafe { group_avx2(group, policy, k, grid, out, scratch) };
            continue;
        }
        deviation_pl_types_portable(group, policy, k, grid, out, scratch);
    }
}

/// [`deviation_pl_types`] without the AVX2/FMA and AVX-512 paths (what CPUs
/// without them run), so tests can hold the paths against each other on any
/// machine.
#[doc(hidden)]
pub fn deviation_pl_types_portable(
    types: &[(f64, &[f64])],
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    for group in types.chunks(LANES_AVX2) {
        pl_literal_k!(k, |k| group_body::<false, LANES_AVX2>(group, policy, k, grid, out, scratch));
    }
}

/// The `k` values compiled with a literal `k`: k ≤ 8 and 16 (the series rows
/// then have a compile-time length and unroll into registers).
macro_rules! pl_literal_k {
    ($k:expr, |$name:ident| $body:expr) => {
        with_literal_k!($k, [1 2 3 4 5 6 7 8 16], |$name| $body)
    };
}
use pl_literal_k;

/// The kernel compiled for AVX2 with FMA (the default x86-64 target has
/// neither: the lanes would run two wide without fusion).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn group_avx2(
    group: &[(f64, &[f64])],
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    pl_literal_k!(k, |k| group_body::<true, LANES_AVX2>(group, policy, k, grid, out, scratch))
}

/// The kernel with eight lanes in AVX-512 registers (32 of them: a whole
/// series row of k = 16 stays in registers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn group_avx512(
    group: &[(f64, &[f64])],
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    pl_literal_k!(k, |k| group_body::<true, LANES_AVX512>(group, policy, k, grid, out, scratch))
}

/// Up to `L` types in the lanes; missing lanes repeat the first type with
/// weight 0.
#[inline(always)]
fn group_body<const FMA: bool, const L: usize>(
    group: &[(f64, &[f64])],
    policy: &[f64],
    k: usize,
    grid: &PlGrid,
    out: &mut [f64],
    scratch: &mut PlScratch,
) {
    let n = policy.len();
    let w = k + 1;
    let lane = |l: usize| if l < group.len() { group[l] } else { (0.0, group[0].1) };
    let PlScratch { worth, decay, support, series_rev, g_rev, prefix, suffix, acc } = scratch;
    let mut span: f64 = 0.0;
    worth.clear();
    worth.resize(n * L, 0.0);
    let worth: &mut [[f64; L]] = worth.as_chunks_mut().0;
    for l in 0..L {
        let scores = lane(l).1;
        let (lo, hi) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        span = span.max(hi - lo);
        for (wz, s) in worth.iter_mut().zip(scores) {
            wz[l] = (s - hi).exp();
        }
    }
    decay.clear();
    decay.resize(n * L, 0.0);
    let decay: &mut [[f64; L]] = decay.as_chunks_mut().0;
    // Responses outside the support contribute F_z = 1: skip them entirely.
    support.clear();
    support.extend((0..n).filter(|&z| policy[z] > 0.0));
    let m = support.len();
    let ws = series_stride(k);
    let wg = w + BLOCK;
    series_rev.clear();
    series_rev.resize(m * ws, 0.0);
    g_rev.clear();
    g_rev.resize(m * wg, 0.0);
    let scale = series_scale(k);
    for (j, &z) in support.iter().enumerate() {
        let p = policy[z] * scale;
        let mut term = 1.0;
        for c in 0..=k {
            if c > 0 {
                term *= p / c as f64;
                series_rev[j * ws + BLOCK + k - c] = term;
            }
            // G_c = π^c / (c+1)!.
            g_rev[j * wg + k - c] = term / (c as f64 + 1.0);
        }
    }
    prefix.resize((m + 1) * w * L, 0.0);
    suffix.resize((m + 1) * w * L, 0.0);
    acc.clear();
    acc.resize(n * L, 0.0);
    let prefix: &mut [[f64; L]] = prefix.as_chunks_mut().0;
    let suffix: &mut [[f64; L]] = suffix.as_chunks_mut().0;
    let acc: &mut [[f64; L]] = acc.as_chunks_mut().0;
    prefix[..w].fill([0.0; L]);
    prefix[0] = [1.0; L];
    suffix[m * w..].fill([0.0; L]);
    suffix[m * w] = [1.0; L];

    let rate = (0..L).map(|l| rate_bound(support.iter().map(|&z| &worth[z][l]), k)).fold(1.0, f64::max);
    for (s, node_weight) in grid.rule(span, rate) {
        let mut alive = false;
        for (d, wz) in decay.iter_mut().zip(worth.iter()) {
            // Below e^{−69} ≈ 1e-30 a factor is 1 and a kernel 0 to far below
            // rounding; cutting there keeps the products free of subnormals.
            let x: [f64; L] = std::array::from_fn(|l| (s * wz[l]).min(FLUSH));
            let e = exp_neg_lanes::<FMA, L>(x);
            *d = std::array::from_fn(|l| if x[l] < FLUSH { e[l] } else { 0.0 });
            alive |= x.iter().any(|&v| v < FLUSH);
        }
        if !alive {
            break; // s only grows: every later node is zero too
        }
        // prefix[j] = F_{support[0]} ⋯ F_{support[j−1]}, suffix[j] = the rest.
        for j in 0..m {
            let (done, next) = prefix.split_at_mut((j + 1) * w);
            times_factor::<FMA, L>(
                &done[j * w..],
                decay[support[j]],
                &series_rev[j * ws..(j + 1) * ws],
                &mut next[..w],
            );
        }
        for j in (0..m).rev() {
            let (head, tail) = suffix.split_at_mut((j + 1) * w);
            times_factor::<FMA, L>(
                &tail[..w],
                decay[support[j]],
                &series_rev[j * ws..(j + 1) * ws],
                &mut head[j * w..],
            );
        }
        // Responses outside the support: H/k! = [u^k] Π_{all support} F_z.
        let full = prefix[m * w + k];
        let mut j = 0;
        for y in 0..n {
            let kernel: [f64; L] = std::array::from_fn(|l| node_weight * worth[y][l] * decay[y][l]);
            let in_support = j < m && support[j] == y;
            if kernel != [0.0; L] {
                let h = if in_support {
                    // [u^k] prefix[j] · suffix[j+1] · G_y, as Σ_a P_a Σ_b S_b G_{k−a−b}.
                    leave_one_out::<FMA, L>(
                        &prefix[j * w..(j + 1) * w],
                        &suffix[(j + 1) * w..(j + 2) * w],
                        &g_rev[j * wg..(j + 1) * wg],
                    )
                } else {
                    full
                };
                acc[y] = std::array::from_fn(|l| madd::<FMA>(kernel[l], h[l], acc[y][l]));
            }
            if in_support {
                j += 1;
            }
        }
    }
    // k! / scale^k, as a product of factors i / scale: its partial products
    // stay within about e^{±k/e} (no overflow for k ≤ 1,000, where k! alone
    // overflows from k = 171).
    let unscale: f64 = (1..=k).map(|i| i as f64 / scale).product();
    for (y, a) in acc.iter().enumerate() {
        for (l, &v) in a.iter().enumerate() {
            out[y] += lane(l).0 * unscale * v;
        }
    }
}
