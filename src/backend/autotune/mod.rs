//! Matmul autotuning: the first time a shape class is seen on a GPU, every candidate kernel
//! variant is timed on that shape (a few milliseconds) and the fastest is kept. On a CPU
//! adapter (llvmpipe, SwiftShader) compiling and timing nine variants per class takes
//! minutes, so by default those take built-in choices that compile fast ([`builtin_choice`])
//! and time nothing until `steadygrad tune` asks ([`Tuning`]). Choices are cached per adapter, driver and version of the
//! matmul kernels ([`kernels_fingerprint`]: a changed kernel is timed afresh) in the user's cache
//! folder (`$STEADYGRAD_CACHE_DIR`, else `$XDG_CACHE_HOME/steadygrad`, else
//! `~/.cache/steadygrad`), file `matmul-autotune.json`; `STEADYGRAD_MATMUL` forces one
//! variant over the cache.

use super::MatmulVariant;

pub use super::variant::CANDIDATES;

/// When the autotuner times candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tuning {
    /// Time each new shape class on GPUs; CPU adapters take [`builtin_choice`] (the
    /// default; `STEADYGRAD_TUNE=auto`).
    #[default]
    Auto,
    /// Time each new shape class on any adapter (`steadygrad tune`; `STEADYGRAD_TUNE=always`).
    Always,
    /// Never time: cached choices, else the built-in ones (`STEADYGRAD_TUNE=never`).
    Never,
}

impl Tuning {
    /// The policy `STEADYGRAD_TUNE` names (empty or unset: auto).
    pub fn parse(v: &str) -> Option<Tuning> {
        match v {
            "" | "auto" => Some(Tuning::Auto),
            "always" => Some(Tuning::Always),
            "never" => Some(Tuning::Never),
            _ => None,
        }
    }
}

