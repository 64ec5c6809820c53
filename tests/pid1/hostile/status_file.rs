//! A hostile child against `--status-file` (issue 8, point 1). The child runs as uid 1000 and
//! owns the status directory, so it can plant anything there: a symlink, a FIFO or a directory,
//! at the temporary name rein used to pick (`.NAME.rein-PID.tmp`, with PID rein's pid, 1 in a
//! container) or at the final name, and it can rename the directory away and put a symlink in
//! its place. Whatever it does, rein writes nothing outside the directory it opened before the
//! child ran, opens nothing the child planted, never blocks, never shows a half-written file
//! under the final name, and exits with the child's status. Each test starts from the
//! reproduction in the issue, as PID 1 and as a plain process.

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};

use nix::libc;

use crate::harness::{DEADLINE, Mode, Outcome, Run, TempDir, command, read_status, with_sh};
use crate::support::root;

/// The unprivileged user the child runs as (numeric: no /etc/passwd entry is needed).
const CHILD_UID: u32 = 1000;
const PRECIOUS: &str = "a root-owned file the child must not be able to change\n";

/// ROOT (root's, 0755) holds `victim` (root's, 0644) and BOX (the child's), which holds the
/// status directory OUT and a second directory OTHER, both the child's.
struct Layout {
    _root: TempDir,
    victim: PathBuf,
    boxed: PathBuf,
    out: PathBuf,
    other: PathBuf,
    status: PathBuf,
}

impl Layout {
    fn new(tag: &str) -> Layout {
        let root = TempDir::new(tag);
        fs::set_permissions(&root.0, fs::Permissions::from_mode(0o755)).unwrap();
        let victim = root.join("victim");
        fs::write(&victim, PRECIOUS).unwrap();
        let boxed = root.join("box");
        let out = boxed.join("out");
        let other = boxed.join("other");
        for d in [&boxed, &out, &other] {
            fs::create_dir(d).unwrap();
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
            chown(d, Some(CHILD_UID), Some(CHILD_UID)).unwrap();
        }
        let status = out.join("status.json");
        Layout {
            _root: root,
            victim,
            boxed,
            out,
            other,
            status,
        }
    }

    /// Runs rein as root with `--user 1000 --status-file OUT/status.json -- sh -c SCRIPT`;
    /// the script sees VICTIM, BOX, OUT and OTHER in its environment. Waits for rein with a
    /// deadline: a rein blocked on something the child planted fails here.
    fn run(&self, mode: Mode, script: &str) -> Outcome {
        let status = self.status.to_str().unwrap();
        let args = with_sh(&["--user", "1000", "--status-file", status, "--"], script);
        let mut cmd = command(mode, &args);
        cmd.env("VICTIM", &self.victim)
            .env("BOX", &self.boxed)
            .env("OUT", &self.out)
            .env("OTHER", &self.other);
        Run::spawn(cmd).finish_within(DEADLINE)
    }

    fn victim_untouched(&self, what: &str) {
        assert_eq!(
            fs::read_to_string(&self.victim).unwrap(),
            PRECIOUS,
            "{what}: rein wrote through a planted symlink into a root-owned file"
        );
    }
}

/// Root is needed for `--user 1000` and to give the child its own directory.
fn modes(test: &str) -> Vec<Mode> {
    let why = "needs root (to run the child as uid 1000 in a directory it owns)";
    if !root(test, why) {
        return Vec::new();
    }
    crate::support::modes(test)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The names in `dir`, which must be exactly two: the planted file at the old temporary name
/// (sorted first) and the status file; with the planted one's type, not followed.
fn planted_beside_the_status(dir: &Path, what: &str) -> (Vec<String>, fs::FileType) {
    let planted = names(dir);
    assert_eq!(planted.len(), 2, "{what}: {planted:?}");
    let kind = fs::symlink_metadata(dir.join(&planted[0]))
        .unwrap()
        .file_type();
    (planted, kind)
}

/// The status file is a regular file (not a planted symlink, FIFO or directory) whose JSON
/// says rein exited with `code`.
fn written(path: &Path, code: &str, what: &str) {
    let meta = fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{what}: {} is {:?}",
        path.display(),
        meta.file_type()
    );
    assert_eq!(read_status(path)["exit_code"], code, "{what}");
}

