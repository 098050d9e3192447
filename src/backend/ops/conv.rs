//! The direct convolution (`shaders/window/conv_*.wgsl`): a convolution over a small
//! receptive field — a first layer over few channels, as the example CNN's 3×3 over one —
//! computed straight from the image with the dense layer's bias + activation epilogue,
//! and its kernel gradient as partial sums over stripes of positions (a column sum of
//! them follows); on 8-lane subgroups a larger field as an implicit matmul over the fields
//! read in place. Other convolutions are im2col rows times the kernel (`ops::window`, the
//! autotuned matmul): for a small field those rows cost more to write and read back than
//! the product costs to compute. The input gradient: [`super::conv_input_grad`].

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use super::matmul;
use super::window::{self, constants};
use crate::backend::contract::Entry;
use crate::backend::kernel::{ActKind, Kernel};
use crate::backend::launch::{grid_256, grid_64, shader_params, GpuLaunch, MAX_WORKGROUPS};
use crate::backend::signature::UNIFORM_VEC4S;
use crate::backend::window::Window;

shader_params! {
    /// `Params` of the direct convolution and its kernel gradient.
    ConvParams {
        /// Images.
        n: u32,
        /// Bit 0: training mode (RReLU draws slopes); bits 8..: RReLU's layer seed.
        flags: u32,
        /// Stripes of positions (the kernel gradient).
        stripes: u32,
        /// Unused.
        pad0: u32,
        /// The activation's first parameter.
        f0: f32,
        /// The activation's second parameter.
        f1: f32,
        /// Unused.
        pad1: f32,
        /// Unused.
        pad2: f32,
    }
}

/// The largest receptive field (`kh·kw·c` values) the direct convolution takes: a 5×5
/// window over one channel, a 3×3 over three.
pub const DIRECT_PATCH_MAX: usize = 32;

/// The largest field it takes over channels not in whole vec4s, which the implicit matmul
/// does not take (LeNet's second convolution, 5×5 over 6 channels: 150 values). On
/// llvmpipe at batch 128 it beat im2col rows and the autotuned matmul at 150 values
/// (forward 25.3 → 7.4–8.1 ms, kernel gradient 22.1 → 6.8–6.9 ms) and at 250 (5×5 over 10
/// channels: 36.0 → 11.7 ms and 31.9 → 12.9 ms).
pub const DIRECT_WIDE_PATCH_MAX: usize = 256;

/// The most filters it takes.
pub const DIRECT_FILTERS_MAX: usize = 64;

// The weights of the largest field and filters the direct convolution takes fill at most a
// uniform block.
const _: () = assert!(DIRECT_WIDE_PATCH_MAX * DIRECT_FILTERS_MAX <= 4 * UNIFORM_VEC4S);

/// Positions each stripe of the kernel gradient sums, about.
pub const STRIPE_POSITIONS: usize = 128;

/// Whether a convolution over `win` with `filters` filters runs directly
/// ([`Kernel::ConvDirect`]): a receptive field of at most [`DIRECT_PATCH_MAX`] values (or
/// [`DIRECT_WIDE_PATCH_MAX`] where channels or filters are not in whole vec4s, which the
/// implicit matmul does not take), 1 to [`DIRECT_FILTERS_MAX`]
/// filters in whole vec4s or not (the entries for the others read and store floats: on
/// llvmpipe `tests/data/cnn/cnn_b.json`'s 5×5 convolution to 6 filters at batch 128 took
/// 11 ms forward and 5 backward through im2col rows and the narrow matmul), and not
/// pointwise (that one is a plain matmul over the input).
pub fn direct_fits(win: &Window, filters: usize) -> bool {
    let patch = win.patch();
    let vec4s = win.c.is_multiple_of(4) && filters.is_multiple_of(4);
    (patch <= DIRECT_PATCH_MAX || (patch <= DIRECT_WIDE_PATCH_MAX && !vec4s))
        && (1..=DIRECT_FILTERS_MAX).contains(&filters)
        && !win.is_pointwise()
}

/// Whether the direct kernel can hold the weights of a convolution over `win` with
/// `filters` filters: they fill at most a uniform block (which [`direct_fits`] ensures;
/// the kernel itself takes any field).
pub fn direct_weights_fit(win: &Window, filters: usize) -> bool {
    win.patch() * filters <= 4 * UNIFORM_VEC4S
}

