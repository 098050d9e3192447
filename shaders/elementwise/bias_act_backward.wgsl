// The backward pass of a dense layer's fused bias + activation (the matmul kernels' dense
// epilogue), from the output alone: dz = f'(y)·dy, and the bias gradient db = Σ_rows dz
// (bias_act_backward_stripes: partial sums over p.stripes stripes of rows). n = rows.

// bias_act_backward4's activation code, fixed per pipeline (equal to p.code), so the
// derivative compiles to the one activation instead of a switch per element.
override BACK_ACT: u32 = 0u;

// One invocation per column.
@compute @workgroup_size(256)
fn bias_act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.cols) { return; }
    let a = Act(p.code, p.flags, p.f0, p.f1);
    var acc = 0.0;
    for (var rb = 0u; rb < p.n; rb += ROW_UNROLL) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            let r = rb + u;
            if (r < p.n) {
                let i = r * p.cols + c;
                let d = dy[i] * act_grad_from_output(a, y[i], i, step[0]);
                dz[i] = d;
                acc += d;
            }
        }
    }
    db[c] = acc;
}

// Four columns an invocation (cols % 4 == 0) through the vec4 views, and stripe of rows
// (as bias_act_backward_stripes; one stripe: the whole column), the column walked by
// stepping an index (a count up to a bound read from `p` alone is compiled again at every
// dispatch on lavapipe: docs/benchmarks.md, "Loops bounded by a launch's parameters
// alone"), the activation fixed by BACK_ACT.
@compute @workgroup_size(64)
fn bias_act_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    let cols = p.cols / 4u;
    let c = t % cols;
    if (t / cols >= p.stripes) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    let end = p.n * cols;
    let stride = p.stripes * cols;
    var acc = vec4<f32>(0.0);
    var i = t;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let yv = y4[i];
                    let e = i * 4u;
                    let d = vec4<f32>(
                        act_grad_from_output(a, yv.x, e, s),
                        act_grad_from_output(a, yv.y, e + 1u, s),
                        act_grad_from_output(a, yv.z, e + 2u, s),
                        act_grad_from_output(a, yv.w, e + 3u, s));
                    let g = dy4[i] * d;
                    dz4[i] = g;
                    acc += g;
                    i += stride;
            }
        }
    }
    db4[t] = acc;
}

// Partial sums over stripes of rows: invocation (s, c) walks column c's rows s,
// s + stripes, … and stores db[s, c] (a column sum of the stripes follows), so that a
// convolution's many positions over few channels keep every lane busy. The walk steps an
// index, as bias_act_backward4's; the activation is BACK_ACT.
@compute @workgroup_size(256)
fn bias_act_backward_stripes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let c = t % p.cols;
    let s = t / p.cols;
    if (s >= p.stripes) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let st = step[0];
    let end = p.n * p.cols;
    let stride = p.stripes * p.cols;
    var acc = 0.0;
    var i = s * p.cols + c;
    while (i < end) {
        let d = dy[i] * act_grad_from_output(a, y[i], i, st);
        dz[i] = d;
        acc += d;
        i += stride;
    }
    db[t] = acc;
}
