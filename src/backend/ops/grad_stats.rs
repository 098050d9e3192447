//! Gradient statistics and clip factors (`shaders/grad_stats.wgsl`): the squared norm of
//! each gradient, the running sum of norms, the first non-finite step, and the factors of
//! Keras's `clipnorm` / `global_clipnorm`.

use crate::backend::contract::{rw_seq, shader_params, Binding, Entry, GpuLaunch};
use crate::backend::kernel::ClipMode;

/// Marks "no non-finite gradient yet" in the stats buffer (as u32 bits).
pub const NO_STEP: u32 = u32::MAX;

shader_params! {
    /// `Params` of `grad_stats.wgsl`.
    GradStatsParams {
        /// Element count (tensor count for clip_scale).
        n: u32,
        /// Tensor slot.
        slot: u32,
        /// Clip mode ([`ClipMode::code`]).
        mode: u32,
        /// Unused.
        pad: u32,
        /// Clip threshold.
        threshold: f32,
        /// Unused.
        pad1: f32,
        /// Unused.
        pad2: f32,
        /// Unused.
        pad3: f32,
    }
}

/// GPU launch of grad_stats. Buffers: grad (bound as vec4s), stats, step.
pub fn stats_gpu(n: usize, slot: usize) -> GpuLaunch {
    let p = GradStatsParams {
        n: n as u32,
        slot: slot as u32,
        ..Default::default()
    };
    let bindings = vec![Binding::rw(4), Binding::rw(2), Binding::rw(3)];
    GpuLaunch::new(Entry::GradStats, bindings, p, (1, 1, 1))
}

/// GPU launch of clip_scale. Buffers: stats, scales.
pub fn clip_gpu(count: usize, mode: ClipMode) -> GpuLaunch {
    let (code, threshold) = mode.code();
    let p = GradStatsParams {
        n: count as u32,
        mode: code,
        threshold,
        ..Default::default()
    };
    GpuLaunch::new(Entry::ClipScale, rw_seq(2), p, (1, 1, 1))
}

/// CPU grad_stats. Buffers: grad, stats, step.
pub fn stats_cpu(n: usize, slot: usize, b: &mut [Vec<f32>]) {
    let g = &b[0][..n];
    let sq: f32 = g.iter().map(|v| v * v).sum();
    let bad = g.iter().any(|v| !v.is_finite());
    let step = b[2][0];
    let s = &mut b[1][3 * slot..3 * slot + 3];
    s[0] = sq;
    s[1] += sq.sqrt();
    if bad && s[2].to_bits() == NO_STEP {
        s[2] = step;
    }
}

/// CPU clip_scale. Buffers: stats, scales.
pub fn clip_cpu(count: usize, mode: ClipMode, b: &mut [Vec<f32>]) {
    match mode {
        ClipMode::GlobalNorm(c) => {
            let total: f32 = (0..count).map(|t| b[0][3 * t]).sum();
            let norm = total.sqrt();
            let factor = c * (1.0 / norm).min(1.0 / c);
            b[1][..count].fill(factor);
        }
        ClipMode::PerTensorNorm(c) => {
            for t in 0..count {
                b[1][t] = c / b[0][3 * t].sqrt().max(c);
            }
        }
        ClipMode::None => b[1][..count].fill(1.0),
    }
}
