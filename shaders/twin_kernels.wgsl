// Entry points that exist only for the twin tests (tests/gpu_kernels.rs):
// each runs one building block of selfplay.wgsl on vectors the host wrote.
// They form a module of their own (see MODULES in build.rs) whose pipelines
// are created on first use, so production pipelines never contain them.

// Support size (π > SUPPORT_EPS) and Shannon entropy (nats) of wg_pi.
fn reduce_support(lane: u32, n: u32) -> vec2<f32> {
    var inside = 0.0;
    var entropy = 0.0;
    if lane < n {
        let p = wg_pi[lane];
        if p > SUPPORT_EPS {
            inside = 1.0;
        }
        if p > 0.0 {
            entropy = -p * log(p);
        }
    }
    return vec2<f32>(wg_sum(lane, inside), wg_sum(lane, entropy));
}

// Twin test of project_simplex: projects the vector in place.
@compute @workgroup_size(WG)
fn project(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let p = wid.x;
    if p >= params.pops {
        return;
    }
    let n = header(p, H_N);
    let vec_off = header(p, H_VEC);
    if lane < n {
        wg_vec[lane] = state[vec_off + lane];
    }
    project_simplex(lane, n);
    if lane < n {
        state[vec_off + lane] = wg_pi[lane];
    }
}

// Twin test of dynamics_step: policy, g, g_prev in the first three vector slots.
@compute @workgroup_size(WG)
fn step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let p = wid.x;
    if p >= params.pops {
        return;
    }
    let n = header(p, H_N);
    let vec_off = header(p, H_VEC);
    load_policy(lane, n, vec_off);
    var g = 0.0;
    var g_prev = 0.0;
    if lane < n {
        g = state[vec_off + n + lane];
        g_prev = state[vec_off + 2u * n + lane];
    }
    dynamics_step(lane, n, params.rule, params.eta, g, g_prev);
    if lane < n {
        state[vec_off + lane] = wg_pi[lane];
    }
}

// Twin test of reduce_metrics: (max g, Σ π g, support, entropy) into the scalars.
@compute @workgroup_size(WG)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let p = wid.x;
    if p >= params.pops {
        return;
    }
    let n = header(p, H_N);
    let vec_off = header(p, H_VEC);
    let sc = header(p, H_SCALAR);
    load_policy(lane, n, vec_off);
    var g = 0.0;
    if lane < n {
        g = state[vec_off + n + lane];
    }
    let metrics = reduce_metrics(lane, n, g);
    let support = reduce_support(lane, n);
    if lane == 0u {
        state[sc] = metrics.x;
        state[sc + 1u] = metrics.y;
        state[sc + 2u] = support.x;
        state[sc + 3u] = support.y;
    }
}
