// y = f(x) (activation.wgsl defines f): one element an invocation, or in act_forward4 four
// (one vec4) with the activation fixed per pipeline.

// act_forward4's activation code, fixed per pipeline (equal to p.code), so f compiles to
// the one activation rather than a switch per element.
override FWD_ACT: u32 = 0u;

@compute @workgroup_size(256)
fn act_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    y[i] = act(Act(p.code, p.flags, p.f0, p.f1), x[i], i, step[0]);
}

// Four elements an invocation through the vec4 views (p.n % 4 == 0): on CPU adapters a
// storage access is a load or store a lane, so a vec4 one moves four elements for one (the
// CNN's activations after batch norm, 802,816 elements at batch 128 on llvmpipe: 10.4–11.7
// → 3.2–3.3 ms forward, 13.3–13.8 → 5.7–6.5 ms backward).
@compute @workgroup_size(256)
fn act_forward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let v = flat(gid, nwg);
    if (v >= p.n / 4u) { return; }
    let a = Act(FWD_ACT, p.flags, p.f0, p.f1);
    var s = 0u;
    if (FWD_ACT == ACT_RRELU) {
        s = step[0];
    }
    let xv = x4[v];
    let e = v * 4u;
    y4[v] = vec4<f32>(act(a, xv.x, e, s), act(a, xv.y, e + 1u, s), act(a, xv.z, e + 2u, s), act(a, xv.w, e + 3u, s));
}
