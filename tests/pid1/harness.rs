//! Runs the real rein binary as PID 1 of a fresh PID namespace (`unshare --pid --fork
//! --mount-proc`) or as a plain process, and waits on what it prints, always with a deadline.
//!
//! Nothing here sleeps to synchronise: a run's stdout lines arrive on a channel, its exit
//! status on another, and every wait is `recv_timeout` against a generous deadline. A missed
//! deadline panics with a framed dump of the command, its status, stdout and stderr.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Generous default deadline for anything a test waits on.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Where rein runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// PID 1 of a new PID namespace.
    Pid1,
    /// A plain process (subreaper mode).
    Plain,
}

/// The rein binary under test: `REIN_BIN` when set (a cross-built rein, e.g. from
/// `scripts/build-static.sh --target TRIPLE`; a relative path counts from the crate root), else
/// the one cargo built for this test run. Canonical, because `/proc/PID/exe` is.
pub fn rein() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("REIN_BIN") {
        Some(bin) if !bin.is_empty() => {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(bin);
            let path = std::fs::canonicalize(&path)
                .unwrap_or_else(|e| panic!("REIN_BIN={}: {e}", path.display()));
            let path = path
                .into_os_string()
                .into_string()
                .unwrap_or_else(|p| panic!("REIN_BIN={p:?} is not UTF-8"));
            say(&format!(
                "pid1 tests: rein under test is REIN_BIN={path}{}",
                {
                    match emulation() {
                        Some(e) => format!(" (emulated by {})", e.interpreter.display()),
                        None => String::new(),
                    }
                }
            ));
            path
        }
        _ => env!("CARGO_BIN_EXE_rein").to_string(),
    })
}

/// How the kernel runs a rein built for another architecture: through a binfmt_misc entry
/// (qemu-user). Under it `/proc/PID/exe` of rein is the emulator, and `/proc/PID/cmdline` is
/// `INTERPRETER REIN argv0 ARGS...` (the `P` flag passes argv[0] on).
#[derive(Debug)]
pub struct Emulation {
    /// The binfmt_misc entry's name (`qemu-aarch64`).
    pub name: String,
    /// The emulator, canonical (what `/proc/PID/exe` of an emulated process shows).
    pub interpreter: PathBuf,
}

/// The binfmt_misc entry that will run `rein()`, if any: the same match the kernel makes
/// (binfmt_misc is asked before the native ELF loader), from the entries' magic and mask.
/// `None` means the binary runs natively, like an i686 rein on an x86_64 kernel.
pub fn emulation() -> Option<&'static Emulation> {
    static EMU: OnceLock<Option<Emulation>> = OnceLock::new();
    EMU.get_or_init(|| {
        let bin = match std::env::var_os("REIN_BIN") {
            Some(b) if !b.is_empty() => Path::new(env!("CARGO_MANIFEST_DIR")).join(b),
            _ => return None,
        };
        let mut head = [0u8; 128];
        let n = std::fs::File::open(&bin)
            .and_then(|mut f| f.read(&mut head))
            .ok()?;
        let head = &head[..n];
        let entries = std::fs::read_dir("/proc/sys/fs/binfmt_misc").ok()?;
        entries.flatten().find_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            binfmt_matches(&text, head).map(|interp| Emulation {
                name,
                interpreter: std::fs::canonicalize(&interp).unwrap_or(interp),
            })
        })
    })
    .as_ref()
}

/// The interpreter of an enabled magic-type binfmt_misc entry (its file's text) that matches a
/// file starting with `head`.
fn binfmt_matches(entry: &str, head: &[u8]) -> Option<PathBuf> {
    let field = |key: &str| {
        entry
            .lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
    };
    let hex = |s: &str| -> Option<Vec<u8>> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    };
    if entry.lines().next() != Some("enabled") {
        return None;
    }
    let offset: usize = field("offset ")?.parse().ok()?;
    let magic = hex(&field("magic ")?)?;
    let mask = match field("mask ") {
        Some(m) => hex(&m)?,
        None => vec![0xff; magic.len()],
    };
    let window = head.get(offset..offset + magic.len())?;
    let hit = window
        .iter()
        .zip(&magic)
        .zip(mask.iter().chain(std::iter::repeat(&0xff)))
        .all(|((b, m), k)| b & k == m & k);
    if !hit {
        return None;
    }
    field("interpreter ").map(PathBuf::from)
}

