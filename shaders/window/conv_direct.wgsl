// The direct convolution's forward (conv_patch.wgsl and conv_store.wgsl precede; an
// entry file follows: conv_direct_entry.wgsl, or conv_direct_entry8.wgsl on 8-lane
// subgroups, each with `w_blocks`). The weights and bias are read from uniform blocks
// (`read_w`, `read_bias`): every lane reads the same ones — on llvmpipe one scalar load
// for all lanes only where the index is a constant (a loop the compiler unrolled), one
// load per lane otherwise, which is why the subgroup entries share them.

// One invocation per four neighbouring output positions (along the flattened positions;
// past the end, the last one again, not stored) and block of 16 filters (four vec4s; past
// the filters, the last vec4 again, not stored): each weight it loads serves four
// positions, each image value four vec4s of filters. On CPU adapters the loads are what
// costs: on llvmpipe the example CNN's first convolution ran 3.4× faster with constant
// weights, and arrays indexed in loops cost more than they saved, so the 4 × 16 sums are
// four matrices. Invocation t, `lane` its lane in a subgroup of 8 (0 without them): past
// the positions it computes the last block again and stores nothing, so that every lane
// of a subgroup takes part.
fn direct4(t: u32, lane: u32) {
    let b = direct_block(t);
    let acc = direct_sums(b, lane);
    if (b.w == 0u) { return; }
    let first = b.x;
    let last = b.z;
    store_block(first, b.y, acc.a0);
    if (first + 1u <= last) { store_block(first + 1u, b.y, acc.a1); }
    if (first + 2u <= last) { store_block(first + 2u, b.y, acc.a2); }
    if (first + 3u <= last) { store_block(first + 3u, b.y, acc.a3); }
    if (!WIDE8) { return; }
    store_block(first, 4u, acc.b0);
    if (first + 1u <= last) { store_block(first + 1u, 4u, acc.b1); }
    if (first + 2u <= last) { store_block(first + 2u, 4u, acc.b2); }
    if (first + 3u <= last) { store_block(first + 3u, 4u, acc.b3); }
}

// direct4 for a count of filters that is not a multiple of 4 (WHOLE4 false): the same
// blocks, the weights and bias read a float at a time from their blocks and y stored a
// float at a time.
fn direct1(t: u32, lane: u32) {
    let b = direct_block(t);
    let acc = direct_sums(b, lane);
    if (b.w == 0u) { return; }
    let first = b.x;
    let last = b.z;
    store_floats(first, b.y, acc.a0);
    if (first + 1u <= last) { store_floats(first + 1u, b.y, acc.a1); }
    if (first + 2u <= last) { store_floats(first + 2u, b.y, acc.a2); }
    if (first + 3u <= last) { store_floats(first + 3u, b.y, acc.a3); }
    if (!WIDE8) { return; }
    store_floats(first, 4u, acc.b0);
    if (first + 1u <= last) { store_floats(first + 1u, 4u, acc.b1); }
    if (first + 2u <= last) { store_floats(first + 2u, 4u, acc.b2); }
    if (first + 3u <= last) { store_floats(first + 3u, 4u, acc.b3); }
}

// Whether the four positions of a block lie in one output row (a row of OW is then
// ceil(OW / 4) blocks, the last one's positions past the row the row's last again, not
// stored) and, with stride and dilation 1 across, share their taps: position i's tap kx is
// position 0's tap kx + i, so a row of KW taps of four positions is KW + 3 loads, not 4·KW.
override STRIP: bool = false;

// On 8-lane subgroups, 17 to 32 filters (conv_direct_entry8.wgsl): an invocation computes
// both blocks of 16, lane l loading vec4 l of a field value's weights and lanes8 handing
// all eight to every lane, where one block an invocation loaded four vec4s a lane at an
// index no constant (the block varies across lanes).
override WIDE8: bool = false;

// Invocation t's block: its first output position, first vec4 of filters, the last
// position (of the block's row, with STRIP), and whether it has work (0: past the
// positions, its block then the last one).
fn direct_block(t: u32) -> vec4<u32> {
    let blocks = select((F4 + 3u) / 4u, 1u, WIDE8);
    if (STRIP) {
        let row_blocks = (OW + 3u) / 4u;
        let rb = t / blocks;
        let row = min(rb / row_blocks, p.n * OH - 1u);
        let first = row * OW + (rb % row_blocks) * 4u;
        let work = rb / row_blocks < p.n * OH;
        return vec4<u32>(first, (t % blocks) * 4u, row * OW + OW - 1u, u32(work));
    }
    let positions = p.n * OH * OW;
    let first = (t / blocks) * 4u;
    let last_block = ((positions - 1u) / 4u) * 4u;
    return vec4<u32>(min(first, last_block), (t % blocks) * 4u, positions - 1u, u32(first < positions));
}

// The four positions' sums over the field for the block's 16 filters, plus the bias (b<i>:
// filters 16.. with WIDE8).
struct Sums4 {
    a0: mat4x4<f32>,
    a1: mat4x4<f32>,
    a2: mat4x4<f32>,
    a3: mat4x4<f32>,
    b0: mat4x4<f32>,
    b1: mat4x4<f32>,
    b2: mat4x4<f32>,
    b3: mat4x4<f32>,
}

// A field value's weights for two blocks of 16 filters (conv_direct_entry*.wgsl's
// `w_blocks`): `lo` the invocation's block, `hi` filters 16.. (WIDE8 only).
struct Blocks2 {
    lo: mat4x4<f32>,
    hi: mat4x4<f32>,
}

