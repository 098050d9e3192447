//! Matrix multiply `C = op(A)·op(B)` (optional transposes, optional accumulate): the CPU
//! reference and the GPU launch of its three WGSL variants (`shaders/matmul.wgsl`).

use crate::backend::contract::{ceil_div, shader_params, Binding, Entry, GpuLaunch};
use crate::backend::MatmulVariant;

shader_params! {
    /// `Params` of `matmul.wgsl`.
    MatmulParams {
        /// Rows of C.
        m: u32,
        /// Inner dimension.
        k: u32,
        /// Columns of C.
        n: u32,
        /// Bit 0: A stored transposed; bit 1: B stored transposed; bit 2: accumulate.
        flags: u32,
    }
}

/// Whether the vec4 kernels can read this shape: k in whole vec4s and the rows they load
/// as vec4s (A's when transposed, B's when not) aligned.
pub fn vec4_loads_fit(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> bool {
    k.is_multiple_of(4) && (!trans_a || m.is_multiple_of(4)) && (trans_b || n.is_multiple_of(4))
}

/// Workgroups for `matmul_vec8`: one invocation per 8×8 block of C, in workgroups of the
/// size its contract creates the pipeline with.
fn vec8_grid(m: usize, n: usize) -> (u32, u32, u32) {
    let constant = |name: &str| {
        Entry::MatmulVec8
            .constants()
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(1, |(_, v)| *v as usize)
    };
    (
        ceil_div(n.div_ceil(8), constant("WG_X")),
        ceil_div(m.div_ceil(8), constant("WG_Y")),
        1,
    )
}

/// The GPU launch for the chosen variant (the vec4 kernel when the shape allows it).
#[allow(clippy::too_many_arguments)]
pub fn gpu(
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    accumulate: bool,
    variant: MatmulVariant,
) -> GpuLaunch {
    let flags = u32::from(trans_a) | (u32::from(trans_b) << 1) | (u32::from(accumulate) << 2);
    let params = MatmulParams {
        m: m as u32,
        k: k as u32,
        n: n as u32,
        flags,
    };
    let vec4_ok = vec4_loads_fit(m, k, n, trans_a, trans_b);
    let blocks = (ceil_div(n.div_ceil(4), 8), ceil_div(m.div_ceil(4), 8), 1);
    let (ro1, ro2, rw3) = (Binding::ro(1), Binding::ro(2), Binding::rw(3));
    match variant {
        MatmulVariant::RegisterBlocked if vec4_ok => GpuLaunch::new(
            Entry::MatmulVec4,
            vec![Binding::ro(4), Binding::ro(5), rw3],
            params,
            blocks,
        ),
        MatmulVariant::RegisterBlocked8 if vec4_ok => GpuLaunch::new(
            Entry::MatmulVec8,
            vec![Binding::ro(4), Binding::ro(5), rw3],
            params,
            vec8_grid(m, n),
        ),
        MatmulVariant::RegisterBlocked | MatmulVariant::RegisterBlocked8 => {
            GpuLaunch::new(Entry::MatmulRegblock, vec![ro1, ro2, rw3], params, blocks)
        }
        MatmulVariant::Tiled => GpuLaunch::new(
            Entry::MatmulTiled,
            vec![ro1, ro2, rw3],
            params,
            (ceil_div(n, 64), ceil_div(m, 64), 1),
        ),
    }
}

/// CPU reference. Buffers: a, b, c.
#[allow(clippy::too_many_arguments)]
pub fn cpu(
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    accumulate: bool,
    b: &mut [&mut [f32]],
) {
    let a_at = |i: usize, kk: usize, a: &[f32]| {
        if trans_a {
            a[kk * m + i]
        } else {
            a[i * k + kk]
        }
    };
    // Bring B to row-major [k, n] so the inner loop is contiguous.
    let bt: Vec<f32> = if trans_b {
        let mut t = vec![0.0; k * n];
        for j in 0..n {
            for kk in 0..k {
                t[kk * n + j] = b[1][j * k + kk];
            }
        }
        t
    } else {
        b[1][..k * n].to_vec()
    };
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        let row = &mut out[i * n..(i + 1) * n];
        for kk in 0..k {
            let av = a_at(i, kk, b[0]);
            let brow = &bt[kk * n..(kk + 1) * n];
            for (o, bv) in row.iter_mut().zip(brow) {
                *o += av * bv;
            }
        }
    }
    for (ci, oi) in b[2].iter_mut().zip(out) {
        *ci = if accumulate { *ci + oi } else { oi };
    }
}
