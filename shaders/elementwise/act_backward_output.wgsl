// dx = f'(y)·dy from the activation's output alone (activation.wgsl's act_grad_from_output;
// Kernel::ActBackwardFromOutput: an activation layer whose input nothing else keeps, as
// after a batch norm that stores the activated output): one element an invocation, or in
// act_backward_output4 four (one vec4) with the activation fixed per pipeline.

// act_backward_output4's activation code, fixed per pipeline (equal to p.code).
override BACK_ACT: u32 = 0u;

@compute @workgroup_size(256)
fn act_backward_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    dx[i] = dy[i] * act_grad_from_output(Act(p.code, p.flags, p.f0, p.f1), y[i], i, step[0]);
}

// Four elements an invocation through the vec4 views (p.n % 4 == 0).
@compute @workgroup_size(256)
fn act_backward_output4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let v = flat(gid, nwg);
    if (v >= p.n / 4u) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    var s = 0u;
    if (BACK_ACT == ACT_RRELU) {
        s = step[0];
    }
    dx4[v] = dy4[v] * act_grad_from_output4(a, y4[v], v * 4u, s);
}
