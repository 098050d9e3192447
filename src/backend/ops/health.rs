//! Gradient-health statistics (`shaders/health/`): activation mean, standard deviation,
//! dead and saturated fractions; the norms of a weight and of its update.

use crate::backend::contract::Entry;
use crate::backend::launch::{shader_params, GpuLaunch};

shader_params! {
    /// `Params` of the health kernels.
    HealthParams {
        /// Rows (element count for pair_norms).
        rows: u32,
        /// Columns.
        cols: u32,
        /// Saturation bounds: 0 none, 1 tanh, 2 sigmoid.
        saturation: u32,
        /// Offset in the health buffer.
        offset: u32,
    }
}

/// GPU launch of act_stats. Buffers: y, health.
pub fn act_stats_gpu(rows: usize, cols: usize, saturation: u32, offset: usize) -> GpuLaunch {
    let p = HealthParams {
        rows: rows as u32,
        cols: cols as u32,
        saturation,
        offset: offset as u32,
    };
    GpuLaunch::new(Entry::ActStats, p, (1, 1, 1))
}

/// GPU launch of pair_norms. Buffers: a, b, health.
pub fn pair_norms_gpu(n: usize, offset: usize) -> GpuLaunch {
    let p = HealthParams {
        rows: n as u32,
        offset: offset as u32,
        ..Default::default()
    };
    GpuLaunch::new(Entry::PairNorms, p, (1, 1, 1))
}

/// Whether `y` is within 1 % of the activation's bounds.
pub fn saturated(saturation: u32, y: f32) -> bool {
    match saturation {
        1 => y.abs() > 0.99,
        2 => !(0.01..=0.99).contains(&y),
        _ => false,
    }
}

/// CPU act_stats. Buffers: y, health.
pub fn act_stats_cpu(
    rows: usize,
    cols: usize,
    saturation: u32,
    offset: usize,
    b: &mut [&mut [f32]],
) {
    let y = &b[0][..rows * cols];
    let n = (rows * cols) as f32;
    let (mut sum, mut sq, mut sat) = (0.0f32, 0.0f32, 0.0f32);
    for &v in y {
        sum += v;
        sq += v * v;
        if saturated(saturation, v) {
            sat += 1.0;
        }
    }
    let dead = (0..cols)
        .filter(|&c| (0..rows).all(|r| y[r * cols + c] == 0.0))
        .count() as f32;
    let mean = sum / n;
    let h = &mut b[1][offset..offset + 4];
    h[0] = mean;
    h[1] = (sq / n - mean * mean).max(0.0).sqrt();
    h[2] = dead / cols as f32;
    h[3] = sat / n;
}

/// CPU pair_norms. Buffers: a, b, health.
pub fn pair_norms_cpu(n: usize, offset: usize, b: &mut [&mut [f32]]) {
    let bb: f32 = b[1][..n].iter().map(|v| v * v).sum();
    let dd: f32 = b[0][..n]
        .iter()
        .zip(&b[1][..n])
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    b[2][offset] = bb;
    b[2][offset + 1] = dd;
}
