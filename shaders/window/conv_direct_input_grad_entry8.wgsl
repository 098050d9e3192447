// The direct input gradient's entry point (conv_direct_input_grad.wgsl and
// matmul/lanes8.wgsl precede) on adapters with subgroups of exactly 8 lanes: lane l reads
// channel l's weights of a tap and lanes8 hands all eight to every lane — on llvmpipe one
// load per lane for eight channels instead of one per lane for each (their index depends
// on the loops' counters, so no lane's load serves the others).
@compute @workgroup_size(256)
fn conv_direct_input_grad8(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    input_grad_block(flat(gid, nwg), lane);
}

// Tap row k's weights at filters 4j..4j+3, channel `lane` (past the last, the last again)
// read by this lane.
fn tap_weights(k: u32, j: u32, lane: u32) -> TapWeights {
    let all = lanes8(w_row(k + min(lane, C - 1u), j));
    return TapWeights(
        mat4x4<f32>(all[0], all[1], all[2], all[3]),
        mat4x4<f32>(all[4], all[5], all[6], all[7]),
    );
}
