// The input gradient's values as stored (Kernel::ConvInputGrad; conv_input_grad.wgsl
// precedes): the sums themselves.
fn input_grad_out(o: u32, sums: vec4<f32>) -> vec4<f32> {
    return sums;
}
