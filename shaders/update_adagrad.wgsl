// Keras Adagrad (keras/src/optimizers/adagrad.py): acc ← acc + g²;
// w ← w − lr·g / sqrt(acc + ε).

@group(0) @binding(5) var<storage, read_write> accumulator: array<vec4<f32>>;

@compute @workgroup_size(256)
fn adagrad_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let acc = accumulator[i] + g * g;
    accumulator[i] = keep(i, accumulator[i], acc);
    w[i] = keep(i, w[i], w[i] - learning_rate() * g / sqrt(acc + p.epsilon));
}
