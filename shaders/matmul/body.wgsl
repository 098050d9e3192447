// Matrix multiply C[m,n] = op(A)[m,k] * op(B)[k,n], with op = optional transpose: the
// kernel bodies. How a result is stored is up to the store file before this one:
// store.wgsl stores (or accumulates) plainly, dense_store.wgsl applies a dense
// layer's bias and activation first (its epilogue). Both define `c`, store_row and
// store_one.
//
// Transposes are expressed as strides so one kernel serves the forward pass (X·W),
// the input gradient (dY·Wᵀ) and the weight gradient (Xᵀ·dY) without branches in the
// inner loop. Two variants:
//   * matmul_regblock: every invocation owns 4 rows × 4 (interleaved) columns of C and
//     reads global memory directly; no workgroup barriers. Best on CPU-emulated adapters (llvmpipe), where
//     barriers are expensive and "threads" are SIMD lanes.
//   * matmul_tiled: a workgroup stages 64×16 / 16×64 tiles of A and B in workgroup memory
//     and each invocation accumulates a 4×4 block. Best on discrete GPUs.

// Declared before this file (generated from Rust): `p` (MatmulParams: m, k, n; flags bit 0
// A stored transposed ([k,m]), bit 1 B stored transposed ([n,k]), bit 2 accumulate into C;
// code, act_flags, f0, f1: the dense epilogue's activation), the buffers `a` and `b` (and
// their vec4 or texture views, read through load_a4/load_b4 from the operand file), and
// whatever the store file uses.

// Workgroup shape, set per entry point by the host contract (Entry::constants).
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// The transposes of the vec4 kernels, fixed per pipeline (GpuLaunch::constants) and equal
// to flags bits 0 and 1: a branch on a uniform inside the k loop made llvmpipe run the
// 16×16 kernel at about 60 % of the speed of the same kernel with the branch folded away
// (measured at 1024³ and at the seed network's shapes).
override TRANS_A: bool = false;
override TRANS_B: bool = false;

// Strides of A(i, kk) and B(kk, j) in their storage.
fn a_strides() -> vec2<u32> {
    if ((p.flags & 1u) != 0u) { return vec2<u32>(1u, p.m); }
    return vec2<u32>(p.k, 1u);
}
fn b_strides() -> vec2<u32> {
    if ((p.flags & 2u) != 0u) { return vec2<u32>(1u, p.k); }
    return vec2<u32>(p.n, 1u);
}

// Columns are interleaved: invocation x owns columns x, x + T, x + 2T, x + 3T (T = the
// invocations along x), so neighbouring invocations — the SIMD lanes of a CPU adapter —
// read neighbouring elements of B instead of gathering with a stride of 4.
@compute @workgroup_size(WG_X, WG_Y)
fn matmul_regblock(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let row0 = gid.y * 4u;
    let stride = nwg.x * WG_X;
    let col0 = gid.x;
    if (row0 >= p.m || col0 >= p.n) { return; }
    let sa = a_strides(); // (row stride, k stride)
    let sb = b_strides(); // (k stride, col stride)
    // Clamp edge indices so loads stay in bounds without branches; the duplicated
    // rows/columns are never stored.
    var ra: vec4<u32>;
    var cb: vec4<u32>;
    for (var i = 0u; i < 4u; i++) {
        ra[i] = min(row0 + i, p.m - 1u) * sa.x;
        cb[i] = min(col0 + i * stride, p.n - 1u) * sb.y;
    }
    var acc: array<vec4<f32>, 4>;
    for (var kk = 0u; kk < p.k; kk++) {
        let ka = kk * sa.y;
        let kb = kk * sb.x;
        let bv = vec4<f32>(b[kb + cb.x], b[kb + cb.y], b[kb + cb.z], b[kb + cb.w]);
        acc[0] += a[ra.x + ka] * bv;
        acc[1] += a[ra.y + ka] * bv;
        acc[2] += a[ra.z + ka] * bv;
        acc[3] += a[ra.w + ka] * bv;
    }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + i;
        if (r >= p.m) { break; }
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + j * stride;
            if (col >= p.n) { break; }
            store_one(r, col, acc[i][j]);
        }
    }
}

// Narrow C (at most 16 columns, NARROW_N of them, fixed per pipeline): one row of C an
// invocation, the lanes along the rows, every column in registers (the constant width
// unrolls the column loops, and the lanes all read the same row of B). The 4×4 kernel
// spreads its interleaved columns over a 10-column output with two thirds of its lanes
// idle (measured on llvmpipe at 256×100×10: twice the time). The walk steps indices
// rather than counting k (a count up to a bound read from `p` alone, once lavapipe unrolls
// it, is compiled again at every dispatch: docs/benchmarks.md, "Loops bounded by a
// launch's parameters alone").
override NARROW_N: u32 = 16u;

// k steps an iteration of the narrow walks that reach past 65,535 steps (an inner loop of
// constant length the compiler unrolls): the scalar one, and the one over a plain B of
// whole vec4 rows with LONG_K (a convolution's weight gradient at batch 256 sums over
// 173,056 positions).
const K_UNROLL: u32 = 4u;

// With LONG_K (k past LOOP_MAX in ops/matmul.rs, fixed per pipeline) the narrow walk over a
// plain B takes K_UNROLL steps an iteration: llvmpipe ends an invocation's loops after
// 65,535 iterations in all (Mesa's gallivm loop limiter; one loop after another share the
// count). Without it, a step an iteration (bound checks inside an unrolled walk cost the
// first convolution of the example CNN a third of its time on llvmpipe).
override LONG_K: bool = false;

// The narrow walk over a plain B: `steps` steps of k, A's index from `ia` by `a_step`
// each, B's vec4 index from `ib4` by `b_step`.
fn narrow_walk(acc: ptr<function, array<vec4<f32>, 4>>, ia: u32, a_step: u32, ib4: u32, b_step: u32, steps: u32) {
    if (LONG_K) {
        for (var q = 0u; q < steps; q += K_UNROLL) {
            for (var u = 0u; u < K_UNROLL; u++) {
                let s = q + u;
                if (s < steps) {
                    let av = load_a1(ia + s * a_step);
                    for (var j = 0u; j < NARROW_N / 4u; j++) {
                        (*acc)[j] += av * load_b_quad(ib4 + s * b_step + j);
                    }
                }
            }
        }
        return;
    }
    for (var s = 0u; s < steps; s++) {
        let av = load_a1(ia + s * a_step);
        for (var j = 0u; j < NARROW_N / 4u; j++) {
            (*acc)[j] += av * load_b_quad(ib4 + s * b_step + j);
        }
    }
}