/// Whether `pid` runs rein's image (has exec'd it, as opposed to a forked `unshare` or shell
/// on its way there, or rein's child before its exec). Under emulation the image is the
/// emulator, so the emulator must also have been handed rein's path.
pub fn is_rein(pid: i32) -> bool {
    let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    if exe == Path::new(rein()) {
        return true;
    }
    emulation().is_some_and(|e| {
        exe == e.interpreter
            && std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).nth(1) == Some(rein().as_bytes()))
    })
}

/// Host signals that do not reach an emulated rein as themselves (measured with qemu-user
/// 10.0): qemu keeps host ABRT, BUS, FPE and SEGV for the CPU it emulates and for itself (sent
/// by `kill`, SEGV and BUS vanish, ABRT and FPE end rein); a host ILL sent just after rein
/// started its child crashed qemu itself (SIGSEGV); qemu leaves host 32 unhandled (it ends
/// rein), drops 33 and 34 (the first two are glibc's, and qemu is a glibc program) and uses 35
/// to carry the guest's own SIGABRT. Every other signal sent from here reaches rein's child as
/// the same number.
pub const EMULATOR_LOST_SIGNALS: [i32; 9] = [4, 6, 7, 8, 11, 32, 33, 34, 35];

/// `sigs` without [`EMULATOR_LOST_SIGNALS`] under emulation (saying loudly which were left
/// out of `test`), unchanged natively.
pub fn deliverable(test: &str, sigs: &[i32]) -> Vec<i32> {
    let lost: Vec<i32> = sigs
        .iter()
        .copied()
        .filter(|s| EMULATOR_LOST_SIGNALS.contains(s))
        .collect();
    if lost.is_empty()
        || !skip_under_emulation(
            &format!("{test}, signals {lost:?}"),
            "qemu-user keeps host ABRT BUS FPE SEGV for itself, can crash on an early ILL, \
             does not pass host signals 32 to 34 to the program it runs, and turns 35 into \
             its SIGABRT",
        )
    {
        return sigs.to_vec();
    }
    sigs.iter().copied().filter(|s| !lost.contains(s)).collect()
}

/// The environment a program run under emulation starts with, given the `envp` it was
/// exec'd with: qemu-user's loader keeps the environment as a list keyed by name, so it drops
/// an entry without `=` and every later entry whose name it has seen. Natively `envp` as it
/// is. What is dropped is said loudly, as a skip of that part of `test`.
pub fn emulator_env<'a>(test: &str, envp: &[&'a [u8]]) -> Vec<&'a [u8]> {
    if emulation().is_none() {
        return envp.to_vec();
    }
    let mut names: Vec<&[u8]> = Vec::new();
    let mut kept = Vec::new();
    let mut lost = Vec::new();
    for &e in envp {
        match e.iter().position(|&b| b == b'=') {
            Some(i) if !names.contains(&&e[..i]) => {
                names.push(&e[..i]);
                kept.push(e);
            }
            _ => lost.push(e.escape_ascii().to_string()),
        }
    }
    if !lost.is_empty() {
        skip_under_emulation(
            &format!("{test}, environment entries {lost:?}"),
            "qemu-user's loader keeps the environment keyed by name: it drops an entry without \
             `=` and every later one with a name seen before",
        );
    }
    kept
}

/// The signals blocked in `pid` (`SigBlk`), or `None` if it is gone or, under emulation, the
/// mask is the emulator's own. qemu-user mirrors the guest's mask into the host's, except that
/// it never blocks SIGABRT, SIGBUS and SIGSEGV there (it needs them itself); in its own
/// critical sections (start-up, thread creation, signal delivery) it blocks all signals or all
/// but a few, and each of those masks blocks one of these three: that tells them apart.
pub fn blocked_mask(pid: i32) -> Option<u64> {
    let mask = status_mask(pid, "SigBlk")?;
    let qemu_own = sigbit(6) | sigbit(7) | sigbit(11);
    if emulation().is_some() && mask & qemu_own != 0 {
        return None;
    }
    Some(mask)
}

