// Workgroup-wide reductions over the WG lanes. Every lane must call them
// (they contain barriers); every lane gets the result.

fn wg_sum(lane: u32, v: f32) -> f32 {
    workgroupBarrier();
    wg_scan[lane] = v;
    for (var d = WG / 2u; d > 0u; d = d / 2u) {
        workgroupBarrier();
        if lane < d {
            wg_scan[lane] = wg_scan[lane] + wg_scan[lane + d];
        }
    }
    return workgroupUniformLoad(&wg_scan[0]);
}

fn wg_max(lane: u32, v: f32) -> f32 {
    workgroupBarrier();
    wg_scan[lane] = v;
    for (var d = WG / 2u; d > 0u; d = d / 2u) {
        workgroupBarrier();
        if lane < d {
            wg_scan[lane] = max(wg_scan[lane], wg_scan[lane + d]);
        }
    }
    return workgroupUniformLoad(&wg_scan[0]);
}

// Kahan-compensated `sum += v`: returns (new sum, new compensation).
fn kahan_add(sum: f32, comp: f32, v: f32) -> vec2<f32> {
    let y = v - comp;
    let t = sum + y;
    return vec2<f32>(t, (t - sum) - y);
}
