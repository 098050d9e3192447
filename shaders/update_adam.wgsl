// Keras Adam (keras/src/optimizers/adam.py), a = beta_1, b = beta_2, step scalar 0 =
// alpha = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ) (before the layer's learning-rate multiplier):
//   m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
//   AMSGrad (amsgrad_update): v̂ ← max(v̂, v) and v̂ replaces v below;
//   w ← w − m·alpha / (sqrt(v) + ε).

@group(0) @binding(5) var<storage, read_write> momentum: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> velocity: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> velocity_hat: array<vec4<f32>>;

// Updates the first moment of vec4 i and returns it.
fn first_moment(i: u32, g: vec4<f32>) -> vec4<f32> {
    let m = momentum[i] + (g - momentum[i]) * (1.0 - p.a);
    momentum[i] = keep(i, momentum[i], m);
    return m;
}

// Updates the second moment of vec4 i and returns it.
fn second_moment(i: u32, g: vec4<f32>) -> vec4<f32> {
    let v = velocity[i] + (g * g - velocity[i]) * (1.0 - p.b);
    velocity[i] = keep(i, velocity[i], v);
    return v;
}

fn adam_step(i: u32, m: vec4<f32>, v: vec4<f32>) {
    let alpha = step_scalar(0u) * lr_mult();
    w[i] = keep(i, w[i], w[i] - m * alpha / (sqrt(v) + p.epsilon));
}

@compute @workgroup_size(256)
fn adam_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    adam_step(i, first_moment(i, g), second_moment(i, g));
}

@compute @workgroup_size(256)
fn amsgrad_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let m = first_moment(i, g);
    let v_hat = max(velocity_hat[i], second_moment(i, g));
    velocity_hat[i] = keep(i, velocity_hat[i], v_hat);
    adam_step(i, m, v_hat);
}
