//! `steadygrad verify`: every matmul kernel variant against the CPU reference on this
//! adapter, one line each.
//!
//! `steadygrad tune`: time every matmul kernel variant on this machine's adapter for the
//! shape classes of the seed network and the example CNN, and cache the choices. `train`
//! times new classes on its own on GPUs; CPU adapters (llvmpipe, SwiftShader) take built-in
//! choices instead, since timing there compiles every variant (about a minute) — this
//! command is how they get choices measured on the machine itself.

use steadygrad::backend::autotune::Tuning;
use steadygrad::backend::{Backend, GpuBackend, GpuOptions};
use steadygrad::data::{Dataset, Samples};
use steadygrad::nn::Sequential;
use steadygrad::optim::Sgd;
use steadygrad::train::{Device, FitOptions, LossName, Session};
use steadygrad::{Error, Result};

use super::args::{TuneArgs, VerifyArgs};

/// `batch` synthetic samples of `model`'s input shape with labels among its outputs (the
/// shapes matter, not the values).
fn samples(model: &Sequential, batch: usize) -> Result<Dataset> {
    let shape = model.input_shape().to_vec();
    let features: usize = shape.iter().product();
    let x: Vec<u8> = (0..batch * features)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let classes = model.output_units().max(1);
    let y: Vec<u32> = (0..batch).map(|i| (i % classes) as u32).collect();
    Dataset::new(Samples::U8(x), y, shape)
}

/// `steadygrad tune`: the shape classes of the seed network and the example CNN (training
/// at batch 32 and 256, evaluation at 256), of `--model-config`'s model likewise, and of
/// `bench`'s square matmuls.
pub fn tune(a: TuneArgs) -> Result<()> {
    let opts = GpuOptions {
        tuning: Tuning::Always,
        announce: !a.json,
        ..GpuOptions::from_env()?
    };
    // The benchmark models (the example CNN built in, so the command works anywhere).
    let mut models = vec![
        (
            "seed network".to_string(),
            steadygrad::bench::model("seed_mlp")?,
        ),
        ("example CNN".to_string(), steadygrad::bench::model("cnn")?),
    ];
    if let Some(path) = &a.model_config {
        let model = steadygrad::io::model_from_json_file(path, 42)?;
        models.push((format!("model of {}", path.display()), model));
    }
    let mut g = GpuBackend::new(&opts)?;
    let adapter = g.info().adapter;
    g.forget_tuning()?;
    drop(g);
    if !a.json {
        let names: Vec<&str> = models.iter().map(|(n, _)| n.as_str()).collect();
        eprintln!(
            "tuning kernels for {adapter}, once: the {} at batches 32 and 256, and bench's square matmuls",
            names.join(", the ")
        );
    }
    let start = std::time::Instant::now();
    for (name, model) in models {
        for batch in [32, 256] {
            let mut s = Session::new_with(model.clone(), Device::Gpu, &opts)?;
            s.compile(
                Box::new(Sgd::new(0.01)),
                LossName::SparseCategoricalCrossentropy,
            )?;
            let data = samples(&model, batch)?;
            let fit = FitOptions {
                epochs: 1,
                batch_size: batch,
                shuffle: false,
                max_steps: Some(1),
                ..Default::default()
            };
            s.fit(&data, None, &fit, &mut []).map_err(|e| {
                Error::Config(format!("tuning on the {name} at batch {batch}: {e}"))
            })?;
            s.evaluate(&data, 256)?;
        }
    }
    // The square matmuls `steadygrad bench` times.
    let mut g = GpuBackend::new(&opts)?;
    for n in [256, 512, 1024, 2048] {
        let bufs = [g.alloc(n * n)?, g.alloc(n * n)?, g.alloc(n * n)?];
        let kernel = steadygrad::backend::Kernel::MatMul {
            m: n,
            k: n,
            n,
            trans_a: false,
            trans_b: false,
            accumulate: false,
        };
        g.prepare(&kernel, &bufs)?;
        for b in bufs {
            g.free(b);
        }
    }
    drop(g);
    let g = GpuBackend::new(&GpuOptions {
        tuning: Tuning::Never,
        ..opts
    })?;
    let (choices, path) = g.tuned_choices();
    let secs = start.elapsed().as_secs_f64();
    let where_ = path.map_or("nowhere (no cache folder)".into(), |p| {
        p.display().to_string()
    });
    if a.json {
        let map: serde_json::Map<String, serde_json::Value> = choices
            .iter()
            .map(|(c, v)| (c.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        println!(
            "{}",
            serde_json::json!({"adapter": adapter, "seconds": secs, "cache": where_, "choices": map})
        );
    } else {
        for (c, v) in &choices {
            println!("{c:<10} {v}");
        }
        eprintln!(
            "tuned {} shape classes for {adapter} in {secs:.1} s; cached in {where_}",
            choices.len()
        );
    }
    Ok(())
}

/// `steadygrad verify`.
pub fn verify(a: VerifyArgs) -> Result<()> {
    use steadygrad::backend::gpu::verify::AWKWARD_SHAPES;
    let mut g = GpuBackend::new(&GpuOptions {
        tuning: Tuning::Never,
        ..GpuOptions::from_env()?
    })?;
    let adapter = g.info().adapter;
    let shapes: &[(usize, usize, usize)] = if a.quick {
        &[(7, 13, 5), (31, 784, 300), (9, 70_000, 16)]
    } else {
        &AWKWARD_SHAPES
    };
    if !a.json {
        eprintln!(
            "verifying every matmul variant on {adapter} against the CPU reference: {} shapes × 4 transposes",
            shapes.len()
        );
    }
    let checks = g.verify_variants(shapes);
    let failed = checks.iter().filter(|c| !c.passed()).count();
    if a.json {
        let variants: Vec<serde_json::Value> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "variant": c.variant.name(),
                    "passed": c.passed(),
                    "runs": c.runs,
                    "worst_in_tolerances": if c.worst.is_finite() { serde_json::json!(c.worst) } else { serde_json::Value::Null },
                    "failure": c.failure,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"adapter": adapter, "failed": failed, "variants": variants})
        );
    } else {
        for c in &checks {
            let verdict = if c.passed() { "passed" } else { "FAILED" };
            let worst = if c.worst.is_finite() {
                format!("worst {:.3} of the tolerance", c.worst)
            } else {
                "did not run".into()
            };
            let why = c
                .failure
                .as_deref()
                .map(|f| format!(" — {f}"))
                .unwrap_or_default();
            println!(
                "{:<14} {verdict:<6} {:>3} runs, {worst}{why}",
                c.variant.name(),
                c.runs
            );
        }
    }
    if failed > 0 {
        return Err(Error::Gpu(format!(
            "{failed} matmul variant(s) do not match the CPU reference on {adapter}; the autotuner leaves them out"
        )));
    }
    Ok(())
}
