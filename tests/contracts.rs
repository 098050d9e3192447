//! The typed contract between Rust and WGSL, checked against the shader sources: every
//! module's `struct Params` has exactly the fields (names, types, order) of its Rust
//! parameter struct; every entry point exists as a `@compute` function of its module; every
//! binding a launch uses is declared in that module at that number with that access; every
//! op code the shaders switch on equals Rust's. A shader edited without its Rust side (or
//! the reverse) fails here, before any GPU runs it.

mod common;

use std::collections::{HashMap, HashSet};

use steadygrad::backend::contract::{
    Entry, GpuLaunch, Module, TABLE_BINDING, TEXTURE_MAX_ROWS, TEXTURE_ROW,
};
use steadygrad::backend::ops::gpu_launch;
use steadygrad::backend::{
    ActKind, ArenaTensor, ClipMode, Kernel, KernelKind, LossKind, MatmulVariant,
};
use strum::IntoEnumIterator;

/// Drops `//` comments.
fn strip_comments(src: &str) -> String {
    src.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fields of `struct Params { … }` in a WGSL source, as (name, type).
fn wgsl_params(src: &str) -> Vec<(String, String)> {
    let src = strip_comments(src);
    let start = src.find("struct Params").expect("a struct Params");
    let body = &src[start..];
    let open = body.find('{').unwrap();
    let close = body.find('}').unwrap();
    body[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (n, t) = f.split_once(':').expect("name: type");
            (n.trim().to_string(), t.trim().to_string())
        })
        .collect()
}

/// `@binding(N)` → (variable name, read-only, texture) of every storage and texture binding
/// in group 0.
fn wgsl_bindings(src: &str) -> HashMap<u32, (String, bool, bool)> {
    let src = strip_comments(src);
    let mut out = HashMap::new();
    for line in src.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("@group(0) @binding(") else {
            continue;
        };
        let (num, decl) = rest.split_once(')').unwrap();
        let num: u32 = num.parse().unwrap();
        if let Some(d) = decl.trim().strip_prefix("var<storage, ") {
            let (access, tail) = d.split_once('>').unwrap();
            let name = tail.trim().split(':').next().unwrap().trim().to_string();
            let read_only = match access {
                "read" => true,
                "read_write" => false,
                other => panic!("binding {num}: access {other}"),
            };
            assert!(
                out.insert(num, (name, read_only, false)).is_none(),
                "binding {num} declared twice"
            );
        } else if let Some(d) = decl.trim().strip_prefix("var ") {
            let (name, ty) = d.split_once(':').unwrap();
            if ty.trim().trim_end_matches(';') == "texture_2d<f32>" {
                let name = name.trim().to_string();
                assert!(
                    out.insert(num, (name, true, true)).is_none(),
                    "binding {num} declared twice"
                );
            }
        }
    }
    out
}

/// `const NAME: u32 = Nu;` declarations.
fn wgsl_consts(src: &str) -> HashMap<String, u32> {
    strip_comments(src)
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("const ")?;
            let (name, rest) = l.split_once(':')?;
            let (ty, value) = rest.split_once('=')?;
            if ty.trim() != "u32" {
                return None;
            }
            let v = value.trim().trim_end_matches(';').trim_end_matches('u');
            let v = if let Some(hex) = v.strip_prefix("0x") {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                v.parse().ok()?
            };
            Some((name.trim().to_string(), v))
        })
        .collect()
}

fn compare_params(module: Module, src: &str) -> Result<(), String> {
    let wgsl = wgsl_params(src);
    let rust: Vec<(String, String)> = module
        .params_fields()
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    if wgsl == rust {
        Ok(())
    } else {
        Err(format!("{module:?}: WGSL Params {wgsl:?} vs Rust {rust:?}"))
    }
}

#[test]
fn every_params_struct_matches_its_shader() {
    for module in Module::iter() {
        compare_params(module, &module.source()).unwrap();
        // Only 4-byte scalars: the Rust struct has no padding the WGSL one lacks.
        assert!(module
            .params_fields()
            .iter()
            .all(|(_, t)| *t == "u32" || *t == "f32"));
    }
}