// A wider C (a multiple of NARROW_N columns) is walked in groups of NARROW_N columns, one
// along y: group g owns columns g·NARROW_N.. (with n ≤ NARROW_N there is one, and p.n is
// NARROW_N).
//
// With K_SPLIT (few rows, a long k over a plain B: a weight gradient's nine rows summed
// over every position of a batch) a workgroup takes one row instead, its WG_X lanes each
// summing every WG_X-th step of k, and its first lane adds their sums: WG_X times the
// lanes a row-per-lane walk would keep busy.
// (WG_X is 8 for the narrow entries: the partial sums' array holds 8.)
override K_SPLIT: bool = false;
var<workgroup> narrow_partial: array<array<vec4<f32>, 4>, 8>;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_narrow(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let row = select(gid.x, wid.x, K_SPLIT);
    let r = min(row, p.m - 1u);
    let col0 = gid.y * NARROW_N;
    let sa = a_strides(); // (row stride, k stride)
    let sb = b_strides(); // (k stride, col stride)
    var ia = r * sa.x;
    let a_end = ia + p.k * sa.y;
    if (!TRANS_B && NARROW_N % 4u == 0u) {
        // A plain B whose rows are whole vec4s: the group's part of a row of B in
        // NARROW_N / 4 loads.
        var acc4: array<vec4<f32>, 4>;
        var ib4 = col0 / 4u;
        let lane = select(0u, lid.x, K_SPLIT);
        let lanes = select(1u, WG_X, K_SPLIT);
        ia += lane * sa.y;
        ib4 += lane * (p.n / 4u);
        let a_step = lanes * sa.y;
        let b_step = lanes * (p.n / 4u);
        // The walk counts this lane's steps (all of k, or every lanes-th from its own
        // with K_SPLIT) and derives both indices from the count: without K_SPLIT the count
        // and B's index are then the same in every lane, so a B read from a uniform block
        // (uniform_operands.wgsl) is one load for all of them (a walk that stepped the
        // indices ran the first convolution of the example CNN 1.5× slower on llvmpipe).
        let steps = (p.k + lanes - 1u - lane) / lanes;
        narrow_walk(&acc4, ia, a_step, ib4, b_step, steps);
        if (K_SPLIT) {
            narrow_partial[lid.x] = acc4;
            workgroupBarrier();
            if (lid.x != 0u) { return; }
            for (var l = 1u; l < min(WG_X, 8u); l++) {
                let o = narrow_partial[l];
                for (var j = 0u; j < NARROW_N / 4u; j++) {
                    acc4[j] += o[j];
                }
            }
        }
        if (row < p.m) {
            for (var j = 0u; j < NARROW_N; j++) {
                store_one(row, col0 + j, acc4[j / 4u][j % 4u]);
            }
        }
        return;
    }
    var acc: array<f32, 16>;
    var ib = col0 * sb.y;
    while (ia < a_end) {
        for (var u = 0u; u < K_UNROLL; u++) {
            if (ia < a_end) {
                let av = load_a1(ia);
                for (var j = 0u; j < NARROW_N; j++) {
                    acc[j] += av * load_b1(ib + j * sb.y);
                }
                ia += sa.y;
                ib += sb.x;
            }
        }
    }
    if (gid.x < p.m) {
        for (var j = 0u; j < NARROW_N; j++) {
            store_one(gid.x, col0 + j, acc[j]);
        }
    }
}

// 4×4 blocks of C from vec4 loads: per four steps of k, four vec4 loads of A and four of
// B feed 64 multiply-adds (the scalar kernel needs eight loads per 16). Used when k is a
// multiple of 4 and the vec4s are aligned: m % 4 == 0 for a transposed A, n % 4 == 0 for
// a plain B. The host picks it on CPU adapters.
@compute @workgroup_size(WG_X, WG_Y)
fn matmul_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 4u;
    let col0 = gid.x * 4u;
    // No early return: out-of-range invocations compute on clamped indices and store
    // nothing. Returning early leaves the rest of the kernel under a partial execution
    // mask, which makes llvmpipe scalarize every load.
    let ta = TRANS_A;
    let tb = TRANS_B;
    let rows = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.m - 1u));
    let cols = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.n - 1u));
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let m4 = p.m / 4u;
    let n4 = p.n / 4u;
    let k4 = p.k / 4u;
    let ra = rows * k4;
    let cb = cols * k4;
    for (var q = 0u; q < k4; q++) {
        let kk = q * 4u;
        // Columns of am: row i of A over k = kk..kk+3.
        var am: mat4x4<f32>;
        if (ta) {
            let o = gid.y;
            am = transpose(mat4x4<f32>(
                load_a4(kk * m4 + o), load_a4((kk + 1u) * m4 + o), load_a4((kk + 2u) * m4 + o), load_a4((kk + 3u) * m4 + o)));
        } else {
            am = mat4x4<f32>(load_a4(ra.x + q), load_a4(ra.y + q), load_a4(ra.z + q), load_a4(ra.w + q));
        }
        // Columns of bm: row kk+t of B over the block's four columns.
        var bm: mat4x4<f32>;
        if (tb) {
            bm = transpose(mat4x4<f32>(load_b4(cb.x + q), load_b4(cb.y + q), load_b4(cb.z + q), load_b4(cb.w + q)));
        } else {
            let o = gid.x;
            bm = mat4x4<f32>(
                load_b4(kk * n4 + o), load_b4((kk + 1u) * n4 + o), load_b4((kk + 2u) * n4 + o), load_b4((kk + 3u) * n4 + o));
        }
        acc0 += bm * am[0];
        acc1 += bm * am[1];
        acc2 += bm * am[2];
        acc3 += bm * am[3];
    }
    store_row(row0, col0, acc0);
    store_row(row0 + 1u, col0, acc1);
    store_row(row0 + 2u, col0, acc2);
    store_row(row0 + 3u, col0, acc3);
}

