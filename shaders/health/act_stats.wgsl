// Gradient-health statistics, computed inside a sampled training step and read back only
// then: per activation output its mean, standard deviation, dead-unit fraction (units that
// output exactly 0 for the whole batch) and saturated fraction; per weight the norms of the
// weight and of its update.

// Declared before this file (generated from Rust): `p` (HealthParams: rows, cols,
// saturation = SAT_* below, offset = where in the health buffer) and the kernel's buffers.

const SAT_NONE: u32 = 0u;
const SAT_TANH: u32 = 1u;
const SAT_SIGMOID: u32 = 2u;

fn saturated(y: f32) -> bool {
    switch p.saturation {
        case SAT_TANH: { return abs(y) > 0.99; }
        case SAT_SIGMOID: { return y < 0.01 || y > 0.99; }
        case SAT_NONE, default: { return false; }
    }
}

// One workgroup over y [rows, cols].
@compute @workgroup_size(256)
fn act_stats(@builtin(local_invocation_id) lid: vec3<u32>) {
    var sum = 0.0;
    var sq = 0.0;
    var dead = 0.0;
    var sat = 0.0;
    for (var c = lid.x; c < p.cols; c += 256u) {
        var all_zero = true;
        for (var rb = 0u; rb < p.rows; rb += ROW_UNROLL) {
            for (var u = 0u; u < ROW_UNROLL; u++) {
                let r = rb + u;
                if (r < p.rows) {
                    let v = y[r * p.cols + c];
                    sum += v;
                    sq += v * v;
                    if (v != 0.0) { all_zero = false; }
                    if (saturated(v)) { sat += 1.0; }
                }
            }
        }
        if (all_zero) { dead += 1.0; }
    }
    r0[lid.x] = sum;
    r1[lid.x] = sq;
    r2[lid.x] = dead;
    r3[lid.x] = sat;
    workgroupBarrier();
    reduce(lid.x);
    if (lid.x == 0u) {
        let n = f32(p.rows * p.cols);
        let mean = r0[0] / n;
        health[p.offset] = mean;
        health[p.offset + 1u] = sqrt(max(r1[0] / n - mean * mean, 0.0));
        health[p.offset + 2u] = r2[0] / f32(p.cols);
        health[p.offset + 3u] = r3[0] / n;
    }
}
