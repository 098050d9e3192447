// im2col's backward: each input value is the sum of the cols entries that copied it — a
// gather over the taps that read it, so no two invocations write one value. One
// invocation per input value.
@compute @workgroup_size(256)
fn col2im(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * H * W * C) { return; }
    let ch = i % C;
    let ix = (i / C) % W;
    let iy = (i / (C * W)) % H;
    let img = i / (C * W * H);
    let row_len = KH * KW * C;
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky++) {
        let oy = source_row(iy, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < KW; kx++) {
            let ox = source_col(ix, kx);
            if (ox < 0) { continue; }
            let row = (img * OH + u32(oy)) * OW + u32(ox);
            acc += read1_cols(row * row_len + (ky * KW + kx) * C + ch);
        }
    }
    dx[i] = acc;
}

// col2im four channels at a time (C a multiple of 4): one invocation per vec4 of dx,
// vec4 reads of cols and a vec4 store — on CPU adapters a quarter of the gathers and store
// loops.
@compute @workgroup_size(256)
fn col2im4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = flat(gid, nwg);
    if (q >= p.n * H * W * (C / 4u)) { return; }
    let i = 4u * q;
    let ch = i % C;
    let ix = (i / C) % W;
    let iy = (i / (C * W)) % H;
    let img = i / (C * W * H);
    let row_len = KH * KW * C;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < KH; ky++) {
        let oy = source_row(iy, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < KW; kx++) {
            let ox = source_col(ix, kx);
            if (ox < 0) { continue; }
            let row = (img * OH + u32(oy)) * OW + u32(ox);
            acc += read_cols((row * row_len + (ky * KW + kx) * C + ch) / 4u);
        }
    }
    dx4[q] = acc;
}
