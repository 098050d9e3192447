// The gradient input value i — image img, row iy, column ix, channel ch — receives from
// the pooling windows that took it: a gather over the windows holding it, through their
// argmax; `taken` tells whether any did. For max_pool_backward and max_pool_act_backward,
// whose kernels both take dy and argmax (max_pool_grad4: four channels, through their
// vec4 views).
fn max_pool_grad_taken(i: u32, img: u32, iy: u32, ix: u32, ch: u32, taken: ptr<function, bool>) -> f32 {
    var acc = 0.0;
    let rows = source_range(iy, PAD_TOP, KH, DH, SH, OH);
    let cols = source_range(ix, PAD_LEFT, KW, DW, SW, OW);
    for (var oy = rows.x; oy < rows.y; oy++) {
        if (!tap_at(iy, PAD_TOP, DH, SH, oy)) { continue; }
        for (var ox = cols.x; ox < cols.y; ox++) {
            if (!tap_at(ix, PAD_LEFT, DW, SW, ox)) { continue; }
            let o = output_index(img, oy, ox, ch);
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

// What four channels ch..ch+3 of input value i (at image img, row iy, column ix) receive
// from the windows that took them, and which did: per window one vec4 load of argmax and
// of dy.
struct Grad4 {
    sum: vec4<f32>,
    taken: vec4<bool>,
}

fn max_pool_grad4(i: u32, img: u32, iy: u32, ix: u32, ch: u32) -> Grad4 {
    let lanes = vec4<u32>(i) + vec4<u32>(0u, 1u, 2u, 3u);
    var g = Grad4(vec4<f32>(0.0), vec4<bool>(false));
    let rows = source_range(iy, PAD_TOP, KH, DH, SH, OH);
    let cols = source_range(ix, PAD_LEFT, KW, DW, SW, OW);
    for (var oy = rows.x; oy < rows.y; oy++) {
        if (!tap_at(iy, PAD_TOP, DH, SH, oy)) { continue; }
        for (var ox = cols.x; ox < cols.y; ox++) {
            if (!tap_at(ix, PAD_LEFT, DW, SW, ox)) { continue; }
            let o = output_index(img, oy, ox, ch) / 4u;
            let hit = argmax4[o] == lanes;
            g.sum += select(vec4<f32>(0.0), read_dy(o), hit);
            g.taken = g.taken | hit;
        }
    }
    return g;
}