// 8×8 blocks of C from vec4 loads (two 4×4 blocks side by side, two stacked): per four
// steps of k, eight vec4 loads of A and eight of B feed 256 multiply-adds — twice the
// arithmetic per load of matmul_vec4. Same alignment needs as matmul_vec4.
@compute @workgroup_size(WG_X, WG_Y)
fn matmul_vec8(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 8u;
    let col0 = gid.x * 8u;
    let ta = TRANS_A;
    let tb = TRANS_B;
    let m4 = p.m / 4u;
    let n4 = p.n / 4u;
    let k4 = p.k / 4u;
    let last_row = vec4<u32>(p.m - 1u);
    let last_col = vec4<u32>(p.n - 1u);
    let lo = vec4<u32>(0u, 1u, 2u, 3u);
    let rows_a = min(vec4<u32>(row0) + lo, last_row);
    let rows_b = min(vec4<u32>(row0 + 4u) + lo, last_row);
    let cols_a = min(vec4<u32>(col0) + lo, last_col);
    let cols_b = min(vec4<u32>(col0 + 4u) + lo, last_col);
    // vec4 indices of the two row blocks (transposed A) and column blocks (plain B).
    let ra_o = min(gid.y * 2u, m4 - 1u);
    let rb_o = min(gid.y * 2u + 1u, m4 - 1u);
    let ca_o = min(gid.x * 2u, n4 - 1u);
    let cb_o = min(gid.x * 2u + 1u, n4 - 1u);
    var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
    var a4_ = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
    var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
    var b4_ = vec4<f32>(0.0); var b5 = vec4<f32>(0.0); var b6 = vec4<f32>(0.0); var b7 = vec4<f32>(0.0);
    for (var q = 0u; q < k4; q++) {
        let kk = q * 4u;
        var am_hi: mat4x4<f32>;
        var am_lo: mat4x4<f32>;
        if (ta) {
            am_hi = transpose(mat4x4<f32>(
                load_a4(kk * m4 + ra_o), load_a4((kk + 1u) * m4 + ra_o), load_a4((kk + 2u) * m4 + ra_o), load_a4((kk + 3u) * m4 + ra_o)));
            am_lo = transpose(mat4x4<f32>(
                load_a4(kk * m4 + rb_o), load_a4((kk + 1u) * m4 + rb_o), load_a4((kk + 2u) * m4 + rb_o), load_a4((kk + 3u) * m4 + rb_o)));
        } else {
            let ia = rows_a * k4 + vec4<u32>(q);
            let ib = rows_b * k4 + vec4<u32>(q);
            am_hi = mat4x4<f32>(load_a4(ia.x), load_a4(ia.y), load_a4(ia.z), load_a4(ia.w));
            am_lo = mat4x4<f32>(load_a4(ib.x), load_a4(ib.y), load_a4(ib.z), load_a4(ib.w));
        }
        var bm_l: mat4x4<f32>;
        var bm_r: mat4x4<f32>;
        if (tb) {
            let ja = cols_a * k4 + vec4<u32>(q);
            let jb = cols_b * k4 + vec4<u32>(q);
            bm_l = transpose(mat4x4<f32>(load_b4(ja.x), load_b4(ja.y), load_b4(ja.z), load_b4(ja.w)));
            bm_r = transpose(mat4x4<f32>(load_b4(jb.x), load_b4(jb.y), load_b4(jb.z), load_b4(jb.w)));
        } else {
            bm_l = mat4x4<f32>(
                load_b4(kk * n4 + ca_o), load_b4((kk + 1u) * n4 + ca_o), load_b4((kk + 2u) * n4 + ca_o), load_b4((kk + 3u) * n4 + ca_o));
            bm_r = mat4x4<f32>(
                load_b4(kk * n4 + cb_o), load_b4((kk + 1u) * n4 + cb_o), load_b4((kk + 2u) * n4 + cb_o), load_b4((kk + 3u) * n4 + cb_o));
        }
        a0 += bm_l * am_hi[0]; b0 += bm_r * am_hi[0];
        a1 += bm_l * am_hi[1]; b1 += bm_r * am_hi[1];
        a2 += bm_l * am_hi[2]; b2 += bm_r * am_hi[2];
        a3 += bm_l * am_hi[3]; b3 += bm_r * am_hi[3];
        a4_ += bm_l * am_lo[0]; b4_ += bm_r * am_lo[0];
        a5 += bm_l * am_lo[1]; b5 += bm_r * am_lo[1];
        a6 += bm_l * am_lo[2]; b6 += bm_r * am_lo[2];
        a7 += bm_l * am_lo[3]; b7 += bm_r * am_lo[3];
    }
    store_row(row0, col0, a0); store_row(row0, col0 + 4u, b0);
    store_row(row0 + 1u, col0, a1); store_row(row0 + 1u, col0 + 4u, b1);
    store_row(row0 + 2u, col0, a2); store_row(row0 + 2u, col0 + 4u, b2);
    store_row(row0 + 3u, col0, a3); store_row(row0 + 3u, col0 + 4u, b3);
    store_row(row0 + 4u, col0, a4_); store_row(row0 + 4u, col0 + 4u, b4_);
    store_row(row0 + 5u, col0, a5); store_row(row0 + 5u, col0 + 4u, b5);
    store_row(row0 + 6u, col0, a6); store_row(row0 + 6u, col0 + 4u, b6);
    store_row(row0 + 7u, col0, a7); store_row(row0 + 7u, col0 + 4u, b7);
}

