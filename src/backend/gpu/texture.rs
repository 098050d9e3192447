//! Operand textures and uniform blocks: entries that read a buffer through a texture
//! ([`View::Texture`](crate::backend::contract::View)) or a uniform block
//! ([`View::Uniform`](crate::backend::contract::View)) bind an rgba32float texture or a
//! 64 KiB uniform buffer, filled from the buffer by a copy recorded before the launch
//! (between compute passes, in the step's one command buffer). A texture belongs to one
//! view of a buffer (made once per view, dropped with the buffer) and is filled once for
//! every launch that reads it until a launch writes the buffer ([`plan_copies`]): a
//! layer's weights, copied in for its forward product, serve its input gradient too.
//! Uniform blocks are made once per binding number, shared by every launch that binds them
//! there, and filled before each launch (a later launch's copy never overwrites what an
//! earlier one still reads: each copy precedes its own dispatch).

use super::GpuBackend;
use crate::backend::contract::TEXTURE_ROW;
use crate::backend::signature::UNIFORM_VEC4S;

/// A buffer's vec4s copied into an operand texture or uniform block before a launch.
pub(super) struct OperandCopy {
    /// The source buffer (the view's root).
    pub buffer: wgpu::Buffer,
    /// Byte offset of the view in it.
    pub offset: u64,
    /// vec4s to copy.
    pub texels: usize,
    /// For a texture, the view it holds (None for a uniform block).
    pub key: Option<TextureKey>,
    /// The destination.
    pub dst: CopyDst,
}

/// The view a texture holds: root buffer index, byte offset, texels.
pub(super) type TextureKey = (usize, u64, usize);

/// Where an [`OperandCopy`] goes (and what the launch binds in the buffer's place).
pub(super) enum CopyDst {
    Texture(wgpu::Texture, wgpu::TextureView),
    Uniform(wgpu::Buffer),
}

impl CopyDst {
    /// The launch's binding of the destination.
    pub fn resource(&self) -> wgpu::BindingResource<'_> {
        match self {
            CopyDst::Texture(_, view) => wgpu::BindingResource::TextureView(view),
            CopyDst::Uniform(block) => block.as_entire_binding(),
        }
    }
}

/// Bytes a vec4 texel takes, and a texture row.
const TEXEL_BYTES: usize = 16;
const ROW_BYTES: u32 = (TEXTURE_ROW * TEXEL_BYTES) as u32;

impl GpuBackend {
    /// The texture holding `texels` vec4s of buffer `root` from byte `offset`, and a view
    /// of it.
    pub(super) fn operand_texture(
        &mut self,
        key: TextureKey,
    ) -> (wgpu::Texture, wgpu::TextureView) {
        let rows = key.2.div_ceil(TEXTURE_ROW).max(1) as u32;
        let device = &self.device;
        let counters = &mut self.counters;
        let (texture, view) = self.textures.entry(key).or_insert_with(|| {
            counters.allocations += 1;
            let texture = device.create_texture(&wgpu::TextureDescriptor {
                label: Some("matmul operand"),
                size: wgpu::Extent3d {
                    width: TEXTURE_ROW as u32,
                    height: rows,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Float,
                usage: wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            });
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            (texture, view)
        });
        (texture.clone(), view.clone())
    }

    /// The shared uniform block for `binding` (a view's first [`UNIFORM_VEC4S`] vec4s).
    pub(super) fn operand_block(&mut self, binding: u32) -> wgpu::Buffer {
        let device = &self.device;
        let counters = &mut self.counters;
        self.blocks
            .entry(binding)
            .or_insert_with(|| {
                counters.allocations += 1;
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("uniform operand"),
                    size: (UNIFORM_VEC4S * TEXEL_BYTES) as u64,
                    usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::UNIFORM,
                    mapped_at_creation: false,
                })
            })
            .clone()
    }
}

