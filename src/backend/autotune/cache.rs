//! The autotuner's cache: the fingerprint of the matmul kernels its choices hold for, and
//! the file of every adapter's choices (`matmul-autotune.json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{MatmulVariant, PROXY_ABOVE, PROXY_DIM};

/// A short fingerprint of the matmul kernels as the pipelines are built (the WGSL source and
/// each entry's workgroup constants) and of how they are timed: FNV-1a, stable across Rust
/// releases and machines.
pub fn kernels_fingerprint() -> String {
    use crate::backend::contract::{Entry, MATMUL, MATMUL_TEXTURE};
    let args = crate::backend::Kernel::MatMul {
        m: 1,
        k: 1,
        n: 1,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    }
    .args();
    let mut text = MATMUL.source(&args) + &MATMUL_TEXTURE.source(&args);
    // How choices are made: a cache from an older procedure is not trusted either.
    text.push_str(&format!(
        "\ntuned on the shape up to {PROXY_ABOVE} multiply-adds, else on {PROXY_DIM}-capped proxies, \
         in five turns of about 5 ms"
    ));
    for e in [
        Entry::MatmulRegblock,
        Entry::MatmulVec4,
        Entry::MatmulVec8,
        Entry::MatmulVec16,
        Entry::MatmulTiled,
        Entry::MatmulTexture8,
        Entry::MatmulTexture16,
        Entry::MatmulTexture16x20,
        Entry::MatmulNarrow,
        Entry::MatmulNarrowTexture,
        Entry::MatmulReduce,
    ] {
        for (name, value) in e.constants() {
            text.push_str(&format!("\n{}:{name}={value}", e.name()));
        }
    }
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:08x}", hash >> 32)
}

/// The cached choices of every adapter: `"adapter|driver|details|kernels <fingerprint>"` →
/// (shape class → variant name).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TuneCache {
    entries: BTreeMap<String, BTreeMap<String, String>>,
}

impl TuneCache {
    /// The cache file in the user's cache folder, if one can be named. An empty variable
    /// counts as unset, and a relative `XDG_CACHE_HOME` or `HOME` is ignored (as the XDG
    /// rules say), so the cache never lands in whatever folder the command runs in.
    pub fn default_path() -> Option<PathBuf> {
        Self::path_from(|k| std::env::var_os(k))
    }

