// Gathers one mini-batch of byte images (packed four to a word in `data`) from the
// GPU-resident data set through the shuffled index buffer, so a training step uploads no
// pixels; the bytes are scaled to [0, 1].

// Declared before this file (generated from Rust): `p` (GatherParams: rows, features) and
// the buffers data, labels, perm, step (word 1: the batch's offset in perm), x and y.

fn sample_of(row: u32) -> u32 {
    return perm[step[1] + row];
}

@compute @workgroup_size(256)
fn gather_u8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.features) { return; }
    let row = i / p.features;
    let col = i % p.features;
    let s = sample_of(row);
    let byte_index = s * p.features + col;
    let word = data[byte_index / 4u];
    let byte = (word >> ((byte_index % 4u) * 8u)) & 0xffu;
    x[i] = f32(byte) / 255.0;
    if (col == 0u) { y[row] = labels[s]; }
}

// Byte images whose rows are whole words (features a multiple of 4): one invocation per
// word, four values a store, a quarter of the index arithmetic (measured on llvmpipe:
// a byte an invocation cost about 4× as much).
@compute @workgroup_size(256)
fn gather_u8_words(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = gid.x + gid.y * nwg.x * 256u;
    let words = p.features / 4u;
    if (w >= p.rows * words) { return; }
    let row = w / words;
    let col = w % words;
    let s = sample_of(row);
    let word = data[s * words + col];
    let bytes = vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u) & vec4<u32>(0xffu);
    x4[w] = vec4<f32>(bytes) / 255.0;
    if (col == 0u) { y[row] = labels[s]; }
}
