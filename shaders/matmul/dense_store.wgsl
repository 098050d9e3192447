// The dense layer's epilogue for the matmul kernels (activation.wgsl precedes, and
// body.wgsl follows): each result is stored as f(result + bias[col]), so a dense
// layer's forward pass is one launch. C is y; Kernel::Dense never accumulates.

// C is the kernel's `c` (y); `bias` and the step record `step` (RReLU's generator reads
// the step from word 0) are its other buffers. The bias is read through `read1_bias`
// (generated): from a uniform block in the entries that declare one (the texture ones:
// on llvmpipe a storage load of it, one per lane and output, cost the first convolution
// of the example CNN a third of its time).

// The activation code, fixed per pipeline (equal to p.code): a switch on a uniform in
// every store kept llvmpipe from compiling the epilogue down to the one activation
// (measured: the seed network's first dense layer at batch 256 took 10.5 ms, the same
// matmul without the epilogue 8.3).
override ACT_CODE: u32 = 0u;

fn epilogue(idx: u32, col: u32, v: f32) -> f32 {
    let a = Act(ACT_CODE, p.act_flags, p.f0, p.f1);
    // The step only where RReLU draws (a constant branch): a storage load a lane and output
    // otherwise.
    var s = 0u;
    if (ACT_CODE == ACT_RRELU) {
        s = step[0];
    }
    return act(a, v + read1_bias(col), idx, s);
}

// Stores one element of y.
fn store_one(r: u32, col: u32, v: f32) {
    let idx = r * p.n + col;
    c[idx] = epilogue(idx, col, v);
}

// Stores one row of a 4×4 block of y (columns col0..col0+3 that exist).
fn store_row(r: u32, col0: u32, v: vec4<f32>) {
    if (r >= p.m || col0 >= p.n) { return; }
    let base = r * p.n + col0;
    c[base] = epilogue(base, col0, v.x);
    if (col0 + 1u < p.n) { c[base + 1u] = epilogue(base + 1u, col0 + 1u, v.y); }
    if (col0 + 2u < p.n) { c[base + 2u] = epilogue(base + 2u, col0 + 2u, v.z); }
    if (col0 + 3u < p.n) { c[base + 3u] = epilogue(base + 3u, col0 + 3u, v.w); }
}
