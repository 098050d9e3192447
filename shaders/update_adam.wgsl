// Keras Adam (keras/src/optimizers/adam.py), a = beta_1, b = beta_2, step scalar 0 =
// alpha = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ) (before the layer's learning-rate multiplier):
//   m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
//   AMSGrad (amsgrad_update): v̂ ← max(v̂, v) and v̂ replaces v below;
//   w ← w − m·alpha / (sqrt(v) + ε).

@group(0) @binding(5) var<storage, read_write> momentum: array<f32>;
@group(0) @binding(6) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(7) var<storage, read_write> velocity_hat: array<f32>;

// Updates both moments of element i; returns (m, v).
fn moments(i: u32, g: f32) -> vec2<f32> {
    let m = momentum[i] + (g - momentum[i]) * (1.0 - p.a);
    momentum[i] = m;
    let v = velocity[i] + (g * g - velocity[i]) * (1.0 - p.b);
    velocity[i] = v;
    return vec2<f32>(m, v);
}

fn adam_step(i: u32, m: f32, v: f32) {
    let alpha = step_scalar(0u) * p.lr_mult;
    w[i] = w[i] - m * alpha / (sqrt(v) + p.epsilon);
}

@compute @workgroup_size(256)
fn adam_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) { return; }
    let mv = moments(i, clipped_grad(i));
    adam_step(i, mv.x, mv.y);
}

@compute @workgroup_size(256)
fn amsgrad_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) { return; }
    let mv = moments(i, clipped_grad(i));
    let v_hat = max(velocity_hat[i], mv.y);
    velocity_hat[i] = v_hat;
    adam_step(i, mv.x, v_hat);
}