// 16×16 blocks of C from vec4 loads (four 4×4 row blocks by four column blocks): per four
// steps of k, sixteen vec4 loads of A and sixteen of B feed 1,024 multiply-adds — half the
// loads per multiply-add of matmul_vec8, for four times its accumulators (measured on
// llvmpipe at 1024³: 1.6–1.8× matmul_vec8). Same alignment needs as matmul_vec4; the
// autotuner keeps it where it wins.
@compute @workgroup_size(WG_X, WG_Y)
fn matmul_vec16(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 16u;
    let col0 = gid.x * 16u;
    let ta = TRANS_A;
    let tb = TRANS_B;
    let m4 = p.m / 4u;
    let n4 = p.n / 4u;
    let k4 = p.k / 4u;
    let last_row = vec4<u32>(p.m - 1u);
    let last_col = vec4<u32>(p.n - 1u);
    let lo = vec4<u32>(0u, 1u, 2u, 3u);
    let rows0 = min(vec4<u32>(row0 + 0u) + lo, last_row);
    let ro0 = min(gid.y * 4u + 0u, m4 - 1u);
    let rows1 = min(vec4<u32>(row0 + 4u) + lo, last_row);
    let ro1 = min(gid.y * 4u + 1u, m4 - 1u);
    let rows2 = min(vec4<u32>(row0 + 8u) + lo, last_row);
    let ro2 = min(gid.y * 4u + 2u, m4 - 1u);
    let rows3 = min(vec4<u32>(row0 + 12u) + lo, last_row);
    let ro3 = min(gid.y * 4u + 3u, m4 - 1u);
    let cols0 = min(vec4<u32>(col0 + 0u) + lo, last_col);
    let co0 = min(gid.x * 4u + 0u, n4 - 1u);
    let cols1 = min(vec4<u32>(col0 + 4u) + lo, last_col);
    let co1 = min(gid.x * 4u + 1u, n4 - 1u);
    let cols2 = min(vec4<u32>(col0 + 8u) + lo, last_col);
    let co2 = min(gid.x * 4u + 2u, n4 - 1u);
    let cols3 = min(vec4<u32>(col0 + 12u) + lo, last_col);
    let co3 = min(gid.x * 4u + 3u, n4 - 1u);
    var c000 = vec4<f32>(0.0); var c001 = vec4<f32>(0.0); var c002 = vec4<f32>(0.0); var c003 = vec4<f32>(0.0);
    var c010 = vec4<f32>(0.0); var c011 = vec4<f32>(0.0); var c012 = vec4<f32>(0.0); var c013 = vec4<f32>(0.0);
    var c020 = vec4<f32>(0.0); var c021 = vec4<f32>(0.0); var c022 = vec4<f32>(0.0); var c023 = vec4<f32>(0.0);
    var c030 = vec4<f32>(0.0); var c031 = vec4<f32>(0.0); var c032 = vec4<f32>(0.0); var c033 = vec4<f32>(0.0);
    var c100 = vec4<f32>(0.0); var c101 = vec4<f32>(0.0); var c102 = vec4<f32>(0.0); var c103 = vec4<f32>(0.0);
    var c110 = vec4<f32>(0.0); var c111 = vec4<f32>(0.0); var c112 = vec4<f32>(0.0); var c113 = vec4<f32>(0.0);
    var c120 = vec4<f32>(0.0); var c121 = vec4<f32>(0.0); var c122 = vec4<f32>(0.0); var c123 = vec4<f32>(0.0);
    var c130 = vec4<f32>(0.0); var c131 = vec4<f32>(0.0); var c132 = vec4<f32>(0.0); var c133 = vec4<f32>(0.0);
    var c200 = vec4<f32>(0.0); var c201 = vec4<f32>(0.0); var c202 = vec4<f32>(0.0); var c203 = vec4<f32>(0.0);
    var c210 = vec4<f32>(0.0); var c211 = vec4<f32>(0.0); var c212 = vec4<f32>(0.0); var c213 = vec4<f32>(0.0);
    var c220 = vec4<f32>(0.0); var c221 = vec4<f32>(0.0); var c222 = vec4<f32>(0.0); var c223 = vec4<f32>(0.0);
    var c230 = vec4<f32>(0.0); var c231 = vec4<f32>(0.0); var c232 = vec4<f32>(0.0); var c233 = vec4<f32>(0.0);
    var c300 = vec4<f32>(0.0); var c301 = vec4<f32>(0.0); var c302 = vec4<f32>(0.0); var c303 = vec4<f32>(0.0);
    var c310 = vec4<f32>(0.0); var c311 = vec4<f32>(0.0); var c312 = vec4<f32>(0.0); var c313 = vec4<f32>(0.0);
    var c320 = vec4<f32>(0.0); var c321 = vec4<f32>(0.0); var c322 = vec4<f32>(0.0); var c323 = vec4<f32>(0.0);
    var c330 = vec4<f32>(0.0); var c331 = vec4<f32>(0.0); var c332 = vec4<f32>(0.0); var c333 = vec4<f32>(0.0);
    for (var q = 0u; q < k4; q++) {
        let kk = q * 4u;
        var am0: mat4x4<f32>;
        var am1: mat4x4<f32>;
        var am2: mat4x4<f32>;
        var am3: mat4x4<f32>;
        if (ta) {
            am0 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro0), load_a4((kk + 1u) * m4 + ro0), load_a4((kk + 2u) * m4 + ro0), load_a4((kk + 3u) * m4 + ro0)));
            am1 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro1), load_a4((kk + 1u) * m4 + ro1), load_a4((kk + 2u) * m4 + ro1), load_a4((kk + 3u) * m4 + ro1)));
            am2 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro2), load_a4((kk + 1u) * m4 + ro2), load_a4((kk + 2u) * m4 + ro2), load_a4((kk + 3u) * m4 + ro2)));
            am3 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro3), load_a4((kk + 1u) * m4 + ro3), load_a4((kk + 2u) * m4 + ro3), load_a4((kk + 3u) * m4 + ro3)));
        } else {
            let i0 = rows0 * k4 + vec4<u32>(q);
            am0 = mat4x4<f32>(load_a4(i0.x), load_a4(i0.y), load_a4(i0.z), load_a4(i0.w));
            let i1 = rows1 * k4 + vec4<u32>(q);
            am1 = mat4x4<f32>(load_a4(i1.x), load_a4(i1.y), load_a4(i1.z), load_a4(i1.w));
            let i2 = rows2 * k4 + vec4<u32>(q);
            am2 = mat4x4<f32>(load_a4(i2.x), load_a4(i2.y), load_a4(i2.z), load_a4(i2.w));
            let i3 = rows3 * k4 + vec4<u32>(q);
            am3 = mat4x4<f32>(load_a4(i3.x), load_a4(i3.y), load_a4(i3.z), load_a4(i3.w));
        }
        var bm0: mat4x4<f32>;
        var bm1: mat4x4<f32>;
        var bm2: mat4x4<f32>;
        var bm3: mat4x4<f32>;
        if (tb) {
            let j0 = cols0 * k4 + vec4<u32>(q);
            bm0 = transpose(mat4x4<f32>(load_b4(j0.x), load_b4(j0.y), load_b4(j0.z), load_b4(j0.w)));
            let j1 = cols1 * k4 + vec4<u32>(q);
            bm1 = transpose(mat4x4<f32>(load_b4(j1.x), load_b4(j1.y), load_b4(j1.z), load_b4(j1.w)));
            let j2 = cols2 * k4 + vec4<u32>(q);
            bm2 = transpose(mat4x4<f32>(load_b4(j2.x), load_b4(j2.y), load_b4(j2.z), load_b4(j2.w)));
            let j3 = cols3 * k4 + vec4<u32>(q);
            bm3 = transpose(mat4x4<f32>(load_b4(j3.x), load_b4(j3.y), load_b4(j3.z), load_b4(j3.w)));
        } else {
            bm0 = mat4x4<f32>(load_b4(kk * n4 + co0), load_b4((kk + 1u) * n4 + co0), load_b4((kk + 2u) * n4 + co0), load_b4((kk + 3u) * n4 + co0));
            bm1 = mat4x4<f32>(load_b4(kk * n4 + co1), load_b4((kk + 1u) * n4 + co1), load_b4((kk + 2u) * n4 + co1), load_b4((kk + 3u) * n4 + co1));
            bm2 = mat4x4<f32>(load_b4(kk * n4 + co2), load_b4((kk + 1u) * n4 + co2), load_b4((kk + 2u) * n4 + co2), load_b4((kk + 3u) * n4 + co2));
            bm3 = mat4x4<f32>(load_b4(kk * n4 + co3), load_b4((kk + 1u) * n4 + co3), load_b4((kk + 2u) * n4 + co3), load_b4((kk + 3u) * n4 + co3));
        }
        c000 += bm0 * am0[0]; c010 += bm1 * am0[0]; c020 += bm2 * am0[0]; c030 += bm3 * am0[0];
        c001 += bm0 * am0[1]; c011 += bm1 * am0[1]; c021 += bm2 * am0[1]; c031 += bm3 * am0[1];
        c002 += bm0 * am0[2]; c012 += bm1 * am0[2]; c022 += bm2 * am0[2]; c032 += bm3 * am0[2];
        c003 += bm0 * am0[3]; c013 += bm1 * am0[3]; c023 += bm2 * am0[3]; c033 += bm3 * am0[3];
        c100 += bm0 * am1[0]; c110 += bm1 * am1[0]; c120 += bm2 * am1[0]; c130 += bm3 * am1[0];
        c101 += bm0 * am1[1]; c111 += bm1 * am1[1]; c121 += bm2 * am1[1]; c131 += bm3 * am1[1];
        c102 += bm0 * am1[2]; c112 += bm1 * am1[2]; c122 += bm2 * am1[2]; c132 += bm3 * am1[2];
        c103 += bm0 * am1[3]; c113 += bm1 * am1[3]; c123 += bm2 * am1[3]; c133 += bm3 * am1[3];
        c200 += bm0 * am2[0]; c210 += bm1 * am2[0]; c220 += bm2 * am2[0]; c230 += bm3 * am2[0];
        c201 += bm0 * am2[1]; c211 += bm1 * am2[1]; c221 += bm2 * am2[1]; c231 += bm3 * am2[1];
        c202 += bm0 * am2[2]; c212 += bm1 * am2[2]; c222 += bm2 * am2[2]; c232 += bm3 * am2[2];
        c203 += bm0 * am2[3]; c213 += bm1 * am2[3]; c223 += bm2 * am2[3]; c233 += bm3 * am2[3];
        c300 += bm0 * am3[0]; c310 += bm1 * am3[0]; c320 += bm2 * am3[0]; c330 += bm3 * am3[0];
        c301 += bm0 * am3[1]; c311 += bm1 * am3[1]; c321 += bm2 * am3[1]; c331 += bm3 * am3[1];
        c302 += bm0 * am3[2]; c312 += bm1 * am3[2]; c322 += bm2 * am3[2]; c332 += bm3 * am3[2];
        c303 += bm0 * am3[3]; c313 += bm1 * am3[3]; c323 += bm2 * am3[3]; c333 += bm3 * am3[3];
    }
    store_row(row0 + 0u, col0 + 0u, c000); store_row(row0 + 0u, col0 + 4u, c010); store_row(row0 + 0u, col0 + 8u, c020); store_row(row0 + 0u, col0 + 12u, c030);
    store_row(row0 + 1u, col0 + 0u, c001); store_row(row0 + 1u, col0 + 4u, c011); store_row(row0 + 1u, col0 + 8u, c021); store_row(row0 + 1u, col0 + 12u, c031);
    store_row(row0 + 2u, col0 + 0u, c002); store_row(row0 + 2u, col0 + 4u, c012); store_row(row0 + 2u, col0 + 8u, c022); store_row(row0 + 2u, col0 + 12u, c032);
    store_row(row0 + 3u, col0 + 0u, c003); store_row(row0 + 3u, col0 + 4u, c013); store_row(row0 + 3u, col0 + 8u, c023); store_row(row0 + 3u, col0 + 12u, c033);
    store_row(row0 + 4u, col0 + 0u, c100); store_row(row0 + 4u, col0 + 4u, c110); store_row(row0 + 4u, col0 + 8u, c120); store_row(row0 + 4u, col0 + 12u, c130);
    store_row(row0 + 5u, col0 + 0u, c101); store_row(row0 + 5u, col0 + 4u, c111); store_row(row0 + 5u, col0 + 8u, c121); store_row(row0 + 5u, col0 + 12u, c131);
    store_row(row0 + 6u, col0 + 0u, c102); store_row(row0 + 6u, col0 + 4u, c112); store_row(row0 + 6u, col0 + 8u, c122); store_row(row0 + 6u, col0 + 12u, c132);
    store_row(row0 + 7u, col0 + 0u, c103); store_row(row0 + 7u, col0 + 4u, c113); store_row(row0 + 7u, col0 + 8u, c123); store_row(row0 + 7u, col0 + 12u, c133);
    store_row(row0 + 8u, col0 + 0u, c200); store_row(row0 + 8u, col0 + 4u, c210); store_row(row0 + 8u, col0 + 8u, c220); store_row(row0 + 8u, col0 + 12u, c230);
    store_row(row0 + 9u, col0 + 0u, c201); store_row(row0 + 9u, col0 + 4u, c211); store_row(row0 + 9u, col0 + 8u, c221); store_row(row0 + 9u, col0 + 12u, c231);
    store_row(row0 + 10u, col0 + 0u, c202); store_row(row0 + 10u, col0 + 4u, c212); store_row(row0 + 10u, col0 + 8u, c222); store_row(row0 + 10u, col0 + 12u, c232);
    store_row(row0 + 11u, col0 + 0u, c203); store_row(row0 + 11u, col0 + 4u, c213); store_row(row0 + 11u, col0 + 8u, c223); store_row(row0 + 11u, col0 + 12u, c233);
    store_row(row0 + 12u, col0 + 0u, c300); store_row(row0 + 12u, col0 + 4u, c310); store_row(row0 + 12u, col0 + 8u, c320); store_row(row0 + 12u, col0 + 12u, c330);
    store_row(row0 + 13u, col0 + 0u, c301); store_row(row0 + 13u, col0 + 4u, c311); store_row(row0 + 13u, col0 + 8u, c321); store_row(row0 + 13u, col0 + 12u, c331);
    store_row(row0 + 14u, col0 + 0u, c302); store_row(row0 + 14u, col0 + 4u, c312); store_row(row0 + 14u, col0 + 8u, c322); store_row(row0 + 14u, col0 + 12u, c332);
    store_row(row0 + 15u, col0 + 0u, c303); store_row(row0 + 15u, col0 + 4u, c313); store_row(row0 + 15u, col0 + 8u, c323); store_row(row0 + 15u, col0 + 12u, c333);
}

