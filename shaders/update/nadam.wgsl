// Keras Nadam (keras/src/optimizers/nadam.py), a = beta_1, b = beta_2; step scalars:
// 0 = u_t, 1 = u_{t+1}, 2 = u_product_t (the running product including u_t), 3 = β₂ᵗ.
//   m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
//   m̂ = u_{t+1}·m / (1 − u_product_t·u_{t+1}) + (1 − u_t)·g / (1 − u_product_t);
//   v̂ = v / (1 − β₂ᵗ); w ← w − lr·m̂ / (sqrt(v̂) + ε).

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    let u_t = step_scalar(0u);
    let u_t1 = step_scalar(1u);
    let u_prod = step_scalar(2u);
    let m = first_moment(i, g);
    let v = second_moment(i, g);
    let m_hat = u_t1 * m / (1.0 - u_prod * u_t1) + (1.0 - u_t) * g / (1.0 - u_prod);
    let v_hat = v / (1.0 - step_scalar(3u));
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - learning_rate() * m_hat / (sqrt(v_hat) + p.epsilon));
}

@compute @workgroup_size(64)
fn nadam_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
