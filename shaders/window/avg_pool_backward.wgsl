// Average pooling's backward: each input value receives dy / count of every window
// holding it (a gather over those windows alone: source_range). One invocation per input
// value (avg_pool_backward4: per four channels, C a multiple of 4).
@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * H * W * C) { return; }
    let ch = i % C;
    let ix = (i / C) % W;
    let iy = (i / (C * W)) % H;
    let img = i / (C * W * H);
    // A global pool (one window, the whole map, no padding or dilation): its one
    // output's gradient over the map's H·W values, without the walk (on llvmpipe the
    // walk's bounds and the window's count cost 5 ns a value).
    if (is_global()) {
        dx[i] = dy[output_index(img, 0u, 0u, ch)] / f32(H * W);
        return;
    }
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

// avg_pool_backward for four channels an invocation through the vec4 views.
@compute @workgroup_size(256)
fn avg_pool_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    let c4 = C / 4u;
    if (i >= p.n * H * W * c4) { return; }
    let ch = (i % c4) * 4u;
    let ix = (i / c4) % W;
    let iy = (i / (c4 * W)) % H;
    let img = i / (c4 * W * H);
    if (is_global()) {
        dx4[i] = dy4[output_index(img, 0u, 0u, ch) / 4u] / f32(H * W);
        return;
    }
    var acc = vec4<f32>(0.0);
    let rows = source_range(iy, PAD_TOP, KH, DH, SH, OH);
    let cols = source_range(ix, PAD_LEFT, KW, DW, SW, OW);
    for (var oy = rows.x; oy < rows.y; oy++) {
        if (!tap_at(iy, PAD_TOP, DH, SH, oy)) { continue; }
        for (var ox = cols.x; ox < cols.y; ox++) {
            if (!tap_at(ix, PAD_LEFT, DW, SW, ox)) { continue; }
            acc += dy4[output_index(img, oy, ox, ch) / 4u] / f32(window_count(oy, ox));
        }
    }
    dx4[i] = acc;
}

// Whether the pool is global: one window, the whole map, no padding or dilation.
fn is_global() -> bool {
    return OH == 1u && OW == 1u && KH == H && KW == W && DH == 1u && DW == 1u && PAD_TOP == 0u && PAD_LEFT == 0u;
}
