//! Operand textures and uniform blocks: entries that read a buffer through a texture
//! ([`View::Texture`](crate::backend::contract::View)) or a uniform block
//! ([`View::Uniform`](crate::backend::contract::View)) bind an rgba32float texture or a
//! 64 KiB uniform buffer, filled from the buffer by a copy recorded right before each
//! launch (between compute passes, in the step's one command buffer). Textures are made
//! once per binding number and row count, blocks once per binding number, and shared by
//! every launch that binds them there: each launch's copy precedes its own dispatch, so a
//! later launch's copy never overwrites what an earlier one still reads.

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
    /// The destination.
    pub dst: CopyDst,
}

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
