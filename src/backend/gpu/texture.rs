//! Operand textures: the texture-reading matmul variants bind A and B as rgba32float
//! textures, filled from the operands' buffers by a copy recorded right before each launch
//! (between compute passes, in the step's one command buffer). Textures are made once per
//! binding number and row count and shared by every launch of that size: each launch's copy
//! precedes its own dispatch, so a later launch's copy never overwrites what an earlier one
//! still reads.

use super::GpuBackend;
use crate::backend::contract::TEXTURE_ROW;

/// A buffer's vec4s copied into an operand texture before a launch.
pub(super) struct TextureCopy {
    /// The source buffer (the view's root).
    pub buffer: wgpu::Buffer,
    /// Byte offset of the view in it.
    pub offset: u64,
    /// vec4s to copy.
    pub texels: usize,
    /// The destination.
    pub texture: wgpu::Texture,
}

/// Bytes a vec4 texel takes, and a texture row.
const TEXEL_BYTES: usize = 16;
const ROW_BYTES: u32 = (TEXTURE_ROW * TEXEL_BYTES) as u32;

impl GpuBackend {
    /// The shared texture for `binding` with room for `texels` vec4s, and a view of it.
    pub(super) fn operand_texture(
        &mut self,
        binding: u32,
        texels: usize,
    ) -> (wgpu::Texture, wgpu::TextureView) {
        let rows = texels.div_ceil(TEXTURE_ROW).max(1) as u32;
        let device = &self.device;
        let counters = &mut self.counters;
        let (texture, view) = self.textures.entry((binding, rows)).or_insert_with(|| {
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
}

/// Records `copy`: the whole rows of texels, then the part row after them.
pub(super) fn encode_copy(enc: &mut wgpu::CommandEncoder, copy: &TextureCopy) {
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
                texture: &copy.texture,
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