/// Whether a convolution over `win` with `filters` filters past [`direct_fits`] runs as
/// [`Kernel::ConvDirect`] all the same on adapters with 8-lane subgroups — an implicit
/// matmul over its receptive fields read in place (`Entry::ConvGemm`, and its kernel
/// gradient, `Entry::ConvGemmWeightGrad`, in [`gemm_stripes`]), without im2col rows: channels and
/// filters in whole vec4s, not pointwise, its walks within llvmpipe's loop limit and the
/// grid, and its operands within textures. Any count of filters: a subgroup computes 32
/// (over at most [`GEMM_HALVES_FILTERS_MAX`], 16 for two blocks of rows; over more than
/// 32, 64: `WIDE` in `window/conv_gemm_taps.wgsl`); with 8 (a half
/// of its lanes idle) it still ran 2–5× faster than im2col and the autotuned matmul on
/// llvmpipe.
pub fn gemm_fits(win: &Window, filters: usize) -> bool {
    let (positions, patch) = (win.positions(), win.patch());
    win.c.is_multiple_of(4)
        && filters.is_multiple_of(4)
        && !win.is_pointwise()
        && positions.div_ceil(4) <= matmul::LOOP_MAX
        && positions.div_ceil(32).max(patch.div_ceil(32)) <= MAX_WORKGROUPS
        && matmul::fits_texture(win.input_len())
        && matmul::fits_texture(patch * filters)
        && matmul::fits_texture(positions * filters)
}

/// Whether a convolution over `win` with `filters` filters is the implicit matmul on a
/// device with (`subgroups8`) or without 8-lane subgroups: a field past [`direct_fits`]
/// that [`gemm_fits`] takes. The one rule the lowering, the stripes and the backend follow.
pub fn is_gemm(win: &Window, filters: usize, subgroups8: bool) -> bool {
    subgroups8 && !direct_fits(win, filters) && gemm_fits(win, filters)
}

/// The most filters the direct convolution's subgroup entries take as one block of 16,
/// the same for every lane of a subgroup.
pub const LANES8_FILTERS_MAX: usize = 16;

/// The most filters they take at all: past [`LANES8_FILTERS_MAX`], both blocks of 16 an
/// invocation (`WIDE8` in `window/conv_direct.wgsl`), where one block an invocation read
/// its weights one load a lane at an index no constant. On llvmpipe
/// `examples/cnn_bn.json`'s 5×5/2 over one channel to 32 filters at batch 128 4.6–5.4 →
/// 2.6–2.8 ms (batch 32: 1.3 → 0.8–1.1), `examples/convnet.json`'s 3×3 over one to 32 at
/// batch 32 1.3–2.3 → 0.74 ms (the builds alternated).
pub const LANES8_WIDE_FILTERS_MAX: usize = 32;

/// Whether the GPU runs `kernel` through an entry on 8-lane subgroups (`subgroups8`: the
/// device has them): a [`Kernel::ConvDirect`] as the implicit matmul ([`is_gemm`]) or
/// directly over at most [`LANES8_WIDE_FILTERS_MAX`] filters (the weights shared through the
/// subgroup), its kernel gradient as the implicit matmul (any stripes), a
/// [`Kernel::ConvInputGrad`] always (its entries there all use them).
pub fn runs_on_subgroups(kernel: &Kernel, subgroups8: bool) -> bool {
    let gemm = |win: &Window, filters| is_gemm(win, filters, subgroups8);
    match *kernel {
        Kernel::ConvDirect {
            ref win, filters, ..
        } => gemm(win, filters) || (subgroups8 && filters <= LANES8_WIDE_FILTERS_MAX),
        Kernel::ConvDirectWeightGrad {
            ref win, filters, ..
        } => gemm(win, filters),
        Kernel::ConvInputGrad { .. } | Kernel::ConvInputGradAct { .. } => subgroups8,
        _ => false,
    }
}

/// Stripes the kernel gradient over `win` is split into: about [`STRIPE_POSITIONS`]
/// positions each (whole rows of them with [`strip_grad`], at least one), or where the
/// implicit matmul computes it ([`runs_on_subgroups`]: the graph is for a device with 8-lane
/// subgroups) [`gemm_stripes`].
pub fn stripes(win: &Window, filters: usize, subgroups8: bool) -> usize {
    if is_gemm(win, filters, subgroups8) {
        return gemm_stripes(win, filters);
    }
    if strip_grad(win) {
        let rows = (STRIPE_POSITIONS / win.ow).max(1);
        return (win.n * win.oh).div_ceil(rows);
    }
    win.positions().div_ceil(STRIPE_POSITIONS).max(1)
}

