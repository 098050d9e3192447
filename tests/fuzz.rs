//! Fuzzing of the loaders with proptest, from the seed corpus in `tests/data/fuzz/`: the
//! IDX reader (plain and gzipped), the safetensors data-set reader, the model-folder loader
//! (model.json, weights and optimizer state, each mutated), the optimizer-state reader (a
//! state of every optimizer, mutated, restored and trained one step), the autotune cache
//! reader and the Keras JSON parser. Each
//! input is a seed with byte-level edits (flips, overwrites with boundary integers,
//! insertions, deletions, truncation) or, for JSON, a value swapped for a hostile one. A
//! loader must answer every input with a value or an error: a panic fails the test (an
//! abort would kill it). A model that loads is also run once on the CPU reference.
//!
//! CI runs a short smoke run; `STEADYGRAD_FUZZ_CASES=1000000 cargo test --release --test
//! fuzz -- --nocapture` runs the long one (figures in the README).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use steadygrad::data::idx::{decode_maybe_gz, idx_pair_from_bytes, parse_idx_u8};
use steadygrad::data::safetensors_set::dataset_from_safetensors_bytes;
use steadygrad::io::model_file::model_from_bytes;
use steadygrad::io::model_from_json;
use steadygrad::train::Session;
use steadygrad::CpuBackend;

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz")
            .join(name),
    )
    .unwrap()
}