/// The variant a CPU adapter takes for a shape class without timing: the narrow kernel
/// reading textures for few output columns (a small pipeline; on llvmpipe 3.5× the storage
/// narrow kernel on a convolution's 21,632×9×16) and for whole groups of 16 columns over
/// few rows or a short inner dimension (the `g` classes: the Keras MNIST convnet's first
/// convolution, 21,632×9×32, 20.9 → 13.1 ms against the 8×8 kernel, and its weight
/// gradient, 9×21,632×32, 37.6 → 7.8 ms); for thin classes and below [`TEXTURE16_FROM`]
/// the 8×8 texture kernel (the 8×8 storage kernel where the operands are not whole vec4s
/// or do not fit a texture); from it the 16×16 texture kernel, from [`LARGE_FROM`] the
/// 16×20 texture kernel for an input gradient over few filters (`k`), and from
/// [`HALF_4X4_FROM`] the 4×4
/// storage kernel for thin products of at most 32 columns (`h`).
///
/// Measured on llvmpipe: the seed network's products at batch 32 run 4–7× faster through
/// the 8×8 texture kernel than through the 8×8 storage kernel (32×784×300 with the dense
/// epilogue 1.3 against 9.1 ms, 784×32×300 2.3 against 8.7), and it is the cheapest
/// pipeline to build — with the shader cache off, one epoch of the README's training took
/// 12.8 s through it, 21.7 s through the 8×8 storage kernel, 34.6 s through the 16×16
/// texture kernel and 51.2 s through the 16×20 one (on a 2-core AVX-512 Xeon: 14.2 s
/// through it, 21.1 s through the 16×16 storage kernel, 39.2 s through the 16×20 one), so
/// the small products stay with it (the seed network's at batch 32 left it later: see
/// [`TEXTURE16_FROM`]). Larger products repay the larger blocks (same
/// Xeon, each variant in turn, µs): the seed network at batch 256, 256×784×300 forward
/// 8,987 through the 8×8 texture kernel against 5,362 through the 16×16 storage kernel, its
/// input gradient 256×300×784 6,622 against 5,013, its weight gradient 6,708 against 5,281;
/// convolutions' input gradients dY·Wᵀ over 32 and 64 filters at batch 128 (15,488×32×144,
/// 18,432×64×288 and 15,488×64×288) 14,173 / 47,269 / 40,145 through the 8×8 texture
/// kernel, 13,576 / 40,160 / 33,578 through the 16×16 storage one and 8,262 / 30,680 /
/// 26,815 through the 16×20 texture one, whose pipeline adds about 3 s to a first run of
/// the example CNN with empty caches. Thin products stay with the 8×8 texture kernel: the
/// 16×16 kernels lost there (18,432×288×64: 37,244 against 44,363), as did the 4×4 one
/// (58,050), which won over 32 columns (15,488×144×32 12,272 against 16,814, and its weight
/// gradient 144×15,488×32 14,802 against 19,948). Whole steps then put the 16×16 texture
/// kernel ahead of the 16×16 storage one for the rest (same Xeon, alternated, samples/s):
/// the seed network at batch 256 9,910–10,309 against 6,825–9,336 and at 1,024
/// 10,995–11,066 against 9,757–10,287; at batch 128 the example CNN 1,377–1,405 against
/// 1,231–1,234, `examples/cnn_bn.json` 631–632 against 493–504, `examples/convnet.json`
/// 643–676 against 549–552 (its storage loads are a loop over the lanes on llvmpipe, its
/// texel fetches are not). `steadygrad tune` times every variant and caches the fastest.
///
/// With `subgroups` (the device has subgroups of exactly 8 lanes, as llvmpipe at 256 bits),
/// every class of vec4 loads that is not narrow takes the subgroup kernel instead, which
/// shares operand values between lanes through subgroup broadcasts rather than loading them
/// per lane, and so does a narrow product whose only misfit is B's rows (`q`: a
/// classifier's head, B read a float at a time).
/// Measured on the same Xeon, per launch (µs, copies included): the seed network at batch
/// 32, 32×784×300 forward with the epilogue 1,160 → 790, its input gradient 951 → 735, its
/// weight gradient 1,159 → 864, and its second layer's three products 339 / 277 / 387 →
/// 230 / 243 / 316; at batch 256, 5,011 / 5,374 / 8,209 → 3,477 / 3,280 / 3,363; the
/// example CNN at batch 128, its second convolution 15,032 → 4,620, that convolution's
/// weight gradient 18,007 → 5,801 and input gradient 8,603 → 7,274. Whole steps, old and
/// new alternated (samples/s): seed network at batch 32 4,467 / 4,284 → 5,199 / 4,491, 256
/// 6,956 / 7,584 → 9,017 / 14,217, 1,024 10,486 / 11,113 → 15,335 / 15,960; example CNN at
/// batch 32 1,355 → 1,537, at 128 1,456 / 1,488 → 2,088 / 2,075. Its pipelines build faster
/// than the 16×16 texture kernel's: the README's training with empty caches took 13.9 s
/// against 18.4.
pub fn builtin_choice(class: &str, subgroups: bool) -> MatmulVariant {
    let (traits, bucket) = class.split_once('-').unwrap_or((class, ""));
    let bucket = bucket.parse::<u32>().unwrap_or(0);
    let vec4 = traits.contains('v');
    match traits.chars().last() {
        Some('r') => MatmulVariant::Reduce,
        Some('q') if subgroups => MatmulVariant::Subgroup,
        Some('n' | 'g' | 'q') => MatmulVariant::NarrowTexture,
        _ if subgroups && vec4 => MatmulVariant::Subgroup,
        Some('k') if bucket >= LARGE_FROM => MatmulVariant::Texture16x20,
        Some('h') if bucket >= HALF_4X4_FROM => MatmulVariant::RegisterBlocked,
        Some('w' | 'h') => MatmulVariant::Texture8,
        _ if bucket >= TEXTURE16_FROM => MatmulVariant::Texture16,
        _ => MatmulVariant::Texture8,
    }
}

/// The size bucket (multiply-adds in powers of 4: 4¹² ≈ 16.8 M) from which [`builtin_choice`]
/// takes the 16×20 texture kernel for a convolution's input gradient over few filters (`k`),
/// a pipeline that costs seconds to build on a CPU adapter: the example CNN's at batch 32
/// stay below it.
pub const LARGE_FROM: u32 = 12;

/// The size bucket (4¹¹ ≈ 4.2 M multiply-adds) from which a product that is neither thin nor
/// narrow takes the 16×16 texture kernel: the seed network's three large products at batch
/// 32 (7.5 M each) too. Measured on a 2-core AVX-512 Xeon, each forced in turn (µs): its
/// first layer 1,077–1,082 through the 8×8 texture kernel against 808–810, its input
/// gradient 951–970 against 845–889, its weight gradient 1,261–1,265 against 1,164–1,175;
/// the README's training (5 epochs) 10.5–11.2 s against 11.4–12.5 s once the pipelines are
/// cached, for about 4 s more on a first run with empty caches (19.3 against 15.0 s).
pub const TEXTURE16_FROM: u32 = 11;

