// The direct convolution's kernel gradient (conv_patch.wgsl precedes), as partial sums over
// stripes of positions (p.stripes): stripe s sums the positions s, s + stripes, s + 2·stripes,
// …, and partials[s, k, f] = Σ patch[k]·dz[pos, f] over them (a column sum follows).
//
// One invocation per stripe, KB·4 neighbouring values k of the receptive field (past the
// field, the last one again, not stored) and block of 16 filters (four vec4s; past the
// filters, the last vec4 again, not stored): each gradient vec4 it loads serves KB·4
// values k, each image value four vec4s of filters, and the sums are matrices, 4 × 16
// values each (as in conv_direct.wgsl: on CPU adapters the loads are what costs, and arrays
// indexed in loops more than they save).

// Blocks of four field values an invocation: 1 to 3.
override KB: u32 = 1u;

@compute @workgroup_size(256)
fn conv_direct_weight_grad4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let fblocks = (F4 + 3u) / 4u;
    let kgroups = (PATCH + 4u * KB - 1u) / (4u * KB);
    let stripes = p.stripes;
    if (t >= stripes * kgroups * fblocks) { return; }
    let j0 = (t % fblocks) * 4u;
    let k0 = ((t / fblocks) % kgroups) * 4u * KB;
    let s = t / (fblocks * kgroups);
    let jl = F4 - 1u;
    let j1 = min(j0 + 1u, jl);
    let j2 = min(j0 + 2u, jl);
    let j3 = min(j0 + 3u, jl);
    var acc: Sums;
    let positions = p.n * OH * OW;
    for (var pos = s; pos < positions; pos += stripes) {
        let ox = pos % OW;
        let oy = (pos / OW) % OH;
        let img = pos / (OW * OH);
        let o = pos * F4;
        let d = mat4x4<f32>(dz4[o + j0], dz4[o + j1], dz4[o + j2], dz4[o + j3]);
        acc.a0 += d * field_value(img, oy, ox, k0);
        acc.a1 += d * field_value(img, oy, ox, k0 + 1u);
        acc.a2 += d * field_value(img, oy, ox, k0 + 2u);
        acc.a3 += d * field_value(img, oy, ox, k0 + 3u);
        if (KB > 1u) {
            acc.a4 += d * field_value(img, oy, ox, k0 + 4u);
            acc.a5 += d * field_value(img, oy, ox, k0 + 5u);
            acc.a6 += d * field_value(img, oy, ox, k0 + 6u);
            acc.a7 += d * field_value(img, oy, ox, k0 + 7u);
        }
        if (KB > 2u) {
            acc.a8 += d * field_value(img, oy, ox, k0 + 8u);
            acc.a9 += d * field_value(img, oy, ox, k0 + 9u);
            acc.a10 += d * field_value(img, oy, ox, k0 + 10u);
            acc.a11 += d * field_value(img, oy, ox, k0 + 11u);
        }
    }
    store_block(s, k0, j0, acc.a0);
    store_block(s, k0 + 1u, j0, acc.a1);
    store_block(s, k0 + 2u, j0, acc.a2);
    store_block(s, k0 + 3u, j0, acc.a3);
    if (KB > 1u) {
        store_block(s, k0 + 4u, j0, acc.a4);
        store_block(s, k0 + 5u, j0, acc.a5);
        store_block(s, k0 + 6u, j0, acc.a6);
        store_block(s, k0 + 7u, j0, acc.a7);
    }
    if (KB > 2u) {
        store_block(s, k0 + 8u, j0, acc.a8);
        store_block(s, k0 + 9u, j0, acc.a9);
        store_block(s, k0 + 10u, j0, acc.a10);
        store_block(s, k0 + 11u, j0, acc.a11);
    }
}

// An invocation's sums: field value k0 + i in a<i>, 16 filters each.
struct Sums {
    a0: mat4x4<f32>, a1: mat4x4<f32>, a2: mat4x4<f32>, a3: mat4x4<f32>,
    a4: mat4x4<f32>, a5: mat4x4<f32>, a6: mat4x4<f32>, a7: mat4x4<f32>,
    a8: mat4x4<f32>, a9: mat4x4<f32>, a10: mat4x4<f32>, a11: mat4x4<f32>,
}

// Field value k of position (img, oy, ox), k past the field read as the last one.
fn field_value(img: u32, oy: u32, ox: u32, k: u32) -> f32 {
    return patch_value(img, oy, ox, min(k, PATCH - 1u));
}

// Stores the filters' vec4s j0.. (those that exist) of stripe s and field value k (if it
// exists).
fn store_block(s: u32, k: u32, j0: u32, z: mat4x4<f32>) {
    if (k >= PATCH) { return; }
    let o = (s * PATCH + k) * F4 + j0;
    partials4[o] = z[0];
    if (j0 + 1u < F4) { partials4[o + 1u] = z[1]; }
    if (j0 + 2u < F4) { partials4[o + 2u] = z[2]; }
    if (j0 + 3u < F4) { partials4[o + 3u] = z[3]; }
}
