//! Every kernel: the GPU equals the CPU reference on random inputs with edge values and
//! odd sizes.

mod batch_norm_sync;
#[path = "../common/mod.rs"]
mod common;
mod elementwise;
mod long;
mod matmul;
mod optimizer;
mod regularization;
mod window;

use common::*;
use std::collections::HashSet;
use std::sync::Mutex;

use steadygrad::backend::autotune::CANDIDATES;
use steadygrad::backend::kernel::{arena_end, segment_count};
use steadygrad::backend::{
    ActKind, ArenaTensor, Backend, ClipMode, CpuBackend, GpuBackend, GpuOptions, Kernel,
    KernelKind, LossKind, STEP_WORDS,
};
use strum::IntoEnumIterator;

/// The kernel variants a parity case has run for.
static COVERED: Mutex<Vec<KernelKind>> = Mutex::new(Vec::new());

/// u32 values as the f32 words that carry them (labels, indices, the step record).
fn words(v: &[u32]) -> Vec<f32> {
    v.iter().map(|&u| f32::from_bits(u)).collect()
}

/// A step record: step, batch offset, learning rate, optimizer scalars.
fn step_record(step: u32, offset: u32, lr: f32, scalars: [f32; 4]) -> Vec<f32> {
    let mut r = words(&[step, offset]);
    r.push(lr);
    r.push(0.0);
    r.extend(scalars);
    assert_eq!(r.len(), STEP_WORDS);
    r
}

/// Runs `kernel` on the CPU reference and on `gpu` with the same buffers and returns both
/// sets of buffers after the launch.
fn both(
    gpu: &mut dyn Backend,
    kernel: &Kernel,
    inputs: &[Vec<f32>],
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    COVERED.lock().unwrap().push(KernelKind::from(kernel));
    let mut cpu = CpuBackend::new();
    let mut out = Vec::new();
    for be in [&mut cpu as &mut dyn Backend, gpu] {
        let ids: Vec<_> = inputs.iter().map(|d| be.upload(d).unwrap()).collect();
        be.run(kernel, &ids).unwrap();
        out.push(ids.iter().map(|b| be.read(*b).unwrap()).collect::<Vec<_>>());
    }
    let g = out.pop().unwrap();
    let c = out.pop().unwrap();
    (c, g)
}

/// The GPU backend as the adapter comes, then forced to read through storage and through
/// textures (a CPU adapter's choice): the kernels that have both entry kinds run both ways.
fn every_read_path() -> Vec<GpuBackend> {
    let Some(g) = gpu() else { return Vec::new() };
    let mut backends = vec![g];
    for textures in [false, true] {
        let opts = GpuOptions {
            texture_reads: Some(textures),
            ..GpuOptions::from_env().unwrap()
        };
        backends.push(GpuBackend::new(&opts).unwrap());
    }
    backends
}

/// Runs `kernel` on the CPU reference alone and returns its buffers after the launch.
fn run_cpu(kernel: &Kernel, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut cpu = CpuBackend::new();
    let ids: Vec<_> = inputs.iter().map(|d| cpu.upload(d).unwrap()).collect();
    cpu.run(kernel, &ids).unwrap();
    ids.iter().map(|b| cpu.read(*b).unwrap()).collect()
}

fn check(gpu: &mut dyn Backend, kernel: Kernel, inputs: Vec<Vec<f32>>, tol: f64) {
    check_scaled(gpu, kernel, inputs, tol, None);
}

/// ‖v‖ in f64.
fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt()
}

/// [`check`], with buffer `scale.0`'s error measured against `scale.1` where that is the
/// larger: for a product, the same product of the inputs' magnitudes (Σ|a||b|). Sums that
/// cancel to near zero carry the rounding of their terms, not of their result, and a GPU
/// may add in another order (NVIDIA's Vulkan driver does): measured against the result
/// alone, a rounding of 1e-4 on terms of ±90 reads as an error of 1e-2.
fn check_scaled(
    gpu: &mut dyn Backend,
    kernel: Kernel,
    inputs: Vec<Vec<f32>>,
    tol: f64,
    scale: Option<(usize, Vec<f32>)>,
) {
    let (c, g) = both(gpu, &kernel, &inputs);
    for (i, (cv, gv)) in c.iter().zip(&g).enumerate() {
        assert!(
            gv.iter()
                .zip(cv)
                .all(|(a, b)| a.is_finite() == b.is_finite()),
            "{kernel:?} buffer {i}: finiteness differs"
        );
        // Bit-identical values (also NaN-coded words such as "no step yet") agree, and so
        // do two NaNs whatever their bits (a GPU's NaN need not carry the CPU's).
        let (gv, cv): (Vec<f32>, Vec<f32>) = gv
            .iter()
            .zip(cv)
            .map(|(a, b)| {
                if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
                    (0.0, 0.0)
                } else {
                    (*a, *b)
                }
            })
            .unzip();
        let e = match scale.as_ref().filter(|(at, _)| *at == i) {
            Some((_, s)) => {
                let diff: Vec<f32> = gv.iter().zip(&cv).map(|(a, b)| a - b).collect();
                let den = norm(s).max(norm(&cv));
                if den == 0.0 {
                    norm(&diff)
                } else {
                    norm(&diff) / den
                }
            }
            None => rel_err(&gv, &cv),
        };
        assert!(
            e < tol,
            "{kernel:?} buffer {i}: relative error {e:e} ≥ {tol:e}"
        );
    }
}

