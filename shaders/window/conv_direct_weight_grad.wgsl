// The direct convolution's kernel gradient (conv_patch.wgsl precedes), as partial sums over
// stripes of positions (p.stripes): stripe s sums the positions s, s + stripes, s + 2·stripes,
// …, and partials[s, k, f] = Σ patch[k]·dz[pos, f] over them (a column sum follows).
//
// One invocation per stripe, four neighbouring values k of the receptive field (past the
// field, the last one again, not stored) and block of 16 filters (four vec4s; past the
// filters, the last vec4 again, not stored): each gradient vec4 it loads serves four k,
// each image value four vec4s of filters, and the 4 × 16 sums are four matrices (as in
// conv_direct.wgsl: on CPU adapters the loads are what costs, and arrays indexed in loops
// more than they save).
@compute @workgroup_size(256)
fn conv_direct_weight_grad4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let fblocks = (F4 + 3u) / 4u;
    let kblocks = (PATCH + 3u) / 4u;
    let stripes = p.stripes;
    if (t >= stripes * kblocks * fblocks) { return; }
    let j0 = (t % fblocks) * 4u;
    let k0 = ((t / fblocks) % kblocks) * 4u;
    let s = t / (fblocks * kblocks);
    let jl = F4 - 1u;
    let kl = PATCH - 1u;
    let j1 = min(j0 + 1u, jl);
    let j2 = min(j0 + 2u, jl);
    let j3 = min(j0 + 3u, jl);
    let k1 = min(k0 + 1u, kl);
    let k2 = min(k0 + 2u, kl);
    let k3 = min(k0 + 3u, kl);
    var acc0 = mat4x4<f32>();
    var acc1 = mat4x4<f32>();
    var acc2 = mat4x4<f32>();
    var acc3 = mat4x4<f32>();
    let positions = p.n * OH * OW;
    for (var pos = s; pos < positions; pos += stripes) {
        let ox = pos % OW;
        let oy = (pos / OW) % OH;
        let img = pos / (OW * OH);
        let o = pos * F4;
        let d = mat4x4<f32>(dz4[o + j0], dz4[o + j1], dz4[o + j2], dz4[o + j3]);
        acc0 += d * patch_value(img, oy, ox, k0);
        acc1 += d * patch_value(img, oy, ox, k1);
        acc2 += d * patch_value(img, oy, ox, k2);
        acc3 += d * patch_value(img, oy, ox, k3);
    }
    store_block(s, k0, j0, acc0);
    if (k0 + 1u <= kl) { store_block(s, k0 + 1u, j0, acc1); }
    if (k0 + 2u <= kl) { store_block(s, k0 + 2u, j0, acc2); }
    if (k0 + 3u <= kl) { store_block(s, k0 + 3u, j0, acc3); }
}

// Stores the filters' vec4s j0.. (those that exist) of stripe s and field value k.
fn store_block(s: u32, k: u32, j0: u32, z: mat4x4<f32>) {
    let o = (s * PATCH + k) * F4 + j0;
    partials4[o] = z[0];
    if (j0 + 1u < F4) { partials4[o + 1u] = z[1]; }
    if (j0 + 2u < F4) { partials4[o + 2u] = z[2]; }
    if (j0 + 3u < F4) { partials4[o + 3u] = z[3]; }
}
