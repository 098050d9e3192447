// The direct convolution's entry points (conv_direct.wgsl precedes) for any adapter:
// every lane reads the block's weights itself.
@compute @workgroup_size(256)
fn conv_direct4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    direct4(flat(gid, nwg), 0u);
}

@compute @workgroup_size(256)
fn conv_direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    direct1(flat(gid, nwg), 0u);
}

// The block's 16 filters of field value k's weights: column i filters 4(j0 + i).. (past
// the filters, the last vec4 again; `lane` unused; `hi` the same, WIDE8 being false).
fn w_blocks(k: u32, j0: u32, lane: u32) -> Blocks2 {
    let jl = F4 - 1u;
    let lo = mat4x4<f32>(
        w_quad(k, j0),
        w_quad(k, min(j0 + 1u, jl)),
        w_quad(k, min(j0 + 2u, jl)),
        w_quad(k, min(j0 + 3u, jl)),
    );
    return Blocks2(lo, lo);
}