#[test]
fn bad_launches_are_typed_errors() {
    let mut cpu = CpuBackend::new();
    let a = cpu.alloc(4).unwrap();
    let b = cpu.alloc(4).unwrap();
    let k = Kernel::MatMul {
        m: 3,
        k: 3,
        n: 3,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    assert!(cpu.prepare(&k, &[a, b, a]).is_err());
    assert!(cpu.prepare(&Kernel::Add { n: 4 }, &[a, b]).is_err());
    assert!(cpu.prepare(&Kernel::Add { n: 4 }, &[a, b, a]).is_err());
}

/// Views: reads, writes and launches see exactly the parent's words they cover; views of
/// one parent that overlap are refused as aliases, disjoint ones are not; a launch that
/// would read one view of a buffer and write another is refused (WebGPU binds a buffer
/// read-only or read-write within a dispatch); misplaced views are errors.
#[test]
fn views_alias_their_parents_words() {
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        backends.push(Box::new(g));
    }
    for mut be in backends {
        let parent = be
            .upload(&(0..200).map(|i| i as f32).collect::<Vec<_>>())
            .unwrap();
        let other = be
            .upload(&(0..100).map(|i| i as f32).collect::<Vec<_>>())
            .unwrap();
        let a = be.view(parent, 0, 5).unwrap();
        let b = be.view(parent, 64, 5).unwrap();
        let c = be.view(other, 64, 30).unwrap();
        assert_eq!(be.read(b).unwrap(), vec![64.0, 65.0, 66.0, 67.0, 68.0]);
        be.write(b, 1, &[-1.0]).unwrap();
        assert_eq!(be.read(parent).unwrap()[65], -1.0);
        // c = a + b, both read from one buffer, written into a view of another.
        let add = Kernel::Add { n: 5 };
        be.run(&add, &[a, b, c]).unwrap();
        let all = be.read(other).unwrap();
        assert_eq!(&all[64..69], &[64.0, 0.0, 68.0, 70.0, 72.0]);
        assert_eq!(all[69], 69.0, "words past the view are untouched");
        assert_eq!(all[5], 5.0);
        let wide = be.view(parent, 0, 100).unwrap();
        assert!(
            be.prepare(&add, &[wide, b, c]).is_err(),
            "overlapping views"
        );
        let d = be.view(parent, 128, 70).unwrap();
        let e = be.prepare(&add, &[a, b, d]).unwrap_err().to_string();
        assert!(e.contains("one way"), "{e}");
        assert!(be.view(parent, 3, 5).is_err(), "unaligned offset");
        assert!(be.view(parent, 192, 9).is_err(), "past the end");
        assert_eq!(be.len(d), 70);
    }
}

fn words_of(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The whole GPU-vs-CPU parity suite, then the check that it covered every kernel variant:
/// a new `Kernel` variant without a parity case fails here.
#[test]
fn walks_past_the_loop_limit_match_the_reference() {
    long::long_columns_match_the_reference();
}

#[test]
fn every_kernel_variant_matches_the_reference() {
    let Some(_) = gpu() else { return };
    matmul::matmul_matches_reference_for_odd_sizes_and_both_variants();
    elementwise::activations_match_reference_forward_and_backward();
    elementwise::row_and_column_kernels_match_reference();
    elementwise::losses_and_metrics_match_reference_for_large_logits();
    elementwise::dense_loss_matches_reference_and_the_kernels_it_replaces();
    elementwise::batch_norm_kernels_match_reference_including_large_means();
    batch_norm_sync::synchronized_batch_norm_matches_reference_and_the_whole_batch();
    batch_norm_sync::dense_batch_norm_backward_matches_reference();
    optimizer::optimizer_kernels_match_reference();
    optimizer::update_rules_match_reference();
    optimizer::gathers_match_reference();
    optimizer::health_kernels_match_reference();
    window::window_kernels_match_reference();
    window::direct_convolutions_match_reference();
    window::conv_input_grad_matches_reference();
    window::gemm_convolutions_match_reference();
    regularization::regularization_kernels_match_reference();
    let covered: HashSet<KernelKind> = COVERED.lock().unwrap().iter().copied().collect();
    let missing: Vec<KernelKind> = KernelKind::iter()
        .filter(|k| !covered.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "kernel variants without a parity case: {missing:?}"
    );
}
