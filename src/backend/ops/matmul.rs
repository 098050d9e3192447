//! Matrix multiply `C = op(A)·op(B)` (optional transposes, optional accumulate), and the
//! dense layer's `y = f(x·w + bias)` with the bias and activation applied as the matmul
//! stores: the CPU references and the GPU launches of the WGSL variants
//! (`shaders/matmul/body.wgsl`, stored plainly by `store.wgsl` or through the epilogue of
//! `dense_store.wgsl`).

use super::elementwise::act_value;
use crate::backend::contract::{Entry, TEXTURE_MAX_ROWS, TEXTURE_ROW};
use crate::backend::kernel::ActKind;
use crate::backend::launch::{ceil_div, shader_params, GpuLaunch, MAX_WORKGROUPS};
use crate::backend::signature::fits_uniform;
use crate::backend::MatmulVariant;

shader_params! {
    /// `Params` of the matmul and dense modules.
    MatmulParams {
        /// Rows of C.
        m: u32,
        /// Inner dimension.
        k: u32,
        /// Columns of C.
        n: u32,
        /// Bit 0: A stored transposed; bit 1: B stored transposed; bit 2: accumulate.
        flags: u32,
        /// Dense: the activation code ([`ActKind::code`]).
        code: u32,
        /// Dense: bit 0 training (RReLU draws slopes), bits 8..: RReLU's layer seed.
        act_flags: u32,
        /// Dense: the activation's first parameter.
        f0: f32,
        /// Dense: its second parameter.
        f1: f32,
    }
}

