// The backward pass of a dense layer's fused bias + activation (the matmul kernels' dense
// epilogue), from the output alone: dz = f'(y)·dy, and the bias gradient db = Σ_rows dz as
// partial sums over p.stripes stripes of rows (one: db itself). n = rows.
//
// Stripe s is a block of consecutive rows (stripe_range in loops.wgsl): on llvmpipe
// stripes of every stripes-th row took 6.4–11.6 ms against 1.8–3.4 over
// tests/data/cnn/cnn_g.json's first convolution (100,352 rows of 16 columns, batch 128).

// The activation code, fixed per pipeline (equal to p.code), so the
// derivative compiles to the one activation instead of a switch per element.
override BACK_ACT: u32 = 0u;

// Four columns an invocation (cols % 4 == 0) through the vec4 views, and stripe of rows
// (as bias_act_backward), the stripe walked by
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
    let rows = stripe_range(t / cols, p.n, p.stripes);
    let end = rows.y * cols;
    var acc = vec4<f32>(0.0);
    var i = rows.x * cols + c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                let g = dy4[i] * act_grad_from_output4(a, y4[i], i * 4u, s);
                dz4[i] = g;
                acc += g;
                i += cols;
            }
        }
    }
    db4[t] = acc;
}

// Invocation (s, c) walks column c over stripe s's rows and stores their sum as
// db[s, c] (one stripe: the bias gradient itself; more, for a convolution's many positions
// over few channels, a column sum of the stripes follows). The walk steps an index
// ROW_UNROLL rows a turn, as bias_act_backward4's (a column past llvmpipe's 65,535
// iterations a loop); the activation is BACK_ACT.
@compute @workgroup_size(256)
fn bias_act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let c = t % p.cols;
    let s = t / p.cols;
    if (s >= p.stripes) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let st = step[0];
    let rows = stripe_range(s, p.n, p.stripes);
    let end = rows.y * p.cols;
    var acc = 0.0;
    var i = rows.x * p.cols + c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                let d = dy[i] * act_grad_from_output(a, y[i], i, st);
                dz[i] = d;
                acc += d;
                i += p.cols;
            }
        }
    }
    db[t] = acc;
}