// 16×20 blocks of C: matmul_vec16 with a fifth column block (80 accumulators), for
// widths that 16-column blocks cover badly (300 columns are 18.75 blocks of 16 but 15 of
// 20: at WG_X = 8, 79 % of the 16-wide lanes have work and 94 % of the 20-wide ones).
// Same alignment needs as matmul_vec4. Written out in full like matmul_vec16 rather than
// looping over arrays of accumulators: dynamically indexed private arrays are spilled to
// per-lane memory on CPU adapters (see store_row), so the two bodies stay separate.
@compute @workgroup_size(WG_X, WG_Y)
fn matmul_vec16x20(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 16u;
    let col0 = gid.x * 20u;
    let ta = TRANS_A;
    let tb = TRANS_B;
    let m4 = p.m / 4u;
    let n4 = p.n / 4u;
    let k4 = p.k / 4u;
    let last_row = vec4<u32>(p.m - 1u);
    let last_col = vec4<u32>(p.n - 1u);
    let lo = vec4<u32>(0u, 1u, 2u, 3u);
    let rows0 = min(vec4<u32>(row0 + 0u) + lo, last_row);
    let ro0 = min(gid.y * 4u + 0u, m4 - 1u);
    let rows1 = min(vec4<u32>(row0 + 4u) + lo, last_row);
    let ro1 = min(gid.y * 4u + 1u, m4 - 1u);
    let rows2 = min(vec4<u32>(row0 + 8u) + lo, last_row);
    let ro2 = min(gid.y * 4u + 2u, m4 - 1u);
    let rows3 = min(vec4<u32>(row0 + 12u) + lo, last_row);
    let ro3 = min(gid.y * 4u + 3u, m4 - 1u);
    let cols0 = min(vec4<u32>(col0 + 0u) + lo, last_col);
    let co0 = min(gid.x * 5u + 0u, n4 - 1u);
    let cols1 = min(vec4<u32>(col0 + 4u) + lo, last_col);
    let co1 = min(gid.x * 5u + 1u, n4 - 1u);
    let cols2 = min(vec4<u32>(col0 + 8u) + lo, last_col);
    let co2 = min(gid.x * 5u + 2u, n4 - 1u);
    let cols3 = min(vec4<u32>(col0 + 12u) + lo, last_col);
    let co3 = min(gid.x * 5u + 3u, n4 - 1u);
    let cols4 = min(vec4<u32>(col0 + 16u) + lo, last_col);
    let co4 = min(gid.x * 5u + 4u, n4 - 1u);
    var c000 = vec4<f32>(0.0); var c010 = vec4<f32>(0.0); var c020 = vec4<f32>(0.0); var c030 = vec4<f32>(0.0); var c040 = vec4<f32>(0.0);
    var c001 = vec4<f32>(0.0); var c011 = vec4<f32>(0.0); var c021 = vec4<f32>(0.0); var c031 = vec4<f32>(0.0); var c041 = vec4<f32>(0.0);
    var c002 = vec4<f32>(0.0); var c012 = vec4<f32>(0.0); var c022 = vec4<f32>(0.0); var c032 = vec4<f32>(0.0); var c042 = vec4<f32>(0.0);
    var c003 = vec4<f32>(0.0); var c013 = vec4<f32>(0.0); var c023 = vec4<f32>(0.0); var c033 = vec4<f32>(0.0); var c043 = vec4<f32>(0.0);
    var c100 = vec4<f32>(0.0); var c110 = vec4<f32>(0.0); var c120 = vec4<f32>(0.0); var c130 = vec4<f32>(0.0); var c140 = vec4<f32>(0.0);
    var c101 = vec4<f32>(0.0); var c111 = vec4<f32>(0.0); var c121 = vec4<f32>(0.0); var c131 = vec4<f32>(0.0); var c141 = vec4<f32>(0.0);
    var c102 = vec4<f32>(0.0); var c112 = vec4<f32>(0.0); var c122 = vec4<f32>(0.0); var c132 = vec4<f32>(0.0); var c142 = vec4<f32>(0.0);
    var c103 = vec4<f32>(0.0); var c113 = vec4<f32>(0.0); var c123 = vec4<f32>(0.0); var c133 = vec4<f32>(0.0); var c143 = vec4<f32>(0.0);
    var c200 = vec4<f32>(0.0); var c210 = vec4<f32>(0.0); var c220 = vec4<f32>(0.0); var c230 = vec4<f32>(0.0); var c240 = vec4<f32>(0.0);
    var c201 = vec4<f32>(0.0); var c211 = vec4<f32>(0.0); var c221 = vec4<f32>(0.0); var c231 = vec4<f32>(0.0); var c241 = vec4<f32>(0.0);
    var c202 = vec4<f32>(0.0); var c212 = vec4<f32>(0.0); var c222 = vec4<f32>(0.0); var c232 = vec4<f32>(0.0); var c242 = vec4<f32>(0.0);
    var c203 = vec4<f32>(0.0); var c213 = vec4<f32>(0.0); var c223 = vec4<f32>(0.0); var c233 = vec4<f32>(0.0); var c243 = vec4<f32>(0.0);
    var c300 = vec4<f32>(0.0); var c310 = vec4<f32>(0.0); var c320 = vec4<f32>(0.0); var c330 = vec4<f32>(0.0); var c340 = vec4<f32>(0.0);
    var c301 = vec4<f32>(0.0); var c311 = vec4<f32>(0.0); var c321 = vec4<f32>(0.0); var c331 = vec4<f32>(0.0); var c341 = vec4<f32>(0.0);
    var c302 = vec4<f32>(0.0); var c312 = vec4<f32>(0.0); var c322 = vec4<f32>(0.0); var c332 = vec4<f32>(0.0); var c342 = vec4<f32>(0.0);
    var c303 = vec4<f32>(0.0); var c313 = vec4<f32>(0.0); var c323 = vec4<f32>(0.0); var c333 = vec4<f32>(0.0); var c343 = vec4<f32>(0.0);
    for (var q = 0u; q < k4; q++) {
        let kk = q * 4u;
        var am0: mat4x4<f32>;
        var am1: mat4x4<f32>;
        var am2: mat4x4<f32>;
        var am3: mat4x4<f32>;
        if (ta) {
            am0 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro0), load_a4((kk + 1u) * m4 + ro0), load_a4((kk + 2u) * m4 + ro0), load_a4((kk + 3u) * m4 + ro0)));
            am1 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro1), load_a4((kk + 1u) * m4 + ro1), load_a4((kk + 2u) * m4 + ro1), load_a4((kk + 3u) * m4 + ro1)));
            am2 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro2), load_a4((kk + 1u) * m4 + ro2), load_a4((kk + 2u) * m4 + ro2), load_a4((kk + 3u) * m4 + ro2)));
            am3 = transpose(mat4x4<f32>(load_a4(kk * m4 + ro3), load_a4((kk + 1u) * m4 + ro3), load_a4((kk + 2u) * m4 + ro3), load_a4((kk + 3u) * m4 + ro3)));
        } else {
            let i0 = rows0 * k4 + vec4<u32>(q);
            am0 = mat4x4<f32>(load_a4(i0.x), load_a4(i0.y), load_a4(i0.z), load_a4(i0.w));
            let i1 = rows1 * k4 + vec4<u32>(q);
            am1 = mat4x4<f32>(load_a4(i1.x), load_a4(i1.y), load_a4(i1.z), load_a4(i1.w));
            let i2 = rows2 * k4 + vec4<u32>(q);
            am2 = mat4x4<f32>(load_a4(i2.x), load_a4(i2.y), load_a4(i2.z), load_a4(i2.w));
            let i3 = rows3 * k4 + vec4<u32>(q);
            am3 = mat4x4<f32>(load_a4(i3.x), load_a4(i3.y), load_a4(i3.z), load_a4(i3.w));
        }
        var bm0: mat4x4<f32>;
        var bm1: mat4x4<f32>;
        var bm2: mat4x4<f32>;
        var bm3: mat4x4<f32>;
        var bm4: mat4x4<f32>;
        if (tb) {
            let j0 = cols0 * k4 + vec4<u32>(q);
            bm0 = transpose(mat4x4<f32>(load_b4(j0.x), load_b4(j0.y), load_b4(j0.z), load_b4(j0.w)));
            let j1 = cols1 * k4 + vec4<u32>(q);
            bm1 = transpose(mat4x4<f32>(load_b4(j1.x), load_b4(j1.y), load_b4(j1.z), load_b4(j1.w)));
            let j2 = cols2 * k4 + vec4<u32>(q);
            bm2 = transpose(mat4x4<f32>(load_b4(j2.x), load_b4(j2.y), load_b4(j2.z), load_b4(j2.w)));
            let j3 = cols3 * k4 + vec4<u32>(q);
            bm3 = transpose(mat4x4<f32>(load_b4(j3.x), load_b4(j3.y), load_b4(j3.z), load_b4(j3.w)));
            let j4 = cols4 * k4 + vec4<u32>(q);
            bm4 = transpose(mat4x4<f32>(load_b4(j4.x), load_b4(j4.y), load_b4(j4.z), load_b4(j4.w)));
        } else {
            bm0 = mat4x4<f32>(load_b4(kk * n4 + co0), load_b4((kk + 1u) * n4 + co0), load_b4((kk + 2u) * n4 + co0), load_b4((kk + 3u) * n4 + co0));
            bm1 = mat4x4<f32>(load_b4(kk * n4 + co1), load_b4((kk + 1u) * n4 + co1), load_b4((kk + 2u) * n4 + co1), load_b4((kk + 3u) * n4 + co1));
            bm2 = mat4x4<f32>(load_b4(kk * n4 + co2), load_b4((kk + 1u) * n4 + co2), load_b4((kk + 2u) * n4 + co2), load_b4((kk + 3u) * n4 + co2));
            bm3 = mat4x4<f32>(load_b4(kk * n4 + co3), load_b4((kk + 1u) * n4 + co3), load_b4((kk + 2u) * n4 + co3), load_b4((kk + 3u) * n4 + co3));
            bm4 = mat4x4<f32>(load_b4(kk * n4 + co4), load_b4((kk + 1u) * n4 + co4), load_b4((kk + 2u) * n4 + co4), load_b4((kk + 3u) * n4 + co4));
        }
        c000 += bm0 * am0[0]; c010 += bm1 * am0[0]; c020 += bm2 * am0[0]; c030 += bm3 * am0[0]; c040 += bm4 * am0[0];
        c001 += bm0 * am0[1]; c011 += bm1 * am0[1]; c021 += bm2 * am0[1]; c031 += bm3 * am0[1]; c041 += bm4 * am0[1];
        c002 += bm0 * am0[2]; c012 += bm1 * am0[2]; c022 += bm2 * am0[2]; c032 += bm3 * am0[2]; c042 += bm4 * am0[2];
        c003 += bm0 * am0[3]; c013 += bm1 * am0[3]; c023 += bm2 * am0[3]; c033 += bm3 * am0[3]; c043 += bm4 * am0[3];
        c100 += bm0 * am1[0]; c110 += bm1 * am1[0]; c120 += bm2 * am1[0]; c130 += bm3 * am1[0]; c140 += bm4 * am1[0];
        c101 += bm0 * am1[1]; c111 += bm1 * am1[1]; c121 += bm2 * am1[1]; c131 += bm3 * am1[1]; c141 += bm4 * am1[1];
        c102 += bm0 * am1[2]; c112 += bm1 * am1[2]; c122 += bm2 * am1[2]; c132 += bm3 * am1[2]; c142 += bm4 * am1[2];
        c103 += bm0 * am1[3]; c113 += bm1 * am1[3]; c123 += bm2 * am1[3]; c133 += bm3 * am1[3]; c143 += bm4 * am1[3];
        c200 += bm0 * am2[0]; c210 += bm1 * am2[0]; c220 += bm2 * am2[0]; c230 += bm3 * am2[0]; c240 += bm4 * am2[0];
        c201 += bm0 * am2[1]; c211 += bm1 * am2[1]; c221 += bm2 * am2[1]; c231 += bm3 * am2[1]; c241 += bm4 * am2[1];
        c202 += bm0 * am2[2]; c212 += bm1 * am2[2]; c222 += bm2 * am2[2]; c232 += bm3 * am2[2]; c242 += bm4 * am2[2];
        c203 += bm0 * am2[3]; c213 += bm1 * am2[3]; c223 += bm2 * am2[3]; c233 += bm3 * am2[3]; c243 += bm4 * am2[3];
        c300 += bm0 * am3[0]; c310 += bm1 * am3[0]; c320 += bm2 * am3[0]; c330 += bm3 * am3[0]; c340 += bm4 * am3[0];
        c301 += bm0 * am3[1]; c311 += bm1 * am3[1]; c321 += bm2 * am3[1]; c331 += bm3 * am3[1]; c341 += bm4 * am3[1];
        c302 += bm0 * am3[2]; c312 += bm1 * am3[2]; c322 += bm2 * am3[2]; c332 += bm3 * am3[2]; c342 += bm4 * am3[2];
        c303 += bm0 * am3[3]; c313 += bm1 * am3[3]; c323 += bm2 * am3[3]; c333 += bm3 * am3[3]; c343 += bm4 * am3[3];
    }
    store_row(row0 + 0u, col0 + 0u, c000); store_row(row0 + 0u, col0 + 4u, c010); store_row(row0 + 0u, col0 + 8u, c020); store_row(row0 + 0u, col0 + 12u, c030); store_row(row0 + 0u, col0 + 16u, c040);
    store_row(row0 + 1u, col0 + 0u, c001); store_row(row0 + 1u, col0 + 4u, c011); store_row(row0 + 1u, col0 + 8u, c021); store_row(row0 + 1u, col0 + 12u, c031); store_row(row0 + 1u, col0 + 16u, c041);
    store_row(row0 + 2u, col0 + 0u, c002); store_row(row0 + 2u, col0 + 4u, c012); store_row(row0 + 2u, col0 + 8u, c022); store_row(row0 + 2u, col0 + 12u, c032); store_row(row0 + 2u, col0 + 16u, c042);
    store_row(row0 + 3u, col0 + 0u, c003); store_row(row0 + 3u, col0 + 4u, c013); store_row(row0 + 3u, col0 + 8u, c023); store_row(row0 + 3u, col0 + 12u, c033); store_row(row0 + 3u, col0 + 16u, c043);
    store_row(row0 + 4u, col0 + 0u, c100); store_row(row0 + 4u, col0 + 4u, c110); store_row(row0 + 4u, col0 + 8u, c120); store_row(row0 + 4u, col0 + 12u, c130); store_row(row0 + 4u, col0 + 16u, c140);
    store_row(row0 + 5u, col0 + 0u, c101); store_row(row0 + 5u, col0 + 4u, c111); store_row(row0 + 5u, col0 + 8u, c121); store_row(row0 + 5u, col0 + 12u, c131); store_row(row0 + 5u, col0 + 16u, c141);
    store_row(row0 + 6u, col0 + 0u, c102); store_row(row0 + 6u, col0 + 4u, c112); store_row(row0 + 6u, col0 + 8u, c122); store_row(row0 + 6u, col0 + 12u, c132); store_row(row0 + 6u, col0 + 16u, c142);
    store_row(row0 + 7u, col0 + 0u, c103); store_row(row0 + 7u, col0 + 4u, c113); store_row(row0 + 7u, col0 + 8u, c123); store_row(row0 + 7u, col0 + 12u, c133); store_row(row0 + 7u, col0 + 16u, c143);
    store_row(row0 + 8u, col0 + 0u, c200); store_row(row0 + 8u, col0 + 4u, c210); store_row(row0 + 8u, col0 + 8u, c220); store_row(row0 + 8u, col0 + 12u, c230); store_row(row0 + 8u, col0 + 16u, c240);
    store_row(row0 + 9u, col0 + 0u, c201); store_row(row0 + 9u, col0 + 4u, c211); store_row(row0 + 9u, col0 + 8u, c221); store_row(row0 + 9u, col0 + 12u, c231); store_row(row0 + 9u, col0 + 16u, c241);
    store_row(row0 + 10u, col0 + 0u, c202); store_row(row0 + 10u, col0 + 4u, c212); store_row(row0 + 10u, col0 + 8u, c222); store_row(row0 + 10u, col0 + 12u, c232); store_row(row0 + 10u, col0 + 16u, c242);
    store_row(row0 + 11u, col0 + 0u, c203); store_row(row0 + 11u, col0 + 4u, c213); store_row(row0 + 11u, col0 + 8u, c223); store_row(row0 + 11u, col0 + 12u, c233); store_row(row0 + 11u, col0 + 16u, c243);
    store_row(row0 + 12u, col0 + 0u, c300); store_row(row0 + 12u, col0 + 4u, c310); store_row(row0 + 12u, col0 + 8u, c320); store_row(row0 + 12u, col0 + 12u, c330); store_row(row0 + 12u, col0 + 16u, c340);
    store_row(row0 + 13u, col0 + 0u, c301); store_row(row0 + 13u, col0 + 4u, c311); store_row(row0 + 13u, col0 + 8u, c321); store_row(row0 + 13u, col0 + 12u, c331); store_row(row0 + 13u, col0 + 16u, c341);
    store_row(row0 + 14u, col0 + 0u, c302); store_row(row0 + 14u, col0 + 4u, c312); store_row(row0 + 14u, col0 + 8u, c322); store_row(row0 + 14u, col0 + 12u, c332); store_row(row0 + 14u, col0 + 16u, c342);
    store_row(row0 + 15u, col0 + 0u, c303); store_row(row0 + 15u, col0 + 4u, c313); store_row(row0 + 15u, col0 + 8u, c323); store_row(row0 + 15u, col0 + 12u, c333); store_row(row0 + 15u, col0 + 16u, c343);
}

