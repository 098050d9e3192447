//! Gradient statistics and clip factors (`shaders/grad_stats/`), over a gradient arena
//! in two launches whatever the tensor count: `grad_stats` reduces each [`SEGMENT`] of
//! every tensor in its own workgroup (all in parallel), `clip_scale` sums each tensor's
//! segments into its squared norm, running norm sum and first non-finite step, then the
//! factors of Keras's `clipnorm` / `global_clipnorm`.

use crate::backend::contract::Entry;
use crate::backend::kernel::{ArenaTensor, ClipMode, SEGMENT};
use crate::backend::launch::{shader_params, GpuLaunch, MAX_WORKGROUPS};

/// Marks "no non-finite gradient yet" in the stats buffer (as u32 bits).
pub const NO_STEP: u32 = u32::MAX;

shader_params! {
    /// `Params` of `grad_stats/`.
    GradStatsParams {
        /// Rows of the table: segments (grad_stats) or tensors (clip_scale).
        n: u32,
        /// Clip mode ([`ClipMode::code`]).
        mode: u32,
        /// grad_stats: its first segment's index in the partials.
        first_segment: u32,
        /// Unused.
        pad1: u32,
        /// Clip threshold.
        threshold: f32,
        /// Unused.
        pad2: f32,
        /// Unused.
        pad3: f32,
        /// Unused.
        pad4: f32,
    }
}

/// One row per `block` words of each tensor: (first vec4 of the block, words of its tensor
/// from there on, slot, learning-rate multiplier bits). The update kernels walk it by
/// [`CHUNK`](crate::backend::CHUNK), the statistics by [`SEGMENT`].
pub fn block_table(tensors: &[ArenaTensor], block: usize) -> Vec<[u32; 4]> {
    let mut rows = Vec::new();
    for t in tensors {
        for c in 0..t.n.div_ceil(block) {
            rows.push([
                ((t.offset + c * block) / 4) as u32,
                (t.n - c * block) as u32,
                t.slot as u32,
                t.lr_mult.to_bits(),
            ]);
        }
    }
    rows
}

/// One row per tensor: (first segment, segment count, slot, 0).
fn tensor_table(tensors: &[ArenaTensor]) -> Vec<[u32; 4]> {
    let mut first = 0;
    tensors
        .iter()
        .map(|t| {
            let segments = t.n.div_ceil(SEGMENT);
            let row = [first as u32, segments as u32, t.slot as u32, 0];
            first += segments;
            row
        })
        .collect()
}

/// A grid of `groups` workgroups (x up to [`MAX_WORKGROUPS`], then y).
pub fn grid_groups(groups: usize) -> (u32, u32, u32) {
    let x = groups.clamp(1, MAX_WORKGROUPS);
    (x as u32, groups.div_ceil(x) as u32, 1)
}

/// GPU launch of grad_stats. Buffers: grads (bound as vec4s), partials.
pub fn stats_gpu(tensors: &[ArenaTensor], first_segment: usize) -> GpuLaunch {
    let table = block_table(tensors, SEGMENT);
    let p = GradStatsParams {
        n: table.len() as u32,
        first_segment: first_segment as u32,
        ..Default::default()
    };
    GpuLaunch::new(Entry::GradStats, p, grid_groups(table.len())).with_table(table)
}

/// GPU launch of clip_scale. Buffers: partials, stats, scales, step.
pub fn clip_gpu(tensors: &[ArenaTensor], mode: ClipMode) -> GpuLaunch {
    let (code, threshold) = mode.code();
    let p = GradStatsParams {
        n: tensors.len() as u32,
        mode: code,
        threshold,
        ..Default::default()
    };
    GpuLaunch::new(Entry::ClipScale, p, (1, 1, 1)).with_table(tensor_table(tensors))
}

/// CPU grad_stats. Buffers: grads, partials.
pub fn stats_cpu(tensors: &[ArenaTensor], first_segment: usize, b: &mut [&mut [f32]]) {
    for (i, row) in block_table(tensors, SEGMENT).iter().enumerate() {
        let c = first_segment + i;
        let start = 4 * row[0] as usize;
        let g = &b[0][start..start + (row[1] as usize).min(SEGMENT)];
        let sq: f32 = g.iter().map(|v| v * v).sum();
        let bad = g.iter().any(|v| !v.is_finite());
        b[1][2 * c] = sq;
        b[1][2 * c + 1] = f32::from_bits(u32::from(bad));
    }
}

/// CPU clip_scale. Buffers: partials, stats, scales, step.
pub fn clip_cpu(tensors: &[ArenaTensor], mode: ClipMode, b: &mut [&mut [f32]]) {
    let step = b[3][0];
    let mut total = 0.0f32;
    for row in tensor_table(tensors) {
        let (first, segments, slot) = (row[0] as usize, row[1] as usize, row[2] as usize);
        let mut sq = 0.0f32;
        let mut bad = false;
        for c in first..first + segments {
            sq += b[0][2 * c];
            bad |= b[0][2 * c + 1].to_bits() != 0;
        }
        let s = &mut b[1][3 * slot..3 * slot + 3];
        s[0] = sq;
        s[1] += sq.sqrt();
        if bad && s[2].to_bits() == NO_STEP {
            s[2] = step;
        }
        total += sq;
    }
    for t in tensors {
        b[2][t.slot] = match mode {
            // Keras: g · c·min(1/N, 1/c); a non-finite N poisons every gradient.
            ClipMode::GlobalNorm(c) => c * (1.0 / total.sqrt()).min(1.0 / c),
            ClipMode::PerTensorNorm(c) => c / b[1][3 * t.slot].sqrt().max(c),
            ClipMode::None => 1.0,
        };
    }
}
