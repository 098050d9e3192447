//! The files a command writes, in one place: every output is checked before the first
//! training step (writable, not a folder where a file goes, no two flags naming one path),
//! and at the end each is written on its own, so one that fails never costs the others.

use std::path::{Path, PathBuf};

use steadygrad::io::{folder, safe_file};
use steadygrad::{Error, Result};

use super::args::TrainOptions;

/// What a flag writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// One file (CSV, safetensors).
    File,
    /// A folder of charts, made if missing.
    ChartFolder,
    /// A model folder, replaced atomically.
    ModelFolder,
}

/// The outputs one command names.
#[derive(Default)]
pub struct Outputs(Vec<(&'static str, PathBuf, Kind)>);

/// Bytes written by the probe that checks a file's folder (catches full devices).
const PROBE_BYTES: usize = 64 * 1024;

impl Outputs {
    /// Adds `flag`'s output, if the flag was given.
    pub fn with(mut self, flag: &'static str, path: Option<&Path>, kind: Kind) -> Outputs {
        if let Some(p) = path {
            self.0.push((flag, p.to_path_buf(), kind));
        }
        self
    }

    /// The outputs of the training flags (`--history`, `--health`, `--plot`,
    /// `--checkpoint`) and a `--save` folder.
    pub fn of_training(t: &TrainOptions, save: Option<&Path>) -> Outputs {
        Outputs::default()
            .with("--save", save, Kind::ModelFolder)
            .with("--checkpoint", t.checkpoint.as_deref(), Kind::ModelFolder)
            .with("--history", t.history.as_deref(), Kind::File)
            .with("--health", t.health.as_deref(), Kind::File)
            .with("--plot", t.plot.as_deref(), Kind::ChartFolder)
    }

    /// Checks every output; the first problem is a one-line error naming its flag.
    pub fn check(&self) -> Result<()> {
        let mut seen: Vec<(PathBuf, &str)> = Vec::new();
        for (flag, path, kind) in &self.0 {
            let bad = |why: String| Error::Config(format!("{flag} {}: {why}", path.display()));
            let key = identity(path);
            if let Some((_, other)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(bad(format!("{other} names the same path")));
            }
            seen.push((key, flag));
            match kind {
                Kind::File => {
                    safe_file::check_writable(path, PROBE_BYTES).map_err(|e| bad(e.to_string()))?
                }
                Kind::ChartFolder => {
                    if path.exists() && !path.is_dir() {
                        return Err(bad("exists and is not a folder".into()));
                    }
                    std::fs::create_dir_all(path).map_err(|e| bad(e.to_string()))?;
                    safe_file::check_writable(&path.join("chart.png"), PROBE_BYTES)
                        .map_err(|e| bad(e.to_string()))?;
                }
                Kind::ModelFolder => {
                    folder::check_replaceable(path).map_err(|e| match e {
                        Error::Config(m) => Error::Config(format!("{flag} {m}")),
                        other => other,
                    })?;
                    let (parent, name) = safe_file::split(path).map_err(|e| bad(e.to_string()))?;
                    // The folder is made (with any missing parents) at the save.
                    let mut existing = parent.as_path();
                    while !existing.exists() {
                        match existing.parent() {
                            Some(p) if !p.as_os_str().is_empty() => existing = p,
                            _ => {
                                existing = Path::new(".");
                                break;
                            }
                        }
                    }
                    if !existing.is_dir() {
                        return Err(bad(format!("{} is not a folder", existing.display())));
                    }
                    safe_file::check_writable(&existing.join(format!(".{name}")), PROBE_BYTES)
                        .map_err(|e| bad(format!("{}: {e}", existing.display())))?;
                }
            }
        }
        Ok(())
    }
}

/// A path made absolute and, where its folder exists, with links in the folder resolved:
/// two spellings of one file compare equal.
fn identity(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(abs),
        _ => abs,
    }
}

/// Failures of outputs written at the end, kept so that the others are still written.
#[derive(Default)]
pub struct Failures(Vec<Error>);

impl Failures {
    /// Keeps `r`'s error, if any.
    pub fn record(&mut self, r: Result<()>) {
        if let Err(e) = r {
            self.0.push(e);
        }
    }

    /// Prints every failure but the last and returns that one (`Ok` when none).
    pub fn finish(mut self) -> Result<()> {
        let last = self.0.pop();
        for e in self.0 {
            eprintln!("error: {e}");
        }
        last.map_or(Ok(()), Err)
    }

    /// Ends with `e` after printing every recorded failure.
    pub fn fail_with(self, e: Error) -> Error {
        for f in self.0 {
            eprintln!("error: {f}");
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("steadygrad-out-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn two_flags_naming_one_file_are_refused() {
        let d = scratch("dup");
        let o = Outputs::default()
            .with("--history", Some(&d.join("h.csv")), Kind::File)
            .with("--health", Some(&d.join("./h.csv")), Kind::File);
        let e = o.check().unwrap_err().to_string();
        assert!(e.contains("--health") && e.contains("--history"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn folders_where_files_go_and_foreign_model_folders_are_refused() {
        let d = scratch("kinds");
        let e = Outputs::default()
            .with("--history", Some(&d), Kind::File)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--history") && e.contains("folder"), "{e}");
        std::fs::create_dir_all(d.join("m")).unwrap();
        std::fs::write(d.join("m/notes.txt"), "mine").unwrap();
        let e = Outputs::default()
            .with("--save", Some(&d.join("m")), Kind::ModelFolder)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--save") && e.contains("notes.txt"), "{e}");
        // A fresh nested folder is fine, and nothing is left behind by the checks.
        Outputs::default()
            .with("--save", Some(&d.join("a/b/new")), Kind::ModelFolder)
            .with("--plot", Some(&d.join("charts")), Kind::ChartFolder)
            .check()
            .unwrap();
        assert!(!d.join("a").exists());
        assert_eq!(std::fs::read_dir(d.join("charts")).unwrap().count(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn failures_are_kept_and_the_last_returned() {
        let mut f = Failures::default();
        f.record(Ok(()));
        assert!(Failures::default().finish().is_ok());
        f.record(Err(Error::Config("one".into())));
        f.record(Err(Error::Config("two".into())));
        assert!(f.finish().unwrap_err().to_string().ends_with("two"));
    }
}