/// Which copies each launch needs before its dispatch, in order (indices into its copies;
/// `launches`: each one's copies as the texture views they fill — `None` for a uniform
/// block — and the root buffers it writes): a uniform block's always; a texture's unless an
/// earlier launch of the same command buffer filled it and no launch wrote its buffer
/// since (with `share`; without, every launch fills its own, as when one launch is timed
/// on its own). Each command buffer starts with every texture stale: the host or earlier
/// submissions may have written any buffer.
pub(super) fn plan_copies(
    launches: &[(Vec<Option<TextureKey>>, &[usize])],
    share: bool,
) -> Vec<Vec<usize>> {
    let mut fresh: Vec<TextureKey> = Vec::new();
    launches
        .iter()
        .map(|(keys, writes)| {
            let needed = (keys.iter().enumerate())
                .filter(|(_, key)| match key {
                    Some(key) if share => {
                        let stale = !fresh.contains(key);
                        if stale {
                            fresh.push(*key);
                        }
                        stale
                    }
                    _ => true,
                })
                .map(|(i, _)| i)
                .collect();
            fresh.retain(|k| !writes.contains(&k.0));
            needed
        })
        .collect()
}

/// Records `copy`: into a uniform block, its vec4s at once; into a texture, the whole rows
/// of texels, then the part row after them.
pub(super) fn encode_copy(enc: &mut wgpu::CommandEncoder, copy: &OperandCopy) {
    let texture = match &copy.dst {
        CopyDst::Uniform(block) => {
            let bytes = (copy.texels * TEXEL_BYTES) as u64;
            enc.copy_buffer_to_buffer(&copy.buffer, copy.offset, block, 0, bytes);
            return;
        }
        CopyDst::Texture(texture, _) => texture,
    };
    let full = copy.texels / TEXTURE_ROW;
    let rest = copy.texels % TEXTURE_ROW;
    let mut region = |row: usize, width: usize, height: usize| {
        enc.copy_buffer_to_texture(
            wgpu::TexelCopyBufferInfo {
                buffer: &copy.buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: copy.offset + (row * TEXTURE_ROW * TEXEL_BYTES) as u64,
                    bytes_per_row: Some(ROW_BYTES),
                    rows_per_image: None,
                },
            },
            wgpu::TexelCopyTextureInfo {
                texture,
                mip_level: 0,
                origin: wgpu::Origin3d {
                    x: 0,
                    y: row as u32,
                    z: 0,
                },
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::Extent3d {
                width: width as u32,
                height: height as u32,
                depth_or_array_layers: 1,
            },
        );
    };
    if full > 0 {
        region(0, TEXTURE_ROW, full);
    }
    if rest > 0 {
        region(full, rest, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::plan_copies;

    #[test]
    fn a_texture_is_filled_once_until_its_buffer_is_written() {
        let (w, x, y, dy) = ((1, 0, 4), (2, 0, 8), (2, 64, 8), (3, 0, 8));
        let launches: Vec<(Vec<_>, &[usize])> = vec![
            // Forward: reads x and w through textures, a uniform block, writes buffer 4.
            (vec![Some(x), Some(w), None], &[4]),
            // Input gradient: reads dy and w (w still fresh), writes 2 (x's buffer).
            (vec![Some(dy), Some(w), None], &[2]),
            // Weight gradient: x again (its buffer was written: stale), dy fresh.
            (vec![Some(x), Some(dy)], &[5]),
            // Another view of buffer 2 (never filled), and w: the update wrote 1 below.
            (vec![Some(y)], &[1]),
            (vec![Some(w)], &[]),
        ];
        assert_eq!(
            plan_copies(&launches, true),
            vec![vec![0, 1, 2], vec![0, 2], vec![0], vec![0], vec![0]]
        );
        // Unshared: every copy of every launch.
        assert_eq!(
            plan_copies(&launches, false),
            vec![vec![0, 1, 2], vec![0, 1, 2], vec![0, 1], vec![0], vec![0]]
        );
        // The same launch twice (nothing written in between that it reads): filled once.
        let again: Vec<(Vec<_>, &[usize])> = vec![(vec![Some(x)], &[4]), (vec![Some(x)], &[4])];
        assert_eq!(plan_copies(&again, true), vec![vec![0], vec![]]);
    }
}
