//! Benchmarks, run in one process so the ratios compare like with like:
//! matmul GFLOP/s (GPU vs CPU reference) at 256/512/1024, training-step throughput of the
//! 784-300-100-10 MLP and of the seed network at batch 32 and 256, and the per-step
//! counters (dispatches, submits, bytes moved), which do not depend on timing noise.
//!
//! `cargo bench` (add `-- quick` for smaller sizes).

use std::time::Instant;

use steadygrad::backend::{ActKind, Backend, CpuBackend, GpuBackend, GpuOptions, Kernel};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::Sgd;
use steadygrad::train::{FitOptions, LossName, Session};

fn matmul_gflops(be: &mut dyn Backend, n: usize, reps: usize) -> f64 {
    let a = be.upload(&vec![0.5; n * n]).unwrap();
    let b = be.upload(&vec![0.25; n * n]).unwrap();
    let c = be.alloc(n * n).unwrap();
    let k = Kernel::MatMul {
        m: n,
        k: n,
        n,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    let id = be.prepare(&k, &[a, b, c]).unwrap();
    be.launch(id);
    be.submit().unwrap();
    be.read(c).unwrap();
    let t = Instant::now();
    for _ in 0..reps {
        be.launch(id);
    }
    be.submit().unwrap();
    be.read(c).unwrap(); // waits for completion
    2.0 * (n * n * n) as f64 * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn model(bn: bool) -> Sequential {
    let mut layers = vec![Layer::flatten()];
    if bn {
        layers.push(Layer::batch_norm());
    }
    for h in [300, 100] {
        let act = if bn {
            ActKind::Elu { alpha: 1.0 }
        } else {
            ActKind::Relu
        };
        layers.push(
            Layer::dense(h)
                .activation(act)
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
        );
        if bn {
            layers.push(Layer::batch_norm());
        }
    }
    layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
    Sequential::new(&[28, 28], layers, 1).unwrap()
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let mut gpu = GpuBackend::new(&GpuOptions::from_env().unwrap()).ok();
    match &gpu {
        Some(g) => println!(
            "adapter: {} ({}), matmul variant {:?}",
            g.info().adapter,
            g.info().api,
            g.matmul_variant()
        ),
        None => println!("adapter: none (GPU figures skipped)"),
    }
    println!("\n== matmul (n×n·n×n), GFLOP/s");
    for n in if quick {
        vec![128, 256]
    } else {
        vec![256, 512, 1024]
    } {
        let mut cpu = CpuBackend::new();
        let c = matmul_gflops(&mut cpu, n, 1);
        let g = gpu
            .as_mut()
            .map(|g| matmul_gflops(g, n, if n >= 1024 { 2 } else { 5 }));
        match g {
            Some(g) => println!(
                "n={n:5}  gpu {g:8.2}  cpu-ref {c:8.2}  ratio {:6.1}×",
                g / c
            ),
            None => println!("n={n:5}  cpu-ref {c:8.2}"),
        }
    }
    let (train, _) = load_mnist_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data"
    )))
    .unwrap();
    println!("\n== one training step (SGD momentum 0.9 Nesterov), samples/s and per-step counters");
    for (name, bn) in [
        ("mlp 784-300-100-10 relu", false),
        ("seed network (BN, elu)", true),
    ] {
        for batch in [32usize, 256] {
            let steps = if quick {
                4
            } else if batch == 32 {
                40
            } else {
                10
            };
            let mut line = format!("{name:26} batch {batch:4}");
            for dev in ["gpu", "cpu"] {
                let be: Box<dyn Backend> = if dev == "gpu" {
                    match GpuBackend::new(&GpuOptions::from_env().unwrap()) {
                        Ok(g) => Box::new(g),
                        Err(_) => continue,
                    }
                } else {
                    Box::new(CpuBackend::new())
                };
                let mut m = Session::with_backend(model(bn), be).unwrap();
                m.compile(
                    Box::new(Sgd::new(0.01).momentum(0.9).nesterov(true)),
                    LossName::SparseCategoricalCrossentropy,
                )
                .unwrap();
                let warm = FitOptions {
                    batch_size: batch,
                    max_steps: Some(2),
                    ..Default::default()
                };
                m.fit(&train, None, &warm, &mut []).unwrap();
                let opts = FitOptions {
                    batch_size: batch,
                    max_steps: Some(2 + steps as u64),
                    ..Default::default()
                };
                let t = Instant::now();
                let h = m.fit(&train, None, &opts, &mut []).unwrap();
                let sps = (steps * batch) as f64 / t.elapsed().as_secs_f64();
                let c = h.counters;
                line += &format!("  {dev} {sps:9.0}/s");
                if dev == "gpu" {
                    line += &format!(
                        " [{:.0} dispatches, {:.0} submit, {:.0} B up, {:.0} B down per step]",
                        c.dispatches_per_step,
                        c.submits_per_step,
                        c.upload_bytes_per_step,
                        c.readback_bytes_per_step
                    );
                }
            }
            println!("{line}");
        }
    }
}
