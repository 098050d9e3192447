//! steadygrad in a browser tab: the engine compiled to wasm32 trains the seed network (or
//! the small CNN of `examples/cnn.json`) on the bundled digits through the page's WebGPU
//! adapter, showing a live progress line, a
//! loss chart, the test accuracy per epoch and test digits with their predicted labels;
//! it also loads a saved model folder (the files the CLI writes and Keras reads) and
//! shows its predictions.
//!
//! `index.html` loads this module and calls [`main`]. URL parameters: `autorun=1` trains
//! at once; `net=mlp|cnn` (default mlp, the seed network); `epochs=N` (default 1),
//! `batch=B` (32), `seed=S` (42, the shuffle's),
//! `noshuffle=1`, `steps=N` (stop after N steps); `report=PATH` POSTs one JSON object to
//! PATH when done (`{"adapter", "epochs", "test_accuracy", "samples_per_second", …}`,
//! with `weights=1` the first values of every weight); `model=URL` loads the model
//! folder at URL (URL/model.json, URL/weights.safetensors) instead of training.
//! `matmul=NAME` runs every matmul through one variant (as `STEADYGRAD_MATMUL` does natively);
//! otherwise each new matmul shape is timed on this adapter once, after the first steps
//! that meet it, and the choice kept in the page's local storage (`tune=1|0`; by default on
//! GPUs, not on SwiftShader, which takes the 16×20 texture kernel).
//! `bench=1` is the page's benchmark mode (it trains at once; `epochs` defaults to 3):
//! no test digits are drawn and the test set is evaluated once, at the end, and the report
//! adds each epoch's samples/s and the steady state, the best epoch after the first (as
//! `steadygrad bench` and the Keras scripts time it).
//!
//! The progress line reads the running metrics every [`STEPS_PER_UPDATE`] steps, double
//! buffered: the read of one chunk is awaited after the next chunk is submitted, so the
//! adapter never idles on a read.

mod ui;

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use rand::SeedableRng;
use serde_json::{json, Map, Value};
use steadygrad::backend::autotune::Tuning;
use steadygrad::backend::{GpuOptions, MatmulVariant};
use steadygrad::data::idx::{decode_maybe_gz, idx_pair_from_bytes};
use steadygrad::data::{Dataset, Samples};
use steadygrad::health::Ewma;
use steadygrad::io::model_file::model_from_bytes;
use steadygrad::nn::Sequential;
use steadygrad::train::{LossName, MetricsRead, Session};
use steadygrad::Sgd;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_time::Instant;

/// How many test digits the grid shows.
const GRID: usize = 32;
/// Training steps between two progress updates (each update reads the metrics back).
const STEPS_PER_UPDATE: usize = 25;
/// The small CNN the page can train, as Keras wrote it.
const CNN_JSON: &str = include_str!("../../examples/cnn.json");

/// Which network to train.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Net {
    /// The chapter's seed network.
    Mlp,
    /// `examples/cnn.json`.
    Cnn,
}

impl Net {
    fn parse(s: &str) -> Result<Net, String> {
        match s {
            "mlp" => Ok(Net::Mlp),
            "cnn" => Ok(Net::Cnn),
            other => Err(format!("URL parameter net={other:?}: expected mlp or cnn")),
        }
    }

    fn model(self) -> Result<Sequential, String> {
        match self {
            Net::Mlp => steadygrad::nn::seed_network(false),
            Net::Cnn => steadygrad::io::model_from_json(CNN_JSON, 42),
        }
        .map_err(|e| e.to_string())
    }
}

/// What the URL asks for.
#[derive(Clone, Debug)]
struct Params {
    autorun: bool,
    net: Net,
    epochs: usize,
    batch: usize,
    seed: u64,
    shuffle: bool,
    steps: Option<u64>,
    report: Option<String>,
    weights: bool,
    model: Option<String>,
    bench: bool,
    /// A matmul variant for every shape (`matmul=NAME`, as `STEADYGRAD_MATMUL` natively).
    matmul: Option<MatmulVariant>,
    /// Whether new matmul shapes are timed (`tune=1|0`; unset: on GPUs, not on SwiftShader).
    tune: Option<bool>,
}

