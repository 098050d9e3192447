//! Whole-folder atomic writes, and reads that never disturb them.
//!
//! **Writers.** A model folder is written complete into a fresh temporary folder beside the
//! target (`.NAME.tmp-<pid>-<random>`, every file created exclusively and synced), then
//! switched into place: on Linux by atomically exchanging the two folders
//! (`renameat2(RENAME_EXCHANGE)`), elsewhere by two renames with the old folder parked as
//! `.NAME.old-*` in between. Whatever fails or is killed at any point, the target holds
//! either the previous complete folder or the new one. Writers into one parent folder take
//! turns under an exclusive lock (`flock` on the parent, on Linux); holding it, a writer
//! first puts back a folder parked by a crash and removes temporaries of writers that died
//! — only folders holding nothing but model files, and only the model files in them, so
//! nothing of a user's is ever deleted.
//!
//! **Readers** ([`read_snapshot`]) change nothing on disk (they work on read-only storage
//! too): they open the folder once, read every file through that handle, and retry when
//! the folder was switched meanwhile, so a load sees one complete save — the one before or
//! the one after a concurrent save, never a mix. A folder parked by a crash is read in
//! place of a missing target.
//!
//! The file-system operations of a save go through [`FsOps`], so tests can inject a
//! failure at every step.

use std::io::{Read, Write};
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
    /// Removes a model folder: its model files, then the folder if nothing else is left
    /// (anything else stays where it is).
    fn remove_model_dir(&self, path: &Path) -> std::io::Result<()>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl FsOps for RealFs {
    fn create_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)
    }
    fn write_file(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        // Exclusive: the temporary folder is this writer's, nothing may be there already.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
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
    fn remove_model_dir(&self, path: &Path) -> std::io::Result<()> {
        remove_model_dir(path)
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
    super::safe_file::split(dir)
        .map_err(|_| Error::Config(format!("{}: not a folder name", dir.display())))
}

/// The files a model folder may hold; saving refuses to replace a folder with others.
pub const FOLDER_FILES: [&str; 3] = ["model.json", "weights.safetensors", "optimizer.safetensors"];

/// Removes the model files of folder `path` (regular files named in [`FOLDER_FILES`]), then
/// the folder itself if that left it empty. Nothing else in it is touched.
pub fn remove_model_dir(path: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(path)? {
        let e = e?;
        let n = e.file_name();
        if FOLDER_FILES.iter().any(|f| n == *f) && e.file_type()?.is_file() {
            std::fs::remove_file(e.path())?;
        }
    }
    std::fs::remove_dir(path)
}

/// Whether `path` is a real folder (not a link) holding only regular model files.
fn only_model_files(path: &Path) -> bool {
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    is_dir
        && std::fs::read_dir(path).is_ok_and(|entries| {
            entries.flatten().all(|e| {
                FOLDER_FILES.iter().any(|f| e.file_name() == *f)
                    && e.file_type().is_ok_and(|t| t.is_file())
            })
        })
}

/// The folders beside `dir` named `.NAME.<kind>-*` (real folders, not links or files).
fn siblings(parent: &Path, name: &str, kind: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.{kind}-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The writers' lock on a parent folder: held while it lives.
struct WriterLock {
    #[cfg(target_os = "linux")]
    _fd: std::os::fd::OwnedFd,
}

impl WriterLock {
    /// Takes the exclusive lock on `parent` (Linux: `flock`, waiting up to two minutes for
    /// another save to finish). `None` where the platform has no such lock.
    fn take(parent: &Path) -> Result<Option<WriterLock>> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = super::safe_file::open_dir(parent).map_err(|e| Error::io(parent, e))?;
            let start = std::time::Instant::now();
            loop {
                // SAFETY: an open descriptor.
                if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                    return Ok(Some(WriterLock { _fd: fd }));
                }
                let e = std::io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EWOULDBLOCK) if start.elapsed().as_secs() < 120 => {
                        std::thread::sleep(std::time::Duration::from_millis(20))
                    }
                    Some(libc::EWOULDBLOCK) => {
                        return Err(Error::Config(format!(
                            "{}: another save in this folder has held its lock for two minutes",
                            parent.display()
                        )))
                    }
                    // No locks on this file system: go on without.
                    _ => return Ok(None),
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = parent;
            Ok(None)
        }
    }
}

