// Batch norm's training forward over a mini-batch of byte images it gathers itself
// (Kernel::BnTrainGatherU8, the seed network's first layer): the gather kernel's work —
// each row's sample through the shuffled index, its pixels / 255 written to x and its
// label to batch_labels — fused into batch norm's first walk down the columns, then the statistics,
// the moving statistics and the output as bn_train4 computes them. One launch where the
// gather and batch norm took two. Four columns (a word of pixels) an invocation. gamma,
// beta and the step record are read through read_gamma, read_beta and read1_step: storage
// in one module, uniform blocks in its twin (BN_TRAIN_GATHER_UNIFORM: three storage
// buffers fewer, so that the launch fits adapters binding 10, SwiftShader's count).

@compute @workgroup_size(64)
fn bn_train_gather4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let end = p.rows * cols;
    let first = read1_step(1u);
    var sum = vec4<f32>(0.0);
    var i = c;
    var r = 0u;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let s = perm[first + r];
                    let word = data[s * cols + c];
                    let bytes = vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u) & vec4<u32>(0xffu);
                    let v = vec4<f32>(bytes) / 255.0;
                    x4[i] = v;
                    sum += v;
                    if (c == 0u) { batch_labels[r] = labels[s]; }
                    i += cols;
                    r += 1u;
            }
        }
    }
    if (XHAT_IN_X) {
        let s = column_statistics4(c, cols, sum / f32(p.rows));
        normalize_xhat_walk4(c, cols, s.mean, s.variance);
    } else {
        finish_columns4(c, cols, sum / f32(p.rows));
    }
}

// Whether x is left holding x̂ (Kernel::BnTrainGatherU8's xhat: its one reader is the
// next dense layer's weight gradient, as Kernel::BnDenseBackward takes it).
override XHAT_IN_X: bool = false;

// x̂ written back into x (normalize_xhat_walk4).
fn store_xhat(i: u32, v: vec4<f32>) {
    x4[i] = v;
}
