//! Writing and reading single files safely in folders other people (and other processes)
//! share: the one place that makes temporary names, writes files whole and reads files of
//! bounded size.
//!
//! - A file is written complete under an unpredictable temporary name beside its target
//!   (`.NAME.tmp-<pid>-<random>`), created exclusively and without following links
//!   (`O_CREAT|O_EXCL|O_NOFOLLOW`, relative to a handle on the folder on Linux), synced,
//!   and renamed over the target: a planted symlink is never followed, a reader never sees
//!   half a file, and a failure leaves the previous file as it was.
//! - Temporaries left by killed writers are removed by the next write of the same target,
//!   but only regular files whose writer process is gone.
//! - A capped read opens without blocking (a FIFO does not hang it), accepts regular files
//!   only and stops at a size limit (a link to `/dev/zero` does not exhaust memory).

use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// `path`'s folder (`.` for a bare name) and file name.
pub fn split(path: &Path) -> std::io::Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy()
        .to_string();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok((dir, name))
}

/// 64 unpredictable bits: std's hasher keys come from the operating system's randomness,
/// mixed with the time and a counter (no extra dependency, and it builds for the web).
pub fn random_u64() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = web_time::SystemTime::now().duration_since(web_time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// The prefix of every temporary of `name`: `.NAME.tmp-`.
pub fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// A fresh, unpredictable stamp for temporary names: `<pid>-<16 hex digits>`.
pub fn stamp() -> String {
    format!("{}-{:016x}", std::process::id(), random_u64())
}

/// A fresh, unpredictable temporary name for `name`: `.NAME.tmp-<pid>-<16 hex digits>`.
pub fn temp_name(name: &str) -> String {
    format!("{}{}", temp_prefix(name), stamp())
}

/// Whether process `pid` may still be running (on Linux, asked of the kernel; elsewhere
/// assumed alive, so nothing of another process is ever removed).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(p) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if p <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(p, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

/// The writer's process id in a temporary's name (`<pid>` or `<pid>-<anything>` after the
/// prefix).
fn temp_pid(file_name: &str, prefix: &str) -> Option<u32> {
    let rest = file_name.strip_prefix(prefix)?;
    let digits = rest.split('-').next()?;
    digits.parse().ok()
}

/// Removes temporaries of `dir/name` left by writers that are gone: regular files named
/// `.NAME.tmp-<pid>[-…]` (never folders, links or anything of a live process).
/// `legacy` names another prefix written by older versions. Best effort: errors are ignored.
pub fn clean_stale_temps(dir: &Path, name: &str, legacy: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = temp_prefix(name);
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        let pid = temp_pid(&n, &prefix).or_else(|| legacy.and_then(|l| temp_pid(&n, l)));
        let Some(pid) = pid else { continue };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Writes `bytes` as `path`, whole or not at all (see the module docs). The folder must
/// exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, name) = split(path)?;
    clean_stale_temps(&dir, &name, None);
    imp::write_atomic(&dir, &name, bytes)
}

/// A handle on a folder (Linux): files opened, created and renamed relative to it stay in
/// that folder even if its path is swapped meanwhile.
#[cfg(target_os = "linux")]
pub fn open_dir(dir: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    imp::open_dir(dir)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::ffi::CString;
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    fn cstr(s: &str) -> std::io::Result<CString> {
        CString::new(s).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL"))
    }

    fn check(r: libc::c_int) -> std::io::Result<libc::c_int> {
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// A handle on a folder, so the temporary and the rename stay in it even if its path
    /// is swapped meanwhile.
    pub fn open_dir(dir: &Path) -> std::io::Result<OwnedFd> {
        let c = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL"))?;
        // SAFETY: a valid NUL-terminated path; the descriptor is owned from here on.
        let fd = check(unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just opened and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let d = open_dir(dir)?;
        let tmp = cstr(&super::temp_name(name))?;
        let target = cstr(name)?;
        // SAFETY: `d` is an open folder and `tmp` a NUL-terminated name; O_EXCL|O_NOFOLLOW
        // refuse anything already at that name, links included.
        let fd = check(unsafe {
            libc::openat(
                d.as_raw_fd(),
                tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o644 as libc::c_uint,
            )
        })?;
        // SAFETY: `fd` was just created and is owned by nobody else.
        let mut f = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let written = f.write_all(bytes).and_then(|_| f.sync_all()).and_then(|_| {
            // SAFETY: both names are NUL-terminated and relative to the open folder.
            check(unsafe {
                libc::renameat(d.as_raw_fd(), tmp.as_ptr(), d.as_raw_fd(), target.as_ptr())
            })
            .map(drop)
        });
        if let Err(e) = written {
            // SAFETY: as above; removes the temporary this call created.
            unsafe { libc::unlinkat(d.as_raw_fd(), tmp.as_ptr(), 0) };
            return Err(e);
        }
        // The rename itself is made durable by syncing the folder (best effort).
        let _ = std::fs::File::from(d).sync_all();
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io::Write;
    use std::path::Path;

    pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = dir.join(super::temp_name(name));
        // create_new is O_CREAT|O_EXCL: it never follows a link planted at the name.
        let r = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, dir.join(name))
        })();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }
}

