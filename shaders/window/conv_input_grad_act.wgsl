// The input gradient through the derivative of the activation before the convolution
// (Kernel::ConvInputGradAct; activation.wgsl and conv_input_grad.wgsl precede): the
// convolution's input y is that activation's output, and the values stored are
// dx·f'(y) — the ActBackwardFromOutput launch that followed, folded into the store.
// Declared before this file (generated from Rust): `p` (PoolActParams: n, flags, f0, f1),
// `read_y(i)` (vec4 i of y through its texture, the one the forward filled) and
// `read1_y(i)`, `step`.

// The activation code (equal to p.code), fixed per pipeline.
override BACK_ACT: u32 = 0u;

// Values o.. (channels c0.. of a position; those past the channels are not stored, their
// derivative read at the last channel).
fn input_grad_out(o: u32, sums: vec4<f32>) -> vec4<f32> {
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    var y: vec4<f32>;
    if (C % 4u == 0u) {
        y = read_y(o / 4u);
    } else {
        let last = p.n * H * W * C - 1u;
        y = vec4<f32>(read1_y(o), read1_y(min(o + 1u, last)), read1_y(min(o + 2u, last)), read1_y(min(o + 3u, last)));
    }
    return sums * act_grad_from_output4(a, y, o, step[0]);
}