/// Returns true (after saying so loudly) when rein runs under an emulator and `why` says what
/// of the emulator, not of rein, makes `test` unable to pass there; never skips natively.
pub fn skip_under_emulation(test: &str, why: &str) -> bool {
    let Some(e) = emulation() else {
        return false;
    };
    say(&format!("SKIPPED (emulated by {}): {test}: {why}", e.name));
    true
}

/// Writes one line to stderr past libtest's output capture (which takes only the `eprint!`
/// family), so a skip shows in a plain `cargo test` run.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The probe helper (`examples/probe.rs`), (re)built once per test run: `cargo test --test pid1`
/// builds no examples, and a stale probe silently tests old behaviour. A no-op build is quick.
pub fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        // Next to cargo's own rein, also when REIN_BIN points elsewhere: the helpers are
        // built for this machine whatever rein is built for.
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_rein"))
            .parent()
            .expect("bin dir")
            .to_path_buf();
        let path = bin_dir.join("examples").join("probe");
        // target/debug is the `dev` profile; other profiles have directories of their own name.
        let profile = match bin_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--example",
                "probe",
                "--profile",
                profile,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --example probe");
        assert!(st.success(), "building the probe failed");
        assert!(path.exists(), "probe not found at {}", path.display());
        path
    })
}

/// How this machine lets us make a PID namespace: as root, or through a user namespace.
fn ns_prefix() -> Option<&'static [&'static str]> {
    static PREFIX: OnceLock<Option<&'static [&'static str]>> = OnceLock::new();
    *PREFIX.get_or_init(|| {
        const ROOT: &[&str] = &["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"];
        const USERNS: &[&str] = &[
            "unshare",
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
        ];
        [ROOT, USERNS].into_iter().find(|p| {
            Command::new(p[0])
                .args(&p[1..])
                .arg("true")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    })
}

/// Returns false (after saying so loudly) when PID namespaces are unavailable; panics instead
/// when `REIN_REQUIRE_NS=1`, as CI sets it.
pub fn namespaces_available(test: &str) -> bool {
    if ns_prefix().is_some() {
        return true;
    }
    let why = "unshare --pid --fork --mount-proc failed as root and with --user --map-root-user \
               (unprivileged user namespaces may be disabled, e.g. kernel.apparmor_restrict_unprivileged_userns=1)";
    if std::env::var("REIN_REQUIRE_NS").as_deref() == Ok("1") {
        panic!("{test}: REIN_REQUIRE_NS=1 but {why}");
    }
    eprintln!("SKIPPED (no PID namespace): {test}: {why}");
    false
}

/// Makes `cmd` start with every signal at its default action and none blocked, whatever this
/// test process inherited, so the suite gives the same results however it is launched.
///
/// A non-interactive shell starts a background job (`cargo test ... &`) with INT and QUIT
/// ignored; an ignored disposition survives fork and exec, so without this every process the
/// harness starts ignores them too (a shell cannot even trap a signal it inherited ignored),
/// and the tests that send INT or QUIT fail. std already empties the mask and resets PIPE in
/// the child; this resets the rest too, and empties the mask itself rather than count on std.
/// 32 and 33 are included: glibc's `sigaction` refuses them (they are its own), and its
/// `posix_spawn`, which std uses when no `pre_exec` hook is set, leaves them ignored.
///
/// Every command builder here calls it, and so do [`Run::spawn`] and [`on_controlling_tty`]
/// for commands built elsewhere; a second call adds a hook that redoes the same, harmlessly.
pub fn default_signals(cmd: &mut Command) -> &mut Command {
    use nix::libc;
    use std::os::unix::process::CommandExt;
    let hook = || {
        let empty: u64 = 0;
        // SAFETY: rt_sigprocmask(2) reads the live 8-byte set `empty` (the kernel's sigset
        // size on Linux) and is asked for no old set; async-signal-safe, no allocation.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &empty,
                std::ptr::null_mut::<u64>(),
                8,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // The kernel's struct sigaction all zero: SIG_DFL, no flags, no restorer, empty mask.
        let default = [0u64; 4];
        for sig in (1..=64).filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP) {
            // SAFETY: rt_sigaction(2) (the raw call, which takes 32 and 33) reads the live,
            // kernel-shaped action `default` and is asked for no old action; it is a system
            // call, async-signal-safe, and allocates nothing.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    default.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    8,
                )
            };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook makes only system calls (rt_sigprocmask, rt_sigaction), which are
    // async-signal-safe, and allocates nothing, as the code between fork and exec must.
    unsafe { cmd.pre_exec(hook) }
}