/// The name rein used before the fix, from inside the child: rein is the child's parent.
const OLD_TMP: &str = r#""$OUT/.status.json.rein-$PPID.tmp""#;

#[test]
fn a_symlink_planted_at_the_temporary_or_final_name_never_redirects_the_write() {
    for mode in modes("a_symlink_planted_at_the_status_file_names") {
        let l = Layout::new("hostile-symlink");
        let victim2 = l.victim.with_file_name("victim2");
        fs::write(&victim2, PRECIOUS).unwrap();
        let out = l.run(
            mode,
            &format!(
                r#"set -e; ln -s "$VICTIM" {OLD_TMP}; ln -s "$VICTIM"2 "$OUT/status.json"; exit 3"#
            ),
        );
        let what = format!("{mode:?}: {out:?}");
        assert_eq!(out.code, Some(3), "{what}");
        l.victim_untouched(&what);
        assert_eq!(
            fs::read_to_string(&victim2).unwrap(),
            PRECIOUS,
            "{what}: via the final name"
        );
        written(&l.status, "3", &what);
        assert_eq!(out.stderr, "", "{what}");
        // The planted symlink was neither followed nor removed, and no temporary file is left.
        let (planted, kind) = planted_beside_the_status(&l.out, &what);
        assert!(kind.is_symlink(), "{what}: {planted:?}");
    }
}

