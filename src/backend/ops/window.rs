//! The window kernels: a convolution's im2col and its backward (`shaders/conv/`), and max
//! and average pooling with their backward passes (`shaders/pool/`), over NHWC images —
//! each CPU reference written as the formula reads, beside its GPU launch. The
//! convolution itself is the im2col rows times the kernel: the autotuned matmul, with
//! the dense layer's bias + activation epilogue — but over a small receptive field, straight
//! from the image ([`super::conv`]).

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use super::elementwise::act_derivative_from_output;
use crate::backend::contract::Entry;
use crate::backend::kernel::ActKind;
use crate::backend::launch::{grid_256, shader_params, GpuLaunch};
use crate::backend::window::Window;

shader_params! {
    /// `Params` of the window kernels: the image count (the window's geometry is fixed per
    /// pipeline, as constants: [`constants`]).
    WindowParams {
        /// Images.
        n: u32,
        /// Unused.
        pad0: u32,
        /// Unused.
        pad1: u32,
        /// Unused.
        pad2: u32,
    }
}

/// The window's geometry as the pipeline constants the WGSL declares (`override H`, …):
/// divisions by them compile to multiplies.
pub fn constants(win: &Window) -> Vec<(&'static str, f64)> {
    [
        ("H", win.h),
        ("W", win.w),
        ("C", win.c),
        ("KH", win.kh),
        ("KW", win.kw),
        ("SH", win.sh),
        ("SW", win.sw),
        ("DH", win.dh),
        ("DW", win.dw),
        ("PAD_TOP", win.pad_top),
        ("PAD_LEFT", win.pad_left),
        ("OH", win.oh),
        ("OW", win.ow),
    ]
    .into_iter()
    .map(|(name, v)| (name, v as f64))
    .collect()
}

/// The GPU launch of a window kernel: one invocation per value it writes (per vec4 of
/// them for im2col, col2im, max pooling and both poolings' backward over channels in whole
/// vec4s; max pooling's backward over tiling windows, per cell and vec4 of channels).
pub fn gpu(entry: Entry, win: &Window) -> GpuLaunch {
    let entry = match entry {
        Entry::Im2col if win.vec4_channels() => Entry::Im2col4,
        Entry::Col2im if win.vec4_channels() => Entry::Col2im4,
        Entry::MaxPool if win.vec4_channels() => Entry::MaxPool4,
        Entry::AvgPoolBackward if win.vec4_channels() => Entry::AvgPoolBackward4,
        Entry::MaxPoolBackward if win.vec4_channels() => Entry::MaxPoolBackward4,
        other => other,
    };
    let count = match entry {
        Entry::Im2col => win.positions() * win.patch(),
        Entry::Im2col4 => win.positions() * win.patch() / 4,
        Entry::MaxPool | Entry::AvgPool => win.pooled_len(),
        Entry::Col2im | Entry::MaxPoolBackward | Entry::AvgPoolBackward => win.input_len(),
        Entry::Col2im4 | Entry::AvgPoolBackward4 => win.input_len() / 4,
        Entry::MaxPool4 => win.pooled_len() / 4,
        Entry::MaxPoolBackward4 if win.is_tiling() => win.cells() * win.c / 4,
        Entry::MaxPoolBackward4 => win.input_len() / 4,
        other => panic!("{other:?} is not a window kernel"),
    };
    let p = WindowParams {
        n: win.n as u32,
        ..Default::default()
    };
    let mut constants = constants(win);
    if entry == Entry::MaxPoolBackward4 {
        constants.push(("TILING", f64::from(u8::from(win.is_tiling()))));
    }
    GpuLaunch::new(entry, p, grid_256(count)).with_constants(constants)
}

