// Twin of src/cpu/reduce_metrics.rs: the metrics of (wg_pi, this lane's g).
// Every lane gets (max_y g(y), Σ_y π(y) g(y)); E_k = max − 1/(k+1),
// R_k = 1 − max, the sum-rule residual = Σ π g − 1/(k+1).
fn reduce_metrics(lane: u32, n: u32, g: f32) -> vec2<f32> {
    var own_max = NEG_BIG;
    var own_inner = 0.0;
    if lane < n {
        own_max = g;
        own_inner = wg_pi[lane] * g;
    }
    return vec2<f32>(wg_max(lane, own_max), wg_sum(lane, own_inner));
}

// Support size (π > SUPPORT_EPS) and Shannon entropy (nats) of wg_pi.
fn reduce_support(lane: u32, n: u32) -> vec2<f32> {
    var inside = 0.0;
    var entropy = 0.0;
    if lane < n {
        let p = wg_pi[lane];
        if p > 1e-9 {
            inside = 1.0;
        }
        if p > 0.0 {
            entropy = -p * log(p);
        }
    }
    return vec2<f32>(wg_sum(lane, inside), wg_sum(lane, entropy));
}

// The time-average output (docs/theory.md): Σ_t g_t(y) per lane, compensated.
fn accumulate_average(sum: vec2<f32>, g: f32) -> vec2<f32> {
    return kahan_add(sum.x, sum.y, g);
}
