//! The typed contract between Rust and WGSL, checked by compiling every shader module
//! through naga (the WGSL front end wgpu itself uses): each module's source is generated
//! declarations (its `Params` from the Rust struct, its buffers from the kernel's declared
//! [`Arg`]s) followed by its files. For every kernel launch the backends build, the module
//! must parse and validate; its entry point must be a `@compute` function that uses
//! exactly the bindings the launch binds, writes every buffer its kernel declares written
//! (and no other: a write to a `read` buffer fails validation), and declares every
//! pipeline constant as an `override`; every op code the shaders switch on must equal
//! Rust's. A shader edited without its Rust side (or the reverse) fails here, before any
//! GPU runs it.

mod common;
#[path = "common/samples.rs"]
mod samples;

use std::collections::{BTreeSet, HashMap, HashSet};

use naga::valid::{Capabilities, GlobalUse, ValidationFlags, Validator};
use steadygrad::backend::contract::{
    shader_file, shader_files, Entry, Module, ACT_FORWARD, ADD, CLIP_SCALE, LOSS, MATMUL_TEXTURE,
    MODULES, TEXTURE_MAX_ROWS, TEXTURE_ROW,
};
use steadygrad::backend::ops::gpu_launch;
use steadygrad::backend::signature::{Access, Arg, TABLE_BINDING};
use steadygrad::backend::{
    ActKind, ArenaTensor, ClipMode, Kernel, KernelKind, LossKind, MatmulVariant,
};
use strum::IntoEnumIterator;

/// A module compiled by naga, with its analysis.
struct Compiled {
    module: naga::Module,
    info: naga::valid::ModuleInfo,
}

fn compile(src: &str) -> Result<Compiled, String> {
    let module = naga::front::wgsl::parse_str(src).map_err(|e| e.emit_to_string(src))?;
    // Subgroup operations: the subgroup matmul module (requested only where the device has
    // 8-lane subgroups).
    let caps = Capabilities::default() | Capabilities::SUBGROUP;
    let info = Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map_err(|e| e.emit_to_string(src))?;
    Ok(Compiled { module, info })
}

impl Compiled {
    /// Binding number → how entry point `name` uses it (only the bindings it uses).
    fn uses(&self, name: &str) -> Option<HashMap<u32, GlobalUse>> {
        let (i, ep) = self
            .module
            .entry_points
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == name)?;
        assert_eq!(
            ep.stage,
            naga::ShaderStage::Compute,
            "{name} is not @compute"
        );
        let f = self.info.get_entry_point(i);
        Some(
            self.module
                .global_variables
                .iter()
                .filter_map(|(h, g)| {
                    let b = g.binding.as_ref()?;
                    let u = f[h];
                    (!u.is_empty()).then_some((b.binding, u))
                })
                .collect(),
        )
    }

    /// The value of `const NAME: u32`.
    fn u32_const(&self, name: &str) -> Option<u32> {
        let (_, c) = self
            .module
            .constants
            .iter()
            .find(|(_, c)| c.name.as_deref() == Some(name))?;
        match self.module.global_expressions[c.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => Some(v),
            ref other => panic!("{name} = {other:?}"),
        }
    }

    fn overrides(&self) -> HashSet<String> {
        self.module
            .overrides
            .iter()
            .filter_map(|(_, o)| o.name.clone())
            .collect()
    }
}

/// The buffers' declarations as the module sees them: name, access, element type.
fn signature(args: &[Arg]) -> Vec<(&'static str, Access, &'static str)> {
    args.iter()
        .map(|a| (a.name, a.access, a.elem.wgsl()))
        .collect()
}

