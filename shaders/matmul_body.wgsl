// Matrix multiply C[m,n] = op(A)[m,k] * op(B)[k,n], with op = optional transpose: the
// kernel bodies. How a result is stored is up to the file before this one:
// matmul_store.wgsl stores (or accumulates) plainly, dense_store.wgsl applies a dense
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

struct Params {
    m: u32,
    k: u32,
    n: u32,
    // bit 0: A is stored transposed ([k,m]); bit 1: B is stored transposed ([n,k]);
    // bit 2: accumulate into C instead of overwriting it.
    flags: u32,
    // The dense epilogue's activation (dense_store.wgsl; unused by plain matmuls).
    code: u32,
    act_flags: u32,
    f0: f32,
    f1: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
// The same A and B seen as vec4s, for matmul_vec4.
@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f32>>;

// Workgroup shape, set per entry point by the host contract (Entry::constants).
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

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
    let ta = (p.flags & 1u) != 0u;
    let tb = (p.flags & 2u) != 0u;
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
                a4[kk * m4 + o], a4[(kk + 1u) * m4 + o], a4[(kk + 2u) * m4 + o], a4[(kk + 3u) * m4 + o]));
        } else {
            am = mat4x4<f32>(a4[ra.x + q], a4[ra.y + q], a4[ra.z + q], a4[ra.w + q]);
        }
        // Columns of bm: row kk+t of B over the block's four columns.
        var bm: mat4x4<f32>;
        if (tb) {
            bm = transpose(mat4x4<f32>(b4[cb.x + q], b4[cb.y + q], b4[cb.z + q], b4[cb.w + q]));
        } else {
            let o = gid.x;
            bm = mat4x4<f32>(
                b4[kk * n4 + o], b4[(kk + 1u) * n4 + o], b4[(kk + 2u) * n4 + o], b4[(kk + 3u) * n4 + o]);
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
    let ta = (p.flags & 1u) != 0u;
    let tb = (p.flags & 2u) != 0u;
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
                a4[kk * m4 + ra_o], a4[(kk + 1u) * m4 + ra_o], a4[(kk + 2u) * m4 + ra_o], a4[(kk + 3u) * m4 + ra_o]));
            am_lo = transpose(mat4x4<f32>(
                a4[kk * m4 + rb_o], a4[(kk + 1u) * m4 + rb_o], a4[(kk + 2u) * m4 + rb_o], a4[(kk + 3u) * m4 + rb_o]));
        } else {
            let ia = rows_a * k4 + vec4<u32>(q);
            let ib = rows_b * k4 + vec4<u32>(q);
            am_hi = mat4x4<f32>(a4[ia.x], a4[ia.y], a4[ia.z], a4[ia.w]);
            am_lo = mat4x4<f32>(a4[ib.x], a4[ib.y], a4[ib.z], a4[ib.w]);
        }
        var bm_l: mat4x4<f32>;
        var bm_r: mat4x4<f32>;
        if (tb) {
            let ja = cols_a * k4 + vec4<u32>(q);
            let jb = cols_b * k4 + vec4<u32>(q);
            bm_l = transpose(mat4x4<f32>(b4[ja.x], b4[ja.y], b4[ja.z], b4[ja.w]));
            bm_r = transpose(mat4x4<f32>(b4[jb.x], b4[jb.y], b4[jb.z], b4[jb.w]));
        } else {
            bm_l = mat4x4<f32>(
                b4[kk * n4 + ca_o], b4[(kk + 1u) * n4 + ca_o], b4[(kk + 2u) * n4 + ca_o], b4[(kk + 3u) * n4 + ca_o]);
            bm_r = mat4x4<f32>(
                b4[kk * n4 + cb_o], b4[(kk + 1u) * n4 + cb_o], b4[(kk + 2u) * n4 + cb_o], b4[(kk + 3u) * n4 + cb_o]);
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
