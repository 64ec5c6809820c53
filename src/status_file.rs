//! `--status-file PATH`: the run's JSON summary, written when rein exits.
//!
//! The directory may be writable by the child, which then controls every name in it and can
//! rename the directory itself; rein is root and PID 1, so following a planted symlink would
//! overwrite any file, and opening a planted FIFO would block the init forever. So:
//!
//! - the directory is opened once, before the child exists (`O_DIRECTORY|O_NOFOLLOW`), and
//!   every later step is relative to that descriptor: renaming the directory away, or putting
//!   a symlink in its place, cannot move the write somewhere else;
//! - the file is created under a fresh random name with `O_CREAT|O_EXCL|O_NOFOLLOW`, so
//!   whatever already sits at that name (symlink, FIFO, directory, file) makes the open fail
//!   instead of being followed or opened, and another name is tried; `O_NONBLOCK` means no
//!   open can wait;
//! - it is written, fsynced and closed, then renamed over the final name, which is never
//!   opened: the rename replaces a symlink or FIFO there without following or opening it, and
//!   refuses a directory, which is reported. A reader sees the old file or the whole new one.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag, openat, renameat};
use nix::sys::stat::Mode;
use nix::unistd::{UnlinkatFlags, fsync, unlinkat};

use crate::sys;

/// How many fresh temporary names are tried before giving up. Each is 64 random bits, so a
/// second attempt is already only for a name the child could not have guessed; the bound keeps
/// a broken random source from looping forever.
const ATTEMPTS: u32 = 8;

/// The longest final name that still goes into the temporary one: `.NAME.rein-<16 hex>.tmp`
/// must stay within NAME_MAX (255); a longer NAME is left out.
const NAME_IN_TEMP_MAX: usize = 200;

/// The status file's directory, held open from before the child runs, and its name in it.
#[derive(Debug)]
pub struct StatusFile {
    dir: OwnedFd,
    name: OsString,
    /// PATH made absolute against rein's starting directory, for messages only.
    shown: PathBuf,
}

impl StatusFile {
    /// Opens `path`'s directory before the child runs, so a typo fails early (125) instead of
    /// after an hour-long CI job, and so the child can no longer change which directory it is.
    /// A relative `path` is relative to the directory rein was started in. The directory's own
    /// last component is not followed if it is a symlink (earlier components are).
    pub fn open(path: &Path) -> Result<StatusFile, String> {
        let fail = |why: String| format!("cannot write status file '{}': {why}", path.display());
        let (dir, name) = split(path).ok_or_else(|| fail("the path names no file".into()))?;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(AT_FDCWD, &dir, flags, Mode::empty())
            .map_err(|e| fail(describe_dir_error(&dir, e)))?;
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(StatusFile {
            dir: fd,
            name,
            shown,
        })
    }