/// Whether the vec4 kernels can read this shape: k in whole vec4s and the rows they load
/// as vec4s (A's when transposed, B's when not) aligned.
pub fn vec4_loads_fit(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> bool {
    k.is_multiple_of(4) && (!trans_a || m.is_multiple_of(4)) && (trans_b || n.is_multiple_of(4))
}

/// Whether only B's rows keep a product from vec4 loads: a plain B of a width that is not
/// a multiple of 4 (a classifier's 10 outputs) over A and k in whole vec4s, which the
/// subgroup kernel reads a float at a time (`B_FLOATS` in `matmul/subgroup.wgsl`).
pub fn only_b_rows_misfit(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> bool {
    !trans_b
        && !vec4_loads_fit(m, k, n, trans_a, false)
        && vec4_loads_fit(m, k, n.next_multiple_of(4), trans_a, false)
}

/// Workgroups for `entry`: one invocation per `rows`×`cols` block of C, in workgroups of
/// the size its contract creates the pipeline with.
fn block_grid(entry: Entry, m: usize, n: usize, rows: usize, cols: usize) -> (u32, u32, u32) {
    (
        ceil_div(n.div_ceil(cols), workgroup_size(entry, "WG_X")),
        ceil_div(m.div_ceil(rows), workgroup_size(entry, "WG_Y")),
        1,
    )
}

/// An entry's workgroup-size constant (`WG_X`, `WG_Y`; 1 when it has none).
fn workgroup_size(entry: Entry, name: &str) -> usize {
    entry
        .constants()
        .iter()
        .find(|(k, _)| *k == name)
        .map_or(1, |(_, v)| *v as usize)
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
        ..Default::default()
    };
    let (kind, grid) = shape(m, k, n, trans_a, trans_b, variant);
    GpuLaunch::new(kind.entry(false), params, grid)
        .with_constants(constants(&kind, k, n, trans_a, trans_b))
}

/// The GPU launch of [`crate::backend::Kernel::Dense`] for the chosen variant.
pub fn dense_gpu(
    m: usize,
    k: usize,
    n: usize,
    act: ActKind,
    training: bool,
    seed: u32,
    variant: MatmulVariant,
) -> GpuLaunch {
    let (code, f0, f1) = act.code();
    let params = MatmulParams {
        m: m as u32,
        k: k as u32,
        n: n as u32,
        code,
        act_flags: u32::from(training) | (seed << 8),
        f0,
        f1,
        ..Default::default()
    };
    let (kind, grid) = dense_shape(m, k, n, variant);
    let mut constants = constants(&kind, k, n, false, false);
    constants.push(("ACT_CODE", f64::from(code)));
    GpuLaunch::new(kind.entry(true), params, grid).with_constants(constants)
}

/// [`shape`] for the dense layer, whose texture entries read the bias from a uniform block:
/// the narrow texture kernel over a B that fits a uniform block too reads B from one (the
/// first convolution of the example CNN, 21,632×9×16 at batch 32 on llvmpipe: 1.8 ms
/// against 4.1 with B and the bias through texels and storage), and a bias too long for a
/// block takes the storage kernels instead.
fn dense_shape(m: usize, k: usize, n: usize, variant: MatmulVariant) -> (Kind, (u32, u32, u32)) {
    let (kind, grid) = shape(m, k, n, false, false, variant);
    let storage_twin = match kind {
        _ if fits_uniform(n) => None,
        Kind::NarrowTexture { .. } => Some(MatmulVariant::Narrow),
        Kind::Texture8 => Some(MatmulVariant::RegisterBlocked8),
        Kind::Texture16 | Kind::Texture16x20 | Kind::Subgroup { .. } => {
            Some(MatmulVariant::RegisterBlocked16)
        }
        _ => None,
    };
    if let Some(twin) = storage_twin {
        return shape(m, k, n, false, false, twin);
    }
    match kind {
        Kind::NarrowTexture { k_split: false } if n.is_multiple_of(4) && fits_uniform(k * n) => {
            (Kind::NarrowUniform, grid)
        }
        _ => (kind, grid),
    }
}

/// The pipeline constants of a launch: the transposes the vec4 bodies branch on (`TRANS_A`,
/// `TRANS_B`; the scalar bodies read the flags) and the narrow body's width, split and
/// whether k is past [`LOOP_MAX`] (`LONG_K`): one pipeline per combination.
fn constants(
    kind: &Kind,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
) -> Vec<(&'static str, f64)> {
    let mut c = vec![
        ("TRANS_A", f64::from(u8::from(trans_a))),
        ("TRANS_B", f64::from(u8::from(trans_b))),
    ];
    if let Kind::Subgroup { b_floats } = kind {
        c.push(("B_FLOATS", f64::from(u8::from(*b_floats))));
        c.push(("WIDE", f64::from(u8::from(subgroup_wide(n)))));
    }
    let k_split = match kind {
        Kind::Narrow { k_split } | Kind::NarrowTexture { k_split } => Some(*k_split),
        Kind::NarrowUniform => Some(false),
        _ => None,
    };
    if let (Some(k_split), Some((width, _))) = (k_split, narrow_split(n)) {
        c.push(("NARROW_N", width as f64));
        c.push(("K_SPLIT", f64::from(u8::from(k_split))));
        c.push(("LONG_K", f64::from(u8::from(k > LOOP_MAX))));
    }
    c
}

/// Rows of C up to which, with [`K_SPLIT_MIN`] inner steps or more over a plain B of whole
/// vec4 rows, the narrow kernel splits k over a workgroup's lanes instead of giving each row
/// one lane (`K_SPLIT` in `matmul/body.wgsl`).
pub const K_SPLIT_ROWS: usize = 32;
/// See [`K_SPLIT_ROWS`].
pub const K_SPLIT_MIN: usize = 1024;

/// Whether the narrow kernel splits k over a workgroup for this shape: few rows and a long
/// k (a convolution's weight gradient: on llvmpipe the Keras MNIST convnet's 9×21,632×32 in
/// 3.1 ms against 7.7 with a row a lane, the example CNN's 9×21,632×16 in 2.3 against 3.7).
pub fn narrow_k_split(m: usize, k: usize, n: usize, trans_b: bool) -> bool {
    !trans_b && n.is_multiple_of(4) && m <= K_SPLIT_ROWS && k >= K_SPLIT_MIN
}

/// The most columns of C the narrow kernel keeps in registers: wider outputs in whole
/// groups of this many columns take one invocation a row and group.
pub const NARROW_MAX: usize = 16;

/// The narrow kernel's width (`NARROW_N`) and column groups for `n` columns of C: all of
/// them up to [`NARROW_MAX`], else groups of the widest multiple of 4 from
/// [`NARROW_SPLIT_MIN`] to [`NARROW_MAX`] that divides `n` (a convolution's 32 or 64
/// filters in groups of 16, 24 in groups of 12: on llvmpipe the 8×8 kernels gave the
/// Keras MNIST convnet's first weight gradient, 9×21,632×32, eight invocations in all).
/// `None`: the narrow kernel does not take `n`.
pub fn narrow_split(n: usize) -> Option<(usize, usize)> {
    if n <= NARROW_MAX {
        return Some((n, 1));
    }
    (NARROW_SPLIT_MIN / 4..=NARROW_MAX / 4)
        .rev()
        .map(|q| 4 * q)
        .find(|w| n.is_multiple_of(*w))
        .filter(|w| n / w <= MAX_WORKGROUPS)
        .map(|w| (w, n / w))
}

/// The narrowest group [`narrow_split`] takes: a row's walk loads B a vec4 at a time, so
/// narrower groups would load it for fewer multiply-adds than the blocked kernels.
pub const NARROW_SPLIT_MIN: usize = 8;

/// The most iterations a kernel's loop may take: llvmpipe ends any loop after 65,535
/// (Mesa's gallivm loop limiter), silently. Every body but the reduction kernel walks k in
/// one loop, so a longer k goes to the reduction kernel (found by `steadygrad tune`'s check
/// against the CPU reference: the narrow kernel's 9×100,000×16 product was off by 555× the
/// tolerance; `steadygrad verify` runs 9×70,000×16). The narrow body over a plain B of
/// whole vec4 rows walks a longer k in a pipeline of its own (`LONG_K`), [`NARROW_K_UNROLL`]
/// steps an iteration, so it reaches that many times as far (the scalar one, its inner loop
/// over the columns not unrolled, does not: `verify` caught it).
pub const LOOP_MAX: usize = 65_535;

/// k steps an iteration of the narrow bodies' long walks (`K_UNROLL` in `matmul/body.wgsl`).
pub const NARROW_K_UNROLL: usize = 4;

/// Which kernel body runs a variant on a shape.
enum Kind {
    /// `k_split`: a workgroup a row, its lanes splitting k ([`narrow_k_split`]).
    Narrow {
        k_split: bool,
    },
    NarrowTexture {
        k_split: bool,
    },
    /// The dense layer's narrow body reading B from a uniform block ([`dense_shape`]).
    NarrowUniform,
    Vec4,
    Vec8,
    Vec16,
    Regblock,
    Tiled,
    Reduce,
    Texture8,
    Texture16,
    Texture16x20,
    /// `b_floats`: B read a float at a time (`B_FLOATS`: a plain B whose rows are not whole
    /// texels).
    Subgroup {
        b_floats: bool,
    },
}

impl Kind {
    /// The body's entry point, stored plainly or through the dense epilogue.
    fn entry(&self, dense: bool) -> Entry {
        match (self, dense) {
            (Kind::Vec4, false) => Entry::MatmulVec4,
            (Kind::Vec8, false) => Entry::MatmulVec8,
            (Kind::Vec16, false) => Entry::MatmulVec16,
            (Kind::Regblock, false) => Entry::MatmulRegblock,
            (Kind::Narrow { .. }, false) => Entry::MatmulNarrow,
            (Kind::Narrow { .. }, true) => Entry::DenseNarrow,
            (Kind::NarrowTexture { .. }, false) => Entry::MatmulNarrowTexture,
            (Kind::NarrowTexture { .. }, true) => Entry::DenseNarrowTexture,
            (Kind::NarrowUniform, _) => Entry::DenseNarrowUniform,
            (Kind::Tiled, false) => Entry::MatmulTiled,
            (Kind::Reduce, false) => Entry::MatmulReduce,
            (Kind::Reduce, true) => Entry::DenseReduce,
            (Kind::Vec4, true) => Entry::DenseVec4,
            (Kind::Vec8, true) => Entry::DenseVec8,
            (Kind::Vec16, true) => Entry::DenseVec16,
            (Kind::Regblock, true) => Entry::DenseRegblock,
            (Kind::Tiled, true) => Entry::DenseTiled,
            (Kind::Texture8, false) => Entry::MatmulTexture8,
            (Kind::Texture16, false) => Entry::MatmulTexture16,
            (Kind::Texture8, true) => Entry::DenseTexture8,
            (Kind::Texture16, true) => Entry::DenseTexture16,
            (Kind::Texture16x20, false) => Entry::MatmulTexture16x20,
            (Kind::Texture16x20, true) => Entry::DenseTexture16x20,
            (Kind::Subgroup { .. }, false) => Entry::MatmulSubgroup,
            (Kind::Subgroup { .. }, true) => Entry::DenseSubgroup,
        }
    }
}

/// The kernel body (which views A and B as its entry declares) and the grid.
fn shape(
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    variant: MatmulVariant,
) -> (Kind, (u32, u32, u32)) {
    // The narrow kernel's rows: a row of C a lane.
    let narrow_groups = m
        .div_ceil(workgroup_size(Entry::MatmulNarrow, "WG_X"))
        .max(1);
    let reduce_fits = m.div_ceil(4).max(n.div_ceil(4)) <= MAX_WORKGROUPS;
    match variant {
        // The other bodies walk k in one loop an invocation: past LOOP_MAX steps it would
        // be cut short, so a longer k goes to the kernel that splits it over a workgroup.
        MatmulVariant::Reduce => {}
        MatmulVariant::Narrow | MatmulVariant::NarrowTexture
            if narrow_split(n).is_some()
                && n.is_multiple_of(4)
                && !trans_b
                && narrow_groups <= MAX_WORKGROUPS
                && k <= LOOP_MAX * NARROW_K_UNROLL => {}
        _ if k > LOOP_MAX && reduce_fits => {
            return shape(m, k, n, trans_a, trans_b, MatmulVariant::Reduce)
        }
        _ => {}
    }
    // A row of C a lane (or a workgroup, splitting k), a group of its columns along y.
    let k_split = narrow_k_split(m, k, n, trans_b);
    let narrow_grid = match narrow_split(n) {
        Some((_, groups)) if k_split => Some((m as u32, groups as u32, 1)),
        Some((_, groups)) if narrow_groups <= MAX_WORKGROUPS => {
            Some((narrow_groups as u32, groups as u32, 1))
        }
        _ => None,
    };
    match (variant, narrow_grid) {
        (MatmulVariant::Narrow, Some(grid)) => (Kind::Narrow { k_split }, grid),
        (MatmulVariant::NarrowTexture, Some(grid))
            if fits_texture(m * k) && fits_texture(k * n) =>
        {
            (Kind::NarrowTexture { k_split }, grid)
        }
        _ => shape_blocked(m, k, n, trans_a, trans_b, variant),
    }
}

/// [`shape`] for the variants other than the narrow ones (and for those where they do not
/// take the shape: the narrow kernel falls back to the 4×4 one, the narrow texture kernel
/// to the narrow one).
fn shape_blocked(
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    variant: MatmulVariant,
) -> (Kind, (u32, u32, u32)) {
    let vec4_ok = vec4_loads_fit(m, k, n, trans_a, trans_b);
    let textures_ok = vec4_ok && fits_texture(m * k) && fits_texture(k * n);
    // The subgroup kernel also reads a plain B whose rows are not whole texels.
    let b_floats =
        only_b_rows_misfit(m, k, n, trans_a, trans_b) && fits_texture(m * k) && fits_texture(k * n);
    let blocks = (ceil_div(n.div_ceil(4), 8), ceil_div(m.div_ceil(4), 8), 1);
    // A kernel of `rows`×`cols` outputs an invocation, in workgroups of its contract's shape.
    let blocked = |kind: Kind, (rows, cols)| {
        let grid = block_grid(kind.entry(false), m, n, rows, cols);
        (kind, grid)
    };
    let reduce_fits = m.div_ceil(4).max(n.div_ceil(4)) <= MAX_WORKGROUPS;
    match variant {
        MatmulVariant::Narrow => shape(m, k, n, trans_a, trans_b, MatmulVariant::RegisterBlocked),
        MatmulVariant::NarrowTexture => shape(m, k, n, trans_a, trans_b, MatmulVariant::Narrow),
        MatmulVariant::Texture8 if textures_ok => blocked(Kind::Texture8, (8, 8)),
        MatmulVariant::Texture16 if textures_ok => blocked(Kind::Texture16, (16, 16)),
        MatmulVariant::Texture16x20 if textures_ok => blocked(Kind::Texture16x20, (16, 20)),
        // A workgroup (one subgroup) a 32×32 block, or 32×64 ([`subgroup_wide`]).
        MatmulVariant::Subgroup if textures_ok || b_floats => {
            let cols = if subgroup_wide(n) { 16 } else { 8 };
            (
                Kind::Subgroup { b_floats },
                (ceil_div(n.div_ceil(4), cols), ceil_div(m, 32), 1),
            )
        }
        MatmulVariant::Texture8 => {
            shape(m, k, n, trans_a, trans_b, MatmulVariant::RegisterBlocked8)
        }
        MatmulVariant::Texture16 | MatmulVariant::Texture16x20 | MatmulVariant::Subgroup => {
            shape(m, k, n, trans_a, trans_b, MatmulVariant::RegisterBlocked16)
        }
        MatmulVariant::RegisterBlocked if vec4_ok => (Kind::Vec4, blocks),
        MatmulVariant::RegisterBlocked8 if vec4_ok => blocked(Kind::Vec8, (8, 8)),
        MatmulVariant::RegisterBlocked16 if vec4_ok => blocked(Kind::Vec16, (16, 16)),
        MatmulVariant::RegisterBlocked
        | MatmulVariant::RegisterBlocked8
        | MatmulVariant::RegisterBlocked16 => (Kind::Regblock, blocks),
        MatmulVariant::Tiled => (Kind::Tiled, (ceil_div(n, 64), ceil_div(m, 64), 1)),
        MatmulVariant::Reduce if reduce_fits => (Kind::Reduce, (ceil_div(n, 4), ceil_div(m, 4), 1)),
        MatmulVariant::Reduce => shape(m, k, n, trans_a, trans_b, MatmulVariant::RegisterBlocked),
    }
}

/// Whether the subgroup kernel takes 64 columns a workgroup (`WIDE` in
/// `matmul/subgroup.wgsl`) rather than 32: over more than 32, so that the rows' values each
/// lane loads and hands round serve two quads of columns.
fn subgroup_wide(n: usize) -> bool {
    n > 32
}

/// Whether an operand of `words` floats fits an operand texture (see
/// [`crate::backend::contract::TEXTURE_ROW`]).
pub fn fits_texture(words: usize) -> bool {
    words.div_ceil(4).div_ceil(TEXTURE_ROW) <= TEXTURE_MAX_ROWS
}

/// CPU reference of [`crate::backend::Kernel::Dense`]. Buffers: x, w, bias, y, step.
pub fn dense_cpu(
    m: usize,
    k: usize,
    n: usize,
    act: ActKind,
    training: bool,
    seed: u32,
    b: &mut [&mut [f32]],
) {
    let step = b[4][0].to_bits();
    let (inputs, outputs) = b.split_at_mut(2);
    let (bias, outputs) = outputs.split_at_mut(1);
    let (x, w) = inputs.split_at_mut(1);
    cpu(m, k, n, false, false, false, &mut [x[0], w[0], outputs[0]]);
    for (i, y) in outputs[0][..m * n].iter_mut().enumerate() {
        *y = act_value(act, *y + bias[0][i % n], training, seed, step, i);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::signature::UNIFORM_VEC4S;

    /// The split-k walk's partial sums live in a workgroup array of 8 (`narrow_partial` in
    /// `matmul/body.wgsl`): one per lane of the narrow entries' workgroups.
    #[test]
    fn the_narrow_workgroups_have_the_lanes_the_split_k_sums_hold() {
        for entry in [
            Entry::MatmulNarrow,
            Entry::MatmulNarrowTexture,
            Entry::DenseNarrow,
            Entry::DenseNarrowTexture,
        ] {
            assert_eq!(workgroup_size(entry, "WG_X"), 8, "{entry:?}");
            assert_eq!(workgroup_size(entry, "WG_Y"), 1, "{entry:?}");
        }
        assert!(include_str!("../../../shaders/matmul/body.wgsl")
            .contains("var<workgroup> narrow_partial: array<array<vec4<f32>, 4>, 8>;"));
    }

    /// The dense layer's texture entries read the bias from a uniform block, and the
    /// narrow one B as well where it fits one; past a block they take other kernels.
    #[test]
    fn dense_uniform_blocks_are_taken_only_where_they_fit() {
        let entry = |m, k, n, v| dense_gpu(m, k, n, ActKind::Relu, false, 0, v).entry;
        let narrow = MatmulVariant::NarrowTexture;
        assert_eq!(entry(21_632, 9, 16, narrow), Entry::DenseNarrowUniform);
        // B past a block (2,048×16 floats), or rows not whole vec4s: texels.
        assert_eq!(entry(64, 2_048, 16, narrow), Entry::DenseNarrowTexture);
        assert_eq!(entry(64, 9, 10, narrow), Entry::DenseNarrowTexture);
        // A bias past a block: the storage kernels.
        let wide = 4 * UNIFORM_VEC4S + 4;
        assert_eq!(
            entry(8, 4, 64, MatmulVariant::Texture8),
            Entry::DenseTexture8
        );
        assert_eq!(entry(8, 4, wide, MatmulVariant::Texture8), Entry::DenseVec8);
        assert_eq!(
            entry(8, 4, wide, MatmulVariant::Texture16x20),
            Entry::DenseVec16
        );
    }

    /// A k past llvmpipe's loop limit gets the narrow body's pipeline that walks it four
    /// steps an iteration.
    #[test]
    fn a_long_k_gets_a_pipeline_of_its_own() {
        let long_k = |k| {
            let l = gpu(40, k, 16, false, false, false, MatmulVariant::NarrowTexture);
            l.constants
                .iter()
                .find(|(n, _)| *n == "LONG_K")
                .map(|c| c.1)
        };
        assert_eq!(long_k(LOOP_MAX), Some(0.0));
        assert_eq!(long_k(LOOP_MAX + 1), Some(1.0));
    }

    /// A classifier's head (B of 10 columns) takes the subgroup body with B read a float at
    /// a time; a transposed B, or A or k not in whole vec4s, does not.
    #[test]
    fn only_b_rows_misfit_picks_the_heads_the_subgroup_body_reads_by_floats() {
        assert!(only_b_rows_misfit(1024, 100, 10, false, false));
        assert!(only_b_rows_misfit(100, 1024, 10, true, false));
        assert!(
            !only_b_rows_misfit(1024, 100, 12, false, false),
            "whole vec4s"
        );
        assert!(!only_b_rows_misfit(1024, 10, 100, false, true), "k = 10");
        assert!(
            !only_b_rows_misfit(1024, 100, 10, false, true),
            "B transposed"
        );
        assert!(!only_b_rows_misfit(98, 1024, 10, true, false), "A's rows");
        let sub = |m, k, n, ta| gpu(m, k, n, ta, false, false, MatmulVariant::Subgroup);
        let floats = |l: &GpuLaunch| l.constants.iter().find(|c| c.0 == "B_FLOATS").map(|c| c.1);
        assert_eq!(sub(1024, 100, 10, false).entry, Entry::MatmulSubgroup);
        assert_eq!(floats(&sub(1024, 100, 10, false)), Some(1.0));
        assert_eq!(floats(&sub(1024, 100, 12, false)), Some(0.0));
        // k not whole vec4s: the storage kernels' scalar body.
        assert_eq!(sub(1024, 10, 12, false).entry, Entry::MatmulRegblock);
    }

    #[test]
    fn wide_outputs_take_the_narrow_kernel_in_groups_and_long_sums_split_k() {
        assert_eq!(narrow_split(10), Some((10, 1)));
        assert_eq!(narrow_split(64), Some((16, 4)));
        assert_eq!(narrow_split(24), Some((12, 2)));
        assert_eq!(narrow_split(40), Some((8, 5)));
        assert_eq!(narrow_split(20), None);
        assert_eq!(narrow_split(100), None);
        let (kind, grid) = shape(9, 21_632, 32, true, false, MatmulVariant::Narrow);
        assert!(matches!(kind, Kind::Narrow { k_split: true }));
        assert_eq!(grid, (9, 2, 1));
        let (kind, grid) = shape(21_632, 9, 32, false, false, MatmulVariant::Narrow);
        assert!(matches!(kind, Kind::Narrow { k_split: false }));
        assert_eq!(grid, (2_704, 2, 1));
    }
}
