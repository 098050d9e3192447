// dx = f'(x, y)·dy, one invocation per element (activation.wgsl defines f').
@compute @workgroup_size(256)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    dx[i] = dy[i] * act_grad(Act(p.code, p.flags, p.f0, p.f1), x[i], y[i], i, step[0]);
}
