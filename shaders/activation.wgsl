// Activation functions shared by the activation kernels (elementwise/) and the dense
// epilogue of the matmul kernels (matmul/dense_store.wgsl): values, derivatives from the
// input (and output), derivatives from the output alone.
//
// Activation codes: the ACT_* constants below, checked against `ActKind::code` by
// tests/contracts.rs.
// Gradient conventions follow TensorFlow/Keras (see docs/semantics.md): relu'(0) = 0,
// leaky'(0) = slope, elu'(0) = alpha, selu'(0) = scale, tanh and sigmoid derivatives are
// computed from the float32 output.

const ACT_LINEAR: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_RRELU: u32 = 3u;
const ACT_ELU: u32 = 4u;
const ACT_SELU: u32 = 5u;
const ACT_TANH: u32 = 6u;
const ACT_SIGMOID: u32 = 7u;
const ACT_SOFTMAX: u32 = 8u;

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;

// PCG hash: a counter-based generator, so the backward pass regenerates the
// slopes the forward pass drew without storing them.
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn uniform01(seed: u32, step: u32, i: u32) -> f32 {
    let h = pcg(seed ^ pcg(step ^ pcg(i)));
    return f32(h >> 8u) * (1.0 / 16777216.0);
}

// An activation and its parameters: code (ACT_*); flags bit 0 training (RReLU draws
// slopes), bits 8.. RReLU's layer seed; leaky_relu f0 = slope, rrelu f0 = lower and
// f1 = upper, elu f0 = alpha.
struct Act {
    code: u32,
    flags: u32,
    f0: f32,
    f1: f32,
}

// Slope an RReLU applies to negative inputs at element i: drawn per element and per
// step while training, the mean slope at inference.
fn rrelu_slope(a: Act, i: u32, step: u32) -> f32 {
    if ((a.flags & 1u) == 0u) {
        return (a.f0 + a.f1) * 0.5;
    }
    let seed = a.flags >> 8u;
    return a.f0 + (a.f1 - a.f0) * uniform01(seed, step, i);
}

fn act(a: Act, x: f32, i: u32, step: u32) -> f32 {
    switch a.code {
        case ACT_RELU: { return max(x, 0.0); }
        case ACT_LEAKY_RELU: { return select(a.f0 * x, x, x > 0.0); }
        case ACT_RRELU: {
            if (x >= 0.0) { return x; }
            return rrelu_slope(a, i, step) * x;
        }
        case ACT_ELU: { return select(a.f0 * (exp(x) - 1.0), x, x > 0.0); }
        case ACT_SELU: { return select(SELU_SCALE * SELU_ALPHA * (exp(x) - 1.0), SELU_SCALE * x, x > 0.0); }
        // Clamp: tanh(±20) is ±1 in float32, and large arguments overflow exp inside tanh.
        case ACT_TANH: { return tanh(clamp(x, -20.0, 20.0)); }
        case ACT_SIGMOID: { return 1.0 / (1.0 + exp(-x)); }
        default: { return x; }
    }
}

fn act_grad(a: Act, x: f32, y: f32, i: u32, step: u32) -> f32 {
    switch a.code {
        case ACT_RELU: { return select(0.0, 1.0, x > 0.0); }
        case ACT_LEAKY_RELU: { return select(a.f0, 1.0, x > 0.0); }
        case ACT_RRELU: {
            if ((a.flags & 1u) != 0u) {
                if (x >= 0.0) { return 1.0; }
                return rrelu_slope(a, i, step);
            }
            return select(rrelu_slope(a, i, step), 1.0, x > 0.0);
        }
        case ACT_ELU: { return select(a.f0 * exp(x), 1.0, x > 0.0); }
        case ACT_SELU: { return select(SELU_SCALE * SELU_ALPHA * exp(x), SELU_SCALE, x >= 0.0); }
        case ACT_TANH: { return 1.0 - y * y; }
        case ACT_SIGMOID: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}

// Whether the float's sign bit is clear (+0 and positive values).
fn sign_clear(y: f32) -> bool {
    return (bitcast<u32>(y) & 0x80000000u) == 0u;
}

// f' from the output alone, as TensorFlow's Relu/Elu/Selu gradients compute it; exact for
// the parameters with which the output's sign tells the input's (ActKind::
// derivative_from_output), the only ones the dense layer fuses. Same conventions at 0.
fn act_grad_from_output(a: Act, y: f32, i: u32, step: u32) -> f32 {
    switch a.code {
        case ACT_RELU: { return select(0.0, 1.0, y > 0.0); }
        case ACT_LEAKY_RELU: { return select(a.f0, 1.0, y > 0.0); }
        case ACT_RRELU: {
            if ((a.flags & 1u) != 0u) {
                return select(rrelu_slope(a, i, step), 1.0, sign_clear(y));
            }
            return select(rrelu_slope(a, i, step), 1.0, y > 0.0);
        }
        case ACT_ELU: { return select(a.f0 + y, 1.0, y > 0.0); }
        case ACT_SELU: { return select(SELU_SCALE * SELU_ALPHA + y, SELU_SCALE, sign_clear(y)); }
        case ACT_TANH: { return 1.0 - y * y; }
        case ACT_SIGMOID: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}

// act_grad_from_output of four outputs y, elements e..e+3 (RReLU's slopes are drawn per
// element): the vec4 entries' derivative.
fn act_grad_from_output4(a: Act, y: vec4<f32>, e: u32, step: u32) -> vec4<f32> {
    return vec4<f32>(
        act_grad_from_output(a, y.x, e, step),
        act_grad_from_output(a, y.y, e + 1u, step),
        act_grad_from_output(a, y.z, e + 2u, step),
        act_grad_from_output(a, y.w, e + 3u, step));
}
