// Gradient-health statistics, computed inside a sampled training step and read back only
// then: per activation output its mean, standard deviation, dead-unit fraction (units that
// output exactly 0 for the whole batch) and saturated fraction; per weight the norms of the
// weight and of its update.

struct Params {
    rows: u32,
    cols: u32,
    saturation: u32, // SAT_*
    offset: u32,     // where in the health buffer
}

const SAT_NONE: u32 = 0u;
const SAT_TANH: u32 = 1u;
const SAT_SIGMOID: u32 = 2u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<f32>;

var<workgroup> r0: array<f32, 256>;
var<workgroup> r1: array<f32, 256>;
var<workgroup> r2: array<f32, 256>;
var<workgroup> r3: array<f32, 256>;

fn saturated(y: f32) -> bool {
    switch p.saturation {
        case SAT_TANH: { return abs(y) > 0.99; }
        case SAT_SIGMOID: { return y < 0.01 || y > 0.99; }
        case SAT_NONE, default: { return false; }
    }
}

fn reduce(lid: u32) {
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            r0[lid] += r0[lid + stride];
            r1[lid] += r1[lid + stride];
            r2[lid] += r2[lid + stride];
            r3[lid] += r3[lid + stride];
        }
        workgroupBarrier();
    }
}

// One workgroup. s1 = y [rows, cols], s2 = health
@compute @workgroup_size(256)
fn act_stats(@builtin(local_invocation_id) lid: vec3<u32>) {
    var sum = 0.0;
    var sq = 0.0;
    var dead = 0.0;
    var sat = 0.0;
    for (var c = lid.x; c < p.cols; c += 256u) {
        var all_zero = true;
        for (var r = 0u; r < p.rows; r++) {
            let y = s1[r * p.cols + c];
            sum += y;
            sq += y * y;
            if (y != 0.0) { all_zero = false; }
            if (saturated(y)) { sat += 1.0; }
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
        s2[p.offset] = mean;
        s2[p.offset + 1u] = sqrt(max(r1[0] / n - mean * mean, 0.0));
        s2[p.offset + 2u] = r2[0] / f32(p.cols);
        s2[p.offset + 3u] = r3[0] / n;
    }
}

// One workgroup. rows = element count. s1 = a (after), s2 = b (before), s3 = health
@compute @workgroup_size(256)
fn pair_norms(@builtin(local_invocation_id) lid: vec3<u32>) {
    var bb = 0.0;
    var dd = 0.0;
    for (var i = lid.x; i < p.rows; i += 256u) {
        let b = s2[i];
        let d = s1[i] - b;
        bb += b * b;
        dd += d * d;
    }
    r0[lid.x] = bb;
    r1[lid.x] = dd;
    r2[lid.x] = 0.0;
    r3[lid.x] = 0.0;
    workgroupBarrier();
    reduce(lid.x);
    if (lid.x == 0u) {
        s3[p.offset] = r0[0];
        s3[p.offset + 1u] = r1[0];
    }
}
