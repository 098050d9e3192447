// Keras RMSprop (keras/src/optimizers/rmsprop.py), a = rho, b = momentum:
//   v ← ρ·v + (1 − ρ)·g²; centered: ḡ ← ρ·ḡ + (1 − ρ)·g, den = v − ḡ² + ε; else den = v + ε;
//   inc = lr·g / sqrt(den); with momentum: m ← b·m + inc, w ← w − m; else w ← w − inc.
// One entry per configuration, so each binds exactly Keras's variables: velocity, then
// momentum (with momentum), then average_gradient (centered).

@group(0) @binding(5) var<storage, read_write> velocity: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> state6: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> state7: array<vec4<f32>>;

// Updates the velocity of vec4 i and returns lr·g / sqrt(den) with den from `avg`
// (the new average gradient; unused when not centered).
fn rms_increment(i: u32, g: vec4<f32>, centered: bool, avg: vec4<f32>) -> vec4<f32> {
    let rho = p.a;
    let v = rho * velocity[i] + (1.0 - rho) * g * g;
    velocity[i] = keep(i, velocity[i], v);
    var den = v + p.epsilon;
    if (centered) { den = v - avg * avg + p.epsilon; }
    return learning_rate() * g / sqrt(den);
}

fn new_average(old: vec4<f32>, g: vec4<f32>) -> vec4<f32> {
    return p.a * old + (1.0 - p.a) * g;
}

@compute @workgroup_size(256)
fn rmsprop_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    w[i] = keep(i, w[i], w[i] - rms_increment(i, clipped_grad(i), false, vec4<f32>(0.0)));
}

// state6 = momentum
@compute @workgroup_size(256)
fn rmsprop_momentum_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let m = p.b * state6[i] + rms_increment(i, clipped_grad(i), false, vec4<f32>(0.0));
    state6[i] = keep(i, state6[i], m);
    w[i] = keep(i, w[i], w[i] - m);
}

// state6 = average_gradient
@compute @workgroup_size(256)
fn rmsprop_centered_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let avg = new_average(state6[i], g);
    state6[i] = keep(i, state6[i], avg);
    w[i] = keep(i, w[i], w[i] - rms_increment(i, g, true, avg));
}

// state6 = momentum, state7 = average_gradient
@compute @workgroup_size(256)
fn rmsprop_centered_momentum_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let avg = new_average(state7[i], g);
    state7[i] = keep(i, state7[i], avg);
    let m = p.b * state6[i] + rms_increment(i, g, true, avg);
    state6[i] = keep(i, state6[i], m);
    w[i] = keep(i, w[i], w[i] - m);
}
