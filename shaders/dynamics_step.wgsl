// Twin of src/cpu/dynamics_step.rs: one update of wg_pi from this lane's
// payoff g (and g_prev for the optimistic rule). `rule` is uniform.
// Extragradient is composed from two projected steps by selfplay.wgsl.
fn dynamics_step(lane: u32, n: u32, rule: u32, eta: f32, g: f32, g_prev: f32) {
    if rule == RULE_MWU {
        // Shift by max g so exp never overflows; the shift cancels in Z.
        var own = NEG_BIG;
        if lane < n {
            own = g;
        }
        let top = wg_max(lane, own);
        var q = 0.0;
        if lane < n {
            q = wg_pi[lane] * exp(eta * (g - top));
        }
        let total = wg_sum(lane, q);
        if lane < n {
            wg_pi[lane] = q / total;
        }
        workgroupBarrier();
    } else {
        var d = g;
        if rule == RULE_OPTIMISTIC {
            d = 2.0 * g - g_prev;
        }
        if lane < n {
            wg_vec[lane] = wg_pi[lane] + eta * d;
        }
        project_simplex(lane, n);
    }
}
