// The direct convolution's forward (conv_patch.wgsl and conv_store.wgsl precede): the
// weights and bias are read from uniform blocks (`read_w`, `read_bias`): every lane reads
// the same ones, on CPU adapters one scalar load for all of them.

// One invocation per four neighbouring output positions (along the flattened positions;
// past the end, the last one again, not stored) and block of 16 filters (four vec4s; past
// the filters, the last vec4 again, not stored): each weight it loads serves four
// positions, each image value four vec4s of filters. On CPU adapters a load at a loop's
// index is one per lane, not one broadcast, and the loads are what costs: on llvmpipe the
// example CNN's first convolution ran 3.4× faster with constant weights, and arrays
// indexed in loops cost more than they saved, so the 4 × 16 sums are four matrices.
@compute @workgroup_size(256)
fn conv_direct4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let blocks = (F4 + 3u) / 4u;
    let positions = p.n * OH * OW;
    let first = (t / blocks) * 4u;
    if (first >= positions) { return; }
    let j0 = (t % blocks) * 4u;
    let last = positions - 1u;
    let q0 = first;
    let q1 = min(first + 1u, last);
    let q2 = min(first + 2u, last);
    let q3 = min(first + 3u, last);
    let jl = F4 - 1u;
    let bias = mat4x4<f32>(
        read_bias(j0),
        read_bias(min(j0 + 1u, jl)),
        read_bias(min(j0 + 2u, jl)),
        read_bias(min(j0 + 3u, jl)),
    );
    var acc0 = bias;
    var acc1 = bias;
    var acc2 = bias;
    var acc3 = bias;
    // The field walked as nested loops of constant counts (KH, KW, C): small enough for
    // the shader compiler to unroll, so the weights' index is a constant.
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            for (var ch = 0u; ch < C; ch++) {
                let row = ((ky * KW + kx) * C + ch) * F4;
                let w = mat4x4<f32>(
                    read_w(row + j0),
                    read_w(row + min(j0 + 1u, jl)),
                    read_w(row + min(j0 + 2u, jl)),
                    read_w(row + min(j0 + 3u, jl)),
                );
                acc0 += w * tap_value(q0, ky, kx, ch);
                acc1 += w * tap_value(q1, ky, kx, ch);
                acc2 += w * tap_value(q2, ky, kx, ch);
                acc3 += w * tap_value(q3, ky, kx, ch);
            }
        }
    }
    store_block(q0, j0, acc0);
    if (first + 1u <= last) { store_block(q1, j0, acc1); }
    if (first + 2u <= last) { store_block(q2, j0, acc2); }
    if (first + 3u <= last) { store_block(q3, j0, acc3); }
}

// Tap (ky, kx) of channel ch of position pos's receptive field (0 in the padding).
fn tap_value(pos: u32, ky: u32, kx: u32, ch: u32) -> f32 {
    let img = pos / (OW * OH);
    return input_value(img, tap_row((pos / OW) % OH, ky), tap_col(pos % OW, kx), ch);
}

// Stores the filters' vec4s j0.. (those that exist) of position pos through the activation.
fn store_block(pos: u32, j0: u32, z: mat4x4<f32>) {
    let o = pos * F4 + j0;
    store_y(o, z[0]);
    if (j0 + 1u < F4) { store_y(o + 1u, z[1]); }
    if (j0 + 2u < F4) { store_y(o + 2u, z[2]); }
    if (j0 + 3u < F4) { store_y(o + 3u, z[3]); }
}