const TILE: u32 = 64u;
const BK: u32 = 16u;
var<workgroup> tile_a: array<f32, 1024>; // [TILE rows][BK]
var<workgroup> tile_b: array<f32, 1024>; // [BK][TILE cols]

// Workgroup of 16×16 invocations computing a 64×64 tile of C.
@compute @workgroup_size(16, 16)
fn matmul_tiled(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let sa = a_strides();
    let sb = b_strides();
    let tile_row = wid.y * TILE;
    let tile_col = wid.x * TILE;
    let lin = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 4>;
    let ktiles = (p.k + BK - 1u) / BK;
    for (var t = 0u; t < ktiles; t++) {
        let k0 = t * BK;
        // 1024 elements of each tile, 256 invocations: 4 loads each.
        for (var l = 0u; l < 4u; l++) {
            let e = lin + l * 256u;
            let ar = e / BK;
            let ak = e % BK;
            let gr = tile_row + ar;
            let gk = k0 + ak;
            var va = 0.0;
            if (gr < p.m && gk < p.k) { va = a[gr * sa.x + gk * sa.y]; }
            tile_a[e] = va;
            let bk = e / TILE;
            let bc = e % TILE;
            let gkb = k0 + bk;
            let gc = tile_col + bc;
            var vb = 0.0;
            if (gkb < p.k && gc < p.n) { vb = b[gkb * sb.x + gc * sb.y]; }
            tile_b[e] = vb;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let bo = kk * TILE + lid.x * 4u;
            let bv = vec4<f32>(tile_b[bo], tile_b[bo + 1u], tile_b[bo + 2u], tile_b[bo + 3u]);
            for (var i = 0u; i < 4u; i++) {
                acc[i] += tile_a[(lid.y * 4u + i) * BK + kk] * bv;
            }
        }
        workgroupBarrier();
    }
    let r0 = tile_row + lid.y * 4u;
    let c0 = tile_col + lid.x * 4u;
    store_row(r0, c0, acc[0]);
    store_row(r0 + 1u, c0, acc[1]);
    store_row(r0 + 2u, c0, acc[2]);
    store_row(r0 + 3u, c0, acc[3]);
}

