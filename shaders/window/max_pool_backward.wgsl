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

// Windows that tile the input (Window::is_tiling), fixed per pipeline: max_pool_backward4
// walks cells (window/pool_cells.wgsl) instead of positions.
override TILING: bool = false;

// Four channels an invocation (C a multiple of 4), through the vec4 views of dy, argmax
// and dx. Windows that tile the input: one invocation per cell and four channels, which
// reads its window's argmax and dy once and writes the cell's SH × SW positions (zero
// where the window did not take them; a cell past the last window takes zeros). Others:
// one per input position and four channels, a gather over the windows holding it
// (max_pool_grad4). On llvmpipe, a 2×2 pool over 16 channels of 128 28×28 images:
// 8.8–11.3 ms a channel a position, 2.2–2.5 ms a cell.
@compute @workgroup_size(256)
fn max_pool_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let ch = 4u * (t % (C / 4u));
    if (!TILING) {
        let i = 4u * t;
        if (i >= p.n * H * W * C) { return; }
        let at = input_position(i);
        let g = max_pool_grad4(i, at.x, at.y, at.z, ch);
        dx4[t] = select(vec4<f32>(0.0), g.sum, g.taken);
        return;
    }
    let across = cells_across();
    let cell = t / (C / 4u);
    if (cell >= p.n * across.x * across.y) { return; }
    let c = cell_position(cell);
    let cw = cell_window(c, ch);
    let at = cw.at;
    let d = cw.dy;
    for (var q = 0u; q < SH * SW; q++) {
        let i = cell_input(c, q, ch);
        if (i < 0) { continue; }
        let lanes = vec4<u32>(u32(i)) + vec4<u32>(0u, 1u, 2u, 3u);
        dx4[u32(i) / 4u] = select(vec4<f32>(0.0), d, lanes == at);
    }
}
