//! `steadygrad train --distributed` under `mpirun`, as the README runs it: a build with
//! `--features mpi` (made here, in its own target folder), two ranks on this host, against
//! the same command in one process. Skipped with a notice when Open MPI is not installed,
//! unless `STEADYGRAD_REQUIRE_MPI=1` (as `.ci/run` sets), which makes that a failure.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use steadygrad::io::load_model;

/// The `steadygrad` binary built with `--features mpi`, or `None` without Open MPI.
fn mpi_binary() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let have = Command::new("mpirun").arg("--version").output();
            if !have.is_ok_and(|o| o.status.success()) {
                if std::env::var("STEADYGRAD_REQUIRE_MPI").as_deref() == Ok("1") {
                    panic!("STEADYGRAD_REQUIRE_MPI=1 but mpirun is not installed");
                }
                eprintln!("note: MPI test skipped: mpirun not found (apt install openmpi-bin libopenmpi-dev clang libclang-dev)");
                return None;
            }
            // target/<profile>/steadygrad → target/mpi
            let bin = Path::new(env!("CARGO_BIN_EXE_steadygrad"));
            let target = bin.parent().and_then(Path::parent).expect("target folder");
            let dir = target.join("mpi");
            let out = Command::new(env!("CARGO"))
                .args(["build", "--release", "--features", "mpi", "--bin", "steadygrad"])
                .env("CARGO_TARGET_DIR", &dir)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .expect("cargo runs");
            assert!(
                out.status.success(),
                "cargo build --features mpi failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(dir.join("release").join("steadygrad"))
        })
        .as_deref()
}

/// Runs `cmd` to its end or `limit` (then kills it and fails): (success, stdout, stderr).
fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String, String) {
    let mut child = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mpirun(bin: &Path, ranks: usize, args: &[&str]) -> Command {
    let mut c = Command::new("mpirun");
    c.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        &ranks.to_string(),
    ])
    .arg(bin)
    .args(args);
    c
}

