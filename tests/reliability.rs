//! Reliability round 3 (issue 22), one test per defect class: loads never disturb saves,
//! temporaries cannot be hijacked, loading is read-only, saves never delete a user's files,
//! outputs are checked before training, resumed optimizer state is validated, work stays
//! proportional to what was asked, and settings are never silently swallowed.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::steadygrad;
use safetensors::tensor::Dtype;
use steadygrad::backend::ActKind;
use steadygrad::io::tensor_file::tensors_bytes;
use steadygrad::io::{load_model, save_model};
use steadygrad::nn::{Layer, Sequential};
use steadygrad::optim::{OptimizerState, SlotValues};

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "steadygrad-reliability-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn model(seed: u64) -> Sequential {
    Sequential::new(
        &[6],
        vec![
            Layer::dense(5).activation(ActKind::Relu).into(),
            Layer::dense(3).activation(ActKind::Softmax).into(),
        ],
        seed,
    )
    .unwrap()
}

/// A state of `optimizer` with every slot of every weight set to `value`.
fn state(m: &Sequential, optimizer: &str, slots: &[&str], value: f32) -> OptimizerState {
    let mut v: Vec<SlotValues> = m
        .weights()
        .iter()
        .flat_map(|w| {
            slots.iter().map(|s| SlotValues {
                weight: w.name.clone(),
                slot: s.to_string(),
                data: vec![value; w.data.len()],
            })
        })
        .collect();
    v.sort_by(|a, b| (&a.weight, &a.slot).cmp(&(&b.weight, &b.slot)));
    OptimizerState {
        optimizer: optimizer.into(),
        iterations: 3,
        slots: v,
        carry: None,
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

/// `steadygrad predict` of `dir/m` on `dir/x.safetensors` into `dir/p.safetensors`.
fn predict_in(dir: &Path) {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (ok, _, err) = steadygrad(&[
        "predict",
        "--device",
        "cpu",
        "--model",
        &s(&dir.join("m")),
        "--input",
        &s(&dir.join("x.safetensors")),
        "--output",
        &s(&dir.join("p.safetensors")),
    ]);
    assert!(ok, "{err}");
}

// 1. A load during a save never destroys the save, and a load never sees a mix.

#[test]
fn a_load_leaves_a_save_in_progress_alone() {
    let parent = tmp("inflight");
    let dir = parent.join("m");
    save_model(&model(1), None, &dir).unwrap();
    // What a concurrent save looks like mid-way: its temporary folder, partly written.
    let inflight = parent.join(".m.tmp-1-00000000deadbeef");
    std::fs::create_dir(&inflight).unwrap();
    std::fs::write(inflight.join("model.json"), "{").unwrap();
    load_model(&dir).unwrap();
    assert!(
        inflight.join("model.json").exists(),
        "the load removed another save's temporary"
    );
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn racing_saves_and_loads_always_see_one_complete_model() {
    let parent = tmp("race");
    let dir = parent.join("m");
    let (a, b) = (model(1), model(2));
    let (sa, sb) = (
        state(&a, "sgd", &["momentum"], 1.0),
        state(&b, "sgd", &["momentum"], 2.0),
    );
    save_model(&a, Some(&sa), &dir).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (dir, stop) = (dir.clone(), stop.clone());
            let (a, b, sa, sb) = (a.clone(), b.clone(), sa.clone(), sb.clone());
            std::thread::spawn(move || {
                let mut loads = 0;
                while !stop.load(Ordering::Relaxed) {
                    let l = load_model(&dir).expect("a load during saves");
                    let s = l.optimizer.expect("optimizer state");
                    let is_a = l.model.weights() == a.weights() && s == sa;
                    let is_b = l.model.weights() == b.weights() && s == sb;
                    assert!(
                        is_a || is_b,
                        "a torn model: weights of one save, state of another"
                    );
                    loads += 1;
                }
                loads
            })
        })
        .collect();
    for i in 0..150 {
        let (m, s) = if i % 2 == 0 { (&b, &sb) } else { (&a, &sa) };
        save_model(m, Some(s), &dir).expect("every save succeeds");
        let back = load_model(&dir).unwrap();
        assert_eq!(back.model.weights(), m.weights(), "save {i} is what loads");
    }
    stop.store(true, Ordering::Relaxed);
    let loads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(loads > 0);
    assert_eq!(
        entries(&parent),
        vec!["m"],
        "nothing left beside the folder"
    );
    std::fs::remove_dir_all(&parent).unwrap();
}

// 2. Writes never follow links planted where temporaries go.

#[cfg(unix)]
#[test]
fn predict_output_ignores_links_planted_at_temporary_names() {
    let d = tmp("links");
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    save_model(&model(1), None, &d.join("m")).unwrap();
    let x: Vec<f32> = vec![0.5; 4 * 6];
    let input = tensors_bytes(
        &[(
            "x".into(),
            vec![4, 6],
            bytemuck::cast_slice(&x).to_vec(),
            Dtype::F32,
        )],
        None,
    )
    .unwrap();
    std::fs::write(d.join("x.safetensors"), input).unwrap();
    // The names older versions used, for the next few hundred process ids.
    let me = std::process::id();
    for pid in me..me + 300 {
        let _ = std::os::unix::fs::symlink(&victim, d.join(format!(".p.safetensors.tmp-{pid}")));
    }
    predict_in(&d);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    std::fs::remove_dir_all(&d).unwrap();
}

// 3. Loading is read-only.

#[test]
fn loading_changes_nothing_on_disk() {
    let parent = tmp("readonly");
    let dir = parent.join("m");
    save_model(&model(1), None, &dir).unwrap();
    // A stray file with a temporary's name, and a parked folder of another save.
    std::fs::write(parent.join(".m.tmp-x"), "stray").unwrap();
    save_model(&model(2), None, &parent.join("parked")).unwrap();
    std::fs::rename(parent.join("parked"), parent.join(".m.old-1-ab")).unwrap();
    let before = entries(&parent);
    let l = load_model(&dir).unwrap();
    assert_eq!(l.model.weights(), model(1).weights());
    assert_eq!(entries(&parent), before);
    // A missing model never takes a user's file in its place.
    std::fs::write(parent.join(".gone.old-1"), "my notes").unwrap();
    assert!(load_model(&parent.join("gone")).is_err());
    assert!(!parent.join("gone").exists());
    assert_eq!(
        std::fs::read_to_string(parent.join(".gone.old-1")).unwrap(),
        "my notes"
    );
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn a_folder_parked_by_an_interrupted_save_is_read_in_place() {
    let parent = tmp("parked");
    save_model(&model(3), None, &parent.join("x")).unwrap();
    std::fs::rename(parent.join("x"), parent.join(".m.old-7-cd")).unwrap();
    let l = load_model(&parent.join("m")).unwrap();
    assert_eq!(l.model.weights(), model(3).weights());
    assert_eq!(entries(&parent), vec![".m.old-7-cd"], "read, not moved");
    // The next save puts nothing of the user's at risk and cleans up.
    save_model(&model(4), None, &parent.join("m")).unwrap();
    assert_eq!(entries(&parent), vec!["m"]);
    std::fs::remove_dir_all(&parent).unwrap();
}

// 4. Saving over a folder never deletes a user's nested files.

#[test]
fn a_folder_where_a_model_file_should_be_is_never_replaced() {
    let parent = tmp("nested");
    let dir = parent.join("m");
    std::fs::create_dir_all(dir.join("weights.safetensors")).unwrap();
    std::fs::write(dir.join("weights.safetensors/mine.txt"), "mine").unwrap();
    let e = save_model(&model(1), None, &dir).unwrap_err().to_string();
    assert!(e.contains("weights.safetensors"), "{e}");
    assert_eq!(
        std::fs::read_to_string(dir.join("weights.safetensors/mine.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_dir_all(&parent).unwrap();
}

// 5. Outputs are checked before the first step.

#[test]
fn unwritable_outputs_fail_before_training() {
    let d = tmp("outputs");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let base = [
        "train", "--device", "cpu", "--limit", "64", "--hidden", "8", "--epochs", "1",
    ];
    let save = s(&d.join("m"));
    for (flag, path) in [
        ("--history", s(&d)),
        ("--health", "/proc/steadygrad-health.csv".to_string()),
        ("--history", s(&d.join("no/such/folder/h.csv"))),
    ] {
        let mut args: Vec<&str> = base.to_vec();
        args.extend([flag, path.as_str(), "--save", save.as_str()]);
        let (ok, _, err) = steadygrad(&args);
        assert!(!ok);
        assert!(err.contains(flag), "{err}");
        assert!(!err.contains("epoch 1"), "trained first: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!d.join("m").exists());
    }
    let h = s(&d.join("h.csv"));
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--history", h.as_str(), "--health", h.as_str()]);
    let (ok, _, err) = steadygrad(&args);
    assert!(!ok && err.contains("same path"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

// 6. Resumed optimizer state is validated, slot by slot.

/// Named tensors as `tensors_bytes` takes them.
type Tensors = Vec<(String, Vec<usize>, Vec<u8>, Dtype)>;

fn write_state(dir: &Path, tensors: Tensors, opt: &str) {
    let meta = std::collections::HashMap::from([("optimizer".to_string(), opt.to_string())]);
    std::fs::write(
        dir.join("optimizer.safetensors"),
        tensors_bytes(&tensors, Some(meta)).unwrap(),
    )
    .unwrap();
}

fn f32s(v: &[f32]) -> Vec<u8> {
    bytemuck::cast_slice(v).to_vec()
}

#[test]
fn bad_optimizer_state_is_refused_naming_the_slot() {
    let parent = tmp("state");
    let dir = parent.join("m");
    let m = model(1);
    save_model(&m, None, &dir).unwrap();
    let slots = |slot: &str, bad: f32| -> Tensors {
        m.weights()
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut v = vec![0.5f32; w.data.len()];
                if i == 0 {
                    v[2] = bad;
                }
                (
                    OptimizerState::keras_name(&w.name, slot),
                    w.shape.clone(),
                    f32s(&v),
                    Dtype::F32,
                )
            })
            .collect()
    };
    let iteration = |n: u64| {
        (
            "iteration".to_string(),
            vec![1],
            n.to_le_bytes().to_vec(),
            Dtype::U64,
        )
    };
    let cases: Vec<(&str, Tensors, &str)> = vec![
        (
            "adagrad",
            slots("accumulator", f32::INFINITY),
            "accumulator",
        ),
        ("sgd", slots("momentum", f32::NAN), "momentum"),
        (
            "adam",
            [slots("momentum", 0.0), slots("velocity", -1.0)].concat(),
            "velocity",
        ),
        ("sgd", slots("momentum", 0.0), "iteration"),
        (
            "nadam",
            [
                slots("momentum", 0.0),
                slots("velocity", 0.0),
                vec![("u_product".into(), vec![1], f32s(&[f32::NAN]), Dtype::F32)],
            ]
            .concat(),
            "u_product",
        ),
    ];
    for (i, (opt, mut tensors, named)) in cases.into_iter().enumerate() {
        tensors.push(iteration(if named == "iteration" { u64::MAX } else { 3 }));
        write_state(&dir, tensors, opt);
        let e = match load_model(&dir) {
            Ok(_) => panic!("case {i} ({named}) was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains(named) && e.contains("optimizer.safetensors"),
            "{e}"
        );
    }
    // A transposed slot of the right size.
    let w = &m.weights()[0];
    let mut t: Vec<_> = m
        .weights()
        .iter()
        .map(|w| {
            (
                OptimizerState::keras_name(&w.name, "momentum"),
                w.shape.clone(),
                f32s(&vec![0.0; w.data.len()]),
                Dtype::F32,
            )
        })
        .collect();
    t[0].1 = vec![w.shape[1], w.shape[0]];
    t.push(iteration(3));
    write_state(&dir, t, "sgd");
    let e = load_model(&dir).err().expect("transposed slot").to_string();
    assert!(e.contains("shape"), "{e}");
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn nadam_state_without_u_product_resumes_quickly_at_a_huge_step() {
    let parent = tmp("nadam");
    let dir = parent.join("m");
    let m = Sequential::new(
        &[784],
        vec![
            Layer::dense(4).activation(ActKind::Relu).into(),
            Layer::dense(10).activation(ActKind::Softmax).into(),
        ],
        1,
    )
    .unwrap();
    let mut s = state(&m, "nadam", &["momentum", "velocity"], 0.0);
    s.iterations = OptimizerState::MAX_ITERATIONS;
    save_model(&m, Some(&s), &dir).unwrap();
    let start = std::time::Instant::now();
    let (ok, _, err) = steadygrad(&[
        "train",
        "--device",
        "cpu",
        "--model",
        dir.to_str().unwrap(),
        "--optimizer",
        "nadam",
        "--steps",
        "1",
        "--limit",
        "64",
    ]);
    assert!(ok, "{err}");
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    std::fs::remove_dir_all(&parent).unwrap();
}

// 8. Work stays proportional to what was asked.

#[test]
fn deep_models_are_named_in_linear_time() {
    let start = std::time::Instant::now();
    let layers: Vec<Layer> = (0..100_000).map(|_| Layer::dense(1).into()).collect();
    let m = Sequential::new(&[1], layers, 0).unwrap();
    assert_eq!(m.layers()[99_999].name, "dense_99999");
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    let (ok, _, err) = steadygrad(&["experiment", "depth", "--layers", "1000000"]);
    assert!(!ok && err.contains("--layers"), "{err}");
}

// 9. Settings are never swallowed.

#[test]
fn bad_settings_are_errors_naming_them() {
    for (args, named) in [
        (
            &[
                "train",
                "--optimizer",
                "adam",
                "--epsilon",
                "0",
                "--epochs",
                "1",
            ][..],
            "epsilon",
        ),
        (
            &["train", "--optimizer", "rmsprop", "--epsilon", "0"][..],
            "epsilon",
        ),
        (
            &["train", "--optimizer", "nadam", "--epsilon", "0"][..],
            "epsilon",
        ),
        (
            &["train", "--classes", "0,11", "--epochs", "1"][..],
            "class 11",
        ),
    ] {
        let (ok, _, err) = steadygrad(args);
        assert!(!ok && err.contains(named), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_steadygrad"))
        .args(["bench", "--quick"])
        .env("STEADYGRAD_MATMUL", "warp-speed")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("STEADYGRAD_MATMUL"),
        "{err}"
    );
    // The sweep and the profile honour the same settings: an API that cannot be had is
    // that error, not a CPU-only sweep or a vague "no adapter".
    for mode in ["--sweep", "--profile"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_steadygrad"))
            .args(["bench", mode, "--quick"])
            .env("STEADYGRAD_BACKEND", "glide")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("STEADYGRAD_BACKEND=glide"),
            "bench {mode}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "bench {mode}: {err}");
    }
    // GPU settings that cannot be honoured are errors even where the device is chosen
    // automatically (not a quiet fall back to the CPU reference).
    let train = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_steadygrad"))
            .args(["train", "--steps", "1", "--epochs", "1"])
            .envs(env.iter().copied())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), err)
    };
    let (ok, err) = train(&[("STEADYGRAD_BACKEND", "glide")]);
    assert!(!ok && err.contains("STEADYGRAD_BACKEND=glide"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // The subgroup kernel where subgroups are not 8 lanes: llvmpipe's GL adapter has none
    // (where this machine has no GL adapter, the run falls back to the CPU reference).
    let (ok, err) = train(&[
        ("STEADYGRAD_BACKEND", "gl"),
        ("STEADYGRAD_MATMUL", "subgroup"),
    ]);
    if !err.contains("no WebGPU adapter") && !err.contains("CPU reference instead") {
        assert!(!ok && err.contains("STEADYGRAD_MATMUL=subgroup"), "{err}");
        assert!(err.contains("8 lanes"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn health_fractions_outside_zero_to_one_are_refused() {
    let d = tmp("fractions");
    let header = steadygrad::health::csv::HEADER;
    let p = d.join("h.csv");
    std::fs::write(
        &p,
        format!("{header}\n0,2.3,dense,relu,0.1,0.5,1.5,0,0.3,0.01\n"),
    )
    .unwrap();
    let (ok, _, err) = steadygrad(&[
        "plot",
        "--history",
        p.to_str().unwrap(),
        "--out",
        d.join("charts").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("dead_fraction"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn stale_temporaries_of_killed_runs_are_cleaned() {
    let d = tmp("stale");
    // pid_max is at most 4194304: no live process has this id.
    let stale = d.join(".p.safetensors.tmp-4194305");
    std::fs::write(&stale, "left by a killed run").unwrap();
    save_model(&model(1), None, &d.join("m")).unwrap();
    let x: Vec<f32> = vec![0.5; 6];
    let input = tensors_bytes(&[("x".into(), vec![1, 6], f32s(&x), Dtype::F32)], None).unwrap();
    std::fs::write(d.join("x.safetensors"), input).unwrap();
    predict_in(&d);
    assert!(!stale.exists());
    std::fs::remove_dir_all(&d).unwrap();
}