fn params() -> Result<Params, String> {
    let search = web_sys::window()
        .map(|w| w.location().search().unwrap_or_default())
        .unwrap_or_default();
    let q = web_sys::UrlSearchParams::new_with_str(&search).map_err(ui::js_text)?;
    let num = |name: &str, default: u64| -> Result<u64, String> {
        match q.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("URL parameter {name}={v:?} is not a whole number")),
        }
    };
    let flag = |name: &str| q.get(name).is_some_and(|v| v == "1" || v == "true");
    let bench = flag("bench");
    let p = Params {
        autorun: flag("autorun") || bench,
        net: Net::parse(&q.get("net").unwrap_or_else(|| "mlp".into()))?,
        epochs: num("epochs", if bench { 3 } else { 1 })? as usize,
        batch: num("batch", 32)? as usize,
        seed: num("seed", 42)?,
        shuffle: !flag("noshuffle"),
        steps: q.get("steps").map(|_| num("steps", 0)).transpose()?,
        report: q.get("report"),
        weights: flag("weights"),
        model: q.get("model"),
        bench,
        tune: match q.get("tune").as_deref() {
            None => None,
            Some("1" | "true") => Some(true),
            Some("0" | "false") => Some(false),
            Some(v) => return Err(format!("URL parameter tune={v:?}: expected 1 or 0")),
        },
        matmul: match q.get("matmul") {
            None => None,
            Some(v) => Some(MatmulVariant::from_name(&v).ok_or_else(|| {
                format!("URL parameter matmul={v:?}: not a matmul variant (steadygrad verify lists them)")
            })?),
        },
    };
    if p.epochs == 0 || p.batch == 0 {
        return Err("URL parameters epochs and batch must be at least 1".into());
    }
    Ok(p)
}

/// Called by the page's loader once the module is initialized; resolves when what the URL
/// asked for (training, a model folder) is done.
#[wasm_bindgen]
pub async fn main() {
    let p = match params() {
        Ok(p) => p,
        Err(e) => return ui::set_text("status", &format!("error: {e}")),
    };
    wire_buttons(&p);
    if let Some(url) = p.model.clone() {
        report_after(p.clone(), async move { load_model_url(&url).await }).await;
    } else if p.autorun {
        report_after(p.clone(), train(p.clone())).await;
    } else {
        ui::set_text("status", "ready: press Train");
    }
}

/// Runs `work`, shows its outcome and POSTs it when the URL asks for a report.
async fn report_after(p: Params, work: impl std::future::Future<Output = Result<Value, String>>) {
    let result = work.await;
    let body = match &result {
        Ok(v) => {
            ui::set_text("status", "done");
            v.clone()
        }
        Err(e) => {
            ui::set_text("status", &format!("error: {e}"));
            json!({ "error": e })
        }
    };
    if let Some(path) = &p.report {
        if let Err(e) = post(path, &body.to_string()).await {
            ui::append_line("log", &format!("report to {path} failed: {e}"));
        }
    }
}

fn wire_buttons(p: &Params) {
    let doc = ui::document();
    // The controls show what the URL asked for (the page trains what they show).
    if let Some(e) = doc.get_element_by_id("net") {
        if let Ok(select) = e.dyn_into::<web_sys::HtmlSelectElement>() {
            select.set_value(&format!("{:?}", p.net).to_lowercase());
        }
    }
    if let Some(e) = doc.get_element_by_id("epochs") {
        if let Ok(input) = e.dyn_into::<web_sys::HtmlInputElement>() {
            input.set_value(&p.epochs.to_string());
        }
    }
    let on = |id: &str, f: Box<dyn FnMut()>| {
        if let Some(e) = doc.get_element_by_id(id) {
            let c = Closure::<dyn FnMut()>::new(f);
            e.add_event_listener_with_callback("click", c.as_ref().unchecked_ref())
                .ok();
            c.forget();
        }
    };
    let base = p.clone();
    on(
        "train",
        Box::new(move || {
            let mut p = base.clone();
            if let Some(n) = input_value("epochs").and_then(|v| v.parse().ok()) {
                p.epochs = n;
            }
            if let Some(net) = select_value("net").and_then(|v| Net::parse(&v).ok()) {
                p.net = net;
            }
            spawn_local(report_after(p.clone(), train(p)));
        }),
    );
    let base = p.clone();
    on(
        "load-files",
        Box::new(move || spawn_local(report_after(base.clone(), load_model_files()))),
    );
    let base = p.clone();
    on(
        "load-url",
        Box::new(move || {
            let url = input_value("model-url").unwrap_or_default();
            spawn_local(report_after(base.clone(), async move {
                load_model_url(&url).await
            }))
        }),
    );
}