fn single(bin: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(args);
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("steadygrad-mpi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const LIMIT: Duration = Duration::from_secs(180);

#[test]
fn two_ranks_equal_one_process_for_the_seed_network_and_a_plain_mlp() {
    let Some(bin) = mpi_binary() else { return };
    let base = [
        "train",
        "--batch-size",
        "64",
        "--steps",
        "20",
        "--no-shuffle",
        "--device",
        "cpu",
        "--seed",
        "3",
    ];
    for (name, extra) in [
        ("seed", &[][..]),
        ("mlp", &["--no-batch-norm", "--hidden", "128,64"][..]),
    ] {
        let (one, two) = (
            temp_dir(&format!("{name}-1")),
            temp_dir(&format!("{name}-2")),
        );
        let mut args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let one_s = one.to_str().unwrap();
        let (ok, _, err) = run_bounded(
            single(bin, &[&args[..], &["--save", one_s]].concat()),
            LIMIT,
        );
        assert!(ok, "{err}");
        args.push("--distributed");
        let two_s = two.to_str().unwrap();
        let (ok, _, err) = run_bounded(
            mpirun(bin, 2, &[&args[..], &["--save", two_s]].concat()),
            LIMIT,
        );
        assert!(ok, "{err}");
        // Rank 0 alone reports and saves.
        assert_eq!(err.matches("saved to").count(), 1, "{err}");
        assert_eq!(err.matches("epoch 1:").count(), 1, "{err}");
        assert!(err.contains("2 ranks, 32 rows each"), "{err}");
        let (a, b) = (
            load_model(&one).unwrap().model,
            load_model(&two).unwrap().model,
        );
        for (x, y) in b.weights().iter().zip(a.weights()) {
            assert_eq!(x.name, y.name);
            assert_close(&format!("{name} {}", x.name), &x.data, &y.data, 1e-5, 1e-4);
        }
        let _ = std::fs::remove_dir_all(&one);
        let _ = std::fs::remove_dir_all(&two);
    }
}

#[test]
fn a_batch_that_does_not_divide_among_the_ranks_is_refused() {
    let Some(bin) = mpi_binary() else { return };
    let args = [
        "train",
        "--distributed",
        "--batch-size",
        "63",
        "--steps",
        "2",
        "--device",
        "cpu",
    ];
    let (ok, _, err) = run_bounded(mpirun(bin, 2, &args), LIMIT);
    assert!(!ok);
    assert!(
        err.contains("--batch-size") && err.contains("2 ranks"),
        "{err}"
    );
}

#[test]
fn json_comes_once_from_rank_zero() {
    let Some(bin) = mpi_binary() else { return };
    let args = [
        "train",
        "--distributed",
        "--batch-size",
        "64",
        "--steps",
        "3",
        "--device",
        "cpu",
        "--json",
    ];
    let (ok, out, err) = run_bounded(mpirun(bin, 2, &args), LIMIT);
    assert!(ok, "{err}");
    let objects: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(objects.len(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(objects[0]).unwrap();
    assert_eq!(v["steps"], 3);
}

/// The pid of the process of `bin` that the `mpirun` of pid `parent` started as `rank`
/// (other tests run jobs of the same binary at the same time).
#[cfg(target_os = "linux")]
fn rank_pid(bin: &Path, parent: u32, rank: usize) -> Option<u32> {
    let want = format!("OMPI_COMM_WORLD_RANK={rank}");
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(e.path().join("exe")).ok();
        if exe.as_deref() != Some(bin) {
            continue;
        }
        // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so split
        // after its closing parenthesis.
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        let mut fields = after.split_whitespace();
        let (state, ppid) = (
            fields.next(),
            fields.next().and_then(|p| p.parse::<u32>().ok()),
        );
        if ppid != Some(parent) || state == Some("Z") {
            continue;
        }
        let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
        if env.split(|b| *b == 0).any(|v| v == want.as_bytes()) {
            return Some(pid);
        }
    }
    None
}

#[cfg(target_os = "linux")]
#[test]
fn a_rank_that_dies_ends_the_others_instead_of_hanging() {
    let Some(bin) = mpi_binary() else { return };
    let bin = bin.canonicalize().unwrap();
    let args = [
        "train",
        "--distributed",
        "--batch-size",
        "64",
        "--epochs",
        "1000",
        "--device",
        "cpu",
    ];
    let mut cmd = mpirun(&bin, 2, &args);
    let mut child = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mpirun_pid = child.id();
    let (pid0, pid) = loop {
        let pids = (rank_pid(&bin, mpirun_pid, 0), rank_pid(&bin, mpirun_pid, 1));
        if let (Some(p0), Some(p1)) = pids {
            break (p0, p1);
        }
        assert!(start.elapsed() < LIMIT, "rank 1 never started");
        assert!(child.try_wait().unwrap().is_none(), "mpirun ended early");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Let it get into training (its all-reduces), then kill it.
    std::thread::sleep(Duration::from_secs(2));
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let killed_at = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if killed_at.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the job still runs 60 s after rank 1 died");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success());
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("signal 9") || err.contains("Killed") || err.contains("exited"),
        "{err}"
    );
    // Rank 0 is gone too (or a zombie), within a few seconds.
    let alive = || {
        let proc0 = PathBuf::from(format!("/proc/{pid0}"));
        let stat = std::fs::read_to_string(proc0.join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|x| x.1.trim_start().starts_with('Z'));
        std::fs::read_link(proc0.join("exe")).ok().as_deref() == Some(bin.as_path()) && !zombie
    };
    let gone_by = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(), "rank 0 (pid {pid0}) outlived mpirun");
}

#[test]
fn the_all_reduce_bench_reports_each_size_once() {
    let Some(bin) = mpi_binary() else { return };
    let (ok, out, err) = run_bounded(
        mpirun(bin, 2, &["bench", "--distributed", "--quick", "--json"]),
        LIMIT,
    );
    assert!(ok, "{err}");
    let objects: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(objects.len(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(objects[0]).unwrap();
    assert_eq!(v["ranks"], 2);
    let rows = v["allreduce"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["seconds"].as_f64().unwrap() > 0.0));
}

/// A build without the feature says how to get it, in one line.
#[cfg(not(feature = "mpi"))]
#[test]
fn without_the_mpi_feature_distributed_is_a_one_line_error() {
    for args in [
        &["train", "--distributed", "--steps", "1"][..],
        &["bench", "--distributed"][..],
    ] {
        let (ok, _, err) = steadygrad(args);
        assert!(!ok);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("--features mpi"), "{err}");
    }
}
