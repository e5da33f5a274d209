// Shared declarations of the ualign compute modules. build.rs composes them
// (MODULES in build.rs lists the files of each, this one first), validates
// them, and generates the Rust side of this contract (constants, `Params`,
// bindings, entry points) into src/gpu/contract.rs: change a value here only.
//
// One workgroup handles one population; lane = local_invocation_index.
// All per-population offsets are absolute indices into `data` / `state`.

const WG: u32 = 256u;           // lanes per workgroup = the largest supported n (a power of two)
const MAX_K: u32 = 64u;         // the largest supported k (PL series of MAX_K + 1 terms)
const NEG_BIG: f32 = -3.0e38;   // below every g; WGSL has no -inf literal
const SUPPORT_EPS: f32 = 1e-9;  // π(y) above this counts as support (as cpu::SUPPORT_EPS)

// Header of population p: data[params.header_off + p * HEADER + field].
const HEADER: u32 = 10u;
const H_N: u32 = 0u;            // responses n
const H_NPOW: u32 = 1u;         // next power of two >= n (segment width)
const H_M_RANK: u32 = 2u;       // ranking types
const H_M_PL: u32 = 3u;         // Plackett–Luce types
const H_RANK: u32 = 4u;         // rankings: m_rank * n bytes, best first, 4 per word (little-endian)
const H_RANK_W: u32 = 5u;       // ranking weights: m_rank f32
const H_PL_META: u32 = 6u;      // PL types: m_pl * PL_META f32/u32
const H_VEC: u32 = 7u;          // state: policy[n], gprev[n], sumg[n], sumg_c[n]
const H_SCALAR: u32 = 8u;       // state: SCALARS values
const H_CHECK: u32 = 9u;        // state: checkpoints * CHECK_RECORD values

// PL type meta: weight, x_lo (log of the first node), node count (u32), worth offset (u32).
const PL_META: u32 = 4u;
// Per-population scalars in `state` (u32 fields stored with bitcast).
const SCALARS: u32 = 8u;
const S_T: u32 = 0u;            // iterations evaluated so far (u32)
const S_ACTIVE: u32 = 1u;       // 1 while running (u32)
const S_INNER: u32 = 2u;        // Σ_t <π_t, g_t> (Kahan sum)
const S_INNER_C: u32 = 3u;      // its compensation
const S_MAX_G: u32 = 4u;        // max_y g(π_t)(y) at the last evaluated iterate
const S_CP: u32 = 5u;           // checkpoints written (u32)
// Per checkpoint in `state`: iteration (u32), max g, max Σ_t g_t, Σ_t <π_t, g_t>.
const CHECK_RECORD: u32 = 4u;

// Update rules (StepRule + extragradient).
const RULE_PGA: u32 = 0u;
const RULE_MWU: u32 = 1u;
const RULE_OPTIMISTIC: u32 = 2u;
const RULE_EXTRAGRADIENT: u32 = 3u;

struct Params {
    k: u32,
    rule: u32,
    iters_total: u32,   // the iteration cap T
    iters_chunk: u32,   // iterations this dispatch may run
    header_off: u32,
    binom_off: u32,     // (k+1)^2 binomials C(j,i) at binom_off + j*(k+1) + i
    sched_off: u32,     // checkpoint iteration numbers, ascending
    sched_len: u32,
    pops: u32,
    // Plackett–Luce work range: type passes [pass_begin, pass_end) and log-s
    // nodes [node_begin, node_end). Self-play uses everything; `evaluate` may
    // split the work over dispatches (software adapters such as llvmpipe
    // stop any shader invocation after 65,535 loop iterations in total).
    pass_begin: u32,
    pass_end: u32,
    node_begin: u32,
    node_end: u32,
    eta: f32,
    tol: f32,
    fair: f32,          // 1/(k+1)
    pl_step: f32,       // trapezoid step in log s
    pl_kernel: u32,     // PL kernel: PL_AUTO (by k), PL_PER_LANE or PL_SHARED
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
@group(0) @binding(3) var<storage, read_write> counter: array<atomic<u32>>;

// Workgroup memory (5 KiB of the 16 KiB WebGPU guarantees).
var<workgroup> wg_pi: array<f32, WG>;      // current policy π
var<workgroup> wg_g: array<f32, WG>;       // its deviation vector g(π)
var<workgroup> wg_part: array<f32, WG>;    // per-segment partial g
var<workgroup> wg_scan: array<f32, WG>;    // scan / reduction scratch
var<workgroup> wg_vec: array<f32, WG>;     // projection input
var<workgroup> wg_best: atomic<u32>;       // projection: largest qualifying count
var<workgroup> wg_tau: f32;                // projection threshold
var<workgroup> wg_flag: u32;               // uniform decisions broadcast by lane 0

fn data_f32(i: u32) -> f32 {
    return bitcast<f32>(data[i]);
}

fn state_u32(i: u32) -> u32 {
    return bitcast<u32>(state[i]);
}

fn set_state_u32(i: u32, v: u32) {
    state[i] = bitcast<f32>(v);
}

fn binom(j: u32, i: u32) -> f32 {
    return data_f32(params.binom_off + j * (params.k + 1u) + i);
}


// Header field of population p (read-only storage: uniform for a uniform p).
fn header(p: u32, field: u32) -> u32 {
    return data[params.header_off + p * HEADER + field];
}

// Lane 0's value of a read_write state word, broadcast so it is uniform.
fn broadcast_u32(lane: u32, v: u32) -> u32 {
    workgroupBarrier();
    if lane == 0u {
        wg_flag = v;
    }
    return workgroupUniformLoad(&wg_flag);
}

// wg_pi ← the n-vector at state[at..] (every lane must call it).
fn load_policy(lane: u32, n: u32, at: u32) {
    if lane < n {
        wg_pi[lane] = state[at + lane];
    }
    workgroupBarrier();
}
