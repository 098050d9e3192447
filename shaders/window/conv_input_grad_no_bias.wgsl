// No bias gradient from the input gradient's launch (Kernel::ConvInputGrad, and
// Kernel::ConvInputGradAct without `bias`; conv_input_grad.wgsl precedes): the stored
// values' sums go unused, and the compiler drops them.
const BIAS_PARTIALS: bool = false;

fn bias_partials(row: u32, c0: u32, sum: vec4<f32>) {}