/// Workgroups the implicit matmul's kernel gradient is split into at least, where its
/// stripes allow ([`gemm_stripes`]).
pub const GEMM_GRAD_WORKGROUPS: usize = 32;

/// Positions a stripe of the implicit matmul's kernel gradient sums at least: past one
/// stripe a column sum follows, ~0.2 ms on llvmpipe, more than the split saved at batch 32
/// for `examples/cnn_bn.json` (4,608 positions; 2.8–4.3 ms against 2.3–4.5 + 0.2–0.4).
pub const GEMM_STRIPE_POSITIONS: usize = 4096;

/// Stripes of positions the implicit matmul's kernel gradient over `win` sums separately
/// (a column sum of them follows past one): a field of 288 values to 64 filters is 9
/// workgroups, and a CPU adapter runs a workgroup on one thread — two threads took 5 and 4
/// of them. Enough stripes for [`GEMM_GRAD_WORKGROUPS`], each at least
/// [`GEMM_STRIPE_POSITIONS`] positions (whole rows of them with [`strip_grad`], as
/// `stripe_of` splits them). On llvmpipe `examples/cnn_bn.json`'s 3×3 over 32 channels to
/// 64 filters at batch 128 (4 stripes): 10.9–12.7 → 9.2–9.5 ms + 0.2 for the column sum.
pub fn gemm_stripes(win: &Window, filters: usize) -> usize {
    let (x, y) = gemm_grid(win.patch(), filters);
    let wanted = GEMM_GRAD_WORKGROUPS.div_ceil((x * y) as usize);
    let units = if strip_grad(win) {
        win.n * win.oh
    } else {
        win.positions()
    };
    let most = (win.positions() / GEMM_STRIPE_POSITIONS).clamp(1, units);
    wanted.min(most).min(MAX_WORKGROUPS)
}

/// The implicit matmul's grid over `rows` rows (positions or field values) and `filters`
/// filters: a subgroup of 8 lanes per 32 rows and 32 filters, or per 64 and 16 over at most
/// [`GEMM_HALVES_FILTERS_MAX`] filters, or per 32 and 64 over more than 32.
fn gemm_grid(rows: usize, filters: usize) -> (u32, u32) {
    if filters <= GEMM_HALVES_FILTERS_MAX {
        (filters.div_ceil(16) as u32, rows.div_ceil(64) as u32)
    } else if filters > 32 {
        (filters.div_ceil(64) as u32, rows.div_ceil(32) as u32)
    } else {
        (filters.div_ceil(32) as u32, rows.div_ceil(32) as u32)
    }
}

/// The implicit matmul's launch for [`Kernel::ConvDirect`] or (`weight_grad`) its kernel
/// gradient: a subgroup of 8 lanes per 32 positions (or field values) and 32 filters, or
/// per 64 and all the filters over at most [`GEMM_HALVES_FILTERS_MAX`].
fn gemm_gpu(win: &Window, filters: usize, p: ConvParams, weight_grad: bool) -> GpuLaunch {
    let (entry, rows) = if weight_grad {
        (Entry::ConvGemmWeightGrad, win.patch())
    } else {
        (Entry::ConvGemm, win.positions())
    };
    let (x, y) = gemm_grid(rows, filters);
    // The kernel gradient's stripes: the grid's third coordinate.
    let grid = (x, y, p.stripes.max(1));
    let mut constants = constants(win);
    constants.push(("WIDE", f64::from(u8::from(filters > 32))));
    constants.push(("C4", (win.c / 4) as f64));
    constants.push(("F4", (filters / 4) as f64));
    let halves = filters <= GEMM_HALVES_FILTERS_MAX;
    constants.push(("HALVES", f64::from(u8::from(halves))));
    if weight_grad {
        let row = if strip_grad(win) { win.ow } else { 1 };
        constants.push(("STRIP_ROW", row as f64));
    }
    GpuLaunch::new(entry, p, grid).with_constants(constants)
}

/// The most filters the implicit matmul and its kernel gradient compute as 64 rows
/// (positions, field values) and all the filters a subgroup, a lane's eight rows with all
/// their filters (`HALVES`; `narrow` in `window/conv_gemm.wgsl` and
/// `conv_gemm_weight_grad.wgsl`) instead of one block of 32 rows and 32 filters: on llvmpipe `tests/data/cnn/cnn_e.json`'s 3×3
/// convolution over 32 channels to 12 filters at batch 128, forward 6.8–7.8 → 5.2–6.1 ms
/// and kernel gradient 6.3–8.5 → 4.2–7.9 as two blocks of 32 rows a subgroup (their values
/// broadcast), then 3.6–4.5 → 2.7–3.7 and 3.7–4.5 → 2.9–3.0 a lane's rows.
pub const GEMM_HALVES_FILTERS_MAX: usize = 16;

