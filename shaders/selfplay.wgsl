// Twin of src/cpu/selfplay.rs: the entry points. One workgroup = one
// population (workgroup_id.x), WG lanes, lane y owns response y.

// g(π) of wg_pi into wg_g for population p: the ranking types (when
// `rankings`, a uniform flag) and the PL types within the params' ranges.
fn deviation_part(lane: u32, p: u32, rankings: bool) {
    let n = header(p, H_N);
    let npow = header(p, H_NPOW);
    wg_part[lane] = 0.0;
    workgroupBarrier();
    if rankings {
        deviation_ranking(lane, n, npow, header(p, H_M_RANK), header(p, H_RANK), header(p, H_RANK_W));
    }
    deviation_pl(lane, n, npow, header(p, H_M_PL), header(p, H_PL_META));
    if lane < n {
        var sum = 0.0;
        for (var row = lane; row < WG; row = row + npow) {
            sum = sum + wg_part[row];
        }
        wg_g[lane] = sum;
    }
    workgroupBarrier();
}

fn deviation(lane: u32, p: u32) {
    deviation_part(lane, p, true);
}

fn own_g(lane: u32, n: u32) -> f32 {
    if lane < n {
        return wg_g[lane];
    }
    return 0.0;
}

// Self-play (docs/theory.md) for up to params.iters_chunk iterations, resuming from
// the population's state. Iteration t evaluates g_t = g(π_t), adds it to the
// time average, records a checkpoint when t is scheduled, stops when
// E_k(π_t) ≤ tol or t = T, and otherwise updates π_t → π_{t+1}.
@compute @workgroup_size(WG)
fn selfplay(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let p = wid.x;
    if p >= params.pops {
        return;
    }
    let n = header(p, H_N);
    let vec_off = header(p, H_VEC);
    let sc = header(p, H_SCALAR);
    let cp_off = header(p, H_CHECK);
    if broadcast_u32(lane, state_u32(sc + S_ACTIVE)) == 0u {
        return;
    }
    var t = broadcast_u32(lane, state_u32(sc + S_T));
    var cp = broadcast_u32(lane, state_u32(sc + S_CP));
    load_policy(lane, n, vec_off);
    var g_prev = 0.0;
    var sum_g = vec2<f32>(0.0, 0.0);
    if lane < n {
        g_prev = state[vec_off + n + lane];
        sum_g = vec2<f32>(state[vec_off + 2u * n + lane], state[vec_off + 3u * n + lane]);
    }
    var inner = vec2<f32>(state[sc + S_INNER], state[sc + S_INNER_C]);
    var max_g = state[sc + S_MAX_G];
    var running = 1u;
    for (var it = 0u; it < params.iters_chunk; it = it + 1u) {
        deviation(lane, p);
        let g = own_g(lane, n);
        t = t + 1u;
        let reduced = reduce_metrics(lane, n, g);
        max_g = reduced.x;
        sum_g = accumulate_average(sum_g, g);
        inner = kahan_add(inner.x, inner.y, reduced.y);
        if cp < params.sched_len && data[params.sched_off + cp] == t {
            var own_sum = NEG_BIG;
            if lane < n {
                own_sum = sum_g.x;
            }
            let max_sum = wg_max(lane, own_sum);
            if lane == 0u {
                let rec = cp_off + cp * CHECK_RECORD;
                set_state_u32(rec, t);
                state[rec + 1u] = max_g;
                state[rec + 2u] = max_sum;
                state[rec + 3u] = inner.x;
            }
            cp = cp + 1u;
        }
        if max_g - params.fair <= params.tol || t >= params.iters_total {
            running = 0u;
            break;
        }
        if params.rule == RULE_EXTRAGRADIENT {
            // Extrapolate π_{t+½} = Proj(π_t + η g_t), re-evaluate, then step from π_t.
            var base = 0.0;
            if lane < n {
                base = wg_pi[lane];
            }
            dynamics_step(lane, n, RULE_PGA, params.eta, g, g);
            deviation(lane, p);
            let g_half = own_g(lane, n);
            if lane < n {
                wg_vec[lane] = base + params.eta * g_half;
            }
            project_simplex(lane, n);
        } else {
            var previous = g_prev;
            if t == 1u {
                previous = g;  // the optimistic rule starts as a plain step
            }
            dynamics_step(lane, n, params.rule, params.eta, g, previous);
        }
        g_prev = g;
    }
    if lane < n {
        state[vec_off + lane] = wg_pi[lane];
        state[vec_off + n + lane] = g_prev;
        state[vec_off + 2u * n + lane] = sum_g.x;
        state[vec_off + 3u * n + lane] = sum_g.y;
    }
    if lane == 0u {
        set_state_u32(sc + S_T, t);
        set_state_u32(sc + S_ACTIVE, running);
        set_state_u32(sc + S_CP, cp);
        state[sc + S_INNER] = inner.x;
        state[sc + S_INNER_C] = inner.y;
        state[sc + S_MAX_G] = max_g;
        if running == 1u {
            atomicAdd(&counter[0], 1u);
        }
    }
}

// g(π) of the policy at the population's vector offset, added to the vector
// after it (zero at first): the host may split the PL work over dispatches.
@compute @workgroup_size(WG)
fn evaluate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let p = wid.x;
    if p >= params.pops {
        return;
    }
    let n = header(p, H_N);
    let vec_off = header(p, H_VEC);
    load_policy(lane, n, vec_off);
    deviation_part(lane, p, params.pass_begin == 0u && params.node_begin == 0u);
    if lane < n {
        state[vec_off + n + lane] = state[vec_off + n + lane] + wg_g[lane];
    }
}
