// Optimizer kernels: per-tensor gradient statistics (squared L2 norm and a non-finite
// guard), clip factors, and the fused Keras SGD/momentum/Nesterov update.
//
// The step buffer holds [step, batch offset, learning rate, seed]; the learning rate is
// the schedule's value for this step.
// The stats buffer holds, per parameter tensor t, [‖g‖² of the last step,
// Σ‖g‖ over the steps since the last reset, first step whose gradient was non-finite
// (−1 while none)].

struct Params {
    n: u32,
    slot: u32,
    mode: u32,  // clip_scale: 0 none, 1 clipnorm (per tensor), 2 global_clipnorm
    flags: u32, // sgd_update: bit 0 nesterov
    f0: f32,    // sgd_update: momentum; clip_scale: threshold
    f1: f32,    // sgd_update: clipvalue (0 = off)
    f2: f32,    // sgd_update: learning-rate multiplier
    f3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<f32>;
@group(0) @binding(4) var<storage, read_write> s4: array<f32>;
@group(0) @binding(5) var<storage, read_write> s5: array<f32>;

var<workgroup> partial: array<f32, 256>;
var<workgroup> bad: array<u32, 256>;

fn is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// One workgroup per tensor. s1 = gradient [n], s2 = stats, s3 = step
@compute @workgroup_size(256)
fn grad_stats(@builtin(local_invocation_id) lid: vec3<u32>) {
    var acc = 0.0;
    var nonfinite = 0u;
    for (var i = lid.x; i < p.n; i += 256u) {
        let g = s1[i];
        acc += g * g;
        if (!is_finite(g)) { nonfinite = 1u; }
    }
    partial[lid.x] = acc;
    bad[lid.x] = nonfinite;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] += partial[lid.x + stride];
            bad[lid.x] = bad[lid.x] | bad[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        let base = 3u * p.slot;
        s2[base] = partial[0];
        s2[base + 1u] = s2[base + 1u] + sqrt(partial[0]);
        if (bad[0] != 0u && s2[base + 2u] < 0.0) {
            s2[base + 2u] = s3[0];
        }
    }
}

// Single invocation. n = tensor count. s1 = stats, s2 = scales [n]
@compute @workgroup_size(1)
fn clip_scale() {
    let c = p.f0;
    if (p.mode == 2u) {
        var total = 0.0;
        for (var t = 0u; t < p.n; t++) { total += s1[3u * t]; }
        let norm = sqrt(total);
        // Keras: g · c·min(1/N, 1/c); a non-finite N poisons every gradient.
        let factor = c * min(1.0 / norm, 1.0 / c);
        for (var t = 0u; t < p.n; t++) { s2[t] = factor; }
    } else {
        for (var t = 0u; t < p.n; t++) {
            if (p.mode == 1u) {
                s2[t] = c / max(sqrt(s1[3u * t]), c);
            } else {
                s2[t] = 1.0;
            }
        }
    }
}

// Keras SGD: momentum 0: w ← w − lr·g; else v ← m·v − lr·g and w ← w + v, or with
// Nesterov w ← w + m·v − lr·g using the new v.
// s1 = w, s2 = g, s3 = v, s4 = clip scales, s5 = step
@compute @workgroup_size(256)
fn sgd_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.n) { return; }
    var g = s2[i] * s4[p.slot];
    if (p.f1 > 0.0) { g = clamp(g, -p.f1, p.f1); }
    let lr = s5[2] * p.f2;
    let m = p.f0;
    if (m == 0.0) {
        s1[i] = s1[i] - lr * g;
    } else {
        let v = m * s3[i] - lr * g;
        s3[i] = v;
        if ((p.flags & 1u) != 0u) {
            s1[i] = s1[i] + m * v - lr * g;
        } else {
            s1[i] = s1[i] + v;
        }
    }
}
