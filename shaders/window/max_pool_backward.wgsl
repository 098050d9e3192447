// Max pooling's backward: each input value receives the gradient of every window that
// took it (a gather over the windows holding it). One invocation per input value.
@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * H * W * C) { return; }
    let ch = i % C;
    let ix = (i / C) % W;
    let iy = (i / (C * W)) % H;
    let img = i / (C * W * H);
    dx[i] = max_pool_grad(i, img, iy, ix, ch);
}
