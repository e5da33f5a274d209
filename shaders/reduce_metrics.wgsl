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

// The time-average output (docs/theory.md): Σ_t g_t(y) per lane, compensated.
fn accumulate_average(sum: vec2<f32>, g: f32) -> vec2<f32> {
    return kahan_add(sum.x, sum.y, g);
}