/// The command that runs `args` (any program, not only rein) as PID 1 of a new PID namespace,
/// for tests that put a shell or a wrapper between the namespace and rein.
pub fn ns_command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let p = ns_prefix().expect("call namespaces_available first");
    let mut c = Command::new(p[0]);
    c.args(&p[1..]).args(args);
    default_signals(&mut c);
    c
}

/// The words that start a new PID namespace (`unshare ... --mount-proc --kill-child`), for
/// tests that must run something before `unshare` (e.g. joining a cgroup).
pub fn ns_words() -> &'static [&'static str] {
    ns_prefix().expect("call namespaces_available first")
}

/// As [`ns_command`], but in a private mount namespace where no procfs is mounted for the new
/// PID namespace: an empty tmpfs covers `/proc` before `args` runs.
pub fn ns_command_without_proc<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let p = ns_prefix().expect("call namespaces_available first");
    let mut c = Command::new(p[0]);
    c.args(p[1..].iter().filter(|w| **w != "--mount-proc"))
        .arg("--mount")
        .args(["sh", "-c", "mount -t tmpfs none /proc && exec \"$@\"", "sh"])
        .args(args);
    default_signals(&mut c);
    c
}

/// Builds the command that runs rein with `args` in `mode`.
pub fn command<S: AsRef<OsStr>>(mode: Mode, args: &[S]) -> Command {
    let mut cmd = match mode {
        Mode::Pid1 => {
            let p = ns_prefix().expect("call namespaces_available first");
            let mut c = Command::new(p[0]);
            c.args(&p[1..]).arg(rein());
            c
        }
        Mode::Plain => Command::new(rein()),
    };
    cmd.args(args);
    default_signals(&mut cmd);
    cmd
}

/// Builds the command that runs `wrapper...` with rein's path and `args` appended, in `mode`:
/// a wrapper that sets something up and then execs rein (`probe wrap`, `probe execenv`), so
/// that in PID-1 mode rein is still PID 1.
pub fn command_via<S: AsRef<OsStr>, T: AsRef<OsStr>>(
    mode: Mode,
    wrapper: &[S],
    args: &[T],
) -> Command {
    let mut cmd = match mode {
        Mode::Pid1 => {
            let p = ns_prefix().expect("call namespaces_available first");
            let mut c = Command::new(p[0]);
            c.args(&p[1..]).args(wrapper);
            c
        }
        Mode::Plain => {
            let mut c = Command::new(wrapper[0].as_ref());
            c.args(&wrapper[1..]);
            c
        }
    };
    cmd.arg(rein()).args(args);
    default_signals(&mut cmd);
    cmd
}

/// A running rein, with its output collected in the background.
pub struct Run {
    desc: String,
    pid: u32,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    err_done: Receiver<()>,
    exited: Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    /// Set, under its lock, in the same critical section as the wait thread reaps the started
    /// process: see [`Run::kill_started`].
    reaped: Arc<Mutex<bool>>,
}

/// A finished run.
#[derive(Debug)]
pub struct Outcome {
    /// rein's exit code (`None` if a signal killed it).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: Vec<u8>,
    /// Everything on stderr, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// Starts rein with `args` in `mode`, stdin piped (closing it is an event the probe uses).
    pub fn start<S: AsRef<OsStr>>(mode: Mode, args: &[S]) -> Run {
        Self::spawn(command(mode, args))
    }

