// Average pooling's backward: each input value receives dy / count of every window
// holding it (a gather over those windows alone: source_range). One invocation per input
// value.
@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * H * W * C) { return; }
    let ch = i % C;
    let ix = (i / C) % W;
    let iy = (i / (C * W)) % H;
    let img = i / (C * W * H);
    var acc = 0.0;
    let rows = source_range(iy, PAD_TOP, KH, DH, SH, OH);
    let cols = source_range(ix, PAD_LEFT, KW, DW, SW, OW);
    for (var oy = rows.x; oy < rows.y; oy++) {
        if (!tap_at(iy, PAD_TOP, DH, SH, oy)) { continue; }
        for (var ox = cols.x; ox < cols.y; ox++) {
            if (!tap_at(ix, PAD_LEFT, DW, SW, ox)) { continue; }
            let o = output_index(img, oy, ox, ch);
            acc += dy[o] / f32(window_count(oy, ox));
        }
    }
    dx[i] = acc;
}
