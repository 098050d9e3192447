// Matrix multiply C[m,n] = op(A)[m,k] * op(B)[k,n], with op = optional transpose.
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
    f0: f32,
    f1: f32,
    f2: f32,
    f3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

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

fn store_block(row0: u32, col0: u32, acc: array<vec4<f32>, 4>) {
    let accumulate = (p.flags & 4u) != 0u;
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + i;
        if (r >= p.m) { break; }
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + j;
            if (col >= p.n) { break; }
            let idx = r * p.n + col;
            if (accumulate) {
                c[idx] = c[idx] + acc[i][j];
            } else {
                c[idx] = acc[i][j];
            }
        }
    }
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
    let accumulate = (p.flags & 4u) != 0u;
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + i;
        if (r >= p.m) { break; }
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + j * stride;
            if (col >= p.n) { break; }
            let idx = r * p.n + col;
            if (accumulate) {
                c[idx] = c[idx] + acc[i][j];
            } else {
                c[idx] = acc[i][j];
            }
        }
    }
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
    store_block(tile_row + lid.y * 4u, tile_col + lid.x * 4u, acc);
}