    /// Starts an arbitrary prepared command under the same collection.
    pub fn spawn(mut cmd: Command) -> Run {
        let desc = format!("{cmd:?}");
        default_signals(&mut cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        let pid = child.id();
        let stdin = child.stdin.take();
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let (line_tx, lines) = channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let so = Arc::clone(&stdout);
        std::thread::spawn(move || {
            let mut r = BufReader::new(&mut out);
            let mut buf = Vec::new();
            while r.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                so.lock().unwrap().extend_from_slice(&buf);
                let _ = line_tx.send(String::from_utf8_lossy(&buf).trim_end().to_string());
                buf.clear();
            }
        });
        let se = Arc::clone(&stderr);
        let (err_done_tx, err_done) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match err.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => se.lock().unwrap().extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        se.lock().unwrap().extend_from_slice(
                            format!("<<harness: stderr read failed: {e}>>").as_bytes(),
                        );
                        break;
                    }
                }
            }
            let _ = err_done_tx.send(());
        });
        let (exit_tx, exited) = channel();
        let reaped = Arc::new(Mutex::new(false));
        let reaper = Arc::clone(&reaped);
        std::thread::spawn(move || {
            // Wait for the exit without reaping, then reap with the lock held: the pid stays
            // this child's (a zombie) until then, so a kill made under the lock while `reaped`
            // is false cannot reach another process that took the pid after the reap.
            wait_exited(pid);
            let mut done = reaper.lock().unwrap_or_else(|e| e.into_inner());
            let st = child.wait().expect("wait for rein");
            *done = true;
            drop(done);
            let _ = exit_tx.send(st);
        });
        Run {
            desc,
            pid,
            stdin,
            lines,
            stdout,
            stderr,
            err_done,
            exited,
            status: None,
            reaped,
        }
    }

    /// Sends `sig` to the process the harness started, only while it is not reaped: once
    /// reaped its pid is free, and may already name an unrelated process. Returns whether the
    /// signal was sent.
    pub fn kill_started(&self, sig: i32) -> bool {
        let reaped = self.reaped.lock().unwrap_or_else(|e| e.into_inner());
        !*reaped && kill(self.pid as i32, sig)
    }

    /// The pid of the process the harness started (unshare, or rein in plain mode).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// rein's pid as seen from here: in PID-1 mode, the only child of `unshare`.
    pub fn rein_pid(&self, mode: Mode) -> i32 {
        match mode {
            Mode::Plain => self.pid as i32,
            Mode::Pid1 => {
                let path = format!("/proc/{0}/task/{0}/children", self.pid);
                let mut found = None;
                wait_until("unshare has forked rein", DEADLINE, || {
                    found = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.split_whitespace().next()?.parse().ok());
                    found.is_some()
                });
                found.expect("rein pid")
            }
        }
    }

    /// Waits for a stdout line for which `pred` holds; returns it.
    pub fn expect_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => self.fail(&format!(
                    "no stdout line matching {what} before the deadline"
                )),
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("stdout closed before a line matching {what}"))
                }
            }
        }
    }

    /// Closes rein's stdin (the probe's cue to exit).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Writes to rein's stdin.
    pub fn write_stdin(&mut self, data: &[u8]) {
        self.stdin
            .as_mut()
            .expect("stdin open")
            .write_all(data)
            .expect("write stdin");
    }

    /// Sends `sig` to `pid` (e.g. to rein from outside, as `docker stop` would); to the
    /// started process itself only while it is unreaped (see [`Run::kill_started`]).
    pub fn signal(&self, pid: i32, sig: i32) {
        let rc = if pid == self.pid as i32 {
            self.kill_started(sig)
        } else {
            kill(pid, sig)
        };
        assert!(
            rc,
            "kill({pid}, {sig}) failed: {}",
            std::io::Error::last_os_error()
        );
    }

    /// Waits for rein to exit (with a deadline) and returns its outcome.
    pub fn finish(mut self) -> Outcome {
        self.finish_within(DEADLINE)
    }

    /// As `finish`, with an explicit deadline.
    pub fn finish_within(&mut self, limit: Duration) -> Outcome {
        self.close_stdin();
        let status = match self.status {
            Some(s) => s,
            None => match self.exited.recv_timeout(limit) {
                Ok(s) => s,
                Err(_) => self.fail("rein did not exit before the deadline"),
            },
        };
        self.status = Some(status);
        // The output threads end at EOF, which may come a moment after exit: wait for both.
        let deadline = Instant::now() + DEADLINE;
        while self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
        {}
        let _ = self
            .err_done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        Outcome {
            code: status.code(),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned(),
        }
    }

    /// Whether rein has exited, waiting at most `limit` for it.
    pub fn exited_within(&mut self, limit: Duration) -> bool {
        if self.status.is_some() {
            return true;
        }
        match self.exited.recv_timeout(limit) {
            Ok(s) => {
                self.status = Some(s);
                true
            }
            Err(_) => false,
        }
    }

    /// Panics with a framed dump of the run.
    pub fn fail(&self, why: &str) -> ! {
        self.kill_started(9);
        panic!(
            "\n==== {why}\n---- command\n{}\n---- status\n{:?}\n---- stdout\n{}\n---- stderr\n{}\n====",
            self.desc,
            self.status,
            String::from_utf8_lossy(&self.stdout.lock().unwrap()),
            String::from_utf8_lossy(&self.stderr.lock().unwrap())
        );
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // A failed test must not leave rein or its namespace behind; a reaped process is
        // left alone (its pid may be another process's by now).
        self.kill_started(9);
    }
}

