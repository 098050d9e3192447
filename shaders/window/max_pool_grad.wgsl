// The gradient input value i — image img, row iy, column ix, channel ch — receives from
// the pooling windows that took it: a gather over the windows holding it, through their
// argmax; `taken` tells whether any did. For max_pool_backward and max_pool_act_backward,
// whose kernels both take dy and argmax.
fn max_pool_grad_taken(i: u32, img: u32, iy: u32, ix: u32, ch: u32, taken: ptr<function, bool>) -> f32 {
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky++) {
        let oy = source_row(iy, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < KW; kx++) {
            let ox = source_col(ix, kx);
            if (ox < 0) { continue; }
            let o = output_index(img, u32(oy), u32(ox), ch);
            if (argmax[o] == i) {
                acc += read1_dy(o);
                *taken = true;
            }
        }
    }
    return acc;
}

fn max_pool_grad(i: u32, img: u32, iy: u32, ix: u32, ch: u32) -> f32 {
    var taken = false;
    return max_pool_grad_taken(i, img, iy, ix, ch, &taken);
}
