//! One sample launch per entry point (and more), built the way the backends build them:
//! what tests/contracts.rs and tests/uniform_branches.rs compile through naga. Included by
//! path (`#[path = "common/samples.rs"] mod samples;`), not through `common`, so the other
//! test crates do not build it.

use steadygrad::backend::contract::Entry;
use steadygrad::backend::kernel::{DropoutMask, Penalized};
use steadygrad::backend::launch::GpuLaunch;
use steadygrad::backend::ops::{gpu_launch, through_textures, TextureReads};
use steadygrad::backend::window::{Padding, Window};
use steadygrad::backend::{ActKind, ArenaTensor, ClipMode, Kernel, LossKind, MatmulVariant};

/// One launch per entry point (and more), built the way the backends build them.
pub fn sample_launches() -> Vec<(Kernel, GpuLaunch)> {
    let mut kernels = vec![
        Kernel::BiasAdd { rows: 3, cols: 5 },
        Kernel::ColumnSum { rows: 3, cols: 5 },
        Kernel::ActForward {
            act: ActKind::Relu,
            n: 7,
            training: true,
            seed: 1,
        },
        Kernel::ActBackward {
            act: ActKind::Relu,
            n: 7,
            training: true,
            seed: 1,
        },
        Kernel::ActBackwardFromOutput {
            act: ActKind::Elu { alpha: 0.5 },
            n: 7,
            training: false,
            seed: 1,
        },
        Kernel::ActBackwardFromOutput {
            act: ActKind::Selu,
            n: 12,
            training: false,
            seed: 1,
        },
        Kernel::PreluForward { rows: 2, cols: 3 },
        Kernel::PreluBackward { rows: 2, cols: 3 },
        Kernel::SoftmaxForward { rows: 2, cols: 3 },
        Kernel::SoftmaxBackward { rows: 2, cols: 3 },
        Kernel::Add { n: 4 },
        Kernel::Scale { n: 4, factor: 2.0 },
        Kernel::Loss {
            kind: LossKind::SoftmaxCrossEntropy,
            rows: 2,
            cols: 3,
            total: 4,
        },
        Kernel::BnTrain {
            rows: 2,
            cols: 3,
            eps: 1e-3,
            momentum: 0.99,
        },
        Kernel::BnTrainAct {
            rows: 2,
            cols: 3,
            eps: 1e-3,
            momentum: 0.99,
            act: ActKind::Elu { alpha: 0.5 },
        },
        Kernel::BnApply {
            rows: 2,
            cols: 3,
            eps: 1e-3,
        },
        Kernel::BnBackward {
            rows: 2,
            cols: 3,
            eps: 1e-3,
        },
        // Whole vec4s of columns: the four-columns-an-invocation entries.
        Kernel::BnTrain {
            rows: 2,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
        },
        Kernel::BnTrainAct {
            rows: 2,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
            act: ActKind::Relu,
        },
        Kernel::BnBackward {
            rows: 2,
            cols: 8,
            eps: 1e-3,
        },
        Kernel::BnActBackward {
            rows: 2,
            cols: 3,
            eps: 1e-3,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
        Kernel::BnActBackward {
            rows: 2,
            cols: 8,
            eps: 1e-3,
            act: ActKind::Elu { alpha: 1.0 },
            training: false,
            seed: 0,
        },
        Kernel::BnMoments {
            rows: 2,
            cols: 3,
            total: 4,
            centered: true,
        },
        Kernel::BnNormalize {
            rows: 2,
            cols: 3,
            total: 4,
            eps: 1e-3,
            momentum: 0.99,
        },
        Kernel::BnBackwardSums {
            rows: 2,
            cols: 3,
            eps: 1e-3,
        },
        Kernel::BnBackwardDx {
            rows: 2,
            cols: 3,
            total: 4,
            eps: 1e-3,
        },
        Kernel::BiasActBackward {
            rows: 2,
            cols: 3,
            stripes: 1,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
        Kernel::BiasActBackward {
            rows: 5,
            cols: 3,
            stripes: 2,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
        Kernel::BiasActBackward {
            rows: 2,
            cols: 8,
            stripes: 1,
            act: ActKind::Elu { alpha: 1.0 },
            training: false,
            seed: 0,
        },
        Kernel::GradStats {
            tensors: ArenaTensor::pack(&[5, 1100]),
            first_segment: 1,
        },
        Kernel::ClipScale {
            tensors: ArenaTensor::pack(&[5, 1100]),
            mode: ClipMode::GlobalNorm(1.0),
        },
        Kernel::GatherU8 {
            rows: 2,
            features: 3,
        },
        Kernel::DenseLoss {
            kind: LossKind::SoftmaxCrossEntropy,
            rows: 3,
            k: 5,
            cols: 10,
            total: 3,
        },
        Kernel::DenseLossRows {
            kind: LossKind::MeanSquaredError,
            rows: 40,
            k: 5,
            cols: 10,
            total: 40,
        },
        Kernel::DenseLossSums {
            rows: 40,
            k: 50,
            cols: 3,
        },
        Kernel::BnTrainGatherU8 {
            rows: 2,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
            xhat: false,
        },
        // gamma past a uniform block: the storage entry.
        Kernel::BnTrainGatherU8 {
            rows: 2,
            cols: 16_388,
            eps: 1e-3,
            momentum: 0.99,
            xhat: false,
        },
        Kernel::BnTrainGatherU8 {
            rows: 2,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
            xhat: true,
        },
        Kernel::BnTrainXhat {
            rows: 3,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
        },
        Kernel::BnDenseBackward {
            features: 3,
            units: 70,
        },
        Kernel::BnDenseBackward {
            features: 3,
            units: 8,
        },
        Kernel::GatherU8 {
            rows: 2,
            features: 8,
        },
        Kernel::GatherF32 {
            rows: 2,
            features: 3,
        },
        Kernel::ActStats {
            rows: 2,
            cols: 3,
            saturation: 1,
            offset: 0,
        },
        Kernel::PairNorms { n: 5, offset: 0 },
    ];
    let win = Window::new(2, (5, 6, 3), (3, 3), (2, 1), (1, 1), Padding::Same).unwrap();
    kernels.extend([
        Kernel::Im2col { win },
        Kernel::Col2im { win },
        Kernel::MaxPool { win },
        Kernel::MaxPoolBackward { win },
        Kernel::MaxPoolActBackward {
            win,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
        Kernel::AvgPool { win },
        Kernel::AvgPoolBackward { win },
        Kernel::ConvDirect {
            win,
            filters: 8,
            act: ActKind::Rrelu {
                lower: 0.1,
                upper: 0.3,
            },
            training: true,
            seed: 3,
        },
        Kernel::ConvDirectWeightGrad {
            win,
            filters: 8,
            stripes: 5,
        },
        // Filters not in whole vec4s: the entries that read and store floats.
        Kernel::ConvDirect {
            win,
            filters: 6,
            act: ActKind::Relu,
            training: true,
            seed: 3,
        },
        Kernel::ConvDirectWeightGrad {
            win,
            filters: 6,
            stripes: 5,
        },
        // The input gradient over few channels at stride 1: the direct entry.
        Kernel::ConvInputGrad {
            win: Window::new(2, (5, 6, 3), (3, 3), (1, 1), (2, 1), Padding::Same).unwrap(),
            filters: 8,
        },
    ]);
    let mask = DropoutMask {
        rows: 3,
        sample: [1, 4, 5],
        shared: [false, true, false, false],
        rate: 0.3,
        seed: 9,
        alpha: false,
    };
    let penalized: Vec<Penalized> = (ArenaTensor::pack(&[5, 1100]).into_iter())
        .map(|tensor| Penalized {
            tensor,
            l1: 0.01,
            l2: 0.02,
        })
        .collect();
    // 60 values (the vec4 entries) and 15 (a value an invocation).
    let odd = DropoutMask {
        sample: [1, 1, 5],
        ..mask
    };
    kernels.extend([
        Kernel::Dropout { mask },
        Kernel::DropoutBackward { mask },
        Kernel::Dropout { mask: odd },
        Kernel::DropoutBackward { mask: odd },
        Kernel::Penalty {
            tensors: penalized,
            first: 1,
        },
        Kernel::AddPenalty { chunks: 4, rows: 7 },
        Kernel::MaxNorm {
            rows: 4,
            cols: 3,
            per_row: true,
            max_value: 1.5,
        },
    ]);
    for rule in crate::common::update_rules() {
        kernels.push(Kernel::Update {
            rule,
            tensors: ArenaTensor::pack(&[9, 3]),
            clipvalue: 0.0,
            weight_decay: 0.0,
        });
    }
    let mut out: Vec<(Kernel, GpuLaunch)> = kernels
        .into_iter()
        .map(|k| {
            let l = gpu_launch(&k, MatmulVariant::RegisterBlocked);
            (k, l)
        })
        .collect();
    // A convolution past the direct kernel's field as the implicit matmul on 8-lane
    // subgroups, and its kernel gradient in one stripe.
    let wide = Window::new(2, (6, 5, 8), (3, 3), (1, 1), (1, 1), Padding::Same).unwrap();
    for k in [
        Kernel::ConvDirect {
            win: wide,
            filters: 32,
            act: ActKind::Elu { alpha: 1.0 },
            training: true,
            seed: 3,
        },
        Kernel::ConvDirectWeightGrad {
            win: wide,
            filters: 32,
            stripes: 1,
        },
    ] {
        let l = gpu_launch(&k, MatmulVariant::Subgroup);
        assert!(l.entry.name().starts_with("conv_gemm"), "{:?}", l.entry);
        out.push((k, l));
    }
    // The direct convolution on 8-lane subgroups (at most 16 filters): the entries sharing
    // the weights through them, filters in whole vec4s and not.
    for (filters, entry) in [(8, "conv_direct4_lanes8"), (6, "conv_direct_lanes8")] {
        let k = Kernel::ConvDirect {
            win,
            filters,
            act: ActKind::Relu,
            training: true,
            seed: 3,
        };
        let l = gpu_launch(&k, MatmulVariant::Subgroup);
        assert_eq!(l.entry.name(), entry);
        out.push((k, l));
    }
    // The input gradient on 8-lane subgroups: past the direct kernel's shapes (stride 2)
    // the subgroup matmul, within them the direct one sharing its weights.
    let few = Window::new(2, (5, 6, 3), (3, 3), (1, 1), (1, 1), Padding::Same).unwrap();
    for (win, entry) in [(win, "conv_input_grad"), (few, "conv_direct_input_grad8")] {
        let k = Kernel::ConvInputGrad { win, filters: 8 };
        let l = gpu_launch(&k, MatmulVariant::Subgroup);
        assert_eq!(l.entry.name(), entry);
        out.push((k, l));
    }
    // It through the derivative of the activation before the convolution.
    for (bias, entry) in [
        (false, Entry::ConvInputGradAct),
        (true, Entry::ConvInputGradBiasAct),
    ] {
        let k = Kernel::ConvInputGradAct {
            win,
            filters: 8,
            act: ActKind::Elu { alpha: 0.5 },
            training: true,
            seed: 3,
            bias,
        };
        let l = gpu_launch(&k, MatmulVariant::Subgroup);
        assert_eq!(l.entry, entry);
        out.push((k, l));
    }
    // The updates reading their arenas through textures (CPU adapters' choice).
    for rule in crate::common::update_rules() {
        let tensors = ArenaTensor::pack(&[9, 3]);
        let k = Kernel::Update {
            rule,
            tensors: tensors.clone(),
            clipvalue: 0.0,
            weight_decay: 0.0,
        };
        let l = through_textures(
            &k,
            gpu_launch(&k, MatmulVariant::RegisterBlocked),
            TextureReads::All,
        );
        assert!(l.entry.name().ends_with("_update"));
        out.push((k, l));
    }
    // The window kernels four channels an invocation (tiling pools over channels in
    // whole vec4s), through storage and through textures.
    let win4 = Window::new(2, (6, 7, 8), (2, 2), (2, 2), (1, 1), Padding::Valid).unwrap();
    for k in [
        Kernel::Im2col { win: win4 },
        Kernel::Col2im { win: win4 },
        Kernel::MaxPool { win: win4 },
        Kernel::MaxPoolBackward { win: win4 },
        Kernel::MaxPoolActBackward {
            win: win4,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
    ] {
        let plain = gpu_launch(&k, MatmulVariant::RegisterBlocked);
        assert!(plain.entry.name().ends_with('4'), "{k:?}");
        let l = through_textures(&k, plain.clone(), TextureReads::All);
        assert_ne!(l.entry, plain.entry, "{k:?}");
        out.push((k.clone(), plain));
        out.push((k, l));
    }
    // Average pooling's backward four channels an invocation (no texture twin).
    let k = Kernel::AvgPoolBackward { win: win4 };
    let plain = gpu_launch(&k, MatmulVariant::RegisterBlocked);
    assert_eq!(plain.entry, Entry::AvgPoolBackward4);
    out.push((k, plain));
    // Batch norm over many rows of few vec4 columns (a convolution's channels): workgroups
    // that split the rows, through storage and through textures.
    for k in [
        Kernel::BnTrain {
            rows: 4096,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
        },
        Kernel::BnTrainAct {
            rows: 4096,
            cols: 8,
            eps: 1e-3,
            momentum: 0.99,
            act: ActKind::Selu,
        },
        Kernel::BnBackward {
            rows: 4096,
            cols: 8,
            eps: 1e-3,
        },
    ] {
        let plain = gpu_launch(&k, MatmulVariant::RegisterBlocked);
        assert!(plain.entry.name().ends_with("rows4"), "{k:?}");
        let l = through_textures(&k, plain.clone(), TextureReads::All);
        assert_ne!(l.entry, plain.entry, "{k:?}");
        out.push((k.clone(), plain));
        out.push((k, l));
    }
    // The activations four elements an invocation.
    for backward in [false, true] {
        let (act, n, training, seed) = (ActKind::Elu { alpha: 1.0 }, 12, false, 0);
        let k = if backward {
            Kernel::ActBackward {
                act,
                n,
                training,
                seed,
            }
        } else {
            Kernel::ActForward {
                act,
                n,
                training,
                seed,
            }
        };
        let l = gpu_launch(&k, MatmulVariant::RegisterBlocked);
        assert!(l.entry.name().ends_with('4'), "{k:?}");
        out.push((k, l));
    }
    // The window kernels reading through textures.
    let win = Window::new(2, (5, 6, 3), (3, 3), (2, 1), (1, 1), Padding::Same).unwrap();
    for k in [
        Kernel::Im2col { win },
        Kernel::Col2im { win },
        Kernel::MaxPool { win },
        Kernel::MaxPoolActBackward {
            win,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
    ] {
        let plain = gpu_launch(&k, MatmulVariant::RegisterBlocked);
        let l = through_textures(&k, plain.clone(), TextureReads::All);
        assert_ne!(l.entry, plain.entry, "{k:?}");
        out.push((k, l));
    }
    for (m, k, n, variant) in [
        (8, 12, 16, MatmulVariant::RegisterBlocked),
        (8, 12, 16, MatmulVariant::RegisterBlocked8),
        (8, 12, 16, MatmulVariant::RegisterBlocked16),
        (8, 12, 16, MatmulVariant::Texture8),
        (8, 12, 16, MatmulVariant::Texture16),
        (8, 12, 16, MatmulVariant::Texture16x20),
        (8, 12, 16, MatmulVariant::Subgroup),
        (7, 13, 5, MatmulVariant::RegisterBlocked),
        (7, 13, 5, MatmulVariant::Tiled),
        (7, 13, 5, MatmulVariant::Narrow),
        (7, 13, 5, MatmulVariant::NarrowTexture),
        (7, 13, 8, MatmulVariant::NarrowTexture),
        (7, 13, 5, MatmulVariant::Reduce),
    ] {
        let kernel = Kernel::MatMul {
            m,
            k,
            n,
            trans_a: false,
            trans_b: true,
            accumulate: false,
        };
        let l = gpu_launch(&kernel, variant);
        out.push((kernel, l));
        let dense = Kernel::Dense {
            m,
            k,
            n,
            act: ActKind::Elu { alpha: 1.0 },
            training: false,
            seed: 0,
        };
        let l = gpu_launch(&dense, variant);
        out.push((dense, l));
    }
    out
}
