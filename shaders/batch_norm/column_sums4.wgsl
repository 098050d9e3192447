// Four columns' (Σ dy·x̂, Σ dy), column group c of `cols` vec4s. For bn_backward4 and
// bn_act_backward4, whose kernels take x and dy with vec4 views.
struct Sums4 {
    dy_xhat: vec4<f32>,
    dy: vec4<f32>,
}

fn column_sums4(c: u32, cols: u32, mean: vec4<f32>, invstd: vec4<f32>) -> Sums4 {
    return walk_sums4(c, cols, mean, invstd);
}

// The same sums over rows first, first + stride, … (a lane's share in bn_backward_rows4).
fn walk_sums4(first: u32, stride: u32, mean: vec4<f32>, invstd: vec4<f32>) -> Sums4 {
    let end = p.rows * (p.cols / 4u);
    var sum_dy = vec4<f32>(0.0);
    var sum_dy_xhat = vec4<f32>(0.0);
    var i = first;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let g = read_dy(i);
                    sum_dy += g;
                    sum_dy_xhat += g * ((read_x(i) - mean) * invstd);
                    i += stride;
            }
        }
    }
    return Sums4(sum_dy_xhat, sum_dy);
}
