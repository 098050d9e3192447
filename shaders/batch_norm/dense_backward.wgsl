// Batch norm over data that needs no gradient, feeding a dense layer
// (Kernel::BnDenseBackward): y = γ·x̂ + β, z = y·w + b. With c = x̂ᵀ·dz in dw (the layer's
// weight gradient had its input been x̂) and s = Σ dz in dz_sums, for input feature j:
//   dgamma[j] = Σ_o w[j,o]·c[j,o]       (Σ_r dy·x̂, where dy = dz·wᵀ is never formed)
//   dbeta[j]  = Σ_o w[j,o]·s[o]         (Σ_r dy)
//   dw[j,o]   = γ[j]·c[j,o] + β[j]·s[o]  (yᵀ·dz)
// and s handed on as the layer's bias gradient db (by feature 0's invocation). An
// invocation a feature (rows = features, cols = units) walking its row of the kernel: no
// workgroup memory and no barriers (measured on llvmpipe for 784 × 300: a workgroup a
// feature, its lanes across the units and the sums added in workgroup memory, 4.8 ms).

@compute @workgroup_size(64)
fn bn_dense_backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let j = (wid.x + wid.y * groups.x) * 64u + lane;
    if (j >= p.rows) { return; }
    let units = p.cols;
    let g = gamma[j];
    let b = beta[j];
    let row = j * units;
    var sum_g = 0.0;
    var sum_b = 0.0;
    for (var o = 0u; o < units; o++) {
        let c = dw[row + o];
        let wi = w[row + o];
        let s = dz_sums[o];
        sum_g += wi * c;
        sum_b += wi * s;
        dw[row + o] = g * c + b * s;
        if (j == 0u) { db[o] = s; }
    }
    dgamma[j] = sum_g;
    dbeta[j] = sum_b;
}

// bn_dense_backward four units at a time (units a multiple of 4): a quarter of the loads
// and stores, each a vec4 (measured on llvmpipe for 784 × 300: 0.8–1.3 ms a float at a
// time).
@compute @workgroup_size(64)
fn bn_dense_backward4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let j = (wid.x + wid.y * groups.x) * 64u + lane;
    if (j >= p.rows) { return; }
    let units = p.cols / 4u;
    let g = gamma[j];
    let b = beta[j];
    let row = j * units;
    var sum_g = vec4<f32>(0.0);
    var sum_b = vec4<f32>(0.0);
    for (var o = 0u; o < units; o++) {
        let c = dw4[row + o];
        let wi = w4[row + o];
        let s = dz_sums4[o];
        sum_g += wi * c;
        sum_b += wi * s;
        dw4[row + o] = g * c + b * s;
        if (j == 0u) { db4[o] = s; }
    }
    dgamma[j] = dot(sum_g, vec4<f32>(1.0));
    dbeta[j] = dot(sum_b, vec4<f32>(1.0));
}
