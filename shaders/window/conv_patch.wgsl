// A convolution computed straight from the image (Kernel::ConvDirect: kh·kw·c at most 32
// values, a first layer over few channels, or 256 over channels not in whole vec4s),
// without im2col rows: the rows cost more to write than the product costs to compute (the
// example CNN's first convolution at batch 128: 86,528 rows of 9 values). Its kernel
// gradient (Kernel::ConvDirectWeightGrad) comes as partial sums over stripes of positions,
// a column sum of them after.

// Filters (at most 64), in vec4s rounded up, whether they fill whole vec4s, and the
// receptive field's values (kh·kw·c), fixed per pipeline.
override FILTERS: u32 = 4u;
override F4: u32 = 1u;
override WHOLE4: bool = true;
override PATCH: u32 = 1u;
// Whether some taps fall in the padding (otherwise the bounds checks are left out).
override PADDED: bool = false;

// Channel ch of input pixel (iy, ix) of image img, 0 in the padding: without branches
// (a clamped load and a select), which SwiftShader compiles where a return per tap inside
// the kernel gradient's sums ran it out of memory.
fn input_value(img: u32, iy: i32, ix: i32, ch: u32) -> f32 {
    let cy = u32(clamp(iy, 0, i32(H) - 1));
    let cx = u32(clamp(ix, 0, i32(W) - 1));
    let v = x[input_index(img, cy, cx, ch)];
    return select(v, 0.0, PADDED && !inside(iy, ix));
}

// Value k of output position (img, oy, ox)'s receptive field, in (ky, kx, channel) order
// with zeros in the padding: value k of its im2col row.
fn patch_value(img: u32, oy: u32, ox: u32, k: u32) -> f32 {
    let ch = k % C;
    let kx = (k / C) % KW;
    let ky = k / (C * KW);
    return input_value(img, tap_row(oy, ky), tap_col(ox, kx), ch);
}
