// Gathers one mini-batch of f32 samples from the GPU-resident data set through the
// shuffled index buffer, so a training step uploads no samples.
// Declared before this file (generated from Rust): `p` (GatherParams: rows, features) and
// the buffers data, labels, perm, step (word 1: the batch's offset in perm), x and y.

fn sample_of(row: u32) -> u32 {
    return perm[step[1] + row];
}

@compute @workgroup_size(256)
fn gather_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.features) { return; }
    let row = i / p.features;
    let col = i % p.features;
    let s = sample_of(row);
    x[i] = data[s * p.features + col];
    if (col == 0u) { y[row] = labels[s]; }
}
