//! Mini-batch gather from a device-resident data set through the shuffled index buffer
//! (`shaders/gather.wgsl`), so a training step uploads no samples.

use crate::backend::contract::{grid_256, shader_params, Binding, Entry, GpuLaunch};

shader_params! {
    /// `Params` of `gather.wgsl`.
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

/// GPU launch. Buffers: data, labels, perm, step, x, y. Byte data binds at 1, f32 data at 2.
pub fn gpu(rows: usize, features: usize, bytes: bool) -> GpuLaunch {
    let p = GatherParams {
        rows: rows as u32,
        features: features as u32,
        ..Default::default()
    };
    // Byte rows of whole words: a word (four values) an invocation, x bound as vec4s.
    if bytes && features.is_multiple_of(4) {
        let bindings = [1, 3, 4, 5, 8, 7].into_iter().map(Binding::rw).collect();
        let grid = grid_256(rows * features / 4);
        return GpuLaunch::new(Entry::GatherU8Words, bindings, p, grid);
    }
    let (entry, data) = if bytes {
        (Entry::GatherU8, 1)
    } else {
        (Entry::GatherF32, 2)
    };
    let bindings = [data, 3, 4, 5, 6, 7].into_iter().map(Binding::rw).collect();
    GpuLaunch::new(entry, bindings, p, grid_256(rows * features))
}

/// CPU reference (u32 labels, indices and offset). Buffers as [`gpu`].
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
