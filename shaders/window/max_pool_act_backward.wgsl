// Max pooling's backward fused with the derivative of the activation before it (the
// convolution whose output y the pooling read, Kernel::MaxPoolActBackward): each input
// value receives the gradient of every window that took it, times f'(y), and exactly zero
// where no window took it; the layer's bias gradient comes as partial sums, one per chunk
// and channel (a column sum of them follows).

// The activation code (equal to p.code), fixed per pipeline.
override BACK_ACT: u32 = 0u;
// Windows that tile the input (strides equal to the window, no dilation, no padding
// above or left; Window::is_tiling): the input is walked in cells of SH × SW positions,
// each read through its one window's argmax: a load of argmax, dy and y per window
// instead of a gather over the windows per position. Other windows walk the positions,
// CHUNK_ROWS of them a chunk; cells come CHUNK_CELLS a chunk.
override TILING: bool = false;
override CHUNK_ROWS: u32 = 64u;
override CHUNK_CELLS: u32 = 16u;

@compute @workgroup_size(256)
fn max_pool_act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    if (TILING) {
        cells(t / C, t % C);
        return;
    }
    let rows = p.n * H * W;
    let chunk = t / C;
    let ch = t % C;
    let r0 = chunk * CHUNK_ROWS;
    if (r0 >= rows) { return; }
    let r1 = min(r0 + CHUNK_ROWS, rows);
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    var acc = 0.0;
    for (var r = r0; r < r1; r++) {
        let i = r * C + ch;
        let ix = r % W;
        let iy = (r / W) % H;
        let img = r / (W * H);
        var taken = false;
        let g = max_pool_grad_taken(i, img, iy, ix, ch, &taken);
        var d = 0.0;
        if (taken) { d = g * act_grad_from_output(a, read1_y(i), i, s); }
        dz[i] = d;
        acc += d;
    }
    partials[chunk * C + ch] = acc;
}

// The cells of chunk `chunk`: first, and one past the last.
fn chunk_cells(chunk: u32) -> vec2<u32> {
    let across = cells_across();
    let c0 = chunk * CHUNK_CELLS;
    return vec2<u32>(c0, min(c0 + CHUNK_CELLS, p.n * across.x * across.y));
}

// The tiling walk: chunk `chunk` of cells, channel `ch`. A cell past the last window (a
// `valid` pool's leftover rows and columns) has no window and takes zeros.
fn cells(chunk: u32, ch: u32) {
    let range = chunk_cells(chunk);
    if (range.x >= range.y) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    var acc = 0.0;
    for (var cell = range.x; cell < range.y; cell++) {
        let c = cell_position(cell);
        var at = 0xffffffffu;
        var d = 0.0;
        if (c.y < OH && c.z < OW) {
            let o = output_index(c.x, c.y, c.z, ch);
            at = argmax[o];
            d = read1_dy(o) * act_grad_from_output(a, read1_y(at), at, s);
            acc += d;
        }
        for (var q = 0u; q < SH * SW; q++) {
            let i = cell_input(c, q, ch);
            if (i < 0) { continue; }
            dz[i] = select(0.0, d, u32(i) == at);
        }
    }
    partials[chunk * C + ch] = acc;
}

// The walk over positions (windows that do not tile the input) four channels at a time:
// per position one vec4 load of y, and per window one of argmax and of dy.
fn positions4(chunk: u32, ch: u32) {
    let rows = p.n * H * W;
    let r0 = chunk * CHUNK_ROWS;
    if (r0 >= rows) { return; }
    let r1 = min(r0 + CHUNK_ROWS, rows);
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    var acc = vec4<f32>(0.0);
    for (var r = r0; r < r1; r++) {
        let i = r * C + ch;
        let ix = r % W;
        let iy = (r / W) % H;
        let img = r / (W * H);
        let g = max_pool_grad4(i, img, iy, ix, ch);
        let f = act_grad_from_output4(a, read_y(i / 4u), i, s);
        let d = select(vec4<f32>(0.0), g.sum * f, g.taken);
        dz4[i / 4u] = d;
        acc += d;
    }
    partials4[(chunk * C + ch) / 4u] = acc;
}

// Four channels at a time (C a multiple of 4): vec4 loads of argmax and dy, vec4 stores
// of dz and of the partial sums — on CPU adapters a quarter of the store loops and
// gathers. Windows that tile the input walk its cells, others its positions (positions4:
// on llvmpipe examples/cnn_bn.json's 3×3 pool of stride 2 over 64 channels, 7.5–7.8 → 4.3–4.7
// ms at batch 32 and 29.8–30.2 → 15.9–16.0 ms at 128 against a channel an invocation).
@compute @workgroup_size(256)
fn max_pool_act_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let chunk = t / (C / 4u);
    let ch = 4u * (t % (C / 4u));
    if (!TILING) {
        positions4(chunk, ch);
        return;
    }
    let range = chunk_cells(chunk);
    if (range.x >= range.y) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    var acc = vec4<f32>(0.0);
    for (var cell = range.x; cell < range.y; cell++) {
        let c = cell_position(cell);
        let cw = cell_window(c, ch);
        let at = cw.at;
        var d = cw.dy;
        if (c.y < OH && c.z < OW) {
            d *= vec4<f32>(
                act_grad_from_output(a, read1_y(at.x), at.x, s),
                act_grad_from_output(a, read1_y(at.y), at.y, s),
                act_grad_from_output(a, read1_y(at.z), at.z, s),
                act_grad_from_output(a, read1_y(at.w), at.w, s),
            );
            acc += d;
        }
        for (var q = 0u; q < SH * SW; q++) {
            let i = cell_input(c, q, ch);
            if (i < 0) { continue; }
            let lanes = vec4<u32>(u32(i)) + vec4<u32>(0u, 1u, 2u, 3u);
            dz4[u32(i) / 4u] = select(vec4<f32>(0.0), d, lanes == at);
        }
    }
    partials4[(chunk * C + ch) / 4u] = acc;
}
