// Keras Adamax (keras/src/optimizers/adamax.py), a = beta_1, b = beta_2, step scalar 0 =
// 1 − β₁ᵗ: m ← m + (g − m)(1 − β₁); u ← max(β₂·u, |g|); w ← w − lr·m / ((1 − β₁ᵗ)(u + ε)).

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    let m0 = read_momentum(i);
    let m = m0 + (g - m0) * (1.0 - p.a);
    momentum4[i] = keep(i, m0, m);
    let u0 = read_norm(i);
    let u = max(p.b * u0, abs(g));
    norm4[i] = keep(i, u0, u);
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - (learning_rate() * m) / (step_scalar(0u) * (u + p.epsilon)));
}

@compute @workgroup_size(64)
fn adamax_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
