// A convolution over a small receptive field (Kernel::ConvDirect: a first layer over few
// channels, kh·kw·c at most 32 values) computed straight from the image, without im2col
// rows: the rows cost more to write than the product costs to compute (the example CNN's
// first convolution at batch 128: 86,528 rows of 9 values). Its kernel gradient
// (Kernel::ConvDirectWeightGrad) comes as partial sums over stripes of positions, a column
// sum of them after.

// Filters in vec4s (filters a multiple of 4, at most 64) and the receptive field's values
// (kh·kw·c), fixed per pipeline.
override F4: u32 = 1u;
override PATCH: u32 = 1u;
// Whether some taps fall in the padding (otherwise the bounds checks are left out).
override PADDED: bool = false;

// The receptive field of output position `pos` (image, oy, ox), in (ky, kx, channel)
// order with zeros in the padding: value k of its im2col row.
fn patch_value(img: u32, oy: u32, ox: u32, k: u32) -> f32 {
    let ch = k % C;
    let kx = (k / C) % KW;
    let ky = k / (C * KW);
    let iy = tap_row(oy, ky);
    let ix = tap_col(ox, kx);
    if (PADDED && !inside(iy, ix)) { return 0.0; }
    return x[input_index(img, u32(iy), u32(ix), ch)];
}