fn input_value(id: &str) -> Option<String> {
    let e = ui::document().get_element_by_id(id)?;
    Some(e.dyn_into::<web_sys::HtmlInputElement>().ok()?.value())
}

fn select_value(id: &str) -> Option<String> {
    let e = ui::document().get_element_by_id(id)?;
    Some(e.dyn_into::<web_sys::HtmlSelectElement>().ok()?.value())
}

thread_local! {
    static DIGITS: RefCell<Option<Rc<(Dataset, Dataset)>>> = const { RefCell::new(None) };
}

/// The bundled digits (train, test), fetched once.
async fn digits() -> Result<Rc<(Dataset, Dataset)>, String> {
    if let Some(d) = DIGITS.with(|d| d.borrow().clone()) {
        return Ok(d);
    }
    ui::set_text("status", "loading the digits…");
    let mut sets = Vec::new();
    for part in ["train", "test"] {
        let images = format!("data/mnist10k-{part}-images-idx3-ubyte.gz");
        let labels = format!("data/mnist10k-{part}-labels-idx1-ubyte.gz");
        let gunzip =
            |name: &str, raw| decode_maybe_gz(Path::new(name), raw).map_err(|e| e.to_string());
        let ib = gunzip(&images, fetch_bytes(&images).await?)?;
        let lb = gunzip(&labels, fetch_bytes(&labels).await?)?;
        let d = idx_pair_from_bytes((Path::new(&images), ib), (Path::new(&labels), lb))
            .map_err(|e| e.to_string())?;
        sets.push(d);
    }
    let test = sets.pop().expect("two sets");
    let d = Rc::new((sets.pop().expect("two sets"), test));
    DIGITS.with(|c| *c.borrow_mut() = Some(d.clone()));
    Ok(d)
}

/// Opens `model` on the page's WebGPU adapter (with the kernel choices this browser kept)
/// and shows the adapter's name (returned with the session).
async fn open(
    model: Sequential,
    matmul: Option<MatmulVariant>,
    tune: Option<bool>,
) -> Result<(Session, String), String> {
    ui::set_text("status", "opening the WebGPU adapter…");
    let described = adapter_words().await;
    // Kernels chosen per shape, as natively: each new matmul shape class takes a
    // provisional variant until `tune` times the candidates on this adapter (awaiting the
    // device; the choices kept in the page's storage) — on GPUs by default. SwiftShader, a
    // CPU adapter, takes the 16×20 texture kernel unless `tune=1` (as CPU adapters take
    // built-in choices natively): timing its four texture kernels costs about 35 s once
    // (their pipelines take seconds to build there), and the per-shape choices it found
    // trained the seed network no faster (batch 32: 1,221 samples/s against 1,255 with the
    // 16×20 kernel everywhere, headless Chromium on a 2-core Xeon). That kernel trained the
    // seed network at 895 and 1,983 samples/s (batch 32 and 256) against 629 and 915
    // through the 8×8 storage kernel (the provisional one on other adapters). SwiftShader
    // also reads operands through textures.
    let swiftshader = described
        .as_deref()
        .is_some_and(|d| d.to_ascii_lowercase().contains("swiftshader"));
    let opts = GpuOptions {
        matmul,
        provisional_matmul: swiftshader.then_some(MatmulVariant::Texture16x20),
        tuning: if tune.unwrap_or(!swiftshader) {
            Tuning::Always
        } else {
            Tuning::Never
        },
        texture_reads: swiftshader.then_some(true),
        ..GpuOptions::default()
    };
    let mut s = Session::open(model, &opts)
        .await
        .map_err(|e| format!("no WebGPU adapter for training: {e}"))?;
    if let Some(text) = ui::stored(TUNING_KEY) {
        if !s.load_tuning(&text) {
            ui::append_line(
                "history",
                &format!("notice: the page's stored {TUNING_KEY} is not a kernel cache; ignored (rebuilt as shapes are timed)"),
            );
        }
    }
    let label = described.unwrap_or_else(|| s.device_info().adapter);
    ui::set_text("adapter", &label);
    Ok((s, label))
}

