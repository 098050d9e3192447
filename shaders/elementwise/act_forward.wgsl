// y = f(x), one invocation per element (activation.wgsl defines f).
@compute @workgroup_size(256)
fn act_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    y[i] = act(Act(p.code, p.flags, p.f0, p.f1), x[i], i, step[0]);
}
