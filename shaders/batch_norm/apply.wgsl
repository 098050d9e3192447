// Batch normalization in inference mode (with the moving statistics), one invocation per
// element.
@compute @workgroup_size(256)
fn bn_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.cols) { return; }
    let c = i % p.cols;
    let inv = inverseSqrt(moving_var[c] + p.eps) * gamma[c];
    // (x − mean)·inv + beta: algebraically Keras's x·inv + (beta − mean·inv), without
    // the cancellation that form suffers when the mean is large.
    y[i] = (x[i] - moving_mean[c]) * inv + beta[c];
}
