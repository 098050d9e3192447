// Matrix multiply C[m,n] = op(A)[m,k] * op(B)[k,n] by subgroups of 8 lanes (adapters
// whose subgroups are exactly 8 lanes wide: llvmpipe at 256 bits). A workgroup is one
// subgroup and owns a 32×32 block of C: lane l owns its 4 columns 4l..4l+3 for all 32
// rows. Every four steps of k a lane loads one texel of A for each 8-row group (its own
// row's 4 values of k) and four of B (its columns at those 4 steps); the rows' values
// reach every lane through subgroupBroadcast, which on a CPU adapter is a register
// shuffle where the register-blocked bodies gather every operand value per lane
// (`steadygrad bench --profile --model examples/cnn_bn.json --batch-size 128` on llvmpipe,
// copies included: its second convolution, 18,432×288×64 with the dense epilogue, in
// 19.7 ms against 40.4 with the 8×8 texture body forced). 32 accumulators a lane (128
// floats, four Rows8); blocks of 64 rows measured no faster.
//
// Declared before this file (generated from Rust): `p` (MatmulParams), the texture views
// of A and B read through load_a4/load_b4 (texture_operands.wgsl), and the store file's
// store_row (store.wgsl, or dense_store.wgsl's epilogue); lanes8 (matmul/lanes8.wgsl), Tile32
// (matmul/rows8.wgsl). Needs vec4 loads of A (k a
// multiple of 4, and m when A is transposed), and of B unless B_FLOATS. Over more than 32
// columns (WIDE) a workgroup owns 32×64, lane l also the columns 32 + 4l..: the rows' values
// it loads and broadcasts serve twice the multiply-adds.

// The transposes, fixed per pipeline (GpuLaunch::constants).
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// A plain B whose rows are not whole texels (n not a multiple of 4: a classifier's 10
// outputs), read a float at a time; fixed per pipeline.
override B_FLOATS: bool = false;
// Over more than 32 columns, 64 a workgroup; fixed per pipeline.
override WIDE: bool = false;

// The eight rows of a group, each as its 4 values of k, from the lanes' A texels: plain A,
// lane j holds row j; transposed A, lane 4h + t holds rows 4h..4h+3 at step t.
fn rows8(a: vec4<f32>) -> array<vec4<f32>, 8> {
    let l = lanes8(a);
    if (TRANS_A) {
        let lo = transpose(mat4x4<f32>(l[0], l[1], l[2], l[3]));
        let hi = transpose(mat4x4<f32>(l[4], l[5], l[6], l[7]));
        return array<vec4<f32>, 8>(lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]);
    }
    return l;
}

@compute @workgroup_size(8)
fn matmul_subgroup(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let row0 = wid.y * 32u;
    let cq = wid.x * select(8u, 16u, WIDE) + lane;
    let col0 = cq * 4u;
    let m4 = p.m / 4u;
    let k4 = p.k / 4u;
    // Texel rows of A: plain, this lane's row of each group; transposed, its quad of rows
    // (lane >> 2) at step lane & 3. Edge rows and columns are clamped (never stored).
    let arow0 = min(row0 + 0u + lane, p.m - 1u) * k4;
    let aq0 = min((row0 + 0u) / 4u + (lane >> 2u), m4 - 1u);
    let arow1 = min(row0 + 8u + lane, p.m - 1u) * k4;
    let aq1 = min((row0 + 8u) / 4u + (lane >> 2u), m4 - 1u);
    let arow2 = min(row0 + 16u + lane, p.m - 1u) * k4;
    let aq2 = min((row0 + 16u) / 4u + (lane >> 2u), m4 - 1u);
    let arow3 = min(row0 + 24u + lane, p.m - 1u) * k4;
    let aq3 = min((row0 + 24u) / 4u + (lane >> 2u), m4 - 1u);
    let t = lane & 3u;
    var tile = Tile32();
    var tile2 = Tile32();
    for (var q = 0u; q < k4; q++) {
        let kk = q * 4u;
        let r0 = rows8(load_a4(select(arow0 + q, (kk + t) * m4 + aq0, TRANS_A)));
        let r1 = rows8(load_a4(select(arow1 + q, (kk + t) * m4 + aq1, TRANS_A)));
        let r2 = rows8(load_a4(select(arow2 + q, (kk + t) * m4 + aq2, TRANS_A)));
        let r3 = rows8(load_a4(select(arow3 + q, (kk + t) * m4 + aq3, TRANS_A)));
        tile = fma32(tile, b_rows(q, cq), r0, r1, r2, r3);
        if (WIDE) {
            tile2 = fma32(tile2, b_rows(q, cq + 8u), r0, r1, r2, r3);
        }
    }
    store32(row0, col0, tile);
    if (WIDE) {
        store32(row0, col0 + 32u, tile2);
    }
}

// Rows 4q..4q+3 of B at columns 4·cq.. (edge columns clamped, never stored): four steps of
// k over the lane's four columns.
fn b_rows(q: u32, cq: u32) -> mat4x4<f32> {
    let kk = q * 4u;
    let n4 = p.n / 4u;
    let cf = min(vec4<u32>(cq * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.n - 1u));
    if (TRANS_B) {
        let cols = cf * (p.k / 4u);
        return transpose(mat4x4<f32>(load_b4(cols.x + q), load_b4(cols.y + q), load_b4(cols.z + q), load_b4(cols.w + q)));
    }
    if (B_FLOATS) {
        let b0 = kk * p.n + cf;
        let b1 = b0 + vec4<u32>(p.n);
        let b2 = b1 + vec4<u32>(p.n);
        let b3 = b2 + vec4<u32>(p.n);
        return mat4x4<f32>(
            vec4<f32>(load_b1(b0.x), load_b1(b0.y), load_b1(b0.z), load_b1(b0.w)),
            vec4<f32>(load_b1(b1.x), load_b1(b1.y), load_b1(b1.z), load_b1(b1.w)),
            vec4<f32>(load_b1(b2.x), load_b1(b2.y), load_b1(b2.z), load_b1(b2.w)),
            vec4<f32>(load_b1(b3.x), load_b1(b3.y), load_b1(b3.z), load_b1(b3.w)));
    }
    let cqc = min(cq, max(n4, 1u) - 1u);
    return mat4x4<f32>(load_b4(kk * n4 + cqc), load_b4((kk + 1u) * n4 + cqc), load_b4((kk + 2u) * n4 + cqc), load_b4((kk + 3u) * n4 + cqc));
}