#[test]
fn every_entry_point_uses_exactly_the_bindings_its_launch_gives_it() {
    let launches = samples::sample_launches();
    let mut entries = HashSet::new();
    let mut kinds = HashSet::new();
    let mut compiled: HashMap<&str, Compiled> = HashMap::new();
    let mut signatures: HashMap<&str, Vec<(&str, Access, &str)>> = HashMap::new();
    for (kernel, l) in &launches {
        entries.insert(l.entry);
        kinds.insert(KernelKind::from(kernel));
        let module = l.entry.module();
        let args = kernel.args();
        // Every kernel of a module takes buffers of the same names, accesses and types.
        let sig = signature(&args);
        let first = signatures.entry(module.name).or_insert_with(|| sig.clone());
        assert_eq!(
            *first, sig,
            "{kernel:?}: module {} serves kernels of other buffers",
            module.name
        );
        let c = compiled.entry(module.name).or_insert_with(|| {
            compile(&module.source(&args))
                .unwrap_or_else(|e| panic!("module {} does not compile:\n{e}", module.name))
        });
        let uses = c
            .uses(l.entry.name())
            .unwrap_or_else(|| panic!("{:?}: no entry point {}", l.entry, l.entry.name()));
        let bindings = l.entry.bindings(&args);
        let mut bound: BTreeSet<u32> = bindings.iter().map(|b| b.index).collect();
        bound.insert(0);
        let used: BTreeSet<u32> = uses.keys().copied().collect();
        assert_eq!(
            used, bound,
            "{kernel:?}: {:?} uses bindings {used:?}, its launch binds {bound:?} (0 = Params)",
            l.entry
        );
        // A buffer read through a texture is written through its storage view, if at all.
        for b in &bindings {
            let Some(i) = b.arg else { continue };
            let arg = &args[i];
            let writes = uses[&b.index].contains(GlobalUse::WRITE);
            let expected = arg.access == Access::ReadWrite && !b.texture;
            assert_eq!(
                writes,
                expected,
                "{kernel:?}: {:?} {} buffer {} it declares {:?}",
                l.entry,
                if writes { "writes" } else { "never writes" },
                arg.name,
                arg.access
            );
        }
        // The table comes with the modules that read one.
        assert_eq!(
            !l.table.is_empty(),
            module.table,
            "{kernel:?}: a table where its module reads one"
        );
        if module.table {
            assert!(bindings
                .iter()
                .any(|b| b.index == TABLE_BINDING && b.read_only));
        }
        // Every pipeline constant, the entry's and the launch's own, is an `override`.
        let overrides = c.overrides();
        for (name, _) in l.entry.constants().iter().chain(&l.constants) {
            assert!(
                overrides.contains(*name),
                "{:?}: constant {name} is not an override of {}",
                l.entry,
                module.name
            );
        }
        // The params blob is the module's struct, 4 bytes a field.
        assert_eq!(l.params.len(), 4 * module.params.len());
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
fn a_shader_that_disagrees_with_its_kernel_fails_to_compile() {
    let add = Kernel::Add { n: 4 }.args();
    assert!(compile(&ADD.source(&add)).is_ok());
    // Writing a buffer the kernel declares read-only.
    let src = ADD
        .source(&add)
        .replace("c[i] = a[i] + b[i];", "a[i] = b[i];");
    assert!(compile(&src).is_err());
    // A buffer named otherwise in Rust than in the WGSL.
    let mut renamed = add.clone();
    renamed[1].name = "other";
    assert!(compile(&ADD.source(&renamed)).is_err());
    // A Params field the WGSL reads but Rust does not declare.
    let src = ADD
        .source(&add)
        .replace("if (i >= p.n)", "if (i >= p.count)");
    assert!(compile(&src).is_err());
}

#[test]
fn params_are_four_byte_scalars_and_every_shader_file_is_used() {
    let mut used = HashSet::new();
    for m in MODULES {
        // Only 4-byte scalars: the Rust struct has no padding the WGSL one lacks.
        assert!(
            m.params.iter().all(|(_, t)| *t == "u32" || *t == "f32"),
            "{}",
            m.name
        );
        for f in m.files {
            assert!(shader_file(f).is_some(), "{}: no shaders/{f}", m.name);
            used.insert(*f);
        }
    }
    let names: HashSet<&str> = MODULES.iter().map(|m| m.name).collect();
    assert_eq!(names.len(), MODULES.len(), "module names are unique");
    let orphans: Vec<&str> = shader_files().filter(|f| !used.contains(f)).collect();
    assert!(
        orphans.is_empty(),
        "shader files no module uses: {orphans:?}"
    );
    // Every entry's module is listed.
    for e in Entry::iter() {
        assert!(MODULES.iter().any(|m| m.name == e.module().name), "{e:?}");
    }
}

#[test]
fn operand_textures_match_the_shaders_and_fall_back_when_too_large() {
    let mm = Kernel::MatMul {
        m: 4,
        k: 4,
        n: 4,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    let c = compile(&MATMUL_TEXTURE.source(&mm.args())).unwrap();
    assert_eq!(c.u32_const("TEXTURE_ROW"), Some(TEXTURE_ROW as u32));
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
    assert!(l.entry.bindings(&odd.args()).iter().all(|b| !b.texture));
}

/// A module compiled for a kernel it serves.
fn compiled(module: &'static Module, kernel: Kernel) -> Compiled {
    compile(&module.source(&kernel.args())).unwrap()
}

#[test]
fn op_codes_match_the_shaders() {
    let ew = compiled(
        &ACT_FORWARD,
        Kernel::ActForward {
            act: ActKind::Relu,
            n: 1,
            training: false,
            seed: 0,
        },
    );
    for act in ActKind::all() {
        let name = format!("ACT_{}", act.keras_name().to_uppercase());
        assert_eq!(ew.u32_const(&name), Some(act.code().0), "{name}");
    }
    let loss = compiled(
        &LOSS,
        Kernel::Loss {
            kind: LossKind::MeanSquaredError,
            rows: 1,
            cols: 1,
            total: 1,
        },
    );
    for (kind, name) in [
        (LossKind::SoftmaxCrossEntropy, "LOSS_SOFTMAX_CROSS_ENTROPY"),
        (
            LossKind::SigmoidBinaryCrossEntropy,
            "LOSS_SIGMOID_BINARY_CROSS_ENTROPY",
        ),
        (LossKind::MeanSquaredError, "LOSS_MEAN_SQUARED_ERROR"),
    ] {
        assert_eq!(loss.u32_const(name), Some(kind.code()), "{name}");
    }
    let tensors = ArenaTensor::pack(&[5]);
    let clip = compiled(
        &CLIP_SCALE,
        Kernel::ClipScale {
            tensors,
            mode: ClipMode::None,
        },
    );
    for (mode, name) in [
        (ClipMode::None, "CLIP_NONE"),
        (ClipMode::PerTensorNorm(1.0), "CLIP_PER_TENSOR_NORM"),
        (ClipMode::GlobalNorm(1.0), "CLIP_GLOBAL_NORM"),
    ] {
        assert_eq!(clip.u32_const(name), Some(mode.code().0), "{name}");
    }
    assert_eq!(
        clip.u32_const("NO_STEP"),
        Some(steadygrad::backend::ops::grad_stats::NO_STEP)
    );
    let stats = compiled(
        &steadygrad::backend::contract::GRAD_STATS,
        Kernel::GradStats {
            tensors: ArenaTensor::pack(&[5]),
            first_segment: 0,
        },
    );
    assert_eq!(
        stats.u32_const("SEGMENT"),
        Some(steadygrad::backend::kernel::SEGMENT as u32)
    );
    let health = compiled(
        &steadygrad::backend::contract::ACT_STATS,
        Kernel::ActStats {
            rows: 1,
            cols: 1,
            saturation: 0,
            offset: 0,
        },
    );
    for (code, name) in [(0u32, "SAT_NONE"), (1, "SAT_TANH"), (2, "SAT_SIGMOID")] {
        assert_eq!(health.u32_const(name), Some(code), "{name}");
        // The CPU reference's meaning of the code.
        let y = 0.995;
        assert_eq!(
            steadygrad::backend::ops::health::saturated(code, y),
            code != 0,
            "{name}"
        );
    }
}
