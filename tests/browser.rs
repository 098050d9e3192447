//! The page of `web/` in headless Chromium, whose WebGPU runs on SwiftShader when there is
//! no GPU: `web/build.sh`, then `web/dist` served on 127.0.0.1 by a small server here that
//! also takes the page's report (a POST), and the page opened with URL parameters.
//! Skipped with a notice when Chromium is not installed, unless
//! `STEADYGRAD_REQUIRE_BROWSER=1` (as `.ci/run` sets), which makes that a failure.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::OnceLock;
use std::time::Duration;

use common::*;

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");

/// The Chromium binary, or `None` (with a notice) when there is none and it is not
/// required.
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        if std::env::var("STEADYGRAD_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("STEADYGRAD_REQUIRE_BROWSER=1 but Chromium is not installed");
        }
        eprintln!("note: browser test skipped: no chromium (apt install chromium)");
    }
    found
}

/// Runs `web/build.sh` once for all the tests here: the first to ask reports a failed
/// build with its output, the others say it failed without building again.
fn dist() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let built = BUILT.get_or_init(|| {
        let out = Command::new("bash")
            .arg(Path::new(WEB).join("build.sh"))
            .output()
            .map_err(|e| format!("bash web/build.sh: {e}"))?;
        if out.status.success() {
            Ok(Path::new(WEB).join("dist"))
        } else {
            Err(format!(
                "web/build.sh failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match built {
        Ok(p) => p.clone(),
        Err(e) if !REPORTED.swap(true, std::sync::atomic::Ordering::SeqCst) => panic!("{e}"),
        Err(_) => panic!("web/build.sh failed (its output is in the first failing test)"),
    }
}

/// A static file server for `root` (and `extra`: URL prefix → folder) that passes every
/// POST body to the returned receiver.
fn serve(root: PathBuf, extra: Option<(&'static str, PathBuf)>) -> (u16, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (root, extra, tx) = (root.clone(), extra.clone(), tx.clone());
            std::thread::spawn(move || {
                let _ = answer(stream, &root, extra.as_ref(), &tx);
            });
        }
    });
    (port, rx)
}

fn answer(
    stream: TcpStream,
    root: &Path,
    extra: Option<&(&'static str, PathBuf)>,
    posts: &Sender<String>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut out = stream;
    if method == "POST" {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let _ = posts.send(String::from_utf8_lossy(&body).into_owned());
        return out.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    }
    let path = target.split('?').next().unwrap_or("/");
    let file = match extra {
        Some((prefix, dir)) if path.starts_with(prefix) => dir.join(&path[prefix.len()..]),
        _ if path == "/" => root.join("index.html"),
        _ => root.join(path.trim_start_matches('/')),
    };
    match (path.contains(".."), std::fs::read(&file)) {
        (false, Ok(bytes)) => {
            let kind = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript",
                Some("wasm") => "application/wasm",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            out.write_all(head.as_bytes())?;
            out.write_all(&bytes)
        }
        _ => out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

/// Chromium, headless, with WebGPU (or, `webgpu: false`, without), on `url`. The same URL (server port included) opens the same profile, so a page opened again
/// finds its storage.
fn open_page(browser: &str, url: &str, webgpu: bool, extra: &[&str]) -> Child {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (url, extra, webgpu).hash(&mut h);
    let profile = std::env::temp_dir().join(format!(
        "steadygrad-chromium-{}-{:016x}",
        std::process::id(),
        h.finish()
    ));
    let mut c = Command::new(browser);
    c.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    if webgpu {
        c.args([
            "--enable-unsafe-webgpu",
            "--enable-unsafe-swiftshader",
            "--use-webgpu-adapter=swiftshader",
            "--remote-debugging-port=0",
        ]);
    } else {
        c.arg("--disable-features=WebGPU");
    }
    c.args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts")
}

/// Opens `query` on the page and returns the JSON object it POSTs.
fn report(browser: &str, query: &str, model: Option<PathBuf>) -> serde_json::Value {
    let (port, posts) = serve(dist(), model.map(|m| ("/model/", m)));
    report_from(browser, port, &posts, query)
}

/// [`report`] from a server already started: pages opened on one server share an origin,
/// so the second sees what the first kept in the page's storage.
fn report_from(
    browser: &str,
    port: u16,
    posts: &Receiver<String>,
    query: &str,
) -> serde_json::Value {
    let url = format!("http://127.0.0.1:{port}/?{query}&report=/result");
    let mut page = open_page(browser, &url, true, &[]);
    let got = posts.recv_timeout(Duration::from_secs(900));
    let _ = page.kill();
    let _ = page.wait();
    let body = got.unwrap_or_else(|_| panic!("no report from {url} within 15 minutes"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v.get("error").is_none(), "the page failed: {v}");
    v
}

/// `model`'s weights after `steps` unshuffled steps at `batch` on the native GPU path (None
/// where there is no GPU and none is required), as the page trains it.
fn native_weights(
    model: steadygrad::Sequential,
    steps: usize,
    batch: usize,
) -> Option<Vec<steadygrad::nn::Weight>> {
    let gpu = gpu()?;
    let (train, _) =
        steadygrad::data::idx::load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data"))
            .unwrap();
    let mut s = steadygrad::Session::with_backend(model, Box::new(gpu)).unwrap();
    let opt = steadygrad::Sgd::new(0.01).momentum(0.9).nesterov(true);
    s.compile(
        Box::new(opt),
        steadygrad::LossName::SparseCategoricalCrossentropy,
    )
    .unwrap();
    let mut e = s.begin_epoch(&train, batch, None).unwrap();
    for _ in 0..steps {
        assert!(s.train_next(&train, &mut e).unwrap().is_some());
    }
    Some(s.get_weights().unwrap())
}

/// The seed network's weights after `steps` unshuffled steps at `batch` natively.
fn native_seed_weights(steps: usize, batch: usize) -> Option<Vec<steadygrad::nn::Weight>> {
    native_weights(steadygrad::nn::seed_network(false).unwrap(), steps, batch)
}

/// Checks the first values of each weight a page reported (`weights=1`) against `native`.
fn assert_page_weights(what: &str, page: &serde_json::Value, native: &[steadygrad::nn::Weight]) {
    let weights = page["weights"].as_object().unwrap();
    for w in native {
        let theirs: Vec<f32> = serde_json::from_value(weights[&w.name].clone()).unwrap();
        let ours = &w.data[..theirs.len()];
        assert_close(&format!("{what} {}", w.name), &theirs, ours, 1e-4, 1e-3);
    }
}

#[test]
fn the_page_has_a_bench_mode() {
    let Some(browser) = chromium() else { return };
    let v = report(browser, "bench=1&epochs=2&batch=256", None);
    assert_eq!(v["epochs"], 2, "{v}");
    assert_eq!(v["batch"], 256, "{v}");
    let per_epoch = v["samples_per_second_per_epoch"].as_array().unwrap();
    assert_eq!(per_epoch.len(), 2, "{v}");
    // Steady state: the epoch after the first.
    assert_eq!(v["steady_samples_per_second"], per_epoch[1], "{v}");
    assert!(per_epoch[1].as_f64().unwrap() > 0.0, "{v}");
    // Evaluated once, at the end.
    assert!(v["test_accuracy"].as_f64().unwrap() > 0.8, "{v}");
    eprintln!("browser bench: {v}");
}

#[test]
fn the_page_trains_one_epoch_to_90_percent_and_matches_native_weights() {
    let Some(browser) = chromium() else { return };
    let v = report(browser, "autorun=1&epochs=1", None);
    let adapter = v["adapter"].as_str().unwrap();
    assert!(!adapter.is_empty(), "{v}");
    assert_eq!(v["epochs"], 1);
    let acc = v["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.9, "test accuracy {acc} after one epoch: {v}");
    assert!(v["samples_per_second"].as_f64().unwrap() > 0.0);
    eprintln!("browser: {v}");

    // Fixed order, 20 steps: the page's weights against the native GPU path's.
    let page = report(
        browser,
        "autorun=1&epochs=1&steps=20&noshuffle=1&batch=64&weights=1",
        None,
    );
    assert_eq!(page["steps"], 20);
    if let Some(native) = native_seed_weights(20, 64) {
        assert_page_weights("browser", &page, &native);
    }
}

#[test]
fn the_page_times_kernels_per_shape_once_and_keeps_the_choices() {
    let Some(browser) = chromium() else { return };
    let (port, posts) = serve(dist(), None);
    // 25 steps through the provisional kernel, then the shapes met are timed (the texture
    // kernels, on SwiftShader) and the last 5 steps run the chosen kernels.
    let query = "autorun=1&epochs=1&steps=30&noshuffle=1&batch=64&weights=1&tune=1";
    let first = report_from(browser, port, &posts, query);
    assert_eq!(first["steps"], 30, "{first}");
    let tuned = first["matmul_tuned"].as_array().unwrap();
    let texture = ["texture8", "texture16", "texture16x20", "narrow_texture"];
    // The seed network's training products at batch 64 (forward, input and weight
    // gradients of its three layers, the last one's fused with the loss where small).
    let training: Vec<&serde_json::Value> = tuned
        .iter()
        .filter(|t| t["shape"].as_array().unwrap().contains(&64.into()))
        .collect();
    assert!(training.len() >= 5, "{first}");
    for t in tuned {
        assert!(texture.contains(&t["variant"].as_str().unwrap()), "{t}");
        assert_eq!(t["provisional"], "texture16x20", "{t}");
    }
    let native = native_seed_weights(30, 64);
    if let Some(native) = &native {
        assert_page_weights("browser, kernels chosen per shape", &first, native);
    }
    // The same page again (same origin): the training shapes' choices come from the
    // page's storage, not timed again.
    let again = report_from(browser, port, &posts, query);
    let retimed: Vec<&serde_json::Value> = again["matmul_tuned"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| training.iter().any(|d| d["class"] == t["class"]))
        .collect();
    assert!(retimed.is_empty(), "timed again: {retimed:?}");
    if let Some(native) = native {
        assert_page_weights("browser, stored choices", &again, &native);
    }
}

#[test]
fn the_page_trains_the_cnn_as_the_native_engine_does() {
    let Some(browser) = chromium() else { return };
    let page = report(
        browser,
        "autorun=1&net=cnn&epochs=1&steps=10&noshuffle=1&batch=32&weights=1",
        None,
    );
    assert_eq!(page["steps"], 10, "{page}");
    let json = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cnn.json");
    let model = steadygrad::io::model_from_json_file(&json, 42).unwrap();
    if let Some(native) = native_weights(model, 10, 32) {
        assert_page_weights("browser CNN", &page, &native);
    }
}

#[test]
fn a_saved_model_folder_shows_the_same_accuracy_in_the_page() {
    let Some(browser) = chromium() else { return };
    // A model trained a few steps natively, saved as the CLI saves it.
    let dir = std::env::temp_dir().join(format!("steadygrad-web-model-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (train, test) =
        steadygrad::data::idx::load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data"))
            .unwrap();
    let model = steadygrad::nn::seed_network(false).unwrap();
    let mut s = compile_cpu(
        model,
        steadygrad::Sgd::new(0.01).momentum(0.9).nesterov(true),
    );
    let opts = steadygrad::FitOptions {
        epochs: 1,
        max_steps: Some(30),
        ..Default::default()
    };
    s.fit(&train, None, &opts, &mut []).unwrap();
    let (_, accuracy) = s.evaluate(&test, 256).unwrap();
    steadygrad::io::save_model(s.model().unwrap(), None, &dir).unwrap();
    let v = report(browser, "model=/model/", Some(dir.clone()));
    let theirs = v["test_accuracy"].as_f64().unwrap();
    assert!(
        (theirs - accuracy as f64).abs() < 1e-3,
        "page {theirs}, native {accuracy}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_browser_without_webgpu_gets_the_message() {
    let Some(browser) = chromium() else { return };
    let (port, _) = serve(dist(), None);
    let url = format!("http://127.0.0.1:{port}/?autorun=1");
    let page = open_page(
        browser,
        &url,
        false,
        &["--dump-dom", "--virtual-time-budget=5000"],
    );
    let out = page.wait_with_output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("has no WebGPU"), "{dom}");
}