/// Blocks until the child `pid` has exited, without reaping it (`waitid` with `WNOWAIT`), so
/// that its pid stays taken (by the zombie) until the caller reaps it.
fn wait_exited(pid: u32) {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value of that plain C struct.
        let mut info: nix::libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid(2) writes into the live `info`; WNOWAIT leaves the child unreaped.
        let rc = unsafe {
            nix::libc::waitid(
                nix::libc::P_PID,
                pid,
                &mut info,
                nix::libc::WEXITED | nix::libc::WNOWAIT,
            )
        };
        if rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(nix::libc::EINTR) {
            return;
        }
    }
}

/// `kill(pid, sig)` by number, real-time signals included; `sig` 0 only checks.
pub fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    unsafe { nix::libc::kill(pid, sig) == 0 }
}

/// Runs rein to completion with `args` and returns the outcome.
pub fn run<S: AsRef<OsStr>>(mode: Mode, args: &[S]) -> Outcome {
    Run::start(mode, args).finish()
}

/// One process as seen in `/proc` from the host.
#[derive(Debug, Clone)]
pub struct Proc {
    /// pid (host view).
    pub pid: i32,
    /// parent pid.
    pub ppid: i32,
    /// state letter.
    pub state: char,
}

/// Reads `/proc/PID/stat` of every process.
pub fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = text.rfind(')') else {
            continue;
        };
        let mut f = text[close + 1..].split_whitespace();
        let state = f.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.push(Proc { pid, ppid, state });
    }
    out
}

/// The `/proc/PID/ns/pid` link of `pid` (which PID namespace it is in), if it still exists.
pub fn pid_ns(pid: i32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()
}

/// Every process in the same PID namespace as `pid` (itself included).
pub fn same_namespace(pid: i32) -> Vec<Proc> {
    let ns = pid_ns(pid).expect("namespace of a live process");
    processes()
        .into_iter()
        .filter(|p| pid_ns(p.pid).as_ref() == Some(&ns))
        .collect()
}

/// Field `n` (1-based, as in proc(5): 3 is the state, 5 the pgrp, 8 the tpgid) of
/// `/proc/PID/stat`, or `None` if the process is gone.
pub fn stat_field(pid: i32, n: usize) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = text.rfind(')')?;
    text[close + 1..]
        .split_whitespace()
        .nth(n.checked_sub(3)?)
        .map(str::to_string)
}

/// The process state letter of `pid` (`S`, `R`, `T`, `Z`...), `None` if it is gone.
pub fn state(pid: i32) -> Option<char> {
    stat_field(pid, 3).and_then(|s| s.chars().next())
}

/// The value of `Key:` in `/proc/PID/status`, trimmed.
pub fn status_field(pid: i32, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(key)?
            .strip_prefix(':')
            .map(|v| v.trim().to_string())
    })
}

/// A `/proc/PID/status` signal mask (`SigBlk`, `SigIgn`, ...) as a number.
pub fn status_mask(pid: i32, key: &str) -> Option<u64> {
    u64::from_str_radix(&status_field(pid, key)?, 16).ok()
}

/// The direct children of `pid`, from `/proc/PID/task/PID/children`.
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The kernel mask bit of signal `sig`.
pub fn sigbit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Every process below `root` (not including it), following parent links.
pub fn descendants(root: i32) -> Vec<Proc> {
    let all = processes();
    let mut out: Vec<Proc> = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for c in all.iter().filter(|c| c.ppid == p) {
            frontier.push(c.pid);
            out.push(c.clone());
        }
    }
    out
}

