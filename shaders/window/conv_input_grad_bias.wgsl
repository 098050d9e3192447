// The bias gradient of the layer whose activation Kernel::ConvInputGradAct differentiates
// (`bias`; conv_input_grad.wgsl and conv_input_grad_act.wgsl precede), as partial sums of
// the values stored: row `row` of `partials` (C columns) is the sum over workgroup `row`'s
// positions of the walk, a column sum of the rows after. Declared before this file
// (generated from Rust): partials.
const BIAS_PARTIALS: bool = true;

// Stores channels c0.. of partial row `row` (those past the last channel not stored).
fn bias_partials(row: u32, c0: u32, sum: vec4<f32>) {
    if (c0 >= C) { return; }
    let o = row * C + c0;
    partials[o] = sum.x;
    if (c0 + 1u < C) { partials[o + 1u] = sum.y; }
    if (c0 + 2u < C) { partials[o + 2u] = sum.z; }
    if (c0 + 3u < C) { partials[o + 3u] = sum.w; }
}
