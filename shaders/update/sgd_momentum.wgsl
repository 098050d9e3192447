// Keras SGD (keras/src/optimizers/sgd.py) with momentum a (step scalar 0: the step's
// momentum, which a schedule may move): m ← a·m − lr·g and w ← w + m, or with Nesterov
// (flags bit 0) w ← w + a·m − lr·g with the new m.

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    let lr = learning_rate();
    let a = step_scalar(0u);
    let m0 = read_momentum(i);
    let m = a * m0 - lr * g;
    momentum4[i] = keep(i, m0, m);
    let w = read_w(i);
    if ((p.flags & 1u) != 0u) {
        w4[i] = keep(i, w, decayed(w) + a * m - lr * g);
    } else {
        w4[i] = keep(i, w, decayed(w) + m);
    }
}

@compute @workgroup_size(64)
fn sgd_momentum_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
