// The direct input gradient's entry point (conv_direct_input_grad.wgsl precedes) for any
// adapter: every lane reads a tap's weights itself (on llvmpipe one load per lane: their
// index depends on the loops' counters).
@compute @workgroup_size(256)
fn conv_direct_input_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    input_grad_block(flat(gid, nwg), 0u);
}

// Tap row k's weights at filters 4j..4j+3 (`lane` unused).
fn tap_weights(k: u32, j: u32, lane: u32) -> TapWeights {
    return TapWeights(w_block(k, 0u, j), w_block(k, 4u, j));
}

// Channels c0..c0+3 of tap row k (past the last, the last again) at filters 4j..4j+3.
fn w_block(k: u32, c0: u32, j: u32) -> mat4x4<f32> {
    let l = C - 1u;
    return mat4x4<f32>(
        w_row(k + min(c0, l), j),
        w_row(k + min(c0 + 1u, l), j),
        w_row(k + min(c0 + 2u, l), j),
        w_row(k + min(c0 + 3u, l), j),
    );
}
