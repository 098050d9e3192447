// The first and second moments of Adam, AMSGrad and Nadam (a = beta_1, b = beta_2), and
// Adam's step: m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂).

// Updates the first moment of vec4 i and returns it.
fn first_moment(i: u32, g: vec4<f32>) -> vec4<f32> {
    let m0 = read_momentum(i);
    let m = m0 + (g - m0) * (1.0 - p.a);
    momentum4[i] = keep(i, m0, m);
    return m;
}

// Updates the second moment of vec4 i and returns it.
fn second_moment(i: u32, g: vec4<f32>) -> vec4<f32> {
    let v0 = read_velocity(i);
    let v = v0 + (g * g - v0) * (1.0 - p.b);
    velocity4[i] = keep(i, v0, v);
    return v;
}

// Adam's step: w ← w − m·alpha / (sqrt(v) + ε), step scalar 0 = alpha =
// lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ) (before the layer's learning-rate multiplier).
fn adam_step(i: u32, m: vec4<f32>, v: vec4<f32>) {
    let alpha = step_scalar(0u) * lr_mult();
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - m * alpha / (sqrt(v) + p.epsilon));
}
