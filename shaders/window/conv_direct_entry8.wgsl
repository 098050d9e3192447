// The direct convolution's entry points (conv_direct.wgsl and matmul/lanes8.wgsl precede)
// on adapters with subgroups of exactly 8 lanes, for at most 16 filters (one block, the
// same for every lane): lane l reads vec4 l % 4 of a field value's weights and lanes8
// hands all four to every lane — on llvmpipe a quarter of the per-lane loads (the index
// depends on the loops' counters).
@compute @workgroup_size(256)
fn conv_direct4_lanes8(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    direct4(flat(gid, nwg), lane);
}

@compute @workgroup_size(256)
fn conv_direct_lanes8(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    direct1(flat(gid, nwg), lane);
}

// The 16 filters of field value k's weights (j0 is 0: one block), shared through the
// subgroup: column i filters 4i.. (past the filters, the last vec4 again).
fn w_block(k: u32, j0: u32, lane: u32) -> mat4x4<f32> {
    let all = lanes8(w_quad(k, min(j0 + (lane & 3u), F4 - 1u)));
    return mat4x4<f32>(all[0], all[1], all[2], all[3]);
}