// The bias of the 16 filters of vec4s j0.. (past the filters, the last vec4 again).
fn bias_block(j0: u32) -> mat4x4<f32> {
    let jl = F4 - 1u;
    return mat4x4<f32>(
        bias_quad(min(j0, jl)),
        bias_quad(min(j0 + 1u, jl)),
        bias_quad(min(j0 + 2u, jl)),
        bias_quad(min(j0 + 3u, jl)),
    );
}

fn direct_sums(b: vec4<u32>, lane: u32) -> Sums4 {
    let first = b.x;
    let j0 = b.y;
    let last = b.z;
    let q0 = first;
    let q1 = min(first + 1u, last);
    let q2 = min(first + 2u, last);
    let q3 = min(first + 3u, last);
    let bias = bias_block(j0);
    var acc0 = bias;
    var acc1 = bias;
    var acc2 = bias;
    var acc3 = bias;
    let bias2 = bias_block(4u);
    var bcc0 = bias2;
    var bcc1 = bias2;
    var bcc2 = bias2;
    var bcc3 = bias2;
    if (STRIP) {
        // Along each row of taps the four positions' values slide: s0..s3 are the values
        // at tap kx of positions 0..3, and the next tap of position 3 the one new load.
        let img = first / (OW * OH);
        let oy = (first / OW) % OH;
        let c0 = tap_col(first % OW, 0u);
        for (var ky = 0u; ky < KH; ky++) {
            let iy = tap_row(oy, ky);
            for (var ch = 0u; ch < C; ch++) {
                var s0 = input_value(img, iy, c0, ch);
                var s1 = input_value(img, iy, c0 + 1, ch);
                var s2 = input_value(img, iy, c0 + 2, ch);
                for (var kx = 0u; kx < KW; kx++) {
                    let s3 = input_value(img, iy, c0 + i32(kx) + 3, ch);
                    let w = w_blocks((ky * KW + kx) * C + ch, j0, lane);
                    acc0 += w.lo * s0;
                    acc1 += w.lo * s1;
                    acc2 += w.lo * s2;
                    acc3 += w.lo * s3;
                    if (WIDE8) {
                        bcc0 += w.hi * s0;
                        bcc1 += w.hi * s1;
                        bcc2 += w.hi * s2;
                        bcc3 += w.hi * s3;
                    }
                    s0 = s1;
                    s1 = s2;
                    s2 = s3;
                }
            }
        }
        return Sums4(acc0, acc1, acc2, acc3, bcc0, bcc1, bcc2, bcc3);
    }
    // The field walked as nested loops of constant counts (KH, KW, C): small enough for
    // the shader compiler to unroll, so the weights' index is a constant.
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            for (var ch = 0u; ch < C; ch++) {
                let w = w_blocks((ky * KW + kx) * C + ch, j0, lane);
                let v = vec4<f32>(
                    tap_value(q0, ky, kx, ch),
                    tap_value(q1, ky, kx, ch),
                    tap_value(q2, ky, kx, ch),
                    tap_value(q3, ky, kx, ch),
                );
                acc0 += w.lo * v.x;
                acc1 += w.lo * v.y;
                acc2 += w.lo * v.z;
                acc3 += w.lo * v.w;
                if (WIDE8) {
                    bcc0 += w.hi * v.x;
                    bcc1 += w.hi * v.y;
                    bcc2 += w.hi * v.z;
                    bcc3 += w.hi * v.w;
                }
            }
        }
    }
    return Sums4(acc0, acc1, acc2, acc3, bcc0, bcc1, bcc2, bcc3);
}

// Filters 4j..4j+3 of field value k's weights (past the last filter, the last one again):
// a vec4 of the block, or with filters not in whole vec4s four of its floats.
fn w_quad(k: u32, j: u32) -> vec4<f32> {
    if (WHOLE4) {
        return read_w(k * F4 + j);
    }
    let o = k * FILTERS;
    let l = FILTERS - 1u;
    let f = 4u * j;
    return vec4<f32>(
        read1_w(o + min(f, l)),
        read1_w(o + min(f + 1u, l)),
        read1_w(o + min(f + 2u, l)),
        read1_w(o + min(f + 3u, l)),
    );
}

// The bias of filters 4j..4j+3, as w_quad.
fn bias_quad(j: u32) -> vec4<f32> {
    if (WHOLE4) {
        return read_bias(j);
    }
    let l = FILTERS - 1u;
    let f = 4u * j;
    return vec4<f32>(
        read1_bias(min(f, l)),
        read1_bias(min(f + 1u, l)),
        read1_bias(min(f + 2u, l)),
        read1_bias(min(f + 3u, l)),
    );
}

// Tap (ky, kx) of channel ch of position pos's receptive field (0 in the padding).
fn tap_value(pos: u32, ky: u32, kx: u32, ch: u32) -> f32 {
    let img = pos / (OW * OH);
    return input_value(img, tap_row((pos / OW) % OH, ky), tap_col(pos % OW, kx), ch);
}

// Stores the filters' vec4s j0.. (those that exist) of position pos through the activation.
fn store_block(pos: u32, j0: u32, z: mat4x4<f32>) {
    let o = pos * F4 + j0;
    store_y(o, z[0]);
    if (j0 + 1u < F4) { store_y(o + 1u, z[1]); }
    if (j0 + 2u < F4) { store_y(o + 2u, z[2]); }
    if (j0 + 3u < F4) { store_y(o + 3u, z[3]); }
}

// store_block a float at a time: the filters of vec4s j0.. of position pos that exist.
fn store_floats(pos: u32, j0: u32, z: mat4x4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        for (var c = 0u; c < 4u; c++) {
            let f = 4u * (j0 + j) + c;
            if (f < FILTERS) { store_y1(pos * FILTERS + f, z[j][c]); }
        }
    }
}