/// Opens `path` for reading without blocking on FIFOs or devices (Linux: `O_NONBLOCK`).
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

/// Reads a regular file of at most `cap` bytes. A FIFO, device, folder or socket — directly
/// or through a link — is an error without blocking, as is a longer file.
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let f = open_nonblocking(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut out = Vec::with_capacity(meta.len().min(cap) as usize);
    f.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(out)
}

/// Checks that `path` can be written as a file before any work is done: not a folder, its
/// folder exists, and a probe file of `probe_bytes` can be created, written and synced
/// there (this catches read-only folders, `/proc`, full devices). The probe is removed.
pub fn check_writable(path: &Path, probe_bytes: usize) -> std::io::Result<()> {
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
    let (dir, name) = split(path)?;
    if let Ok(m) = std::fs::metadata(path) {
        if m.is_dir() {
            return Err(invalid("is a folder; give a file name".into()));
        }
        if !m.is_file() {
            return Err(invalid("is not a regular file".into()));
        }
    }
    if !dir.is_dir() {
        return Err(invalid(format!(
            "the folder {} does not exist",
            dir.display()
        )));
    }
    let probe = dir.join(temp_name(&name));
    let r = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)?;
        f.write_all(&vec![0u8; probe_bytes])?;
        f.sync_all()
    })();
    let _ = std::fs::remove_file(&probe);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "steadygrad-safe-{tag}-{}-{:x}",
            std::process::id(),
            random_u64()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn temp_names_are_unpredictable_and_carry_the_pid() {
        let a = temp_name("out.safetensors");
        let b = temp_name("out.safetensors");
        assert_ne!(a, b);
        let prefix = temp_prefix("out.safetensors");
        assert_eq!(temp_pid(&a, &prefix), Some(std::process::id()));
    }

    #[test]
    fn a_write_replaces_the_file_whole() {
        let d = scratch("write");
        let p = d.join("f.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let d = scratch("link");
        let victim = d.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let p = d.join("out");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_temporaries_of_dead_writers_go_and_others_stay() {
        let d = scratch("stale");
        // No process has pid 2^22+ on default Linux settings (pid_max ≤ 4194304).
        let dead = d.join(".o.tmp-4194305");
        let dead_new = d.join(".o.tmp-4194306-00ff");
        let mine = d.join(format!(".o.tmp-{}-1", std::process::id()));
        let folder = d.join(".o.tmp-4194307");
        let other = d.join(".p.tmp-4194305");
        for f in [&dead, &dead_new, &mine, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        std::fs::create_dir(&folder).unwrap();
        clean_stale_temps(&d, "o", None);
        assert!(!dead.exists() && !dead_new.exists());
        assert!(mine.exists() && folder.exists() && other.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn capped_reads_refuse_fifos_devices_and_large_files() {
        let d = scratch("read");
        let fifo = d.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(read_capped(&fifo, 100).is_err());
        let zero = d.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(read_capped(&zero, 100).is_err());
        let big = d.join("big");
        std::fs::write(&big, vec![b'a'; 101]).unwrap();
        assert!(read_capped(&big, 100).is_err());
        std::fs::write(&big, vec![b'a'; 100]).unwrap();
        assert_eq!(read_capped(&big, 100).unwrap().len(), 100);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn writability_is_checked_before_work() {
        let d = scratch("check");
        assert!(check_writable(&d.join("ok.csv"), 4096).is_ok());
        assert!(check_writable(&d, 10).is_err());
        assert!(check_writable(&d.join("missing/ok.csv"), 10).is_err());
        #[cfg(target_os = "linux")]
        assert!(check_writable(Path::new("/proc/steadygrad.csv"), 10).is_err());
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
