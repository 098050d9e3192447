// The direct convolution's entry points (conv_direct.wgsl and matmul/lanes8.wgsl precede)
// on adapters with subgroups of exactly 8 lanes, for at most 32 filters (one block of 16,
// the same for every lane, or both blocks: WIDE8): lane l reads vec4 l % 4 (vec4 l) of a
// field value's weights and lanes8 hands all of them to every lane — on llvmpipe a
// quarter of the per-lane loads (the index depends on the loops' counters).
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
// subgroup: column i filters 4i.. (past the filters, the last vec4 again); with WIDE8 lane
// l loads vec4 l and `hi` holds filters 16.. .
fn w_blocks(k: u32, j0: u32, lane: u32) -> Blocks2 {
    let q = select(lane & 3u, lane, WIDE8);
    let all = lanes8(w_quad(k, min(j0 + q, F4 - 1u)));
    return Blocks2(
        mat4x4<f32>(all[0], all[1], all[2], all[3]),
        mat4x4<f32>(all[4], all[5], all[6], all[7]),
    );
}
