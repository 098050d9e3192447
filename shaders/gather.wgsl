// Gathers one mini-batch from the GPU-resident data set through the shuffled index
// buffer, so a training step uploads no pixels. Images kept as bytes are scaled to [0, 1].

struct Params {
    rows: u32,     // batch rows
    features: u32, // values per sample
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> data_u8: array<u32>; // bytes packed 4 per word
@group(0) @binding(2) var<storage, read_write> data_f32: array<f32>;
@group(0) @binding(3) var<storage, read_write> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> perm: array<u32>;
@group(0) @binding(5) var<storage, read_write> step: array<u32>;
@group(0) @binding(6) var<storage, read_write> x_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> y_out: array<f32>;
// x_out seen as vec4s, for gather_u8_words.
@group(0) @binding(8) var<storage, read_write> x4_out: array<vec4<f32>>;

fn sample_of(row: u32) -> u32 {
    return perm[step[1] + row];
}

// data_f32 is bound to a dummy buffer here.
@compute @workgroup_size(256)
fn gather_u8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.features) { return; }
    let row = i / p.features;
    let col = i % p.features;
    let s = sample_of(row);
    let byte_index = s * p.features + col;
    let word = data_u8[byte_index / 4u];
    let byte = (word >> ((byte_index % 4u) * 8u)) & 0xffu;
    x_out[i] = f32(byte) / 255.0;
    if (col == 0u) { y_out[row] = bitcast<f32>(labels[s]); }
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
    let word = data_u8[s * words + col];
    let bytes = vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u) & vec4<u32>(0xffu);
    x4_out[w] = vec4<f32>(bytes) / 255.0;
    if (col == 0u) { y_out[row] = bitcast<f32>(labels[s]); }
}

// data_u8 is bound to a dummy buffer here.
@compute @workgroup_size(256)
fn gather_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.features) { return; }
    let row = i / p.features;
    let col = i % p.features;
    let s = sample_of(row);
    x_out[i] = data_f32[s * p.features + col];
    if (col == 0u) { y_out[row] = bitcast<f32>(labels[s]); }
}
