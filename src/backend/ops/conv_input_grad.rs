//! A convolution's input gradient straight from its output gradient
//! ([`Kernel::ConvInputGrad`]), without the im2col rows `dz·wᵀ` would write and col2im
//! read back: which shapes each kernel takes (the 8-lane subgroup one,
//! `shaders/window/conv_input_grad.wgsl`; the direct one over few channels,
//! `conv_direct_input_grad.wgsl`), their launches and the CPU reference.

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use super::conv::{direct_weights_fit, DIRECT_FILTERS_MAX};
use super::matmul;
use super::window::{constants, PoolActParams, WindowParams};
use crate::backend::activation::ActKind;
use crate::backend::contract::Entry;
#[cfg(doc)]
use crate::backend::kernel::Kernel;
use crate::backend::launch::{grid_256, GpuLaunch, ShaderParams, MAX_WORKGROUPS};
use crate::backend::window::Window;

/// Whether [`Kernel::ConvInputGrad`] takes a convolution over `win` with `filters` filters
/// in place of the product into im2col rows and col2im (on adapters with 8-lane subgroups):
/// any stride (a workgroup's positions share their stride class and skip the taps that
/// reach none of them), filters in whole vec4s (dz read a vec4 of filters at a time), at
/// most a fifth of the channels computed thrown away (in whole vec4s up to 16; over 16 in
/// blocks of 32, as the example CNN's second convolution, half its work was thrown away and
/// the launch took as long as the two it replaces on llvmpipe), dz and w within an operand
/// texture, and a stride class's positions under 2²⁴ (`CLASS_SHIFT` in the shader).
pub fn input_grad_fits(win: &Window, filters: usize) -> bool {
    filters.is_multiple_of(4)
        && computed_channels(win) * 4 <= win.c * 5
        && !win.is_pointwise()
        && input_grad_walk(win, WALK_ROWS) <= MAX_WORKGROUPS
        && win.n * win.h.div_ceil(win.sh) * win.w.div_ceil(win.sw) < 1 << 24
        && matmul::fits_texture(win.positions() * filters)
        && matmul::fits_texture(win.patch() * filters)
}

/// Workgroups of `rows` input positions [`Kernel::ConvInputGrad`]'s subgroup kernel walks:
/// each stride class's positions (rows and columns with one remainder modulo the strides,
/// at most `⌈h / sh⌉ × ⌈w / sw⌉` an image) in whole workgroups, so that a workgroup's
/// positions are all reached by the same taps (`position` in `window/conv_input_grad.wgsl`).
pub fn input_grad_walk(win: &Window, rows: usize) -> usize {
    let class = win.n * win.h.div_ceil(win.sh) * win.w.div_ceil(win.sw);
    win.sh * win.sw * class.div_ceil(rows)
}

/// The most input channels over which [`Kernel::ConvInputGrad`]'s subgroup kernel gives a
/// lane eight positions with all their channels (`NARROW` in `window/conv_input_grad.wgsl`),
/// the weights broadcast through the subgroup, instead of 64 positions × 4 of 32 channels,
/// the positions' values broadcast.
pub const INPUT_GRAD_NARROW_CHANNELS_MAX: usize = 16;

/// Whether the subgroup kernel takes `win` `NARROW`: at most
/// [`INPUT_GRAD_NARROW_CHANNELS_MAX`] input channels.
fn narrow(win: &Window) -> bool {
    win.c <= INPUT_GRAD_NARROW_CHANNELS_MAX
}

/// The channels the subgroup kernel computes over `win`: those in whole vec4s (`NARROW`),
/// else in whole blocks of 32.
fn computed_channels(win: &Window) -> usize {
    if narrow(win) {
        win.c.div_ceil(4) * 4
    } else {
        win.c.div_ceil(32) * 32
    }
}

/// The most input channels [`Entry::ConvDirectInputGrad`] takes (two vec4s of sums a
/// position, eight positions an invocation).
pub const DIRECT_INPUT_GRAD_CHANNELS_MAX: usize = 8;