fn cases() -> u32 {
    std::env::var("STEADYGRAD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// One byte-level edit.
#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Int(usize, u32, bool),
    Truncate(usize),
}

const INTERESTING: [u32; 14] = [
    0,
    1,
    2,
    3,
    0x7f,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    // f32 specials: +inf, -inf, -1.0, the largest finite.
    0x7f80_0000,
    0xff80_0000,
    0xbf80_0000,
    0x7f7f_ffff,
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Set(p, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(p, v)| Edit::Insert(p, v)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<usize>(), 0usize..INTERESTING.len(), any::<bool>())
            .prop_map(|(p, i, be)| Edit::Int(p, INTERESTING[i], be)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Flip(p, b) => {
                if !bytes.is_empty() {
                    bytes[p % n] ^= b;
                }
            }
            Edit::Set(p, b) => {
                if !bytes.is_empty() {
                    bytes[p % n] = *b;
                }
            }
            Edit::Insert(p, v) => {
                let at = p % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Edit::Delete(p, k) => {
                if !bytes.is_empty() {
                    let at = p % n;
                    let end = (at + k).min(bytes.len());
                    bytes.drain(at..end);
                }
            }
            Edit::Int(p, v, be) => {
                if bytes.len() >= 4 {
                    let at = p % (bytes.len() - 3);
                    let b = if *be {
                        v.to_be_bytes()
                    } else {
                        v.to_le_bytes()
                    };
                    bytes[at..at + 4].copy_from_slice(&b);
                }
            }
            Edit::Truncate(p) => bytes.truncate(p % n),
        }
    }
    bytes
}

/// A hostile JSON value.
fn hostile(k: usize) -> Value {
    let v = [
        Value::Null,
        Value::Bool(false),
        Value::String("false".into()),
        serde_json::json!(-1),
        serde_json::json!(0),
        serde_json::json!(1e12),
        serde_json::json!(1e300),
        serde_json::json!(-0.5),
        serde_json::json!(18446744073709551615u64),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!([null]),
        serde_json::json!("NaN"),
        serde_json::json!(4294967296u64),
    ];
    v[k % v.len()].clone()
}

/// Replaces the `target`-th node (depth first) of `v` with `with`, or deletes the key there.
fn replace_node(v: &mut Value, target: &mut usize, with: &Value, delete: bool) -> bool {
    if *target == 0 {
        *v = with.clone();
        return true;
    }
    *target -= 1;
    match v {
        Value::Array(a) => {
            for x in a.iter_mut() {
                if replace_node(x, target, with, delete) {
                    return true;
                }
            }
        }
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                if delete && *target == 0 {
                    o.remove(&k);
                    return true;
                }
                if replace_node(o.get_mut(&k).unwrap(), target, with, delete) {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

/// A JSON seed mutated structurally (a few nodes replaced or deleted) or at byte level.
fn json_input(
    seed: &[u8],
    structural: &[(usize, usize, bool)],
    edits: &[Edit],
    bytes_level: bool,
) -> Vec<u8> {
    if bytes_level {
        return apply(seed.to_vec(), edits);
    }
    let mut v: Value = serde_json::from_slice(seed).unwrap();
    for (node, k, delete) in structural {
        let mut t = *node % 400;
        replace_node(&mut v, &mut t, &hostile(*k), *delete);
    }
    serde_json::to_vec(&v).unwrap()
}

static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

fn run(name: &str, strategy: impl Strategy<Value = Vec<u8>>, target: impl Fn(&[u8])) {
    let n = cases();
    let mut runner = TestRunner::new(Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    });
    let t = std::time::Instant::now();
    runner
        .run(&strategy, |input| {
            target(&input);
            EXECUTIONS.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    eprintln!(
        "{name}: {n} executions, 0 crashes, {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..6)
}

#[test]
fn idx_reader() {
    let images = seed("images.idx");
    let labels = seed("labels.idx");
    let gz = seed("images.idx.gz");
    let strategy = (0usize..3, edits()).prop_map(move |(which, e)| {
        let base = [&images, &labels, &gz][which].clone();
        let mut out = vec![which as u8];
        out.extend(apply(base, &e));
        out
    });
    let labels2 = seed("labels.idx");
    run("IDX reader", strategy, |input| {
        let (which, bytes) = (input[0], input[1..].to_vec());
        let p = Path::new("fuzz.idx");
        match which {
            0 => {
                let _ = parse_idx_u8(p, &bytes);
                let _ = idx_pair_from_bytes((p, bytes), (p, labels2.clone()));
            }
            1 => {
                let _ = idx_pair_from_bytes((p, seed("images.idx")), (p, bytes));
            }
            _ => {
                if let Ok(raw) = decode_maybe_gz(p, bytes) {
                    let _ = parse_idx_u8(p, &raw);
                }
            }
        }
    });
}

#[test]
fn safetensors_data_reader() {
    let data = seed("data.safetensors");
    run(
        "safetensors data reader",
        edits().prop_map(move |e| apply(data.clone(), &e)),
        |input| {
            let _ = dataset_from_safetensors_bytes(Path::new("fuzz.safetensors"), input);
        },
    );
}

#[test]
fn keras_json_parser() {
    let seeds = [seed("keras_model.json"), seed("model.json")];
    let strategy = (
        0usize..2,
        prop::collection::vec((any::<usize>(), any::<usize>(), any::<bool>()), 1..4),
        edits(),
        prop::bool::weighted(0.2),
    )
        .prop_map(move |(s, structural, e, bytes_level)| {
            json_input(&seeds[s], &structural, &e, bytes_level)
        });
    run("Keras JSON parser", strategy, |input| {
        if let Ok(text) = std::str::from_utf8(input) {
            let _ = model_from_json(text, 0);
        }
    });
}

#[test]
fn model_folder_loader() {
    let json = seed("model.json");
    let weights = seed("weights.safetensors");
    let optimizer = seed("optimizer.safetensors");
    let strategy = (
        0usize..3,
        prop::collection::vec((any::<usize>(), any::<usize>(), any::<bool>()), 1..3),
        edits(),
        prop::bool::weighted(0.3),
    )
        .prop_map(move |(part, structural, e, bytes_level)| {
            let mut files = [json.clone(), weights.clone(), optimizer.clone()];
            files[part] = if part == 0 {
                json_input(&json, &structural, &e, bytes_level)
            } else {
                apply(files[part].clone(), &e)
            };
            // Length-prefixed concatenation of the three files.
            let mut out = Vec::new();
            for f in files {
                out.extend((f.len() as u32).to_le_bytes());
                out.extend(f);
            }
            out
        });
    run("model-folder loader", strategy, |input| {
        let mut parts = Vec::new();
        let mut at = 0;
        for _ in 0..3 {
            let n = u32::from_le_bytes(input[at..at + 4].try_into().unwrap()) as usize;
            parts.push(&input[at + 4..at + 4 + n]);
            at += 4 + n;
        }
        if let Ok(loaded) =
            model_from_bytes(Path::new("fuzz-model"), parts[0], parts[1], Some(parts[2]))
        {
            // A model that loads also runs (small ones, on the CPU reference).
            let m = loaded.model;
            if m.param_counts().0 < 100_000 && m.input_features() < 100_000 {
                let x = vec![0.5; m.input_features()];
                if let Ok(mut s) = Session::with_backend(m, Box::new(CpuBackend::new())) {
                    let _ = s.predict(&x, 1);
                }
            }
        }
    });
}

/// Every optimizer's state for the seed model, saved by the engine itself (the seeds of
/// the optimizer-state target): (optimizer, optimizer.safetensors bytes).
fn optimizer_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let base = model_from_bytes(
        Path::new("seed"),
        &seed("model.json"),
        &seed("weights.safetensors"),
        None,
    )
    .unwrap()
    .model;
    let dir = std::env::temp_dir().join(format!("steadygrad-fuzz-opt-{}", std::process::id()));
    let mut out = Vec::new();
    for name in steadygrad::optim::NAMES {
        let opt = steadygrad::optim::by_name(name, &Default::default()).unwrap();
        let mut s = Session::with_backend(base.clone(), Box::new(CpuBackend::new())).unwrap();
        s.compile(opt, steadygrad::LossName::SparseCategoricalCrossentropy)
            .unwrap();
        // Two steps, so every slot holds something other than its initial value.
        s.fit(&fuzz_data(), None, &fit_options(2), &mut []).unwrap();
        let state = s.optimizer_state().unwrap();
        let model = s.into_model().unwrap();
        steadygrad::io::save_model(&model, Some(&state), &dir).unwrap();
        out.push((
            name,
            std::fs::read(dir.join("optimizer.safetensors")).unwrap(),
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn fuzz_data() -> steadygrad::Dataset {
    let x: Vec<f32> = (0..8 * 4).map(|i| (i % 7) as f32 / 7.0).collect();
    steadygrad::Dataset::new(
        steadygrad::data::Samples::F32(x),
        vec![0, 1, 1, 0, 1, 0, 0, 1],
        vec![2, 2],
    )
    .unwrap()
}

fn fit_options(steps: u64) -> steadygrad::FitOptions {
    steadygrad::FitOptions {
        epochs: 1,
        batch_size: 4,
        shuffle: false,
        max_steps: Some(steps),
        ..Default::default()
    }
}

static RESTORED: AtomicU64 = AtomicU64::new(0);

#[test]
fn optimizer_state_reader() {
    let seeds = optimizer_seeds();
    let json = seed("model.json");
    let weights = seed("weights.safetensors");
    let n = seeds.len();
    let bytes: Vec<Vec<u8>> = seeds.iter().map(|(_, b)| b.clone()).collect();
    // Mostly values (edits past the header: NaN, infinities, negative and huge numbers
    // where the slots are), sometimes anywhere.
    let strategy =
        (0usize..n, edits(), prop::bool::weighted(0.8)).prop_map(move |(k, e, values)| {
            let b = &bytes[k];
            let header = 8 + u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
            let mut out = vec![k as u8];
            if values {
                let edited = apply(b[header..].to_vec(), &e);
                let mut whole = b[..header].to_vec();
                // Same length as before (a different one is the header's problem, fuzzed below).
                whole.extend(
                    edited
                        .iter()
                        .copied()
                        .chain(std::iter::repeat(0))
                        .take(b.len() - header),
                );
                out.extend(whole);
            } else {
                out.extend(apply(b.clone(), &e));
            }
            out
        });
    run("optimizer-state reader", strategy, |input| {
        let (name, bytes) = (seeds[input[0] as usize].0, &input[1..]);
        let Ok(loaded) = model_from_bytes(Path::new("fuzz-model"), &json, &weights, Some(bytes))
        else {
            return;
        };
        let Some(state) = loaded.optimizer else {
            return;
        };
        // A state that loads is valid, restores into its optimizer (or is refused with an
        // error) and trains one step to finite weights.
        assert!(state.validate().is_ok());
        let opt = steadygrad::optim::by_name(name, &Default::default()).unwrap();
        let mut s = Session::with_backend(loaded.model, Box::new(CpuBackend::new())).unwrap();
        s.compile(opt, steadygrad::LossName::SparseCategoricalCrossentropy)
            .unwrap();
        if s.set_optimizer_state(&state).is_ok() {
            RESTORED.fetch_add(1, Ordering::Relaxed);
            let fitted = s.fit(&fuzz_data(), None, &fit_options(1), &mut []);
            if fitted.is_ok() {
                let w = s.get_weights().unwrap();
                assert!(w.iter().all(|w| w.data.iter().all(|v| v.is_finite())));
            }
        }
    });
    let restored = RESTORED.load(Ordering::Relaxed);
    eprintln!("optimizer-state reader: {restored} mutated states restored and trained");
    assert!(
        restored > 0,
        "no mutated state got through: the target tests nothing"
    );
}

#[test]
fn autotune_cache_reader() {
    use steadygrad::backend::autotune::TuneCache;
    let text = br#"{"llvmpipe|mesa|LLVM 15|kernels 0123abcd": {"NNv-11": "register-blocked-8", "NTs-3": "tiled"}}"#;
    let path =
        std::env::temp_dir().join(format!("steadygrad-fuzz-tune-{}.json", std::process::id()));
    let strategy = edits().prop_map(move |e| apply(text.to_vec(), &e));
    run("autotune cache reader", strategy, |input| {
        std::fs::write(&path, input).unwrap();
        let c = TuneCache::load(&path);
        // Whatever it read round-trips.
        c.save(&path).unwrap();
        assert_eq!(TuneCache::load(&path), c);
    });
}
