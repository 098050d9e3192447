//! Mini-batch gather from a device-resident data set through the shuffled index buffer
//! (`shaders/gather/`), so a training step uploads no samples.

use crate::backend::contract::Entry;
use crate::backend::launch::{grid_256, shader_params, GpuLaunch};

shader_params! {
    /// `Params` of the gather kernels.
    GatherParams {
        /// Batch rows.
        rows: u32,
        /// Values per sample.
        features: u32,
        /// Unused.
        pad0: u32,
        /// Unused.
        pad1: u32,
    }
}

/// GPU launch: byte or f32 samples.
pub fn gpu(rows: usize, features: usize, bytes: bool) -> GpuLaunch {
    let p = GatherParams {
        rows: rows as u32,
        features: features as u32,
        ..Default::default()
    };
    // Byte rows of whole words: a word (four values) an invocation, x seen as vec4s.
    if bytes && features.is_multiple_of(4) {
        let grid = grid_256(rows * features / 4);
        return GpuLaunch::new(Entry::GatherU8Words, p, grid);
    }
    let entry = if bytes {
        Entry::GatherU8
    } else {
        Entry::GatherF32
    };
    GpuLaunch::new(entry, p, grid_256(rows * features))
}

/// CPU reference (u32 labels, indices and offset).
pub fn cpu(rows: usize, features: usize, bytes: bool, b: &mut [&mut [f32]]) {
    let offset = b[3][1].to_bits() as usize;
    for r in 0..rows {
        let s = b[2][offset + r].to_bits() as usize;
        for c in 0..features {
            b[4][r * features + c] = if bytes {
                let byte_index = s * features + c;
                let word = b[0][byte_index / 4].to_bits();
                ((word >> ((byte_index % 4) * 8)) & 0xff) as f32 / 255.0
            } else {
                b[0][s * features + c]
            };
        }
        b[5][r] = b[1][s];
    }
}