/// Waits until `cond` holds, or panics naming `what` once `limit` has passed.
///
/// Process state in `/proc` offers nothing to block on, so this re-checks every few
/// milliseconds; the interval only bounds how soon a met condition is noticed, never whether a
/// test passes.
#[allow(clippy::disallowed_methods)]
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A scratch directory removed at the end of the test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rein-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sh -c SCRIPT` as rein's PROGRAM and ARGS. Scripts read their inputs from environment
/// variables (set on the rein command; rein passes them through), which avoids nested quoting.
pub fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

/// `args` followed by `sh -c SCRIPT`.
pub fn with_sh(args: &[&str], script: &str) -> Vec<String> {
    let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    v.extend(sh(script));
    v
}

/// Reads the status file, a flat JSON object of numbers, strings and `null` on one line, into
/// key -> raw value (strings without their quotes). Panics if it is not exactly that shape.
pub fn read_status(path: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read status file {}: {e}", path.display()));
    assert!(text.ends_with("}\n"), "status file not one line: {text:?}");
    assert_eq!(
        text.lines().count(),
        1,
        "status file not one line: {text:?}"
    );
    let body = text
        .trim_end()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a JSON object: {text:?}"));
    body.split(',')
        .map(|kv| {
            let (k, v) = kv
                .split_once(':')
                .unwrap_or_else(|| panic!("bad member {kv:?} in {text:?}"));
            let k = k.strip_prefix('"').and_then(|k| k.strip_suffix('"'));
            let k = k.unwrap_or_else(|| panic!("bad key in {text:?}"));
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    stat_field(pid, 3).is_some_and(|s| s != "Z" && s != "X")
}

/// Waits until `pid` is rein (exec'd, not a forked `unshare` still on its way there) and has
/// `sig` in its blocked mask, so rein will catch it. Checking the mask alone is not enough:
/// `unshare` forks with INT and TERM blocked and restores the mask before exec, and a TERM
/// that arrives in between is dropped by the new namespace's init.
pub fn wait_blocked(pid: i32, sig: i32) {
    wait_until(
        &format!("rein (pid {pid}) blocks signal {sig}"),
        DEADLINE,
        || is_rein(pid) && blocked_mask(pid).is_some_and(|m| m & sigbit(sig) != 0),
    );
}

/// Every process (host view) whose environment contains `mark` (`KEY=VALUE`): a way to find
/// every process of one run, whatever session or parent it ended up with. A process inside
/// execve is found too (see [`environ`]).
pub fn marked(mark: &str) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| has_mark(p.pid, mark))
        .map(|p| p.pid)
        .collect()
}

/// Whether the environment of `pid` contains `mark` (`KEY=VALUE`).
pub fn has_mark(pid: i32, mark: &str) -> bool {
    environ(pid).is_some_and(|e| e.split(|&b| b == 0).any(|kv| kv == mark.as_bytes()))
}

/// The environment block of `pid` (`/proc/PID/environ`), `None` if it is gone or not ours to
/// read. Read so that a process inside execve is not missed.
///
/// The file shows the bytes between `env_start` and `env_end` of the memory map it was opened
/// on, read whole in one read(2) (the kernel holds that map for the call), and nothing while
/// either is 0. Inside execve there are two ways to read less than the environment the program
/// is exec'd with (a plain `std::fs::read` missed the mark in 1% to 19% of 20,000 looks at a
/// process that re-execs itself, by the load on the machine; see `plumbing.rs`):
/// - the new memory map is in place but the kernel has not yet set the two (they are 0), or is
///   setting them (`create_elf_tables` sets both to the start, then walks the strings to set
///   the end), or the file was opened on the old map, which the exec then dropped: the read is
///   empty;
/// - a read in several calls (std's first read takes 32 bytes) spans the exec: the first calls
///   read the old map, the next ones find it gone, and the environment comes out cut short.
///
/// So the block is taken in one read(2) of a buffer larger than any environment execve
/// accepts, and an empty read is taken as final only when `/proc/PID/stat` (read after it)
/// shows an exec that has finished with an empty environment, or a process with no memory map
/// (a zombie, a kernel thread); otherwise it is read again until the exec has finished.
pub fn environ(pid: i32) -> Option<Vec<u8>> {
    let mut env = None;
    let mut gone = false;
    wait_until(
        &format!("pid {pid} has finished its execve (its environ reads empty)"),
        DEADLINE,
        || match read_whole(&format!("/proc/{pid}/environ")) {
            Err(_) => {
                gone = true;
                true
            }
            Ok(e) if !e.is_empty() => {
                env = Some(e);
                true
            }
            Ok(e) => match environ_is_empty(pid) {
                None => {
                    gone = true;
                    true
                }
                Some(true) => {
                    env = Some(e);
                    true
                }
                Some(false) => false,
            },
        },
    );
    if gone { None } else { env }
}

/// The file at `path` in one read(2) into a buffer larger than an environment (execve(2)
/// takes at most a quarter of the stack limit, and `ulimit -s unlimited` still caps that at
/// 6 MiB); a file larger than that (not an environment) is read on in further calls.
fn read_whole(path: &str) -> std::io::Result<Vec<u8>> {
    const ONE_READ: usize = 8 << 20;
    // One buffer a thread, reused: a scan reads every process's file.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut f = std::fs::File::open(path)?;
    BUF.with_borrow_mut(|buf| {
        buf.resize(ONE_READ, 0);
        let n = loop {
            match f.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        let mut out = buf[..n].to_vec();
        if n == ONE_READ {
            f.read_to_end(&mut out)?;
        }
        Ok(out)
    })
}

/// After an empty read of `/proc/PID/environ`: `Some(true)` if `pid` really shows no
/// environment (a zombie, a kernel thread, or an exec that has finished with
/// `env_start == env_end`), `Some(false)` if the read may have caught it inside execve, `None`
/// if it is gone.
///
/// The exec has finished once `end_code` (field 27) is set: a new memory map starts with it 0,
/// and the ELF loader sets it only after `create_elf_tables` has set the environment's range
/// for good (`load_elf_binary` in fs/binfmt_elf.c).
fn environ_is_empty(pid: i32) -> Option<bool> {
    const PF_KTHREAD: u64 = 0x0020_0000;
    let text = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = String::from_utf8_lossy(&text[close + 1..]).into_owned();
    // Fields from 3 on: 3 the state, 9 the flags, 27 end_code, 50 env_start, 51 env_end.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    if matches!(f.first(), Some(&("Z" | "X"))) || num(9)? & PF_KTHREAD != 0 {
        return Some(true);
    }
    Some(num(27)? != 0 && num(50)? == num(51)?)
}

/// A fresh `KEY=VALUE` marker for `marked`.
pub fn new_mark(tag: &str) -> (String, String) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    (
        "REIN_TEST_MARK".into(),
        format!("{}-{tag}-{n}", std::process::id()),
    )
}

/// Every process (host view) in the PID namespace of `pid`, `pid` included.
pub fn ns_members(pid: i32) -> Vec<Proc> {
    let ns = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(target) = ns(pid) else {
        return Vec::new();
    };
    processes()
        .into_iter()
        .filter(|p| ns(p.pid).as_ref() == Some(&target))
        .collect()
}

/// Gives `cmd` the pseudo-terminal `slave` as stdin, stdout, stderr and controlling terminal:
/// the process starts a new session (`setsid`) and claims the slave (`TIOCSCTTY`), as a login
/// or `docker run -it` would.
pub fn on_controlling_tty(cmd: &mut Command, slave: &std::os::fd::OwnedFd) {
    use std::os::unix::process::CommandExt;
    let stdio = || Stdio::from(slave.try_clone().expect("dup pty slave"));
    cmd.stdin(stdio()).stdout(stdio()).stderr(stdio());
    default_signals(cmd);
    let hook = || {
        // SAFETY: setsid has no arguments and is async-signal-safe.
        if unsafe { nix::libc::setsid() } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: stdin is the pty slave (std set it up before this hook); TIOCSCTTY with
        // argument 0 makes it the controlling terminal of this new session.
        if unsafe { nix::libc::ioctl(0, nix::libc::TIOCSCTTY, 0) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    // SAFETY: the hook makes two async-signal-safe system calls and allocates nothing on
    // success.
    unsafe { cmd.pre_exec(hook) };
}
