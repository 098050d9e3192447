//! The matmul kernel variants: what each computes per invocation, the names
//! `STEADYGRAD_MATMUL` and the autotune cache use, and the order the autotuner times them in.
//! Their launches are `ops::matmul`'s; which one a shape gets is `autotune`'s and the GPU
//! backend's.

/// Which matmul kernel to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulVariant {
    /// Register-blocked 4×4 per invocation, no workgroup barriers.
    RegisterBlocked,
    /// Register-blocked 8×8 per invocation (vec4 loads; 4×4 scalar when unaligned).
    RegisterBlocked8,
    /// Register-blocked 16×16 per invocation (vec4 loads; 4×4 scalar when unaligned).
    RegisterBlocked16,
    /// A workgroup per 4×4 block of C, its invocations splitting k: for few outputs over
    /// a long inner dimension (weight gradients of convolutions).
    Reduce,
    /// Workgroup-memory tiling (64×64 tiles): fastest on discrete GPUs.
    Tiled,
    /// A row of C an invocation, for at most 16 output columns (the 4×4 kernel beyond).
    Narrow,
    /// [`MatmulVariant::Narrow`] reading A and B as textures (one float a texel component,
    /// B's rows as whole texels when they are); the storage kernel when they do not fit.
    NarrowTexture,
    /// [`MatmulVariant::RegisterBlocked8`] reading A and B as rgba32float textures (copied
    /// in before the launch); the storage kernel when an operand does not fit a texture.
    Texture8,
    /// [`MatmulVariant::RegisterBlocked16`] reading A and B as textures.
    Texture16,
    /// 16×20 outputs per invocation reading A and B as textures (the 16×16 storage kernel
    /// when they do not fit).
    Texture16x20,
    /// 32×32 outputs a subgroup of 8 lanes reading A and B as textures, operand values
    /// shared through subgroup broadcasts: only on adapters whose subgroups are exactly 8
    /// lanes (llvmpipe at 256 bits; [`crate::backend::GpuBackend::has_variant`]); the 16×16 storage
    /// kernel where the operands do not fit textures.
    Subgroup,
}

/// The variants timed, in order.
pub const CANDIDATES: [MatmulVariant; 11] = [
    MatmulVariant::RegisterBlocked,
    MatmulVariant::RegisterBlocked8,
    MatmulVariant::RegisterBlocked16,
    MatmulVariant::Tiled,
    MatmulVariant::Texture8,
    MatmulVariant::Texture16,
    MatmulVariant::Texture16x20,
    MatmulVariant::Narrow,
    MatmulVariant::NarrowTexture,
    MatmulVariant::Reduce,
    MatmulVariant::Subgroup,
];

impl MatmulVariant {
    /// The name used in `STEADYGRAD_MATMUL` and the cache.
    pub fn name(&self) -> &'static str {
        match self {
            MatmulVariant::RegisterBlocked => "regblock",
            MatmulVariant::RegisterBlocked8 => "regblock8",
            MatmulVariant::RegisterBlocked16 => "regblock16",
            MatmulVariant::Tiled => "tiled",
            MatmulVariant::Texture8 => "texture8",
            MatmulVariant::Texture16 => "texture16",
            MatmulVariant::Texture16x20 => "texture16x20",
            MatmulVariant::Narrow => "narrow",
            MatmulVariant::NarrowTexture => "narrow_texture",
            MatmulVariant::Reduce => "reduce",
            MatmulVariant::Subgroup => "subgroup",
        }
    }

    /// Whether it runs only where every subgroup is exactly 8 lanes
    /// ([`crate::backend::GpuBackend::has_variant`]).
    pub fn needs_subgroups(&self) -> bool {
        *self == MatmulVariant::Subgroup
    }

    /// The variant of a name.
    pub fn from_name(name: &str) -> Option<MatmulVariant> {
        CANDIDATES.into_iter().find(|v| v.name() == name)
    }
}