/// Whether [`Kernel::ConvInputGrad`] takes a convolution over `win` with `filters` filters
/// computed directly ([`Entry::ConvDirectInputGrad`], on any adapter), in place of the
/// product into im2col rows and col2im: stride 1, at most
/// [`DIRECT_INPUT_GRAD_CHANNELS_MAX`] input channels, up to [`DIRECT_FILTERS_MAX`] filters
/// (not in whole vec4s: read a float at a time; on llvmpipe `tests/data/cnn/cnn_f.json`'s
/// 3×3 over 8 channels to 6 filters at batch 128 took 16 ms through im2col rows (2.5 this way), whose
/// product over 6 filters no matmul variant runs well) and the weights within a uniform
/// block, not pointwise.
pub fn direct_input_grad_fits(win: &Window, filters: usize) -> bool {
    (win.sh, win.sw) == (1, 1)
        && win.c <= DIRECT_INPUT_GRAD_CHANNELS_MAX
        && (1..=DIRECT_FILTERS_MAX).contains(&filters)
        && direct_weights_fit(win, filters)
        && !win.is_pointwise()
}

/// Whether [`Kernel::ConvInputGrad`] runs a convolution over `win` with `filters` filters on
/// a device with (`subgroups8`) or without 8-lane subgroups: the subgroup kernel
/// ([`input_grad_fits`]) or the direct one ([`direct_input_grad_fits`]).
pub fn input_grad_runs(win: &Window, filters: usize, subgroups8: bool) -> bool {
    (subgroups8 && input_grad_fits(win, filters)) || direct_input_grad_fits(win, filters)
}

/// GPU launch of [`Kernel::ConvInputGrad`] on a device with (`subgroups8`) or without
/// 8-lane subgroups: the direct kernel where [`direct_input_grad_fits`] (eight positions
/// of a row an invocation; on subgroups, the weights shared through them), else a subgroup
/// of 8 lanes per 64 input positions and 32 channels (all their channels over at most
/// [`INPUT_GRAD_NARROW_CHANNELS_MAX`]).
pub fn input_grad_gpu(win: &Window, filters: usize, subgroups8: bool) -> GpuLaunch {
    let p = WindowParams {
        n: win.n as u32,
        ..Default::default()
    };
    if direct_input_grad_fits(win, filters) || !subgroups8 {
        let mut constants = constants(win);
        constants.push(("F4", filters.div_ceil(4) as f64));
        constants.push(("FILTERS", filters as f64));
        constants.push(("WHOLE4", f64::from(u8::from(filters.is_multiple_of(4)))));
        let grid = grid_256(win.n * win.h * win.w.div_ceil(8));
        let entry = if subgroups8 {
            Entry::ConvDirectInputGrad8
        } else {
            Entry::ConvDirectInputGrad
        };
        return GpuLaunch::new(entry, p, grid).with_constants(constants);
    }
    subgroup_gpu(Entry::ConvInputGrad, win, filters, p)
}

/// The subgroup kernel's launch of `entry` over `win` with `filters` filters: a subgroup of
/// 8 lanes per [`WALK_ROWS`] input positions and 32 channels (all of them `NARROW`,
/// [`narrow`]).
fn subgroup_gpu<P: ShaderParams>(entry: Entry, win: &Window, filters: usize, p: P) -> GpuLaunch {
    let narrow = narrow(win);
    let walk = input_grad_walk(win, WALK_ROWS) as u32;
    let grid = if narrow {
        (1, walk, 1)
    } else {
        (win.c.div_ceil(32) as u32, walk, 1)
    };
    let mut constants = constants(win);
    constants.push(("F4", (filters / 4) as f64));
    constants.push(("NARROW", f64::from(u8::from(narrow))));
    GpuLaunch::new(entry, p, grid).with_constants(constants)
}

/// Whether [`Kernel::ConvInputGradAct`] takes a convolution over `win` with `filters`
/// filters on a device with (`subgroups8`) or without 8-lane subgroups: where
/// [`Kernel::ConvInputGrad`] runs the subgroup kernel (the direct one does not take it).
pub fn input_grad_act_runs(win: &Window, filters: usize, subgroups8: bool) -> bool {
    subgroups8 && input_grad_fits(win, filters) && !direct_input_grad_fits(win, filters)
}

/// GPU launch of [`Kernel::ConvInputGradAct`]: the subgroup kernel storing `dx·f'(y)`,
/// the activation a pipeline constant, and with `bias` each workgroup's sums of what it
/// stored. The `ActBackwardFromOutput` launch it replaces read and wrote every input value
/// once more (`examples/cnn_bn.json`'s at batch 128: ~1.9 ms), as does the
/// `BiasActBackward` (`tests/data/cnn/cnn_g.json`'s first convolution's at batch 128:
/// 0.7–1.8 ms).
pub fn input_grad_act_gpu(
    win: &Window,
    filters: usize,
    act: ActKind,
    training: bool,
    seed: u32,
    bias: bool,
) -> GpuLaunch {
    let p = PoolActParams::for_act(win, act, training, seed);
    let entry = if bias {
        Entry::ConvInputGradBiasAct
    } else {
        Entry::ConvInputGradAct
    };
    let launch = subgroup_gpu(entry, win, filters, p);
    let mut constants = launch.constants.clone();
    constants.push(("BACK_ACT", f64::from(p.code)));
    launch.with_constants(constants)
}