/// Whether some tap of `win` falls in the padding.
fn padded(win: &Window) -> bool {
    win.pad_top > 0
        || win.pad_left > 0
        || (win.oh - 1) * win.sh + (win.kh - 1) * win.dh >= win.h
        || (win.ow - 1) * win.sw + (win.kw - 1) * win.dw >= win.w
}

/// The pipeline constants of both kernels: the window's, the filters in vec4s, the field's
/// size and whether to check the padding.
fn conv_constants(win: &Window, filters: usize) -> Vec<(&'static str, f64)> {
    let mut c = constants(win);
    c.push(("FILTERS", filters as f64));
    c.push(("F4", filters.div_ceil(4) as f64));
    c.push(("WHOLE4", f64::from(u8::from(filters.is_multiple_of(4)))));
    c.push(("PATCH", win.patch() as f64));
    c.push(("PADDED", f64::from(u8::from(padded(win)))));
    c
}

/// GPU launch of [`Kernel::ConvDirect`]: an invocation per four output positions and
/// block of 16 filters, or the implicit matmul; `subgroups` where it runs on 8-lane
/// subgroups ([`runs_on_subgroups`]).
pub fn forward_gpu(
    win: &Window,
    filters: usize,
    act: ActKind,
    training: bool,
    seed: u32,
    subgroups: bool,
) -> GpuLaunch {
    let (code, f0, f1) = act.code();
    let p = ConvParams {
        n: win.n as u32,
        flags: u32::from(training) | (seed << 8),
        f0,
        f1,
        ..Default::default()
    };
    if is_gemm(win, filters, subgroups) {
        let mut launch = gemm_gpu(win, filters, p, false);
        launch.constants.push(("ACT_CODE", f64::from(code)));
        return launch;
    }
    let mut constants = conv_constants(win, filters);
    constants.push(("ACT_CODE", f64::from(code)));
    let strip = strip(win);
    constants.push(("STRIP", f64::from(u8::from(strip))));
    let blocks = if strip {
        win.n * win.oh * win.ow.div_ceil(4)
    } else {
        win.positions().div_ceil(4)
    };
    let lanes8 = subgroups && filters <= LANES8_WIDE_FILTERS_MAX;
    let wide8 = lanes8 && filters > LANES8_FILTERS_MAX;
    constants.push(("WIDE8", f64::from(u8::from(wide8))));
    let filter_blocks = if wide8 { 1 } else { filters.div_ceil(16) };
    let grid = grid_256(blocks * filter_blocks);
    let entry = match (filters.is_multiple_of(4), lanes8) {
        (true, false) => Entry::ConvDirect4,
        (false, false) => Entry::ConvDirect,
        (true, true) => Entry::ConvDirect4Lanes8,
        (false, true) => Entry::ConvDirectLanes8,
    };
    GpuLaunch::new(entry, p, grid).with_constants(constants)
}

/// Whether the direct convolution's forward over `win` takes its blocks of four positions
/// along output rows, sharing their taps (`STRIP` in `conv_direct.wgsl`): stride and
/// dilation 1 across, rows of at least four positions. On llvmpipe at batch 128, LeNet's
/// 5×5 over one channel 7.1–8.4 → 3.9–6.8 ms, its 5×5 over six 7.4–10.6 → 5.8–7.9 ms, and
/// a 3×3 over five channels to 16 filters 13.6–14.2 → 9.9–10.2 ms.
fn strip(win: &Window) -> bool {
    win.sw == 1 && win.dw == 1 && win.ow >= 4
}

/// Whether the direct convolution's kernel gradient over `win` sums rows of taps along
/// rows of positions (`STRIP` in `conv_direct_weight_grad.wgsl`; its stripes are then rows
/// of positions, `stripe_of`): stride and dilation 1 across, at most 12 taps across, and
/// a field past 12 values. A field of 12 is summed whole by one invocation each gradient
/// value it loads (`KB` 3, `field_blocks`), which ran faster than rows of taps on
/// llvmpipe (the example CNN's 3×3 over one channel at batch 128: 2.4 against 2.8 ms);
/// past it, the rows of taps load an image value a position where the blocks load one a
/// field value (LeNet's 5×5 over one channel 7.2–7.5 → 3.9–5.6 ms; its 5×5 over six
/// 6.7 → 4.9–5.1 ms).
pub fn strip_grad(win: &Window) -> bool {
    win.sw == 1 && win.dw == 1 && win.kw <= 12 && win.patch() > 12
}

