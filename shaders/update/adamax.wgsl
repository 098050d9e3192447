// Keras Adamax (keras/src/optimizers/adamax.py), a = beta_1, b = beta_2, step scalar 0 =
// 1 − β₁ᵗ: m ← m + (g − m)(1 − β₁); u ← max(β₂·u, |g|); w ← w − lr·m / ((1 − β₁ᵗ)(u + ε)).

@compute @workgroup_size(256)
fn adamax_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let m = momentum4[i] + (g - momentum4[i]) * (1.0 - p.a);
    momentum4[i] = keep(i, momentum4[i], m);
    let u = max(p.b * norm4[i], abs(g));
    norm4[i] = keep(i, norm4[i], u);
    w4[i] = keep(i, w4[i], weight(i) - (learning_rate() * m) / (step_scalar(0u) * (u + p.epsilon)));
}