    /// [`TuneCache::default_path`] with the environment given as a lookup.
    pub fn path_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let absolute = |name: &str| set(name).filter(|p| p.is_absolute());
        let dir = set("STEADYGRAD_CACHE_DIR")
            .or_else(|| absolute("XDG_CACHE_HOME").map(|d| d.join("steadygrad")))
            .or_else(|| absolute("HOME").map(|h| h.join(".cache").join("steadygrad")))?;
        Some(dir.join("matmul-autotune.json"))
    }

    /// The largest cache file read (a real one is a few kilobytes).
    pub const MAX_BYTES: u64 = 1 << 20;

    /// Reads a cache file; a missing, unreadable or malformed one is an empty cache (the
    /// choices are made again and the file rewritten; a file that is there but not a cache
    /// gets a one-line notice). Only a regular file of at most [`TuneCache::MAX_BYTES`] is
    /// read, without blocking (a FIFO or a link to a device is an empty cache too).
    pub fn load(path: &Path) -> TuneCache {
        let Ok(bytes) = crate::io::safe_file::read_capped(path, Self::MAX_BYTES) else {
            return TuneCache::default();
        };
        let parsed = String::from_utf8(bytes)
            .ok()
            .and_then(|t| TuneCache::parse(&t));
        parsed.unwrap_or_else(|| {
            eprintln!(
                "notice: {} is not a steadygrad autotune cache; ignored (rewritten when kernels are next timed)",
                path.display()
            );
            TuneCache::default()
        })
    }

    /// The cache of a JSON text (as [`TuneCache::to_json`] writes it); malformed text is an
    /// empty cache, and a choice naming no variant is dropped.
    pub fn from_json(text: &str) -> TuneCache {
        TuneCache::parse(text).unwrap_or_default()
    }

    /// [`TuneCache::from_json`], or `None` where the text is not a JSON object.
    pub fn parse(text: &str) -> Option<TuneCache> {
        let Ok(serde_json::Value::Object(adapters)) = serde_json::from_str(text) else {
            return None;
        };
        let mut entries = BTreeMap::new();
        for (adapter, classes) in adapters {
            let Some(classes) = classes.as_object() else {
                continue;
            };
            let m: BTreeMap<String, String> = classes
                .iter()
                .filter_map(|(c, v)| {
                    let v = v.as_str()?;
                    MatmulVariant::from_name(v).map(|_| (c.clone(), v.to_string()))
                })
                .collect();
            entries.insert(adapter, m);
        }
        Some(TuneCache { entries })
    }

    /// The cache as JSON text (the file's contents).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.entries).expect("JSON")
    }

    /// Adds another cache's choices (its choice wins where both have one).
    pub fn merge(&mut self, other: TuneCache) {
        for (adapter, classes) in other.entries {
            self.entries.entry(adapter).or_default().extend(classes);
        }
    }

    /// Writes the cache whole (an exclusive, unpredictable temporary and a rename: a link
    /// planted in the folder is never followed).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
            // Temporaries of killed runs (also the older `matmul-autotune.tmp-<pid>`).
            crate::io::safe_file::clean_stale_temps(
                dir,
                "matmul-autotune.json",
                Some("matmul-autotune.tmp-"),
            );
        }
        crate::io::safe_file::write_atomic(path, self.to_json().as_bytes())
    }

    /// Forgets every choice of an adapter (`steadygrad tune` times them afresh).
    pub fn forget(&mut self, adapter: &str) {
        self.entries.remove(adapter);
    }

    /// The choices of an adapter: shape class → variant name.
    pub fn choices(&self, adapter: &str) -> Vec<(String, String)> {
        self.entries
            .get(adapter)
            .map(|m| m.iter().map(|(c, v)| (c.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The cached choice for an adapter and shape class.
    pub fn get(&self, adapter: &str, class: &str) -> Option<MatmulVariant> {
        self.entries
            .get(adapter)?
            .get(class)
            .and_then(|v| MatmulVariant::from_name(v))
    }

    /// Records a choice.
    pub fn set(&mut self, adapter: &str, class: &str, v: MatmulVariant) {
        self.entries
            .entry(adapter.to_string())
            .or_default()
            .insert(class.to_string(), v.name().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_stable_and_short() {
        let f = kernels_fingerprint();
        assert_eq!(f, kernels_fingerprint());
        assert_eq!(f.len(), 8);
        assert!(f.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn empty_or_relative_cache_variables_never_name_the_working_folder() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let p = |pairs| TuneCache::path_from(env(pairs));
        assert_eq!(
            p(&[
                ("STEADYGRAD_CACHE_DIR", ""),
                ("XDG_CACHE_HOME", ""),
                ("HOME", "/h")
            ]),
            Some(PathBuf::from("/h/.cache/steadygrad/matmul-autotune.json"))
        );
        assert_eq!(
            p(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")]),
            Some(PathBuf::from("/h/.cache/steadygrad/matmul-autotune.json"))
        );
        assert_eq!(
            p(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]),
            Some(PathBuf::from("/x/steadygrad/matmul-autotune.json"))
        );
        assert_eq!(
            p(&[("STEADYGRAD_CACHE_DIR", "/c"), ("HOME", "/h")]),
            Some(PathBuf::from("/c/matmul-autotune.json"))
        );
        assert_eq!(p(&[("HOME", "")]), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_or_a_device_as_the_cache_is_an_empty_cache_without_blocking() {
        let dir = std::env::temp_dir().join(format!("steadygrad-tune-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(TuneCache::load(&fifo), TuneCache::default());
        let zero = dir.join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(TuneCache::load(&zero), TuneCache::default());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_cache_round_trips_and_survives_garbage() {
        let dir = std::env::temp_dir().join(format!("steadygrad-tune-{}", std::process::id()));
        let path = dir.join("matmul-autotune.json");
        let mut c = TuneCache::default();
        c.set("llvmpipe|mesa", "NNv-11", MatmulVariant::RegisterBlocked8);
        c.set("llvmpipe|mesa", "NTs-3", MatmulVariant::Tiled);
        c.save(&path).unwrap();
        let back = TuneCache::load(&path);
        assert_eq!(back, c);
        assert_eq!(
            back.get("llvmpipe|mesa", "NNv-11"),
            Some(MatmulVariant::RegisterBlocked8)
        );
        assert_eq!(back.get("other|x", "NNv-11"), None);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(TuneCache::load(&path), TuneCache::default());
        std::fs::write(&path, r#"{"a": {"NNv-1": "warp-speed"}, "b": 3}"#).unwrap();
        assert_eq!(TuneCache::load(&path).get("a", "NNv-1"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_page_kept_text_round_trips_and_merges_with_its_choices_first() {
        let mut page = TuneCache::default();
        page.set("swiftshader|", "NNv-11", MatmulVariant::Texture16);
        page.set("swiftshader|", "TNv-9", MatmulVariant::Texture8);
        assert_eq!(TuneCache::from_json(&page.to_json()), page);
        let mut open = TuneCache::default();
        open.set("swiftshader|", "NNv-11", MatmulVariant::Texture16x20);
        open.set("swiftshader|", "NTv-9", MatmulVariant::NarrowTexture);
        open.merge(TuneCache::from_json(&page.to_json()));
        let got = |c: &str| open.get("swiftshader|", c);
        assert_eq!(got("NNv-11"), Some(MatmulVariant::Texture16));
        assert_eq!(got("TNv-9"), Some(MatmulVariant::Texture8));
        assert_eq!(got("NTv-9"), Some(MatmulVariant::NarrowTexture));
        // Garbage adds nothing, and is told apart from a cache.
        assert_eq!(TuneCache::parse("[1, 2"), None);
        assert_eq!(TuneCache::parse("{}"), Some(TuneCache::default()));
        let before = open.clone();
        open.merge(TuneCache::from_json("[1, 2"));
        open.merge(TuneCache::from_json(
            r#"{"swiftshader|": {"NNv-11": "fastest"}}"#,
        ));
        assert_eq!(open, before);
    }
}