/// The stripe of the kernel gradient over `win` in `stripes` stripes that sums output
/// position `pos`: blocks of consecutive positions, or with [`strip_grad`] of rows of
/// positions ([`stripe_rows`](super::elementwise::stripe_rows)).
fn stripe_of(win: &Window, pos: usize, stripes: usize) -> usize {
    if strip_grad(win) {
        (pos / win.ow) / (win.n * win.oh).div_ceil(stripes)
    } else {
        pos / win.positions().div_ceil(stripes)
    }
}

/// Blocks of four field values one invocation of the kernel gradient sums where it takes
/// several ([`with_field_blocks`]; 1 to 3): the whole field when it fits 12 values (each
/// gradient value then loaded once), else the fewest groups of equal size.
fn field_blocks(win: &Window) -> usize {
    let blocks = win.patch().div_ceil(4);
    let groups = blocks.div_ceil(3);
    blocks.div_ceil(groups)
}

/// `launch` (of `kernel`) as the kernel gradient summing several blocks of field values an
/// invocation (`field_blocks`) when it is [`Kernel::ConvDirectWeightGrad`]: on llvmpipe
/// the example CNN's first convolution's at batch 128 ran 1.5× faster (each gradient vec4
/// loaded once for the whole 3×3 field, not three times), but SwiftShader's shader compiler
/// ran out of memory on the larger body over padded windows, so the backend takes it where
/// [`crate::backend::GpuOptions::field_blocks`] says.
pub fn with_field_blocks(kernel: &Kernel, launch: GpuLaunch) -> GpuLaunch {
    match *kernel {
        Kernel::ConvDirectWeightGrad {
            ref win,
            filters,
            stripes,
        } if matches!(
            launch.entry,
            Entry::ConvDirectWeightGrad4 | Entry::ConvDirectWeightGrad
        ) =>
        {
            weight_grad_gpu(win, filters, stripes, field_blocks(win), false)
        }
        _ => launch,
    }
}

/// GPU launch of [`Kernel::ConvDirectWeightGrad`]: an invocation per stripe, `kb` blocks
/// of four field values and block of 16 filters, or (`gemm`: [`runs_on_subgroups`]) the
/// implicit matmul.
pub fn weight_grad_gpu(
    win: &Window,
    filters: usize,
    stripes: usize,
    kb: usize,
    gemm: bool,
) -> GpuLaunch {
    let p = ConvParams {
        n: win.n as u32,
        stripes: stripes as u32,
        ..Default::default()
    };
    if gemm {
        return gemm_gpu(win, filters, p, true);
    }
    let strip = strip_grad(win);
    let groups = if strip {
        win.kh * win.c
    } else {
        win.patch().div_ceil(4 * kb)
    };
    // Workgroups of 64: a CPU adapter runs each workgroup on one thread, and the
    // invocations are few and long. On llvmpipe (two threads) `examples/cnn_bn.json`'s 5×5/2
    // over one channel at batch 32 is 294 invocations, 256 of them one thread's in
    // workgroups of 256: 1.7–2.6 → 1.1–1.5 ms.
    let grid = grid_64(stripes * groups * filters.div_ceil(16));
    let mut constants = conv_constants(win, filters);
    constants.push(("KB", kb as f64));
    constants.push(("STRIP", f64::from(u8::from(strip))));
    let entry = if filters.is_multiple_of(4) {
        Entry::ConvDirectWeightGrad4
    } else {
        Entry::ConvDirectWeightGrad
    };
    GpuLaunch::new(entry, p, grid).with_constants(constants)
}

/// The im2col rows of `x` over `win` ([`window::im2col_cpu`]): the receptive fields the
/// direct kernels read in place.
fn rows(win: &Window, x: &mut [f32]) -> Vec<f32> {
    let mut cols = vec![0.0; win.positions() * win.patch()];
    window::im2col_cpu(win, &mut [x, &mut cols]);
    cols
}