/// The size bucket (4¹³ ≈ 67 M multiply-adds) from which a thin product of at most 32
/// columns over a plain B (`h`) takes the 4×4 storage kernel: the example CNN's second
/// convolution at batch 128 (15,488×144×32) and its weight gradient, where at batch 32
/// (17.8 M) the forward product was slower through it (4.5–4.7 against 4.0 ms).
pub const HALF_4X4_FROM: u32 = 13;

/// Row lengths (in floats) from which a matmul is timed on a proxy of its class, and what
/// the proxy's dimensions are capped at.
const PROXY_ABOVE: f64 = (1u64 << 26) as f64;
const PROXY_DIM: usize = 256;

/// Whether a stored row of this many floats is a multiple of 256 (1 KiB): operands whose
/// rows are run into cache-set conflicts on CPU adapters (measured on llvmpipe: the 16×16
/// texture kernel at 256³ with A transposed ran 10× slower than at 252³), so such shapes
/// form a class of their own and are timed as such.
fn pow2_rows(len: usize) -> bool {
    len.is_multiple_of(256)
}

/// The shape class a choice is made for: the transposes, whether vec4 loads are possible,
/// whether a stored row of A or B is a multiple of 1 KiB, whether C is narrow (at most
/// 16 columns: `n`; `r` for a weight gradient over a long inner dimension,
/// [`long_reduction`]; `q` where only B's rows are not whole vec4s, a classifier's head:
/// [`super::ops::matmul::only_b_rows_misfit`]), in groups of 16 columns of a plain B with at most 16 rows or inner
/// steps, or with no vec4 loads (`g`: a convolution's first layer and its weight gradient;
/// the blocked kernels read such shapes a float at a time), or thin (at most
/// [`THIN_MAX`]: `w`; of a plain B and at most [`THIN_HALF`]: `h`), else whether it is an
/// input gradient `dY·Wᵀ` over at most
/// [`THIN_MAX`] outputs of the layer (`k`: a convolution's filters), and the size in powers
/// of 4 of multiply-adds.
pub fn shape_class(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> String {
    let vec4 = super::ops::matmul::vec4_loads_fit(m, k, n, trans_a, trans_b);
    let a_row = if trans_a { m } else { k };
    let b_row = if trans_b { k } else { n };
    let pow2 = pow2_rows(a_row) || pow2_rows(b_row);
    let work = (m as f64) * (k as f64) * (n as f64);
    let bucket = (work.max(1.0).log2() / 2.0).floor() as u32;
    format!(
        "{}{}{}{}{}-{bucket}",
        if trans_a { "T" } else { "N" },
        if trans_b { "T" } else { "N" },
        if vec4 { "v" } else { "s" },
        if pow2 { "p" } else { "" },
        if long_reduction(m, k, n, trans_a, trans_b) {
            "r"
        } else if n <= super::ops::matmul::NARROW_MAX
            && super::ops::matmul::only_b_rows_misfit(m, k, n, trans_a, trans_b)
        {
            "q"
        } else if n <= super::ops::matmul::NARROW_MAX {
            "n"
        } else if (m.min(k) <= super::ops::matmul::NARROW_MAX || !vec4)
            && super::ops::matmul::narrow_split(n).is_some()
            && !trans_b
        {
            "g"
        } else if n <= THIN_HALF && !trans_b {
            "h"
        } else if n <= THIN_MAX {
            "w"
        } else if trans_b && !trans_a && k <= THIN_MAX {
            "k"
        } else {
            ""
        }
    )
}

/// Whether a product is a weight gradient over a long inner dimension into a narrow C (`r`):
/// `Aᵀ·B` of at least [`REDUCE_K_MIN`] inner steps into at most [`REDUCE_COLS_MAX`]
/// columns — an im2col convolution of few
/// filters summed over its positions, whose few outputs leave a row-per-lane kernel a long
/// serial walk each. [`builtin_choice`] splits k over a workgroup there.
pub fn long_reduction(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> bool {
    trans_a && !trans_b && k >= REDUCE_K_MIN && n <= REDUCE_COLS_MAX && m <= REDUCE_ROWS_MAX
}

/// Inner steps from which a narrow weight gradient is a [`long_reduction`]: on llvmpipe,
/// `tests/data/cnn/cnn_b.json` at batch 128 (25,088 positions), the kernel gradients of its
/// 5×5 convolution to 6 filters (25×25,088×6) and of its dilated 3×3 over 6 channels to 8
/// (54×25,088×8) took 8.6 and 4.1 ms through the narrow texture kernel, 3.2 and 3.1 ms
/// through the one that splits k over a workgroup.
pub const REDUCE_K_MIN: usize = 4096;

/// Columns of C (filters) up to which [`long_reduction`] holds: into 16 (a 3×3 convolution
/// over 5 channels, 45×21,632×16 at batch 32) the narrow texture kernel was the faster, 6.9
/// against 8.7–9.6 ms.
pub const REDUCE_COLS_MAX: usize = 8;

/// Rows of C (a convolution's receptive field) up to which [`long_reduction`] holds.
pub const REDUCE_ROWS_MAX: usize = 1024;

/// Output columns up to which a (not narrow) product is a class of its own: a
/// convolution's channels. On llvmpipe the example CNN's second convolution
/// (3,872×144×32) ran 7.6 ms through the 8×8 texture kernel and 12.8 ms through the 16×20
/// one, which the seed network's products of the same size (256×784×300) had chosen.
pub const THIN_MAX: usize = 64;

/// Output columns up to which a thin product over a plain B is a class of its own (`h`): a
/// convolution of 32 filters and its weight gradient, which the 4×4 kernel walks faster
/// than the 8×8 one, where over 64 filters it is the other way round (see
/// [`builtin_choice`]).
pub const THIN_HALF: usize = 32;

/// The shape the candidates are timed on: the shape itself up to 2²⁶ multiply-adds, else
/// each dimension over 256 capped at a value of the same traits (a multiple of 256, of 16, of 4,
/// or neither), so the proxy falls in the same class but for its size.
pub fn tuning_shape(m: usize, k: usize, n: usize) -> (usize, usize, usize) {
    if (m as f64) * (k as f64) * (n as f64) <= PROXY_ABOVE {
        return (m, k, n);
    }
    let cap = |d: usize| {
        if d <= PROXY_DIM {
            d
        } else if pow2_rows(d) {
            PROXY_DIM
        } else if d.is_multiple_of(16) {
            // Whole groups of the narrow kernel's columns (the `g` classes).
            PROXY_DIM - 16
        } else if d.is_multiple_of(4) {
            PROXY_DIM - 4
        } else {
            PROXY_DIM - 1
        }
    };
    (cap(m), cap(k), cap(n))
}

mod cache;
pub use cache::{kernels_fingerprint, TuneCache};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_classes_separate_transposes_alignment_and_size() {
        assert_eq!(shape_class(32, 784, 300, false, false), "NNv-11");
        assert_ne!(
            shape_class(32, 784, 300, false, true),
            shape_class(32, 784, 300, false, false)
        );
        assert!(shape_class(7, 13, 5, false, false).contains('s'));
        // A convolution's 32 channels against a dense layer's 300 units of the same work.
        assert_eq!(shape_class(3872, 144, 32, false, false), "NNvh-12");
        assert_eq!(shape_class(144, 3872, 32, true, false), "TNvh-12");
        assert_eq!(shape_class(256, 784, 300, false, false), "NNv-12");
        // 32 filters over 3×3 taps of one channel, and their weight gradient: the narrow
        // kernel's column groups; not over 288 taps.
        assert!(shape_class(21_632, 9, 32, false, false).ends_with("g-11"));
        assert!(shape_class(9, 21_632, 32, true, false).ends_with("g-11"));
        assert_eq!(shape_class(3872, 288, 64, false, false), "NNvw-13");
        // An input gradient over few filters, and one over a dense layer's 300 units.
        assert_eq!(shape_class(3872, 32, 144, false, true), "NTvk-12");
        assert_eq!(shape_class(256, 300, 784, false, true), "NTv-12");
        // A classifier's head: only B's rows (10 outputs) are not whole vec4s.
        assert_eq!(shape_class(1024, 100, 10, false, false), "NNsq-9");
        assert_eq!(shape_class(100, 1024, 10, true, false), "TNsq-9");
        assert_eq!(shape_class(1024, 10, 100, false, true), "NTsk-9");
        // 5×5 taps of one channel (25 inner steps, no vec4 loads) and their weight gradient.
        assert!(shape_class(6272, 25, 32, false, false).ends_with("g-11"));
        assert!(shape_class(25, 6272, 32, true, false).ends_with("g-11"));
        // The weight gradients of a 5×5 convolution to 6 filters and of a 3×3 over 6
        // channels to 8, over 25,088 positions: long reductions, which the workgroups split.
        assert!(shape_class(25, 25_088, 6, true, false).ends_with("r-10"));
        assert!(shape_class(54, 25_088, 8, true, false).ends_with("r-11"));
        assert_eq!(builtin_choice("TNsr-10", true), MatmulVariant::Reduce);
        // Not at a dense layer's batch, nor into 16 or 32 filters, nor as a forward product.
        assert!(shape_class(100, 1024, 10, true, false).ends_with("q-9"));
        assert!(shape_class(45, 21_632, 16, true, false).ends_with("n-11"));
        assert!(shape_class(9, 21_632, 32, true, false).ends_with("g-11"));
        assert!(!shape_class(25_088, 25, 6, false, false).contains('r'));
        assert_ne!(
            shape_class(1024, 1024, 1024, false, false),
            shape_class(32, 32, 32, false, false)
        );
    }

    #[test]
    fn cpu_adapters_take_the_narrow_texture_kernel_for_narrow_outputs_else_blocks_by_size() {
        // The seed network's first layer at batch 32, the example CNN's first convolution
        // and its weight gradient, a first convolution of 32 filters, its second one; then
        // larger products: the seed network's at batch 256 (forward, input gradient),
        // convolutions' input gradients over 32 and 64 filters at batch 32 and 128, and a
        // thin one that stays with the 8×8 kernel.
        for (shape, want) in [
            ((32, 784, 300, false, false), MatmulVariant::Texture16),
            ((64, 784, 300, false, false), MatmulVariant::Texture16),
            ((32, 300, 784, false, true), MatmulVariant::Texture16),
            ((256, 784, 300, false, false), MatmulVariant::Texture16),
            ((256, 300, 784, false, true), MatmulVariant::Texture16),
            ((784, 256, 300, true, false), MatmulVariant::Texture16),
            ((3_872, 32, 144, false, true), MatmulVariant::Texture16x20),
            ((15_488, 64, 288, false, true), MatmulVariant::Texture16x20),
            ((32, 64, 800, false, true), MatmulVariant::Texture8),
            ((18_432, 288, 64, false, false), MatmulVariant::Texture8),
            ((3_872, 144, 32, false, false), MatmulVariant::Texture8),
            (
                (15_488, 144, 32, false, false),
                MatmulVariant::RegisterBlocked,
            ),
            (
                (144, 15_488, 32, true, false),
                MatmulVariant::RegisterBlocked,
            ),
            ((21_632, 9, 16, false, false), MatmulVariant::NarrowTexture),
            ((9, 21_632, 16, true, false), MatmulVariant::NarrowTexture),
            ((21_632, 9, 32, false, false), MatmulVariant::NarrowTexture),
            ((6_272, 25, 32, false, false), MatmulVariant::NarrowTexture),
            ((25, 6_272, 32, true, false), MatmulVariant::NarrowTexture),
            ((784, 32, 300, true, false), MatmulVariant::Texture16),
            ((3, 5, 7, false, true), MatmulVariant::NarrowTexture),
            ((33, 7, 65, false, false), MatmulVariant::Texture8),
        ] {
            let (m, k, n, ta, tb) = shape;
            let class = shape_class(m, k, n, ta, tb);
            assert_eq!(builtin_choice(&class, false), want, "{class}");
            // With 8-lane subgroups the subgroup kernel takes every class but the narrow
            // ones it cannot read (the narrow ones whose only misfit is B's rows, it can).
            let traits = class.split('-').next().unwrap();
            let kept = traits.ends_with(['n', 'g']) || !traits.contains(['v', 'q']);
            let with = if kept { want } else { MatmulVariant::Subgroup };
            assert_eq!(builtin_choice(&class, true), with, "{class}");
        }
    }
}
