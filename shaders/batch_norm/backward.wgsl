// Full batch-norm backward (through the batch mean and variance), one invocation per
// column: dx, dgamma = Σ dy·x̂, dbeta = Σ dy.
@compute @workgroup_size(64)
fn bn_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let mean = stats[c];
    let invstd = inverseSqrt(stats[p.cols + c] + p.eps);
    let sums = column_sums(c, mean, invstd);
    dx_column(c, mean, invstd, sums.x, sums.y, f32(p.rows));
    dgamma[c] = sums.x;
    dbeta[c] = sums.y;
}

// bn_backward, four columns an invocation (cols % 4 == 0) through the vec4 views.
@compute @workgroup_size(64)
fn bn_backward4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let mean = stats4[c];
    let invstd = inverseSqrt(stats4[cols + c] + vec4<f32>(p.eps));
    let end = p.rows * cols;
    let sums = column_sums4(c, cols, mean, invstd);
    let sum_dy = sums.dy;
    let sum_dy_xhat = sums.dy_xhat;
    let n = f32(p.rows);
    let k = gamma4[c] * invstd / n;
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let xhat = (read_x(i) - mean) * invstd;
                    dx4[i] = k * (n * read_dy(i) - sum_dy - xhat * sum_dy_xhat);
                    i += cols;
            }
        }
    }
    dgamma4[c] = sum_dy_xhat;
    dbeta4[c] = sum_dy;
}

// bn_backward4 over many rows (batch_norm/lanes.wgsl): a workgroup a group of four
// columns, its lanes splitting the rows for the sums and for dx; x and dy read through
// `read_x` and `read_dy` (textures in the entry CPU adapters take).
@compute @workgroup_size(ROW_LANES)
fn bn_backward_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = wid.x;
    let lane = lid.x;
    let cols = p.cols / 4u;
    let end = p.rows * cols;
    let first = c + lane * cols;
    let stride = ROW_LANES * cols;
    let mean = stats4[c];
    let invstd = inverseSqrt(stats4[cols + c] + vec4<f32>(p.eps));
    let part = walk_sums4(first, stride, mean, invstd);
    let sum_dy = lanes_sum(part.dy, lane);
    let sum_dy_xhat = lanes_sum(part.dy_xhat, lane);
    let n = f32(p.rows);
    let k = gamma4[c] * invstd / n;
    var i = first;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let xhat = (read_x(i) - mean) * invstd;
                    dx4[i] = k * (n * read_dy(i) - sum_dy - xhat * sum_dy_xhat);
                    i += stride;
            }
        }
    }
    if (lane == 0u) {
        dgamma4[c] = sum_dy_xhat;
        dbeta4[c] = sum_dy;
    }
}