    /// The directory's descriptor, which must stay open until [`StatusFile::write`].
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }

    /// Writes `contents` under a fresh temporary name, closes it, renames it over the final
    /// name and syncs the directory. Never opens the final name, never blocks on what the child
    /// planted. The error is one line naming the file and the step that failed.
    pub fn write(&self, contents: &str) -> Result<(), String> {
        self.write_steps(contents.as_bytes()).map_err(|why| {
            format!(
                "failed to write status file '{}': {why}",
                self.shown.display()
            )
        })
    }

    fn write_steps(&self, contents: &[u8]) -> Result<(), String> {
        let (tmp, file) = self.create_temp(|attempt| temp_name(&self.name, attempt))?;
        let result = fill(file, contents).and_then(|()| self.rename(&tmp));
        if result.is_err() {
            // Only ever a name rein itself created with O_EXCL; unlink does not follow.
            let _ = unlinkat(&self.dir, tmp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
        result?;
        fsync(&self.dir).map_err(|e| {
            format!(
                "renamed into place, but syncing the directory failed: {}",
                e.desc()
            )
        })
    }

    /// Creates a new file under the first name from `names` (given the attempt number) that
    /// nothing has yet, trying at most [`ATTEMPTS`] names.
    fn create_temp(
        &self,
        mut names: impl FnMut(u32) -> OsString,
    ) -> Result<(OsString, File), String> {
        let flags = OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_EXCL
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_CLOEXEC;
        for attempt in 0..ATTEMPTS {
            let tmp = names(attempt);
            match openat(
                &self.dir,
                tmp.as_os_str(),
                flags,
                Mode::from_bits_truncate(0o644),
            ) {
                Ok(fd) => return Ok((tmp, File::from(fd))),
                // Something already has this name: never touch it, take another.
                Err(Errno::EEXIST | Errno::EINTR) => {}
                Err(e) => return Err(format!("cannot create a temporary file: {}", e.desc())),
            }
        }
        Err(format!(
            "all {ATTEMPTS} temporary names tried already existed"
        ))
    }

    fn rename(&self, tmp: &OsStr) -> Result<(), String> {
        match renameat(&self.dir, tmp, &self.dir, self.name.as_os_str()) {
            Ok(()) => Ok(()),
            Err(Errno::EISDIR) => Err("a directory has that name; it was left as it is".into()),
            Err(e) => Err(format!(
                "cannot rename the temporary file over it: {}",
                e.desc()
            )),
        }
    }
}

/// Writes, syncs and closes: the file is complete on disk and closed before it gets its name.
fn fill(mut file: File, contents: &[u8]) -> Result<(), String> {
    file.write_all(contents)
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    file.sync_all()
        .map_err(|e| format!("cannot sync the temporary file: {e}"))?;
    nix::unistd::close(file).map_err(|e| format!("cannot close the temporary file: {}", e.desc()))
}

/// `.NAME.rein-<16 hex digits>.tmp`, from 64 bits of `getrandom(2)`. O_EXCL, not the
/// randomness, is what keeps a planted name from being used; the randomness only keeps the
/// child from occupying every name rein will try in advance. If the kernel's pool cannot
/// answer (a seccomp filter, a pool not ready at boot), the clock and the attempt number give
/// a name that is merely hard to guess, which is still safe.
fn temp_name(name: &OsStr, attempt: u32) -> OsString {
    let mut random = [0u8; 8];
    let bits = match sys::getrandom(&mut random) {
        Ok(()) => u64::from_ne_bytes(random),
        Err(e) => {
            log::debug!("getrandom failed ({e}); naming the temporary file from the clock");
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| {
                    u64::from(d.subsec_nanos()) ^ d.as_secs().rotate_left(32)
                });
            nanos ^ u64::from(std::process::id()).rotate_left(17) ^ u64::from(attempt)
        }
    };
    let mut tmp = OsString::from(".");
    if name.len() <= NAME_IN_TEMP_MAX {
        tmp.push(name);
        tmp.push(".");
    }
    tmp.push(format!("rein-{bits:016x}.tmp"));
    tmp
}

/// Splits PATH into the directory to open and the name in it, by bytes, so the directory is
/// exactly what the caller wrote (`Path::parent` would drop `.` and `..` subtly). A trailing
/// `/` or `/.` on the directory is removed: they name the same directory, but a trailing slash
/// makes the kernel follow a symlink there despite O_NOFOLLOW. `None` if PATH ends in `/`, `.`
/// or `..` and so names no file.
fn split(path: &Path) -> Option<(PathBuf, OsString)> {
    let bytes = path.as_os_str().as_bytes();
    let (mut dir, name) = match bytes.iter().rposition(|&b| b == b'/') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (&b"."[..], bytes),
    };
    if name.is_empty() || name == b"." || name == b".." {
        return None;
    }
    loop {
        if let Some(d) = dir.strip_suffix(b"/") {
            dir = d;
        } else if let Some(d) = dir.strip_suffix(b"/.") {
            dir = d;
        } else {
            break;
        }
    }
    let dir = match dir {
        [] if bytes.first() == Some(&b'/') => PathBuf::from("/"),
        [] => PathBuf::from("."),
        d => PathBuf::from(OsString::from_vec(d.to_vec())),
    };
    Some((dir, OsString::from_vec(name.to_vec())))
}

