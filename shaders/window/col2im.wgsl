// im2col's backward: each input value is the sum of the cols entries that copied it — a
// gather over the taps that read it, so no two invocations write one value.

// The cols entry through which tap (ky, kx) copied the input value at `pos` (image, row,
// column, channel), or -1 when no output's tap (ky, kx) read it.
fn cols_index(pos: vec4<u32>, ky: u32, kx: u32) -> i32 {
    let oy = source_row(pos.y, ky);
    let ox = source_col(pos.z, kx);
    if (oy < 0 || ox < 0) { return -1; }
    let row = (pos.x * OH + u32(oy)) * OW + u32(ox);
    return i32(row * KH * KW * C + (ky * KW + kx) * C + pos.w);
}

// One invocation per input value.
@compute @workgroup_size(256)
fn col2im(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * H * W * C) { return; }
    let pos = input_position(i);
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let j = cols_index(pos, ky, kx);
            if (j >= 0) { acc += read1_cols(u32(j)); }
        }
    }
    dx[i] = acc;
}

// Four channels at a time (C a multiple of 4): one invocation per vec4 of dx, vec4 reads
// of cols and a vec4 store — on CPU adapters a quarter of the gathers and store loops.
@compute @workgroup_size(256)
fn col2im4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = flat(gid, nwg);
    if (q >= p.n * H * W * (C / 4u)) { return; }
    let pos = input_position(4u * q);
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let j = cols_index(pos, ky, kx);
            if (j >= 0) { acc += read_cols(u32(j) / 4u); }
        }
    }
    dx4[q] = acc;
}