/// `launch` (a window kernel over `win`) reading its large input through a texture, when
/// the kernel has such an entry point and the input fits one: on CPU adapters the reads
/// at computed indices are then gathers, not loops over the lanes (llvmpipe reads storage
/// by default all the same: there the copy into the texture cost more than the gathers
/// saved, e.g. col2im of the example CNN at batch 128 3,221 against 1,687 µs).
pub fn through_textures(launch: GpuLaunch, win: &Window) -> GpuLaunch {
    let (entry, read) = match launch.entry {
        Entry::Im2col => (Entry::Im2colTexture, win.input_len()),
        Entry::Im2col4 => (Entry::Im2col4Texture, win.input_len()),
        Entry::Col2im => (Entry::Col2imTexture, win.positions() * win.patch()),
        Entry::Col2im4 => (Entry::Col2im4Texture, win.positions() * win.patch()),
        Entry::MaxPool => (Entry::MaxPoolTexture, win.input_len()),
        Entry::MaxPool4 => (Entry::MaxPool4Texture, win.input_len()),
        Entry::MaxPoolBackward4 => (Entry::MaxPoolBackward4Texture, win.pooled_len()),
        Entry::MaxPoolActBackward => (Entry::MaxPoolActBackwardTexture, win.input_len()),
        Entry::MaxPoolActBackward4 => (Entry::MaxPoolActBackward4Texture, win.input_len()),
        _ => return launch,
    };
    if !super::matmul::fits_texture(read) {
        return launch;
    }
    GpuLaunch { entry, ..launch }
}

/// Index of (image, row, column, channel) in an NHWC tensor of `h × w × c` images.
fn nhwc((h, w, c): (usize, usize, usize), img: usize, y: usize, x: usize, ch: usize) -> usize {
    ((img * h + y) * w + x) * c + ch
}

/// im2col. Buffers: x, cols.
pub fn im2col_cpu(win: &Window, b: &mut [&mut [f32]]) {
    let dims = (win.h, win.w, win.c);
    let patch = win.patch();
    for img in 0..win.n {
        for oy in 0..win.oh {
            for ox in 0..win.ow {
                let row = (img * win.oh + oy) * win.ow + ox;
                for ky in 0..win.kh {
                    for kx in 0..win.kw {
                        for ch in 0..win.c {
                            let col = (ky * win.kw + kx) * win.c + ch;
                            b[1][row * patch + col] = match win.tap(oy, ox, ky, kx) {
                                Some((iy, ix)) => b[0][nhwc(dims, img, iy, ix, ch)],
                                None => 0.0,
                            };
                        }
                    }
                }
            }
        }
    }
}

