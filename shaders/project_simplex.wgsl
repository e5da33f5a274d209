// Twin of src/cpu/project_simplex.rs: Euclidean projection of wg_vec[0..n]
// onto the simplex, written to wg_pi.
//
// The CPU twin sorts; here lane y finds its place in the sorted order by
// counting: c = #{j : v_j ≥ v_y}, s = Σ_{j : v_j ≥ v_y} v_j, candidate
// τ_y = (s − 1)/c. The sort-based rule keeps the largest prefix with
// u_ρ > τ_ρ, so τ is the candidate of the qualifying lane with the largest c
// (tied values share c, s and τ, exactly as the last of a tie group does).
fn project_simplex(lane: u32, n: u32) {
    if lane == 0u {
        atomicStore(&wg_best, 0u);
    }
    workgroupBarrier();
    var v = 0.0;
    var count = 0u;
    var tau = 0.0;
    var qualifies = false;
    if lane < n {
        v = wg_vec[lane];
        var sum = 0.0;
        for (var j = 0u; j < n; j = j + 1u) {
            let u = wg_vec[j];
            if u >= v {
                count = count + 1u;
                sum = sum + u;
            }
        }
        tau = (sum - 1.0) / f32(count);
        qualifies = v > tau;
        if qualifies {
            atomicMax(&wg_best, count);
        }
    }
    workgroupBarrier();
    if qualifies && count == atomicLoad(&wg_best) {
        wg_tau = tau;
    }
    workgroupBarrier();
    if lane < n {
        wg_pi[lane] = max(v - wg_tau, 0.0);
    }
    workgroupBarrier();
}
