//! The ranking rows of the Jacobian for many responses (beyond the register
//! pass's 16), by blocks of [`LANES`] rows on all threads, with the scalar
//! pass's additions in its order: every entry is bit for bit the same.
//!
//! The scalar pass walks each ranking type and adds, to the row of every
//! response y, y's derivative at every response ranked below it: O(n²)
//! scattered additions per type, and with a matrix of n = 1,024 rows
//! (8 MiB) every type streams the whole matrix through the cache, so at
//! m = n = 1,024 one Jacobian took 0.6 s. Here a block of rows is kept
//! transposed (`acc[z]` holds entry z of the block's rows side by side) in
//! cache while every type passes over it: walking a ranking from the top,
//! each response z gets one vector addition of the block's derivatives
//! `v`, whose lane for row y is 0 until y's own position is passed (adding
//! 0 leaves an entry's bits alone, and entries start at +0).

use rayon::prelude::*;

use crate::population::{Kind, Population};

/// Rows per block: two AVX-512 vectors per column entry, 128 KiB of
/// block at n = 1,024 (measured faster than 8 or 32).
const LANES: usize = 16;
/// Table entries (types × responses) per pass over the blocks: about 5 MiB
/// of tables, whatever the population's size.
const TABLE_ENTRIES: usize = 1 << 18;

/// What a block needs of one ranking type: its ranking, each response's
/// position in it, and the derivatives of each response's row.
struct TypeTable<'a> {
    ranking: &'a [u32],
    position: Vec<u32>,
    /// `scale · ∂S/∂L` at y: the entry `(y, y)`.
    own: Vec<f64>,
    /// `scale · (∂S/∂L + ∂S/∂B)` at y: the entries `(y, z)`, z below y.
    below: Vec<f64>,
}

/// Adds the rows of every ranking type of `pop` (rows outside `support`
/// left 0) to the row-major `n × n` Jacobian `out`, which must hold 0s.
/// Every ranking must be a permutation of the n responses (a valid
/// population's are).
pub(super) fn ranking_rows(pop: &Population, policy: &[f64], k: usize, support: Option<&[bool]>, out: &mut [f64]) {
    let n = pop.responses;
    let types: Vec<(&[u32], f64)> = pop
        .types
        .iter()
        .filter_map(|t| match &t.kind {
            Kind::Ranking(r) => Some((r.as_slice(), t.weight)),
            Kind::Scores(_) | Kind::WeakOrder(_) => None,
        })
        .collect();
    let per_pass = (TABLE_ENTRIES / n).clamp(1, 256);
    for group in types.chunks(per_pass) {
        let tables: Vec<TypeTable> =
            group.par_iter().map(|&(ranking, weight)| table(ranking, weight, policy, k, support)).collect();
        out.par_chunks_mut(LANES * n)
            .enumerate()
            .for_each_init(Vec::new, |acc, (block, rows)| add_block(rows, block * LANES, n, &tables, support, acc));
    }
}

/// One type's table, with the scalar pass's arithmetic (walk from the bottom).
fn table<'a>(ranking: &'a [u32], weight: f64, policy: &[f64], k: usize, support: Option<&[bool]>) -> TypeTable<'a> {
    let n = ranking.len();
    let scale = weight / (k as f64 + 1.0);
    let (mut position, mut own, mut below_d) = (vec![0u32; n], vec![0.0; n], vec![0.0; n]);
    let (mut l_pow, mut b_pow) = (vec![0.0; k + 1], vec![0.0; k + 1]);
    let mut below = 0.0;
    for pos in (0..n).rev() {
        let y = ranking[pos] as usize;
        position[y] = pos as u32;
        let at_or_below = below + policy[y];
        if support.is_none_or(|s| s[y]) {
            l_pow[0] = 1.0;
            b_pow[0] = 1.0;
            for i in 1..=k {
                l_pow[i] = l_pow[i - 1] * at_or_below;
                b_pow[i] = b_pow[i - 1] * below;
            }
            let (d_l, d_b) = power_sum_partials(&l_pow, &b_pow, k);
            own[y] = scale * d_l;
            below_d[y] = scale * (d_l + d_b);
        }
        below = at_or_below;
    }
    TypeTable { ranking, position, own, below: below_d }
}

/// Adds every type of `tables` to the rows `first..` of the block `rows`
/// (row-major, up to [`LANES`] rows), through the transposed copy `acc`;
/// compiled for AVX-512 too, where two additions cover all sixteen lanes
/// (the same IEEE additions, so the same bits).
fn add_block(
    rows: &mut [f64],
    first: usize,
    n: usize,
    tables: &[TypeTable],
    support: Option<&[bool]>,
    acc: &mut Vec<[f64; LANES]>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has just been checked for AVX-512F.
        return unsafe { add_block_avx512(rows, first, n, tables, support, acc) };
    }
    add_block_portable(rows, first, n, tables, support, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_block_avx512(
    rows: &mut [f64],
    first: usize,
    n: usize,
    tables: &[TypeTable],
    support: Option<&[bool]>,
    acc: &mut Vec<[f64; LANES]>,
) {
    add_block_portable(rows, first, n, tables, support, acc)
}

#[inline(always)]
fn add_lanes(a: &mut [f64; LANES], v: &[f64; LANES]) {
    for (a, v) in a.iter_mut().zip(v) {
        *a += v;
    }
}

#[inline(always)]
fn add_block_portable(
    rows: &mut [f64],
    first: usize,
    n: usize,
    tables: &[TypeTable],
    support: Option<&[bool]>,
    acc: &mut Vec<[f64; LANES]>,
) {
    let lanes = rows.len() / n;
    let active: Vec<usize> = (0..lanes).filter(|&l| support.is_none_or(|s| s[first + l])).collect();
    if active.is_empty() {
        return;
    }
    acc.clear();
    acc.resize(n, [0.0; LANES]);
    for &l in &active {
        rows[l * n..(l + 1) * n].iter().zip(acc.iter_mut()).for_each(|(r, a)| a[l] = *r);
    }
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(LANES);
    for t in tables {
        // The block's rows by their position in this ranking, top first.
        order.clear();
        order.extend(active.iter().map(|&l| (t.position[first + l] as usize, l)));
        order.sort_unstable();
        let mut v = [0.0; LANES];
        let mut from = order[0].0;
        for &(pos, l) in &order {
            for &z in &t.ranking[from..pos] {
                add_lanes(&mut acc[z as usize], &v);
            }
            let y = first + l;
            add_lanes(&mut acc[y], &v);
            acc[y][l] += t.own[y];
            v[l] = t.below[y];
            from = pos + 1;
        }
        for &z in &t.ranking[from..] {
            add_lanes(&mut acc[z as usize], &v);
        }
    }
    for &l in &active {
        rows[l * n..(l + 1) * n].iter_mut().zip(acc.iter()).for_each(|(r, a)| *r = a[l]);
    }
}

/// `(∂S/∂L, ∂S/∂B)` at `(L, B)`, from the power tables `l_pow[i] = L^i`,
/// `b_pow[i] = B^i` (shared with the scalar pass of `jacobian`).
#[inline(always)]
pub(super) fn power_sum_partials(l_pow: &[f64], b_pow: &[f64], k: usize) -> (f64, f64) {
    let mut d_l = 0.0;
    let mut d_b = 0.0;
    for i in 0..=k {
        if i >= 1 {
            d_l += i as f64 * l_pow[i - 1] * b_pow[k - i];
        }
        if i < k {
            d_b += (k - i) as f64 * l_pow[i] * b_pow[k - i - 1];
        }
    }
    (d_l, d_b)
}