/// CPU reference of [`Kernel::ConvDirect`]: the im2col rows through the dense layer's
/// reference ([`matmul::dense_cpu`]), which it equals. Buffers: x, w, bias, y, step.
pub fn forward_cpu(
    win: &Window,
    filters: usize,
    act: ActKind,
    training: bool,
    seed: u32,
    b: &mut [&mut [f32]],
) {
    let (x, rest) = b.split_first_mut().expect("five buffers");
    let mut cols = rows(win, x);
    let [w, bias, y, step] = rest else {
        panic!("ConvDirect takes five buffers")
    };
    let (m, k) = (win.positions(), win.patch());
    let buffers: &mut [&mut [f32]] = &mut [&mut cols, w, bias, y, step];
    matmul::dense_cpu(m, k, filters, act, training, seed, buffers);
}

/// CPU reference of [`Kernel::ConvDirectWeightGrad`]: over the im2col rows, each stripe's
/// sum of row ⊗ dz. Buffers: x, dz, partials.
pub fn weight_grad_cpu(win: &Window, filters: usize, stripes: usize, b: &mut [&mut [f32]]) {
    let field = win.patch();
    let cols = rows(win, b[0]);
    b[2][..stripes * field * filters].fill(0.0);
    for pos in 0..win.positions() {
        let s = stripe_of(win, pos, stripes);
        for k in 0..field {
            for f in 0..filters {
                b[2][(s * field + k) * filters + f] +=
                    cols[pos * field + k] * b[1][pos * filters + f];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::window::Padding;

    fn win(hw: usize, c: usize, k: usize, stride: usize, padding: Padding) -> Window {
        Window::new(2, (hw, hw, c), (k, k), (stride, stride), (1, 1), padding).unwrap()
    }

    #[test]
    fn small_fields_over_up_to_64_filters_run_directly() {
        assert!(direct_fits(&win(28, 1, 3, 1, Padding::Valid), 16));
        assert!(direct_fits(&win(28, 1, 5, 2, Padding::Same), 32));
        assert!(direct_fits(&win(28, 3, 3, 1, Padding::Same), 64));
        assert!(
            !direct_fits(&win(28, 16, 3, 1, Padding::Valid), 32),
            "a field of 144"
        );
        assert!(
            direct_fits(&win(28, 1, 3, 1, Padding::Valid), 10),
            "filters not in vec4s read a float at a time"
        );
        assert!(
            !direct_fits(&win(28, 1, 3, 1, Padding::Valid), 0),
            "no filters"
        );
        assert!(
            !direct_fits(&win(28, 1, 3, 1, Padding::Valid), 128),
            "too many filters"
        );
        assert!(
            !direct_fits(&win(28, 4, 1, 1, Padding::Valid), 8),
            "pointwise"
        );
    }

    #[test]
    fn padding_is_checked_only_where_a_tap_reaches_it() {
        assert!(!padded(&win(28, 1, 3, 1, Padding::Valid)));
        assert!(padded(&win(28, 1, 3, 1, Padding::Same)));
        // 28 over 5 taps at stride 2, same: 14 outputs, one row of padding above and two below.
        assert!(padded(&win(28, 1, 5, 2, Padding::Same)));
        // Valid with a stride that leaves the last row unread: never padded.
        assert!(!padded(&win(8, 1, 3, 2, Padding::Valid)));
    }

    #[test]
    fn the_stripes_sum_to_the_im2col_product() {
        let w = win(5, 2, 3, 2, Padding::Same);
        let filters = 4;
        let x: Vec<f32> = (0..w.input_len()).map(|i| (i % 7) as f32 - 3.0).collect();
        let dz: Vec<f32> = (0..w.positions() * filters)
            .map(|i| (i % 5) as f32 * 0.5)
            .collect();
        let s = 3;
        let mut partials = vec![0.0; s * w.patch() * filters];
        weight_grad_cpu(
            &w,
            filters,
            s,
            &mut [&mut x.clone(), &mut dz.clone(), &mut partials],
        );
        let mut cols = vec![0.0; w.positions() * w.patch()];
        super::super::window::im2col_cpu(&w, &mut [&mut x.clone(), &mut cols]);
        for k in 0..w.patch() {
            for f in 0..filters {
                let want: f32 = (0..w.positions())
                    .map(|pos| cols[pos * w.patch() + k] * dz[pos * filters + f])
                    .sum();
                let got: f32 = (0..s)
                    .map(|i| partials[(i * w.patch() + k) * filters + f])
                    .sum();
                assert!(
                    (want - got).abs() < 1e-4,
                    "k {k} f {f}: {got} against {want}"
                );
            }
        }
    }
}
