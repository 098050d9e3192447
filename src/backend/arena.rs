//! The layout the arena kernels ([`super::Kernel::GradStats`], [`super::Kernel::ClipScale`],
//! [`super::Kernel::Update`]) read: tensors packed in one buffer at [`CHUNK`] boundaries,
//! worked on a chunk (update) or a [`SEGMENT`] (statistics) per workgroup.

/// Words one workgroup of the arena kernels covers (256 invocations × a vec4 each); every
/// tensor of an arena starts at a multiple of it.
pub const CHUNK: usize = 1024;

/// One tensor of an arena launch ([`super::Kernel::GradStats`], [`super::Kernel::ClipScale`],
/// [`super::Kernel::Update`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArenaTensor {
    /// First word in the arena (a multiple of [`CHUNK`]).
    pub offset: usize,
    /// Element count.
    pub n: usize,
    /// Index into the stats (`3·slot`) and clip scales (`slot`): the weight's index.
    pub slot: usize,
    /// Per-tensor learning-rate multiplier.
    pub lr_mult: f32,
}

impl ArenaTensor {
    /// One tensor of `n` elements alone in its buffers (slot 0, multiplier 1).
    pub fn whole(n: usize) -> ArenaTensor {
        ArenaTensor {
            offset: 0,
            n,
            slot: 0,
            lr_mult: 1.0,
        }
    }

    /// Tensors of `lens` packed one after another at [`CHUNK`] boundaries (slot = index,
    /// multiplier 1).
    pub fn pack(lens: &[usize]) -> Vec<ArenaTensor> {
        let mut offset = 0;
        lens.iter()
            .enumerate()
            .map(|(slot, &n)| {
                let t = ArenaTensor {
                    offset,
                    n,
                    slot,
                    lr_mult: 1.0,
                };
                offset += n.div_ceil(CHUNK) * CHUNK;
                t
            })
            .collect()
    }
}

/// Words of a tensor one workgroup of [`super::Kernel::GradStats`] reduces (64 lanes, 64 vec4s
/// each): on a CPU adapter workgroups and barriers cost more than loads (measured on
/// llvmpipe: a workgroup per 1,024 words took 3.4 ms for the seed network's gradients).
pub const SEGMENT: usize = 16384;

/// Segments over all `tensors` (each tensor's `⌈n / SEGMENT⌉`).
pub fn segment_count(tensors: &[ArenaTensor]) -> usize {
    tensors.iter().map(|t| t.n.div_ceil(SEGMENT)).sum()
}

/// Chunks over all `tensors` (each tensor's `⌈n / CHUNK⌉`).
pub fn chunk_count(tensors: &[ArenaTensor]) -> usize {
    tensors.iter().map(|t| t.n.div_ceil(CHUNK)).sum()
}

/// Words an arena must hold for `tensors`.
pub fn arena_end(tensors: &[ArenaTensor]) -> usize {
    tensors.iter().map(|t| t.offset + t.n).max().unwrap_or(0)
}