/// The writer's recovery, under the lock: puts back a folder parked by an interrupted
/// switch, and removes what crashed writers left (`.NAME.tmp-*`, `.NAME.old-*` folders
/// holding only model files). Without a lock only leftovers of dead processes go.
fn recover(dir: &Path, locked: bool, fs: &dyn FsOps) -> Result<()> {
    let (parent, name) = parts(dir)?;
    let mut parked = siblings(&parent, &name, "old");
    let temps = siblings(&parent, &name, "tmp");
    if std::fs::symlink_metadata(dir).is_err() {
        // Crashed between parking the old folder and moving the new one in: the old one
        // is complete, the new one may not be.
        if let Some(i) = parked.iter().rposition(|p| p.join("model.json").is_file()) {
            let old = parked.remove(i);
            fs.rename(&old, dir).map_err(|e| Error::io(dir, e))?;
        }
    }
    for p in parked.into_iter().chain(temps) {
        let file = p.file_name().map(|n| n.to_string_lossy().to_string());
        let pid = file.as_deref().and_then(|n| {
            let rest = n.split_once(".tmp-").or_else(|| n.split_once(".old-"))?.1;
            rest.split('-').next()?.parse::<u32>().ok()
        });
        let abandoned = locked || pid.is_some_and(|p| !super::safe_file::process_alive(p));
        if abandoned && only_model_files(&p) {
            fs.remove_model_dir(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    Ok(())
}

/// Refuses to replace anything at `dir` but a model folder of regular model files.
pub fn check_replaceable(dir: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return Ok(());
    };
    let refuse = |what: String| {
        Err(Error::Config(format!(
            "{}: {what}; refusing to replace it",
            dir.display()
        )))
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link".into());
    }
    if !meta.is_dir() {
        return refuse("exists and is not a folder".into());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let n = e.file_name().to_string_lossy().to_string();
        let t = e.file_type().map_err(|e| Error::io(dir, e))?;
        if !FOLDER_FILES.contains(&n.as_str()) {
            return refuse(format!("holds {n}, which is not part of a model folder"));
        }
        if !t.is_file() {
            return refuse(format!("its {n} is not a regular file"));
        }
    }
    Ok(())
}

/// Writes `files` as the whole content of folder `dir`, atomically (see the module docs).
pub fn write_folder(dir: &Path, files: &[(&str, Vec<u8>)], fs: &dyn FsOps) -> Result<()> {
    let (parent, name) = parts(dir)?;
    check_replaceable(dir)?;
    if !parent.is_dir() {
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    }
    let lock = WriterLock::take(&parent)?;
    recover(dir, lock.is_some(), fs)?;
    // Checked again under the lock: another writer may have made it meanwhile.
    check_replaceable(dir)?;
    let stamp = super::safe_file::stamp();
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
        let _ = fs.remove_model_dir(&tmp);
        return Err(Error::io(dir, e));
    }
    let switched = if std::fs::symlink_metadata(dir).is_err() {
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
                        // does (see `recover`) and loads read the parked folder meanwhile.
                        let _ = fs.rename(&old, dir);
                    })
            }),
            Err(e) => Err(e),
        }
    };
    match switched {
        Err(e) => {
            let _ = fs.remove_model_dir(&tmp);
            Err(Error::io(dir, e))
        }
        Ok(previous) => {
            // The new folder is in place; leftovers are cleaned now or by the next save.
            let _ = fs.sync_dir(&parent);
            if let Some(p) = previous {
                let _ = fs.remove_model_dir(&p);
            }
            // The lock is released as `lock` goes out of scope, after the cleanup.
            Ok(())
        }
    }
}

