// Average pooling's backward: each input value receives dy / count of every window
// holding it (a gather). One invocation per input value.
@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * H * W * C) { return; }
    let ch = i % C;
    let ix = (i / C) % W;
    let iy = (i / (C * W)) % H;
    let img = i / (C * W * H);
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky++) {
        let oy = source_row(iy, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < KW; kx++) {
            let ox = source_col(ix, kx);
            if (ox < 0) { continue; }
            let o = output_index(img, u32(oy), u32(ox), ch);
            acc += dy[o] / f32(window_count(u32(oy), u32(ox)));
        }
    }
    dx[i] = acc;
}