/// col2im, the adjoint of im2col: every row entry added back where it was copied from.
/// Buffers: cols, dx.
pub fn col2im_cpu(win: &Window, b: &mut [&mut [f32]]) {
    let dims = (win.h, win.w, win.c);
    let patch = win.patch();
    b[1][..win.input_len()].fill(0.0);
    for img in 0..win.n {
        for oy in 0..win.oh {
            for ox in 0..win.ow {
                let row = (img * win.oh + oy) * win.ow + ox;
                for ky in 0..win.kh {
                    for kx in 0..win.kw {
                        if let Some((iy, ix)) = win.tap(oy, ox, ky, kx) {
                            for ch in 0..win.c {
                                let col = (ky * win.kw + kx) * win.c + ch;
                                b[1][nhwc(dims, img, iy, ix, ch)] += b[0][row * patch + col];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The input indices of output window (`img`, `oy`, `ox`) for channel `ch`, in window
/// order (padding skipped).
fn window_inputs(win: &Window, img: usize, oy: usize, ox: usize, ch: usize) -> Vec<usize> {
    let dims = (win.h, win.w, win.c);
    let mut v = Vec::new();
    for ky in 0..win.kh {
        for kx in 0..win.kw {
            if let Some((iy, ix)) = win.tap(oy, ox, ky, kx) {
                v.push(nhwc(dims, img, iy, ix, ch));
            }
        }
    }
    v
}

/// Index of output (`img`, `oy`, `ox`, `ch`).
fn out_index(win: &Window, img: usize, oy: usize, ox: usize, ch: usize) -> usize {
    ((img * win.oh + oy) * win.ow + ox) * win.c + ch
}

/// Max pooling. Buffers: x, y, argmax (u32 bits).
pub fn max_pool_cpu(win: &Window, b: &mut [&mut [f32]]) {
    for img in 0..win.n {
        for oy in 0..win.oh {
            for ox in 0..win.ow {
                for ch in 0..win.c {
                    let o = out_index(win, img, oy, ox, ch);
                    let mut best: Option<usize> = None;
                    for i in window_inputs(win, img, oy, ox, ch) {
                        if best.is_none_or(|j| b[0][i] > b[0][j]) {
                            best = Some(i);
                        }
                    }
                    // Every window holds at least one real value (TensorFlow's padding
                    // never exceeds the window).
                    let i = best.expect("a window inside the image");
                    b[1][o] = b[0][i];
                    b[2][o] = f32::from_bits(i as u32);
                }
            }
        }
    }
}

/// Max pooling's backward. Buffers: dy, argmax (u32 bits), dx.
pub fn max_pool_backward_cpu(win: &Window, b: &mut [&mut [f32]]) {
    b[2][..win.input_len()].fill(0.0);
    for o in 0..win.pooled_len() {
        let i = b[1][o].to_bits() as usize;
        b[2][i] += b[0][o];
    }
}

/// Average pooling (the mean of the window's values inside the image). Buffers: x, y.
pub fn avg_pool_cpu(win: &Window, b: &mut [&mut [f32]]) {
    for img in 0..win.n {
        for oy in 0..win.oh {
            for ox in 0..win.ow {
                for ch in 0..win.c {
                    let inputs = window_inputs(win, img, oy, ox, ch);
                    let sum: f32 = inputs.iter().map(|&i| b[0][i]).sum();
                    b[1][out_index(win, img, oy, ox, ch)] = sum / inputs.len() as f32;
                }
            }
        }
    }
}

/// Average pooling's backward. Buffers: dy, dx.
pub fn avg_pool_backward_cpu(win: &Window, b: &mut [&mut [f32]]) {
    b[1][..win.input_len()].fill(0.0);
    for img in 0..win.n {
        for oy in 0..win.oh {
            for ox in 0..win.ow {
                for ch in 0..win.c {
                    let inputs = window_inputs(win, img, oy, ox, ch);
                    let g = b[0][out_index(win, img, oy, ox, ch)] / inputs.len() as f32;
                    for i in inputs {
                        b[1][i] += g;
                    }
                }
            }
        }
    }
}

shader_params! {
    /// `Params` of max pooling's backward fused with the activation derivative before it.
    PoolActParams {
        /// Images.
        n: u32,
        /// Activation code ([`ActKind::code`]).
        code: u32,
        /// Bit 0: training mode (RReLU drew slopes); bits 8..: RReLU's layer seed.
        flags: u32,
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

/// Image positions (rows of the pooled layer's input, `n·h·w`) one invocation of
/// [`Kernel::MaxPoolActBackward`](crate::backend::Kernel::MaxPoolActBackward) walks for
/// one channel when the windows overlap or leave gaps: the bias gradient's partial sums
/// come a row per chunk.
pub const POOL_CHUNK_ROWS: usize = 64;

/// Cells ([`Window::cells`]) one invocation walks for one channel when the windows tile the
/// input ([`Window::is_tiling`]): as many positions as [`POOL_CHUNK_ROWS`] under 2×2 pools.
pub const POOL_CHUNK_CELLS: usize = 16;

/// Chunks of the fused pooling backward's walk over `win`'s input: of
/// [`POOL_CHUNK_CELLS`] cells when the windows tile it, else of [`POOL_CHUNK_ROWS`]
/// positions.
pub fn pool_chunks(win: &Window) -> usize {
    if win.is_tiling() {
        win.cells().div_ceil(POOL_CHUNK_CELLS)
    } else {
        (win.n * win.h * win.w).div_ceil(POOL_CHUNK_ROWS)
    }
}

/// The input positions of chunk `chunk` of the fused pooling backward's walk, in walk
/// order.
fn chunk_positions(win: &Window, chunk: usize) -> Vec<usize> {
    if !win.is_tiling() {
        let rows = win.n * win.h * win.w;
        return (chunk * POOL_CHUNK_ROWS..((chunk + 1) * POOL_CHUNK_ROWS).min(rows)).collect();
    }
    let (cy, cx) = win.cells_down_across();
    let mut v = Vec::new();
    for cell in chunk * POOL_CHUNK_CELLS..((chunk + 1) * POOL_CHUNK_CELLS).min(win.cells()) {
        let (img, y, x) = (cell / (cy * cx), (cell / cx) % cy, cell % cx);
        for iy in (y * win.sh..(y + 1) * win.sh).filter(|&iy| iy < win.h) {
            for ix in (x * win.sw..(x + 1) * win.sw).filter(|&ix| ix < win.w) {
                v.push((img * win.h + iy) * win.w + ix);
            }
        }
    }
    v
}

impl PoolActParams {
    /// The parameters of a launch over `win` taking `act`'s derivative from its output
    /// (`training`: RReLU drew slopes, with the layer's `seed`); the code is also the
    /// launch's `BACK_ACT`.
    pub fn for_act(win: &Window, act: ActKind, training: bool, seed: u32) -> Self {
        let (code, f0, f1) = act.code();
        PoolActParams {
            n: win.n as u32,
            code,
            flags: u32::from(training) | (seed << 8),
            f0,
            f1,
            ..Default::default()
        }
    }
}

/// GPU launch of max pooling's backward fused with the activation derivative: one
/// invocation per chunk and channel (per four channels when the channels come in whole
/// vec4s), the activation a pipeline constant.
pub fn max_pool_act_backward_gpu(
    win: &Window,
    act: ActKind,
    training: bool,
    seed: u32,
) -> GpuLaunch {
    let p = PoolActParams::for_act(win, act, training, seed);
    let mut constants = constants(win);
    constants.push(("BACK_ACT", f64::from(p.code)));
    constants.push(("TILING", f64::from(u8::from(win.is_tiling()))));
    constants.push(("CHUNK_ROWS", POOL_CHUNK_ROWS as f64));
    constants.push(("CHUNK_CELLS", POOL_CHUNK_CELLS as f64));
    // Channels in whole vec4s: four channels an invocation.
    let (entry, lanes) = if win.vec4_channels() {
        (Entry::MaxPoolActBackward4, win.c / 4)
    } else {
        (Entry::MaxPoolActBackward, win.c)
    };
    GpuLaunch::new(entry, p, grid_256(pool_chunks(win) * lanes)).with_constants(constants)
}

/// CPU max pooling's backward fused with the derivative of the activation whose output
/// `y` the pooling read: dx as [`max_pool_backward_cpu`] computes it, `dz = dx·f'(y)`
/// where a window took the position and exactly 0 where none did, and per chunk
/// ([`pool_chunks`]) and channel the partial sum of dz in walk order (the layer's bias
/// gradient is their column sum). Buffers: y, dy, argmax, dz, partials, step.
pub fn max_pool_act_backward_cpu(
    win: &Window,
    act: ActKind,
    training: bool,
    seed: u32,
    b: &mut [&mut [f32]],
) {
    let step = b[5][0].to_bits();
    let mut dx = vec![0.0f32; win.input_len()];
    let mut taken = vec![false; win.input_len()];
    for o in 0..win.pooled_len() {
        let i = b[2][o].to_bits() as usize;
        dx[i] += b[1][o];
        taken[i] = true;
    }
    let c = win.c;
    for chunk in 0..pool_chunks(win) {
        for ch in 0..c {
            let mut acc = 0.0;
            for r in chunk_positions(win, chunk) {
                let i = r * c + ch;
                let d = if taken[i] {
                    dx[i] * act_derivative_from_output(act, b[0][i], training, seed, step, i)
                } else {
                    0.0
                };
                b[3][i] = d;
                acc += d;
            }
            b[4][chunk * c + ch] = acc;
        }
    }
}
