//! Saves are atomic for the whole model folder: with a failure injected at every step of a
//! save (once, or from that step on, as a kill would), the folder afterwards loads as the
//! previous complete model or the new complete model, never a mix; leftovers are cleaned
//! by the next save or load; a folder holding other files is never replaced; and a CLI
//! training run killed with SIGKILL at random moments never leaves a damaged folder.

mod common;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use steadygrad::backend::ActKind;
use steadygrad::io::folder::{FsOps, RealFs};
use steadygrad::io::model_file::save_model_with;
use steadygrad::io::{load_model, save_model};
use steadygrad::nn::{Layer, Sequential};
use steadygrad::optim::{OptimizerState, SlotValues};

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("steadygrad-saves-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn model(seed: u64) -> (Sequential, OptimizerState) {
    let m = Sequential::new(
        &[6],
        vec![
            Layer::dense(5).activation(ActKind::Relu).into(),
            Layer::batch_norm(),
            Layer::dense(3).activation(ActKind::Softmax).into(),
        ],
        seed,
    )
    .unwrap();
    let slots = m
        .weights()
        .iter()
        .filter(|w| w.optimizable)
        .map(|w| SlotValues {
            weight: w.name.clone(),
            slot: "momentum".into(),
            data: vec![seed as f32; w.data.len()],
        })
        .collect();
    let mut slots: Vec<SlotValues> = slots;
    slots.sort_by(|a, b| (&a.weight, &a.slot).cmp(&(&b.weight, &b.slot)));
    let state = OptimizerState {
        optimizer: "sgd".into(),
        iterations: seed,
        slots,
        carry: None,
    };
    (m, state)
}

/// Fails the operation numbered `at` (counting from 0) — and, with `crash`, every one
/// after it, as a killed process performs no further steps.
struct Faulty {
    at: usize,
    crash: bool,
    n: Cell<usize>,
}

impl Faulty {
    fn step(&self) -> std::io::Result<()> {
        let n = self.n.get();
        self.n.set(n + 1);
        if n == self.at || (self.crash && n > self.at) {
            Err(std::io::Error::other(format!(
                "injected failure at step {n}"
            )))
        } else {
            Ok(())
        }
    }
}

impl FsOps for Faulty {
    fn create_dir(&self, p: &Path) -> std::io::Result<()> {
        self.step()?;
        RealFs.create_dir(p)
    }
    fn write_file(&self, p: &Path, b: &[u8]) -> std::io::Result<()> {
        self.step()?;
        // A half-written file, as a full disk or a kill would leave.
        RealFs.write_file(p, &b[..b.len() / 2])?;
        self.step()?;
        RealFs.write_file(p, b)
    }
    fn sync_dir(&self, p: &Path) -> std::io::Result<()> {
        self.step()?;
        RealFs.sync_dir(p)
    }
    fn rename(&self, a: &Path, b: &Path) -> std::io::Result<()> {
        self.step()?;
        RealFs.rename(a, b)
    }
    fn exchange(&self, a: &Path, b: &Path) -> std::io::Result<bool> {
        self.step()?;
        RealFs.exchange(a, b)
    }
    fn remove_model_dir(&self, p: &Path) -> std::io::Result<()> {
        self.step()?;
        RealFs.remove_model_dir(p)
    }
}

/// Same as `Faulty`, on a platform without an atomic exchange (two renames).
struct NoExchange(Faulty);

impl FsOps for NoExchange {
    fn create_dir(&self, p: &Path) -> std::io::Result<()> {
        self.0.create_dir(p)
    }
    fn write_file(&self, p: &Path, b: &[u8]) -> std::io::Result<()> {
        self.0.write_file(p, b)
    }
    fn sync_dir(&self, p: &Path) -> std::io::Result<()> {
        self.0.sync_dir(p)
    }
    fn rename(&self, a: &Path, b: &Path) -> std::io::Result<()> {
        self.0.rename(a, b)
    }
    fn exchange(&self, _a: &Path, _b: &Path) -> std::io::Result<bool> {
        self.0.step()?;
        Ok(false)
    }
    fn remove_model_dir(&self, p: &Path) -> std::io::Result<()> {
        self.0.remove_model_dir(p)
    }
}

fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_failure_at_any_step_leaves_the_old_or_the_new_model() {
    let (a, sa) = model(1);
    let (b, sb) = model(2);
    for exchange in [true, false] {
        for crash in [false, true] {
            for at in 0..16 {
                let parent = tmp(&format!("f-{exchange}-{crash}-{at}"));
                let dir = parent.join("m");
                save_model(&a, Some(&sa), &dir).unwrap();
                let faulty = Faulty {
                    at,
                    crash,
                    n: Cell::new(0),
                };
                let r = if exchange {
                    save_model_with(&faulty, &b, Some(&sb), &dir)
                } else {
                    save_model_with(&NoExchange(faulty), &b, Some(&sb), &dir)
                };
                let what = format!("exchange {exchange}, crash {crash}, step {at}");
                let loaded = load_model(&dir).unwrap_or_else(|e| panic!("{what}: {e}"));
                let state = loaded.optimizer.expect("optimizer state");
                let is_a = loaded.model.weights() == a.weights() && state == sa;
                let is_b = loaded.model.weights() == b.weights() && state == sb;
                assert!(is_a || is_b, "{what}: a mix of two saves");
                if r.is_ok() {
                    assert!(is_b, "{what}: reported saved but holds the old model");
                }
                // A new save cleans up and leaves nothing behind.
                save_model(&b, Some(&sb), &dir).unwrap();
                assert_eq!(leftovers(&parent), Vec::<String>::new(), "{what}");
                std::fs::remove_dir_all(&parent).unwrap();
            }
        }
    }
}

#[test]
fn a_folder_with_other_files_is_never_replaced() {
    let parent = tmp("foreign");
    let dir = parent.join("m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let (a, _) = model(1);
    let e = save_model(&a, None, &dir).unwrap_err();
    assert!(e.to_string().contains("notes.txt"), "{e}");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn training_killed_at_random_moments_never_damages_the_folder() {
    let parent = tmp("kill");
    let dir = parent.join("m");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_steadygrad"))
            .args([
                "train", "--device", "cpu", "--limit", "256", "--hidden", "32", "--epochs", "1",
            ])
            .args(["--json", "--save"])
            .arg(&dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // A first complete save, then runs killed after 0–600 ms.
    assert!(run().wait().unwrap().success());
    for i in 0..8u64 {
        let mut child = run();
        std::thread::sleep(std::time::Duration::from_millis((i * 997) % 600));
        let _ = child.kill();
        let _ = child.wait();
        let loaded = load_model(&dir).unwrap_or_else(|e| panic!("after kill {i}: {e}"));
        assert!(
            loaded.optimizer.is_some(),
            "after kill {i}: optimizer state present"
        );
    }
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn a_checkpoint_folder_loads_whenever_training_is_killed() {
    let parent = tmp("ckpt-kill");
    let dir = parent.join("best");
    std::fs::create_dir_all(&parent).unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_steadygrad"))
            .args([
                "train",
                "--device",
                "cpu",
                "--limit",
                "600",
                "--hidden",
                "64",
                "--epochs",
                "200",
                "--batch-size",
                "16",
                "--validation-split",
                "0.3",
                "--checkpoint",
            ])
            .arg(&dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    for i in 0..8u64 {
        let mut child = run();
        // Wait for a first checkpoint, then kill at a moment that moves with i (most land
        // inside later epochs' saves or between them).
        let start = std::time::Instant::now();
        while !dir.join("model.json").exists() && start.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(150 + (i * 131) % 500));
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let loaded = load_model(&dir).unwrap_or_else(|e| panic!("after kill {i}: {e}"));
        assert!(loaded.optimizer.is_some(), "after kill {i}");
    }
    assert!(
        kills >= 6,
        "the runs were killed while training ({kills} of 8)"
    );
    std::fs::remove_dir_all(&parent).unwrap();
}