/// The files of one complete save of a model folder, read by [`read_snapshot`]: each of
/// `names` with its bytes, `None` for one the folder does not have.
pub type Snapshot = Vec<(&'static str, Option<Vec<u8>>)>;

/// Reads `names` from model folder `dir` as one consistent snapshot, changing nothing on
/// disk (see the module docs). A missing file is `None`; the caller decides which are
/// required. A folder that does not exist reads from a complete parked `.NAME.old-*`
/// left by an interrupted save, if there is one.
pub fn read_snapshot(dir: &Path, names: &[&'static str]) -> Result<Snapshot> {
    let mut last = None;
    for attempt in 0..200 {
        match snapshot::read_once(dir, names) {
            Ok(Some(files)) => return Ok(files),
            // Switched by a save while being read: read it again.
            Ok(None) => last = None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // No folder: a save between its two renames (or crashed there) parked the
                // previous one.
                let (parent, name) = parts(dir)?;
                for p in siblings(&parent, &name, "old").iter().rev() {
                    if let Ok(Some(files)) = snapshot::read_once(p, names) {
                        if files.iter().any(|(n, b)| *n == "model.json" && b.is_some()) {
                            return Ok(files);
                        }
                    }
                }
                last = Some(e);
                if attempt >= 10 {
                    break;
                }
            }
            Err(e) => return Err(Error::io(dir, e)),
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(match last {
        Some(e) => Error::io(dir, e),
        None => Error::Config(format!(
            "{}: the folder kept changing while it was read (saves in a loop?)",
            dir.display()
        )),
    })
}

mod snapshot {
    use super::*;

    /// Opens `path` for reading without blocking (a FIFO does not hang a load); regular
    /// files only.
    fn read_regular(f: std::fs::File) -> std::io::Result<Vec<u8>> {
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        let mut out = Vec::with_capacity(meta.len() as usize);
        let mut f = f;
        f.read_to_end(&mut out)?;
        Ok(out)
    }

    /// One attempt: `Ok(None)` when the folder was switched while being read.
    #[cfg(target_os = "linux")]
    pub fn read_once(dir: &Path, names: &[&'static str]) -> std::io::Result<Option<Snapshot>> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        use std::os::unix::fs::MetadataExt;
        let d = std::fs::File::from(crate::io::safe_file::open_dir(dir)?);
        let mut opened = Vec::new();
        for name in names {
            let cn = std::ffi::CString::new(*name).expect("no NUL");
            // SAFETY: an open folder and a NUL-terminated name.
            let f = unsafe {
                libc::openat(
                    d.as_raw_fd(),
                    cn.as_ptr(),
                    libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
                )
            };
            if f < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(std::io::Error::new(e.kind(), format!("{name}: {e}")));
                }
                opened.push((*name, None));
            } else {
                // SAFETY: just opened, owned by nobody else.
                opened.push((
                    *name,
                    Some(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(f) })),
                ));
            }
        }
        // Still the folder at `dir`? Then the files opened are one complete save (a writer
        // never changes a folder in place; it only removes one switched out).
        let here = d.metadata()?;
        let now = std::fs::metadata(dir);
        if !now.is_ok_and(|m| m.dev() == here.dev() && m.ino() == here.ino()) {
            return Ok(None);
        }
        let mut out = Vec::new();
        for (name, f) in opened {
            let bytes = f
                .map(read_regular)
                .transpose()
                .map_err(|e| std::io::Error::new(e.kind(), format!("{name}: {e}")))?;
            out.push((name, bytes));
        }
        Ok(Some(out))
    }

    /// One attempt, by paths (no folder handles here).
    #[cfg(not(target_os = "linux"))]
    pub fn read_once(dir: &Path, names: &[&'static str]) -> std::io::Result<Option<Snapshot>> {
        if !dir.is_dir() {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        let mut out = Vec::new();
        for name in names {
            match std::fs::File::open(dir.join(name)) {
                Ok(f) => out.push((*name, Some(read_regular(f)?))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.push((*name, None)),
                Err(e) => return Err(e),
            }
        }
        Ok(Some(out))
    }
}