#[test]
fn a_changed_shader_layout_is_caught() {
    // Swap two fields of the batch-norm Params: the check must fail.
    let src = Module::BatchNorm.source().replacen(
        "    eps: f32,\n    momentum: f32,",
        "    momentum: f32,\n    eps: f32,",
        1,
    );
    assert_ne!(src, Module::BatchNorm.source(), "the edit applied");
    assert!(compare_params(Module::BatchNorm, &src).is_err());
    let src = Module::Loss.source().replacen("code: u32", "code: f32", 1);
    assert!(compare_params(Module::Loss, &src).is_err());
}

/// One launch per entry point (and more), built the way the backends build them.
fn sample_launches() -> Vec<(Kernel, GpuLaunch)> {
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
        Kernel::BnBackward {
            rows: 2,
            cols: 8,
            eps: 1e-3,
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
            act: ActKind::Relu,
            training: false,
            seed: 0,
        },
        Kernel::BiasActBackward {
            rows: 2,
            cols: 8,
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
    for rule in common::update_rules() {
        kernels.push(Kernel::Update {
            rule,
            tensors: ArenaTensor::pack(&[9, 3]),
            clipvalue: 0.0,
        });
    }
    let mut out: Vec<(Kernel, GpuLaunch)> = kernels
        .into_iter()
        .map(|k| {
            let l = gpu_launch(&k, MatmulVariant::RegisterBlocked);
            (k, l)
        })
        .collect();
    for (m, k, n, variant) in [
        (8, 12, 16, MatmulVariant::RegisterBlocked),
        (8, 12, 16, MatmulVariant::RegisterBlocked8),
        (8, 12, 16, MatmulVariant::RegisterBlocked16),
        (8, 12, 16, MatmulVariant::Texture8),
        (8, 12, 16, MatmulVariant::Texture16),
        (8, 12, 16, MatmulVariant::Texture16x20),
        (7, 13, 5, MatmulVariant::RegisterBlocked),
        (7, 13, 5, MatmulVariant::Tiled),
        (7, 13, 5, MatmulVariant::Narrow),
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

#[test]
fn every_entry_point_and_binding_is_declared_as_rust_uses_it() {
    let launches = sample_launches();
    let mut entries = HashSet::new();
    let mut kinds = HashSet::new();
    for (kernel, l) in &launches {
        entries.insert(l.entry);
        kinds.insert(KernelKind::from(kernel));
        let src = l.entry.module().source();
        let code = strip_comments(&src);
        let needle = format!("fn {}(", l.entry.name());
        let at = code
            .find(&needle)
            .unwrap_or_else(|| panic!("{:?}: no {needle}", l.entry));
        assert!(
            code[..at].trim_end().ends_with(')') && code[..at].contains("@compute"),
            "{:?} is not a @compute entry point",
            l.entry
        );
        // One binding per buffer, then the launch's own table when it has one.
        let table = usize::from(!l.table.is_empty());
        assert_eq!(
            l.bindings.len(),
            kernel.arity() + table,
            "{kernel:?}: one binding per buffer"
        );
        if table == 1 {
            let last = l.bindings.last().unwrap();
            assert_eq!(
                last.index, TABLE_BINDING,
                "{kernel:?}: the table comes last"
            );
            assert!(last.read_only, "{kernel:?}: the table is read-only");
        }
        let declared = wgsl_bindings(&src);
        let mut seen = HashSet::new();
        for b in &l.bindings {
            assert!(b.index > 0, "{kernel:?}: binding 0 is the Params uniform");
            assert!(
                seen.insert(b.index),
                "{kernel:?}: binding {} used twice",
                b.index
            );
            let (name, read_only, texture) = declared.get(&b.index).unwrap_or_else(|| {
                panic!(
                    "{kernel:?}: binding {} not declared in {:?}",
                    b.index,
                    l.entry.module()
                )
            });
            assert_eq!(
                *read_only, b.read_only,
                "{kernel:?}: access of binding {} ({name})",
                b.index
            );
            assert_eq!(
                *texture, b.texture,
                "{kernel:?}: binding {} ({name}) as a texture",
                b.index
            );
        }
        // Every pipeline constant, the entry's and the launch's own, is an `override`.
        for (name, _) in l.entry.constants().iter().chain(&l.constants) {
            assert!(
                code.contains(&format!("override {name}:")),
                "{:?}: constant {name} is not an override of {:?}",
                l.entry,
                l.entry.module()
            );
        }
        // The params blob is the module's struct, 4 bytes a field.
        assert_eq!(l.params.len(), 4 * l.entry.module().params_fields().len());
    }
    let missing: Vec<Entry> = Entry::iter().filter(|e| !entries.contains(e)).collect();
    assert!(
        missing.is_empty(),
        "entry points no launch uses: {missing:?}"
    );
    let missing: Vec<KernelKind> = KernelKind::iter().filter(|k| !kinds.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "kernel variants without a sample launch: {missing:?}"
    );
}

#[test]
fn operand_textures_match_the_shaders_and_fall_back_when_too_large() {
    let consts = wgsl_consts(&Module::MatmulTexture.source());
    assert_eq!(consts.get("TEXTURE_ROW"), Some(&(TEXTURE_ROW as u32)));
    let launch = |n: usize, variant| {
        let kernel = Kernel::MatMul {
            m: 4,
            k: 4,
            n,
            trans_a: false,
            trans_b: false,
            accumulate: false,
        };
        gpu_launch(&kernel, variant)
    };
    // B of 4×n floats: n vec4s. The largest that fits, and one more row of texels.
    let fits = TEXTURE_ROW * TEXTURE_MAX_ROWS;
    let too_big = fits + TEXTURE_ROW;
    assert_eq!(
        launch(fits, MatmulVariant::Texture16).entry,
        Entry::MatmulTexture16
    );
    assert_eq!(
        launch(too_big, MatmulVariant::Texture16).entry,
        Entry::MatmulVec16
    );
    assert_eq!(
        launch(too_big, MatmulVariant::Texture8).entry,
        Entry::MatmulVec8
    );
    // Unaligned shapes read scalars: the 4×4 storage kernel, as for the other variants.
    let odd = Kernel::MatMul {
        m: 7,
        k: 13,
        n: 5,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    let l = gpu_launch(&odd, MatmulVariant::Texture16);
    assert_eq!(l.entry, Entry::MatmulRegblock);
    assert!(l.bindings.iter().all(|b| !b.texture));
}

#[test]
fn op_codes_match_the_shaders() {
    let ew = wgsl_consts(&Module::Elementwise.source());
    for act in ActKind::all() {
        let name = format!("ACT_{}", act.keras_name().to_uppercase());
        assert_eq!(ew.get(&name), Some(&act.code().0), "{name}");
    }
    let loss = wgsl_consts(&Module::Loss.source());
    for (kind, name) in [
        (LossKind::SoftmaxCrossEntropy, "LOSS_SOFTMAX_CROSS_ENTROPY"),
        (
            LossKind::SigmoidBinaryCrossEntropy,
            "LOSS_SIGMOID_BINARY_CROSS_ENTROPY",
        ),
        (LossKind::MeanSquaredError, "LOSS_MEAN_SQUARED_ERROR"),
    ] {
        assert_eq!(loss.get(name), Some(&kind.code()), "{name}");
    }
    let clip = wgsl_consts(&Module::GradStats.source());
    for (mode, name) in [
        (ClipMode::None, "CLIP_NONE"),
        (ClipMode::PerTensorNorm(1.0), "CLIP_PER_TENSOR_NORM"),
        (ClipMode::GlobalNorm(1.0), "CLIP_GLOBAL_NORM"),
    ] {
        assert_eq!(clip.get(name), Some(&mode.code().0), "{name}");
    }
    let health = wgsl_consts(&Module::Health.source());
    for (code, name) in [(0u32, "SAT_NONE"), (1, "SAT_TANH"), (2, "SAT_SIGMOID")] {
        assert_eq!(health.get(name), Some(&code), "{name}");
        // The CPU reference's meaning of the code.
        let y = 0.995;
        assert_eq!(
            steadygrad::backend::ops::health::saturated(code, y),
            code != 0,
            "{name}"
        );
    }
    assert_eq!(
        clip.get("NO_STEP"),
        Some(&steadygrad::backend::ops::grad_stats::NO_STEP)
    );
}