#[test]
fn a_fifo_planted_at_the_temporary_or_final_name_does_not_hang_rein() {
    for mode in modes("a_fifo_planted_at_the_status_file_names") {
        let l = Layout::new("hostile-fifo");
        // A writer's open of a FIFO blocks until a reader comes; nobody will.
        let out = l.run(
            mode,
            &format!(r#"set -e; mkfifo {OLD_TMP} "$OUT/status.json"; exit 4"#),
        );
        let what = format!("{mode:?}: {out:?}");
        assert_eq!(out.code, Some(4), "{what}");
        written(&l.status, "4", &what);
        assert_eq!(out.stderr, "", "{what}");
        let (planted, kind) = planted_beside_the_status(&l.out, &what);
        assert!(
            kind.is_fifo(),
            "{what}: the FIFO at the old temporary name was touched: {planted:?}"
        );
    }
}

#[test]
fn a_directory_at_the_final_name_is_reported_and_rein_keeps_the_childs_status() {
    for mode in modes("a_directory_at_the_final_status_name") {
        let l = Layout::new("hostile-dir");
        let out = l.run(
            mode,
            &format!(
                r#"set -e; mkdir "$OUT/status.json"; touch "$OUT/status.json/keep"
                   ln -s "$VICTIM" {OLD_TMP}; exit 5"#
            ),
        );
        let what = format!("{mode:?}: {out:?}");
        assert_eq!(out.code, Some(5), "{what}");
        l.victim_untouched(&what);
        assert_eq!(names(&l.status), ["keep"], "{what}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: one error line expected");
        assert!(
            lines[0].contains("ERROR")
                && lines[0].contains(l.status.to_str().unwrap())
                && lines[0].contains("directory"),
            "{what}"
        );
        // Nothing of rein's is left behind; the planted symlink is the child's business.
        let left = names(&l.out);
        assert_eq!(left.len(), 2, "{what}: {left:?}");
        assert!(
            fs::symlink_metadata(l.out.join(&left[0]))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{what}: {left:?}"
        );
    }
}

#[test]
fn a_status_directory_swapped_for_a_symlink_after_start_does_not_redirect_the_write() {
    for mode in modes("a_status_directory_swapped_for_a_symlink") {
        let l = Layout::new("hostile-swap");
        let out = l.run(
            mode,
            r#"set -e; mv "$OUT" "$BOX/moved"; ln -s "$OTHER" "$OUT"; exit 6"#,
        );
        let what = format!("{mode:?}: {out:?}");
        assert_eq!(out.code, Some(6), "{what}");
        assert!(
            fs::symlink_metadata(&l.out)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{what}"
        );
        assert_eq!(
            names(&l.other),
            Vec::<String>::new(),
            "{what}: written through the symlink"
        );
        written(&l.boxed.join("moved").join("status.json"), "6", &what);
        assert_eq!(out.stderr, "", "{what}");
    }
}

#[test]
fn a_watcher_never_sees_the_final_name_opened_or_written_only_renamed_onto() {
    for mode in modes("a_watcher_never_sees_the_final_name_written") {
        let l = Layout::new("hostile-watch");
        // A previous run's file, and a planted symlink from the old temporary name to it: a
        // rein that follows it rewrites the final name in place, where a reader can catch it
        // half written.
        fs::write(&l.status, "{\"previous\":1}\n").unwrap();
        let watch = Inotify::watch(&l.out);
        let out = l.run(
            mode,
            &format!(r#"set -e; ln -s status.json {OLD_TMP}; exit 7"#),
        );
        let what = format!("{mode:?}: {out:?}");
        let events = watch.drain();
        let what = format!("{what}\nevents: {events:?}");
        assert_eq!(out.code, Some(7), "{what}");
        let on_final: Vec<&Event> = events.iter().filter(|e| e.name == "status.json").collect();
        assert!(
            on_final.iter().all(|e| e.mask == libc::IN_MOVED_TO),
            "{what}: the final name was opened, created or written"
        );
        assert_eq!(on_final.len(), 1, "{what}: one rename onto the final name");
        // It came from a name that was written and closed before the rename.
        let cookie = on_final[0].cookie;
        let from = events
            .iter()
            .position(|e| e.mask == libc::IN_MOVED_FROM && e.cookie == cookie)
            .unwrap_or_else(|| panic!("{what}: no IN_MOVED_FROM for the rename"));
        let tmp = &events[from].name;
        let closed = events
            .iter()
            .position(|e| e.mask == libc::IN_CLOSE_WRITE && e.name == *tmp)
            .unwrap_or_else(|| panic!("{what}: the temporary file was never closed"));
        assert!(closed < from, "{what}: renamed before it was closed");
        assert!(
            !events[closed..]
                .iter()
                .any(|e| e.mask == libc::IN_MODIFY && e.name == *tmp),
            "{what}: written after it was closed"
        );
        written(&l.status, "7", &what);
    }
}

/// One inotify event on the watched directory.
#[derive(Debug)]
struct Event {
    mask: u32,
    cookie: u32,
    name: String,
}

/// An inotify instance watching one directory for everything that happens to its entries.
struct Inotify(OwnedFd);

impl Inotify {
    fn watch(dir: &Path) -> Inotify {
        // SAFETY: no pointers; the kernel returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(
            fd >= 0,
            "inotify_init1: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: the kernel just returned fd and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
        let mask = libc::IN_CREATE
            | libc::IN_OPEN
            | libc::IN_MODIFY
            | libc::IN_CLOSE_WRITE
            | libc::IN_MOVED_FROM
            | libc::IN_MOVED_TO;
        // SAFETY: path is a NUL-terminated string that lives across the call.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) };
        assert!(
            wd >= 0,
            "inotify_add_watch: {}",
            std::io::Error::last_os_error()
        );
        Inotify(fd)
    }

    /// Every event queued so far (the queue is filled synchronously by the system calls that
    /// cause them, so once rein has exited, all of its events are here).
    fn drain(&self) -> Vec<Event> {
        const HEADER: usize = 16; // wd, mask, cookie, len: four 32-bit fields
        let mut events = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is a live, writable buffer of buf.len() bytes.
            let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                assert_eq!(e.raw_os_error(), Some(libc::EAGAIN), "read inotify: {e}");
                return events;
            }
            let mut rest = &buf[..n as usize];
            while rest.len() >= HEADER {
                let field = |i: usize| u32::from_ne_bytes(rest[i..i + 4].try_into().unwrap());
                let (mask, cookie, len) = (field(4), field(8), field(12) as usize);
                assert_eq!(mask & libc::IN_Q_OVERFLOW, 0, "inotify queue overflowed");
                let name = &rest[HEADER..HEADER + len];
                let name = name.split(|&b| b == 0).next().unwrap_or_default();
                events.push(Event {
                    mask: mask & !libc::IN_ISDIR,
                    cookie,
                    name: String::from_utf8_lossy(name).into_owned(),
                });
                rest = &rest[HEADER + len..];
            }
        }
    }
}
