// dx = f'(x, y)·dy (activation.wgsl defines f'): one element an invocation, or in
// act_backward4 four (one vec4) with the activation fixed per pipeline.

// act_backward4's activation code, fixed per pipeline (equal to p.code).
override BACK_ACT: u32 = 0u;

@compute @workgroup_size(256)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    dx[i] = dy[i] * act_grad(Act(p.code, p.flags, p.f0, p.f1), x[i], y[i], i, step[0]);
}

// Four elements an invocation through the vec4 views (p.n % 4 == 0), as act_forward4.
@compute @workgroup_size(256)
fn act_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let v = flat(gid, nwg);
    if (v >= p.n / 4u) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    var s = 0u;
    if (BACK_ACT == ACT_RRELU) {
        s = step[0];
    }
    let xv = x4[v];
    let yv = y4[v];
    let e = v * 4u;
    let d = vec4<f32>(
        act_grad(a, xv.x, yv.x, e, s),
        act_grad(a, xv.y, yv.y, e + 1u, s),
        act_grad(a, xv.z, yv.z, e + 2u, s),
        act_grad(a, xv.w, yv.w, e + 3u, s));
    dx4[v] = dy4[v] * d;
}