// Few outputs, a long inner dimension (a weight gradient: kh·kw·c × filters outputs summed
// over every position of a batch of images): a workgroup per 4×4 block of C, its 64
// invocations each summing every 64th step of k, then a tree reduction in workgroup
// memory. The other bodies give each output one invocation, which leaves a CPU adapter's
// lanes idle while a few of them walk all of k (measured on llvmpipe: a 9×21632×16
// weight gradient took 24 ms with the best of them).
var<workgroup> partial_rows: array<array<vec4<f32>, 4>, 64>;

@compute @workgroup_size(64)
fn matmul_reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let row0 = wid.y * 4u;
    let col0 = wid.x * 4u;
    let sa = a_strides(); // (row stride, k stride)
    let sb = b_strides(); // (k stride, col stride)
    let ra = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.m - 1u)) * sa.x;
    let cb = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.n - 1u)) * sb.y;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var kk = lid.x;
    while (kk < p.k) {
        let ka = kk * sa.y;
        let kb = kk * sb.x;
        let bv = vec4<f32>(b[kb + cb.x], b[kb + cb.y], b[kb + cb.z], b[kb + cb.w]);
        acc0 += a[ra.x + ka] * bv;
        acc1 += a[ra.y + ka] * bv;
        acc2 += a[ra.z + ka] * bv;
        acc3 += a[ra.w + ka] * bv;
        kk += 64u;
    }
    partial_rows[lid.x] = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s / 2u) {
        if (lid.x < s) {
            let o = partial_rows[lid.x + s];
            partial_rows[lid.x][0] += o[0];
            partial_rows[lid.x][1] += o[1];
            partial_rows[lid.x][2] += o[2];
            partial_rows[lid.x][3] += o[3];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        let t = partial_rows[0];
        store_row(row0, col0, t[0]);
        store_row(row0 + 1u, col0, t[1]);
        store_row(row0 + 2u, col0, t[2]);
        store_row(row0 + 3u, col0, t[3]);
    }
}
