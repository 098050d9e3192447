//! The matmul autotuner: it times the candidates once per shape class and adapter, keeps
//! the choice in its cache file, reads it back instead of timing again, yields to a forced
//! variant, and training gives the same weights whichever variant runs.

mod common;

use common::*;
use steadygrad::backend::autotune::{shape_class, tuning_shape, TuneCache, CANDIDATES};
use steadygrad::backend::{Backend, GpuBackend, GpuOptions, Kernel, MatmulVariant};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::optim::Sgd;
use steadygrad::train::{FitOptions, LossName, Session};

fn options(cache: &std::path::Path, forced: Option<MatmulVariant>) -> GpuOptions {
    GpuOptions {
        matmul: forced,
        tune_cache: Some(cache.to_path_buf()),
        // Time on every adapter (by default CPU adapters take built-in choices).
        tuning: steadygrad::backend::autotune::Tuning::Always,
        ..GpuOptions::from_env().unwrap()
    }
}

fn prepare_matmul(g: &mut GpuBackend, m: usize, k: usize, n: usize) {
    let a = g.alloc(m * k).unwrap();
    let b = g.alloc(k * n).unwrap();
    let c = g.alloc(m * n).unwrap();
    let kernel = Kernel::MatMul {
        m,
        k,
        n,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    g.prepare(&kernel, &[a, b, c]).unwrap();
}

#[test]
fn candidates_are_timed_on_the_shape_or_a_proxy_of_its_class() {
    // Up to 2^26 multiply-adds: the shape itself (the seed network's largest at batch 256).
    assert_eq!(tuning_shape(784, 256, 300), (784, 256, 300));
    assert_eq!(tuning_shape(7, 13, 5), (7, 13, 5));
    // Larger: a proxy in the same class but for its size (transposes, vec4 alignment and
    // rows of a multiple of 1 KiB kept).
    for (m, k, n) in [
        (1024, 1024, 1024),
        (2048, 784, 300),
        (1001, 998, 1030),
        (512, 300, 1024),
        // Few rows, columns in groups of 16 (the `g` classes).
        (9, 70_000, 1008),
    ] {
        let (pm, pk, pn) = tuning_shape(m, k, n);
        assert!(
            pm <= 256 && pk <= 256 && pn <= 256,
            "{m}x{k}x{n}: proxy {pm}x{pk}x{pn}"
        );
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (real, proxy) = (
                shape_class(m, k, n, ta, tb),
                shape_class(pm, pk, pn, ta, tb),
            );
            let traits = |c: &str| c.split('-').next().unwrap().to_string();
            assert_eq!(traits(&real), traits(&proxy), "{m}x{k}x{n} {ta} {tb}");
        }
    }
    // Rows of a multiple of 256 floats form their own class.
    assert_eq!(shape_class(256, 256, 256, true, false), "TNvp-12");
    assert_eq!(shape_class(252, 252, 252, true, false), "TNv-11");
}

#[test]
fn choices_are_cached_reused_and_yield_to_a_forced_variant() {
    let Some(_) = gpu() else { return };
    let dir = std::env::temp_dir().join(format!("steadygrad-autotune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = dir.join("matmul-autotune.json");
    let class = shape_class(32, 784, 300, false, false);

    // Tuned once and written down.
    let mut g = GpuBackend::new(&options(&cache, None)).unwrap();
    prepare_matmul(&mut g, 32, 784, 300);
    let chosen = g.matmul_variant();
    let adapter_key = {
        let text = std::fs::read_to_string(&cache).expect("the cache file is written");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (key, classes) = v.as_object().unwrap().iter().next().unwrap();
        assert_eq!(classes[&class], chosen.name());
        key.clone()
    };

    // A choice in the cache is used as it is (here one the timing would not pick).
    let other = CANDIDATES.into_iter().find(|v| *v != chosen).unwrap();
    let mut c = TuneCache::load(&cache);
    c.set(&adapter_key, &class, other);
    c.save(&cache).unwrap();
    let mut g = GpuBackend::new(&options(&cache, None)).unwrap();
    prepare_matmul(&mut g, 32, 784, 300);
    assert_eq!(g.matmul_variant(), other, "the cached choice is reused");

    // A forced variant wins over the cache, and leaves it alone.
    let mut g = GpuBackend::new(&options(&cache, Some(chosen))).unwrap();
    prepare_matmul(&mut g, 32, 784, 300);
    assert_eq!(g.matmul_variant(), chosen);
    assert_eq!(
        TuneCache::load(&cache).get(&adapter_key, &class),
        Some(other)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn training_gives_the_same_weights_whichever_variant_runs() {
    let Some(_) = gpu() else { return };
    let (train, _) =
        load_mnist_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    let data = train.limit(96);
    let dir = std::env::temp_dir().join(format!("steadygrad-autotune-w-{}", std::process::id()));
    let mut results = Vec::new();
    let candidates = GpuBackend::new(&options(&dir.join("c.json"), None))
        .unwrap()
        .candidates();
    assert!(candidates.len() >= CANDIDATES.len() - 1);
    for v in candidates {
        let g = GpuBackend::new(&options(&dir.join("c.json"), Some(v))).unwrap();
        let mut s = Session::with_backend(seed_network(false), Box::new(g)).unwrap();
        s.compile(
            Box::new(Sgd::new(0.01).momentum(0.9).nesterov(true)),
            LossName::SparseCategoricalCrossentropy,
        )
        .unwrap();
        let opts = FitOptions {
            batch_size: 32,
            shuffle: false,
            max_steps: Some(3),
            ..Default::default()
        };
        s.fit(&data, None, &opts, &mut []).unwrap();
        results.push(s.get_weights().unwrap());
    }
    for other in &results[1..] {
        for (a, b) in results[0].iter().zip(other) {
            assert_close(&a.name, &b.data, &a.data, 1e-5, 1e-4);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_runs_every_variant_against_the_reference() {
    let Some(_) = gpu() else { return };
    let (ok, out, err) = steadygrad(&["verify", "--quick", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let variants = v["variants"].as_array().unwrap();
    // Every variant this adapter runs (the subgroup kernel only with 8-lane subgroups, as
    // llvmpipe's).
    let g = GpuBackend::new(&GpuOptions::from_env().unwrap()).unwrap();
    assert_eq!(variants.len(), g.candidates().len());
    if g.info().adapter.starts_with("llvmpipe") {
        assert_eq!(variants.len(), CANDIDATES.len());
    }
    for x in variants {
        assert_eq!(x["passed"], true, "{x}");
        assert_eq!(x["runs"], 12, "{x}");
        assert!(x["worst_in_tolerances"].as_f64().unwrap() <= 1.0, "{x}");
    }
}