/// Where the page keeps the autotuner's choices (its local storage).
const TUNING_KEY: &str = "steadygrad-matmul-autotune";

/// Times the matmul shape classes the steps so far met for the first time (once per
/// adapter and kernel version: the choices are kept in the page's storage), saying so on
/// the status line, and notes them for the report.
async fn tune(s: &mut Session, tuned: &mut Vec<Value>) -> Result<(), String> {
    let n = s.untuned_classes();
    if n == 0 {
        return Ok(());
    }
    let before = ui::text("status");
    ui::set_text(
        "status",
        &format!("choosing kernels for {n} new matrix shapes on this adapter (once)…"),
    );
    let started = Instant::now();
    let classes = s.tune_async().await.map_err(|e| e.to_string())?;
    for c in &classes {
        tuned.push(json!({
            "class": c.class, "shape": [c.shape.0, c.shape.1, c.shape.2],
            "variant": c.variant, "provisional": c.provisional, "seconds": c.seconds,
        }));
    }
    if let Some(text) = s.tuning() {
        ui::store(TUNING_KEY, &text);
    }
    ui::append_line(
        "history",
        &format!(
            "chose kernels for {} matrix shapes in {:.1} s: {}",
            classes.len(),
            started.elapsed().as_secs_f64(),
            classes
                .iter()
                .map(|c| format!("{}×{}×{} {}", c.shape.0, c.shape.1, c.shape.2, c.variant))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    ui::set_text("status", &before);
    Ok(())
}

/// The adapter as the browser describes it (vendor, architecture, description: what
/// `GPUAdapterInfo` tells), if it does.
async fn adapter_words() -> Option<String> {
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k)).ok();
    let window = web_sys::window()?;
    let gpu = get(&window.navigator().into(), "gpu")?;
    let request =
        get(&gpu, "requestAdapter").and_then(|f| f.dyn_into::<js_sys::Function>().ok())?;
    let promise = request.call0(&gpu).ok()?;
    let adapter = JsFuture::from(js_sys::Promise::from(promise)).await.ok()?;
    let info = get(&adapter, "info")?;
    let words: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .filter_map(|k| get(&info, k).and_then(|v| v.as_string()))
        .filter(|v| !v.is_empty())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Trains the seed network (the CLI's default: SGD 0.01 with Nesterov momentum 0.9) and
/// returns the report.
async fn train(p: Params) -> Result<Value, String> {
    let d = digits().await?;
    let (train, test) = (&d.0, &d.1);
    let model = p.net.model()?;
    let (mut s, adapter) = open(model, p.matmul, p.tune).await?;
    let opt = Sgd::new(0.01).momentum(0.9).nesterov(true);
    s.compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
        .map_err(|e| e.to_string())?;
    let err = |e: steadygrad::Error| e.to_string();
    let mut rng = rand::rngs::StdRng::seed_from_u64(p.seed);
    let (mut smoothed, mut raw, mut smooth) = (Ewma::new(0.98), Vec::new(), Vec::new());
    let (mut samples, mut seconds) = (0usize, 0.0f64);
    let mut last = json!({});
    let mut epochs_done = 0;
    let mut per_epoch = Vec::new();
    let mut tuned = Vec::new();
    let done = |s: &Session| p.steps.is_some_and(|n| s.steps_done() >= n);
    for epoch in 0..p.epochs {
        ui::set_text("status", &format!("training epoch {}", epoch + 1));
        let start = Instant::now();
        let rng = if p.shuffle { Some(&mut rng) } else { None };
        let mut e = s.begin_epoch(train, p.batch, rng).map_err(err)?;
        let mut epoch_samples = 0;
        let (mut sum_before, mut rows_before) = (0.0f64, 0usize);
        let mut last_step = s.steps_done() as f64;
        // The read in flight: started after a chunk, awaited after the next is submitted.
        let mut pending: Option<(MetricsRead, usize, f64)> = None;
        loop {
            let more = e.next_rows() > 0 && !done(&s);
            if more {
                for _ in 0..STEPS_PER_UPDATE {
                    let rows = e.next_rows();
                    if rows == 0 || done(&s) || s.train_next(train, &mut e).map_err(err)?.is_none()
                    {
                        break;
                    }
                    epoch_samples += rows;
                }
                tune(&mut s, &mut tuned).await?;
            }
            let next = more.then(|| (s.start_metrics(), epoch_samples, s.steps_done() as f64));
            let Some((read, at_samples, step)) = std::mem::replace(&mut pending, next) else {
                if more {
                    continue;
                }
                break;
            };
            // Awaiting the read also hands the tab back to the browser. The epoch's
            // running mean over its rows so far gives the mean of the steps of that chunk,
            // which the chart smooths.
            let (mean, _) = s.finish_metrics(read).await.map_err(err)?;
            let (sum, rows) = (
                f64::from(mean) * at_samples as f64,
                at_samples - rows_before,
            );
            if rows > 0 {
                let chunk = (sum - sum_before) / rows as f64;
                raw.push((step, chunk));
                smooth.push((
                    step,
                    smoothed.update_after(chunk, (step - last_step).max(1.0) as u64),
                ));
                last_step = step;
                ui::draw_loss("loss", &raw, &smooth, STEPS_PER_UPDATE);
            }
            (sum_before, rows_before) = (sum, at_samples);
            let rate =
                (samples + at_samples) as f64 / (seconds + start.elapsed().as_secs_f64()).max(1e-9);
            ui::set_text(
                "progress",
                &format!(
                    "epoch {}/{} step {}/{} loss {mean:.4} (epoch mean so far) {rate:.0} samples/s",
                    epoch + 1,
                    p.epochs,
                    e.done(),
                    e.steps()
                ),
            );
        }
        let logs = s.end_epoch_async(e).await.map_err(err)?;
        let (train_loss, train_acc) = (logs.loss, logs.accuracy);
        let epoch_seconds = start.elapsed().as_secs_f64();
        seconds += epoch_seconds;
        samples += epoch_samples;
        per_epoch.push(epoch_samples as f64 / epoch_seconds.max(1e-9));
        epochs_done += 1;
        let last_epoch = epoch + 1 == p.epochs || done(&s);
        // The bench mode evaluates once, at the end, and draws no digits.
        let (test_loss, test_acc) = if !p.bench || last_epoch {
            s.evaluate_async(test, 256).await.map_err(err)?
        } else {
            (f32::NAN, f32::NAN)
        };
        ui::append_line(
            "history",
            &format!(
                "epoch {}: loss {train_loss:.4} accuracy {train_acc:.4} test_loss {test_loss:.4} test_accuracy {test_acc:.4} ({:.0} samples/s)",
                epoch + 1,
                per_epoch[epoch]
            ),
        );
        if !p.bench {
            show_predictions(&mut s, test).await?;
        }
        tune(&mut s, &mut tuned).await?;
        last = json!({
            "train_loss": train_loss, "train_accuracy": train_acc,
            "test_loss": test_loss, "test_accuracy": test_acc,
        });
        if done(&s) {
            break;
        }
    }
    // Steady state: the best epoch after the first (which builds plans and pipelines).
    let steady = per_epoch
        .iter()
        .skip(usize::from(per_epoch.len() > 1))
        .copied()
        .fold(0.0, f64::max);
    let counters = s.counters();
    let mut report = json!({
        "adapter": adapter,
        "net": format!("{:?}", p.net).to_lowercase(),
        "batch": p.batch,
        "epochs": epochs_done,
        "steps": s.steps_done(),
        "test_accuracy": last["test_accuracy"],
        "test_loss": last["test_loss"],
        "train_loss": last["train_loss"],
        "samples_per_second": samples as f64 / seconds.max(1e-9),
        "samples_per_second_per_epoch": per_epoch,
        "steady_samples_per_second": steady,
        "dispatches": counters.dispatches,
        "submits": counters.submits,
        "matmul_tuned": tuned,
    });
    if p.bench {
        ui::set_text(
            "status",
            &format!("bench: {steady:.0} samples/s (steady state)"),
        );
    }
    if p.weights {
        let mut w = Map::new();
        for t in s.weights_async().await.map_err(err)? {
            let head: Vec<f32> = t.data.iter().take(8).copied().collect();
            w.insert(t.name, json!(head));
        }
        report["weights"] = Value::Object(w);
    }
    Ok(report)
}

/// Predicts the first test digits and draws them with their labels.
async fn show_predictions(s: &mut Session, test: &Dataset) -> Result<(), String> {
    let n = GRID.min(test.len());
    let x: Vec<f32> = (0..n).flat_map(|i| test.sample(i)).collect();
    let probs = s.predict_async(&x, n).await.map_err(|e| e.to_string())?;
    let classes = probs.len() / n;
    let predicted: Vec<u32> = probs
        .chunks(classes)
        .map(|row| {
            (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0) as u32
        })
        .collect();
    let pixels: Vec<u8> = match &test.x {
        Samples::U8(v) => v[..n * 784].to_vec(),
        Samples::F32(v) => v[..n * 784].iter().map(|f| (f * 255.0) as u8).collect(),
    };
    ui::draw_digits("digits", &pixels, &test.y[..n], &predicted, 8);
    Ok(())
}

/// Loads a model folder by URL (URL/model.json, URL/weights.safetensors).
async fn load_model_url(url: &str) -> Result<Value, String> {
    let base = url.trim_end_matches('/');
    let json = fetch_bytes(&format!("{base}/model.json")).await?;
    let weights = fetch_bytes(&format!("{base}/weights.safetensors")).await?;
    show_model(base, &json, &weights).await
}

/// Loads a model folder from the files chosen in the page (model.json and
/// weights.safetensors).
async fn load_model_files() -> Result<Value, String> {
    let input: web_sys::HtmlInputElement = ui::document()
        .get_element_by_id("model-files")
        .and_then(|e| e.dyn_into().ok())
        .ok_or("the page has no file chooser")?;
    let files = input.files().ok_or("no files chosen")?;
    let (mut json, mut weights) = (None, None);
    for i in 0..files.length() {
        let f = files.get(i).expect("index below length");
        let bytes = JsFuture::from(f.array_buffer())
            .await
            .map_err(ui::js_text)?;
        let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
        match f.name().as_str() {
            "model.json" => json = Some(bytes),
            "weights.safetensors" => weights = Some(bytes),
            _ => {}
        }
    }
    let json = json.ok_or("choose the folder's model.json")?;
    let weights = weights.ok_or("choose the folder's weights.safetensors")?;
    show_model("chosen files", &json, &weights).await
}

/// Evaluates a loaded model on the test digits and draws its predictions.
async fn show_model(name: &str, json: &[u8], weights: &[u8]) -> Result<Value, String> {
    let loaded =
        model_from_bytes(Path::new(name), json, weights, None).map_err(|e| e.to_string())?;
    let d = digits().await?;
    let test = &d.1;
    let (mut s, adapter) = open(loaded.model, None, None).await?;
    let (loss, accuracy) = s
        .evaluate_async(test, 256)
        .await
        .map_err(|e| e.to_string())?;
    ui::append_line(
        "history",
        &format!("model {name}: test_loss {loss:.4} test_accuracy {accuracy:.4}"),
    );
    show_predictions(&mut s, test).await?;
    Ok(json!({
        "adapter": adapter,
        "model": name,
        "test_loss": loss,
        "test_accuracy": accuracy,
    }))
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {}", ui::js_text(e)))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(ui::js_text)?;
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(ui::js_text)?)
        .await
        .map_err(ui::js_text)?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

async fn post(path: &str, body: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let resp = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(ui::js_text)?;
    let resp: web_sys::Response = resp.dyn_into().map_err(ui::js_text)?;
    if resp.ok() {
        Ok(())
    } else {
        Err(format!("HTTP {}", resp.status()))
    }
}