/// Rows of the bias gradient's partial sums [`Kernel::ConvInputGradAct`] writes with
/// `bias` over `win`: one a workgroup of the subgroup kernel's walk.
pub fn input_grad_partial_rows(win: &Window) -> usize {
    input_grad_walk(win, WALK_ROWS)
}

/// Input positions a workgroup of the subgroup kernel walks: a lane's eight with all their
/// channels (`NARROW`), else two blocks of 32, each weight a lane loads serving both (on
/// llvmpipe `examples/cnn_bn.json`'s 3×3 over 32 channels to 64 filters at batch 128:
/// 16.5–18.8 ms with one block a workgroup, 15.3–16.4 with two; the convnet's same shape
/// 13.7–17.3 → 13.2–13.6).
const WALK_ROWS: usize = 64;

/// The input positions (flat: image, row, column) of workgroup `b` of the subgroup
/// kernel's walk of `rows` positions a workgroup ([`input_grad_walk`]), as
/// `block_start` and `position` in `window/conv_input_grad.wgsl` take them: the stride
/// classes one after the other, each in whole workgroups, those past the input left out.
fn walk_block(win: &Window, rows: usize, b: usize) -> Vec<usize> {
    let (hc, wc) = (win.h.div_ceil(win.sh), win.w.div_ceil(win.sw));
    let class_len = win.n * hc * wc;
    let blocks = class_len.div_ceil(rows);
    let (class, start) = (b / blocks, (b % blocks) * rows);
    (start..(start + rows).min(class_len))
        .filter_map(|l| {
            let y = class / win.sw + win.sh * ((l / wc) % hc);
            let x = class % win.sw + win.sw * (l % wc);
            let img = l / (hc * wc);
            (y < win.h && x < win.w).then_some((img * win.h + y) * win.w + x)
        })
        .collect()
}

/// CPU reference of [`Kernel::ConvInputGradAct`]: [`input_grad_cpu`], then the
/// activation's derivative from its output y; with `bias`, each workgroup's sum of those
/// values over its positions (the walk's order). Buffers: dz, w, y, dx, (partials,) step.
pub fn input_grad_act_cpu(
    win: &Window,
    filters: usize,
    (act, training, seed): (ActKind, bool, u32),
    bias: bool,
    b: &mut [&mut [f32]],
) {
    let (dz, w, y, dx, partials, step) = match b {
        [dz, w, y, dx, step] if !bias => (dz, w, y, dx, None, step),
        [dz, w, y, dx, partials, step] if bias => (dz, w, y, dx, Some(partials), step),
        _ => panic!("ConvInputGradAct takes five buffers, six with the bias"),
    };
    let mut sums = vec![0.0; win.input_len()];
    input_grad_cpu(win, filters, &mut [dz, w, &mut sums]);
    let n = win.input_len();
    super::elementwise::act_backward_output_cpu(
        act,
        n,
        training,
        seed,
        &mut [y, &mut sums, dx, step],
    );
    if let Some(partials) = partials {
        let (rows, c) = (WALK_ROWS, win.c);
        for r in 0..input_grad_partial_rows(win) {
            for ch in 0..c {
                partials[r * c + ch] = (walk_block(win, rows, r).iter())
                    .map(|pos| dx[pos * c + ch])
                    .sum();
            }
        }
    }
}

/// CPU reference of [`Kernel::ConvInputGrad`]: each output position's gradient through
/// the kernel (`dz·wᵀ`, one row of field values a position), each value sent back by
/// col2im to the input value its tap read. Buffers: dz, w, dx.
pub fn input_grad_cpu(win: &Window, filters: usize, b: &mut [&mut [f32]]) {
    let patch = win.patch();
    let mut cols = vec![0.0; win.positions() * patch];
    for pos in 0..win.positions() {
        for k in 0..patch {
            cols[pos * patch + k] = (0..filters)
                .map(|f| b[0][pos * filters + f] * b[1][k * filters + f])
                .sum();
        }
    }
    super::window::col2im_cpu(win, &mut [&mut cols, b[2]]);
}
