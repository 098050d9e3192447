//! Whole-folder atomic writes. A model folder is written complete into a fresh temporary
//! folder beside the target (every file synced), then switched into place: on Linux by
//! atomically exchanging the two folders (`renameat2(RENAME_EXCHANGE)`), elsewhere by two
//! renames with the old folder parked as `.NAME.old-*` in between. Whatever fails or is
//! killed at any point, the target holds either the previous complete folder or the new
//! one; a parked old folder left by a crash between the two renames is put back, and
//! stale temporaries are removed, by the next save or load.
//!
//! The file-system operations go through [`FsOps`], so tests can inject a failure at every
//! step.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file-system operations a folder save performs, in order. [`RealFs`] does them;
/// tests wrap it to fail at a chosen step.
pub trait FsOps {
    /// Creates a folder.
    fn create_dir(&self, path: &Path) -> std::io::Result<()>;
    /// Creates (or truncates) a file, writes `bytes` and syncs it.
    fn write_file(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()>;
    /// Syncs a folder's entries to disk.
    fn sync_dir(&self, path: &Path) -> std::io::Result<()>;
    /// Renames a file or folder.
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()>;
    /// Atomically swaps two existing paths; `Ok(false)` when the platform cannot.
    fn exchange(&self, a: &Path, b: &Path) -> std::io::Result<bool>;
    /// Removes a folder and everything in it.
    fn remove_dir_all(&self, path: &Path) -> std::io::Result<()>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl FsOps for RealFs {
    fn create_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)
    }
    fn write_file(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }
    fn sync_dir(&self, path: &Path) -> std::io::Result<()> {
        // Opening a folder to fsync it works on Unix; elsewhere there is nothing to do.
        match std::fs::File::open(path) {
            Ok(f) => f.sync_all().or(Ok(())),
            Err(_) => Ok(()),
        }
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }
    fn exchange(&self, a: &Path, b: &Path) -> std::io::Result<bool> {
        exchange_paths(a, b)
    }
    fn remove_dir_all(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_dir_all(path)
    }
}

#[cfg(target_os = "linux")]
fn exchange_paths(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them relative to the
    // working folder, as std::fs::rename does.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        // Not supported by this kernel or file system: fall back to two renames.
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange_paths(_a: &Path, _b: &Path) -> std::io::Result<bool> {
    Ok(false)
}

fn parts(dir: &Path) -> Result<(PathBuf, String)> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::Config(format!("{}: not a folder name", dir.display())))?
        .to_string_lossy()
        .to_string();
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok((parent, name))
}

/// Puts back a folder parked by an interrupted switch and removes stale temporaries of
/// `dir` (`.NAME.tmp-*`, `.NAME.old-*`).
pub fn recover(dir: &Path, fs: &dyn FsOps) -> Result<()> {
    let (parent, name) = parts(dir)?;
    let Ok(entries) = std::fs::read_dir(&parent) else {
        return Ok(());
    };
    let mut parked = Vec::new();
    let mut temps = Vec::new();
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if n.starts_with(&format!(".{name}.old-")) {
            parked.push(e.path());
        } else if n.starts_with(&format!(".{name}.tmp-")) {
            temps.push(e.path());
        }
    }
    if !dir.exists() {
        // Crashed between parking the old folder and moving the new one in: the old one
        // is complete, the new one may not be.
        if let Some(old) = parked.pop() {
            fs.rename(&old, dir).map_err(|e| Error::io(dir, e))?;
        }
    }
    for p in parked.into_iter().chain(temps) {
        fs.remove_dir_all(&p).map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}

/// The files a model folder may hold; saving refuses to replace a folder with others.
pub const FOLDER_FILES: [&str; 3] = ["model.json", "weights.safetensors", "optimizer.safetensors"];

/// Writes `files` as the whole content of folder `dir`, atomically (see the module docs).
pub fn write_folder(dir: &Path, files: &[(&str, Vec<u8>)], fs: &dyn FsOps) -> Result<()> {
    let (parent, name) = parts(dir)?;
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::Config(format!(
                "{}: exists and is not a folder; refusing to replace it",
                dir.display()
            )));
        }
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for e in entries {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let n = e.file_name().to_string_lossy().to_string();
            if !FOLDER_FILES.contains(&n.as_str()) {
                return Err(Error::Config(format!(
                    "{}: holds {n}, which is not part of a model folder; refusing to replace it",
                    dir.display()
                )));
            }
        }
    } else if !parent.is_dir() {
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    }
    recover(dir, fs)?;
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let tmp = parent.join(format!(".{name}.tmp-{stamp}"));
    let old = parent.join(format!(".{name}.old-{stamp}"));
    // Until the switch, a failure leaves the previous folder untouched.
    let prepared = (|| -> std::io::Result<()> {
        fs.create_dir(&tmp)?;
        for (file, bytes) in files {
            fs.write_file(&tmp.join(file), bytes)?;
        }
        fs.sync_dir(&tmp)
    })();
    if let Err(e) = prepared {
        let _ = fs.remove_dir_all(&tmp);
        return Err(Error::io(dir, e));
    }
    let switched = if !dir.exists() {
        fs.rename(&tmp, dir).map(|_| None)
    } else {
        match fs.exchange(&tmp, dir) {
            // `tmp` now holds the previous folder.
            Ok(true) => Ok(Some(tmp.clone())),
            Ok(false) => fs.rename(dir, &old).and_then(|_| {
                fs.rename(&tmp, dir)
                    .map(|_| Some(old.clone()))
                    .inspect_err(|_| {
                        // Put the previous folder back; if even that fails, the next save
                        // or load does (see `recover`).
                        let _ = fs.rename(&old, dir);
                    })
            }),
            Err(e) => Err(e),
        }
    };
    match switched {
        Err(e) => {
            let _ = fs.remove_dir_all(&tmp);
            Err(Error::io(dir, e))
        }
        Ok(previous) => {
            // The new folder is in place; leftovers are cleaned now or by the next save.
            let _ = fs.sync_dir(&parent);
            if let Some(p) = previous {
                let _ = fs.remove_dir_all(&p);
            }
            Ok(())
        }
    }
}