fn describe_dir_error(dir: &Path, e: Errno) -> String {
    let is_symlink = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    match e {
        Errno::ELOOP | Errno::ENOTDIR if is_symlink => format!(
            "'{}' is a symbolic link, which rein does not follow there; name the directory itself",
            dir.display()
        ),
        Errno::ENOTDIR => format!("'{}' is not a directory", dir.display()),
        e => format!("{}: {}", dir.display(), e.desc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &str) -> Option<(String, String)> {
        split(Path::new(p))
            .map(|(d, n)| (d.display().to_string(), n.to_string_lossy().into_owned()))
    }

    #[test]
    fn split_keeps_the_directory_as_written_without_trailing_slashes() {
        let p = |d: &str, n: &str| Some((d.to_string(), n.to_string()));
        assert_eq!(parts("/tmp/s.json"), p("/tmp", "s.json"));
        assert_eq!(parts("/s.json"), p("/", "s.json"));
        assert_eq!(parts("s.json"), p(".", "s.json"));
        assert_eq!(parts("./s.json"), p(".", "s.json"));
        assert_eq!(parts("a//b/.//s.json"), p("a//b", "s.json"));
        assert_eq!(parts("/./s.json"), p("/", "s.json"));
        assert_eq!(parts("a/../s.json"), p("a/..", "s.json"));
        for none in ["/tmp/", "/tmp/.", "/tmp/..", "", ".", "/"] {
            assert_eq!(parts(none), None, "{none:?}");
        }
    }

    #[test]
    fn temporary_names_are_fresh_and_within_name_max() {
        let a = temp_name(OsStr::new("s.json"), 0);
        let b = temp_name(OsStr::new("s.json"), 0);
        assert_ne!(a, b);
        let a = a.to_string_lossy();
        assert!(a.starts_with(".s.json.rein-") && a.ends_with(".tmp"), "{a}");
        let long = "x".repeat(255);
        assert!(temp_name(OsStr::new(&long), 0).len() <= 255);
    }

    #[test]
    fn a_taken_temporary_name_is_never_opened_and_the_retries_are_bounded() {
        let dir = std::env::temp_dir().join(format!("rein-unit-retry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("taken")).unwrap();
        let f = StatusFile::open(&dir.join("s.json")).unwrap();
        let mut tried = Vec::new();
        let (name, _file) = f
            .create_temp(|n| {
                tried.push(n);
                OsString::from(if n < 2 { "taken" } else { "free" })
            })
            .unwrap();
        assert_eq!(
            (name.as_os_str(), &tried[..]),
            (OsStr::new("free"), &[0, 1, 2][..])
        );
        let mut tried = 0;
        let err = f
            .create_temp(|_| {
                tried += 1;
                OsString::from("taken")
            })
            .unwrap_err();
        assert_eq!(tried, ATTEMPTS, "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_directory_must_exist_be_a_directory_and_not_a_symlink() {
        let err = StatusFile::open(Path::new("/nonexistent-rein-dir/x.json")).unwrap_err();
        assert!(err.contains("/nonexistent-rein-dir"), "{err}");
        let err = StatusFile::open(Path::new("/etc/passwd/x.json")).unwrap_err();
        assert!(err.contains("not a directory"), "{err}");
        assert!(StatusFile::open(Path::new("/tmp/x.json")).is_ok());
        assert!(StatusFile::open(Path::new("relative.json")).is_ok());
        let link = std::env::temp_dir().join(format!("rein-unit-link-{}", std::process::id()));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/tmp", &link).unwrap();
        let err = StatusFile::open(&link.join("x.json")).unwrap_err();
        std::fs::remove_file(&link).unwrap();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
