//! `initbench`: the measuring half of `scripts/bench.sh`.
//!
//! Driver subcommands start an init (rein or a peer) the way a container runtime would, as a
//! plain process or as PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`),
//! and time it. Every init of a round runs before the next round starts, so drift on the
//! machine hits them all alike. Each sample goes to stdout as one tab-separated row:
//! `metric  mode  init  value`; `scripts/bench_report.py` turns the rows into tables.
//!
//! Child subcommands are the programs the inits supervise:
//! - `child-sig FIFO BURST`: reports readiness, then the CLOCK_MONOTONIC time at which its
//!   SIGUSR1 handler ran, and the time every BURST-th real-time signal arrived; exits on TERM;
//! - `child-storm N OUT`: double-forks N orphans that block on a pipe, releases them all at
//!   once, waits until every one of them has been reaped and writes the timings to OUT.
//!
//! Timestamps from different processes compare because CLOCK_MONOTONIC is system-wide.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// What `child-sig` writes once its handlers are installed.
const READY: u64 = u64::MAX;

/// The real-time signal used for the throughput burst (real-time signals queue, so none of a
/// burst is merged away).
fn rt_signal() -> i32 {
    libc::SIGRTMIN() + 2
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime is async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory arguments.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Debug, Clone)]
struct Init {
    name: String,
    path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Pid1,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Pid1 => "pid1",
        }
    }
}

#[derive(Debug)]
struct Opts {
    inits: Vec<Init>,
    modes: Vec<Mode>,
    rounds: usize,
    work: PathBuf,
    count: usize,
    secs: f64,
    orphans: usize,
    burst: u64,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        inits: Vec::new(),
        modes: vec![Mode::Plain, Mode::Pid1],
        rounds: 1,
        work: std::env::temp_dir().join("initbench"),
        count: 100,
        secs: 10.0,
        orphans: 20_000,
        burst: 2_000,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{a}: {e}"));
        match a.as_str() {
            "--init" => {
                let v = val()?;
                let (name, path) = v.split_once('=').ok_or("--init NAME=PATH")?;
                o.inits.push(Init {
                    name: name.to_string(),
                    path: path.to_string(),
                });
            }
            "--modes" => {
                o.modes = val()?
                    .split(',')
                    .map(|m| match m {
                        "plain" => Ok(Mode::Plain),
                        "pid1" => Ok(Mode::Pid1),
                        _ => Err(format!("unknown mode {m}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--rounds" => o.rounds = num(val()?)?,
            "--count" => o.count = num(val()?)?,
            "--orphans" => o.orphans = num(val()?)?,
            "--burst" => o.burst = num(val()?)? as u64,
            "--secs" => o.secs = val()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--work" => o.work = PathBuf::from(val()?),
            _ => return Err(format!("unknown option {a}")),
        }
    }
    if o.inits.is_empty() {
        return Err("no --init given".into());
    }
    fs::create_dir_all(&o.work).map_err(|e| format!("{}: {e}", o.work.display()))?;
    Ok(o)
}

/// The command line that runs `cmd` under `init` in `mode`. `none` runs `cmd` alone.
fn command_line(init: &Init, mode: Mode, cmd: &[String]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    if mode == Mode::Pid1 {
        v.extend(["unshare", "--pid", "--fork", "--mount-proc"].map(String::from));
    }
    match init.name.as_str() {
        "none" => {}
        "dumb-init" => v.push(init.path.clone()),
        "tini" | "tini-static" => {
            v.push(init.path.clone());
            if mode == Mode::Plain {
                // As a plain process tini only reaps orphans with -s (and warns without it).
                v.push("-s".into());
            }
            v.push("--".into());
        }
        _ => {
            v.push(init.path.clone());
            v.push("--".into());
        }
    }
    v.extend(cmd.iter().cloned());
    v
}

fn emit(metric: &str, mode: Mode, init: &Init, value: impl std::fmt::Display) {
    println!("{metric}\t{}\t{}\t{value}", mode.name(), init.name);
}

// ---------------------------------------------------------------------------------------------
// Processes

fn stderr_log(o: &Opts) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(o.work.join("inits.stderr"))
}

fn spawn(argv: &[String], err: &File) -> io::Result<Child> {
    Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err.try_clone()?)
        .spawn()
}

/// The parent pid from `/proc/PID/stat` (the fields after the last `)`).
fn ppid_of(pid: i32) -> Option<i32> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// The first child of `parent` found in `/proc` (host view), waiting up to 5 s for it.
fn find_child_of(parent: i32) -> io::Result<i32> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        for e in fs::read_dir("/proc")?.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok())
                && ppid_of(pid) == Some(parent)
            {
                return Ok(pid);
            }
        }
        sleep(Duration::from_micros(200));
    }
    Err(io::Error::other(format!("no child of {parent} appeared")))
}

/// The host pid of the init (or, for `none`, of the program itself).
fn target_pid(child: &Child, mode: Mode) -> io::Result<i32> {
    let outer = i32::try_from(child.id()).map_err(io::Error::other)?;
    match mode {
        Mode::Plain => Ok(outer),
        Mode::Pid1 => find_child_of(outer),
    }
}

fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(RawFd::try_from(fd).map_err(io::Error::other)?) })
}

/// Waits until `fd` is readable; `false` on time-out.
fn readable(fd: RawFd, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `p` is one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n > 0 {
            return true;
        }
        if n == 0 || (n < 0 && errno() != libc::EINTR) {
            return false;
        }
    }
}

/// Waits for `child` to exit for up to `timeout`, then kills it (and `also`).
fn finish(child: &mut Child, also: i32, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        sleep(Duration::from_micros(500));
    }
    eprintln!("initbench: pid {} did not exit; killing it", child.id());
    let _ = kill(also, libc::SIGKILL);
    let _ = child.kill();
    let _ = child.wait();
}

/// A FIFO the supervised program reports through. The driver holds it open read-write, so it
/// never sees end-of-file and never blocks on open.
#[derive(Debug)]
struct Channel {
    fd: OwnedFd,
}

impl Channel {
    fn new(path: &Path) -> io::Result<Self> {
        let _ = fs::remove_file(path);
        let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
        // SAFETY: `c` is a valid NUL-terminated path.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above; the returned descriptor is checked and then owned.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn try_read(&self) -> Option<u64> {
        let mut b = [0u8; 8];
        // SAFETY: `b` is 8 writable bytes. Writers write 8 bytes at once (atomic on a pipe).
        let n = unsafe { libc::read(self.fd.as_raw_fd(), b.as_mut_ptr().cast(), 8) };
        (n == 8).then(|| u64::from_ne_bytes(b))
    }

    fn read(&self, timeout: Duration) -> io::Result<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.try_read() {
                return Ok(v);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !readable(self.fd.as_raw_fd(), left) {
                return Err(io::Error::from(io::ErrorKind::TimedOut));
            }
        }
    }

    fn drain(&self) {
        while self.try_read().is_some() {}
    }
}

/// One init supervising `child-sig`, ready to be measured.
struct Instance {
    init: Init,
    mode: Mode,
    child: Child,
    target: i32,
    chan: Channel,
}

fn start_instance(
    o: &Opts,
    init: &Init,
    mode: Mode,
    id: usize,
    err: &File,
) -> io::Result<Instance> {
    let fifo = o.work.join(format!("ch-{id}.fifo"));
    let chan = Channel::new(&fifo)?;
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let cmd = [
        me,
        "child-sig".into(),
        fifo.to_string_lossy().into_owned(),
        o.burst.to_string(),
    ];
    let mut child = spawn(&command_line(init, mode, &cmd), err)?;
    match chan.read(Duration::from_secs(10)) {
        Ok(READY) => {}
        other => {
            let _ = child.kill();
            return Err(io::Error::other(format!(
                "{} ({}) did not start its child: {other:?}",
                init.name,
                mode.name()
            )));
        }
    }
    let target = target_pid(&child, mode)?;
    Ok(Instance {
        init: init.clone(),
        mode,
        child,
        target,
        chan,
    })
}

impl Instance {
    fn stop(mut self) {
        let _ = kill(self.target, libc::SIGTERM);
        finish(&mut self.child, self.target, Duration::from_secs(10));
    }
}

fn start_all(o: &Opts, with_none: bool, err: &File) -> io::Result<Vec<Instance>> {
    let mut out = Vec::new();
    for &mode in &o.modes {
        for init in &o.inits {
            if init.name == "none" && !with_none {
                continue;
            }
            out.push(start_instance(o, init, mode, out.len(), err)?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Driver subcommands

/// `INIT -- true`, wall time from spawn to reaped, `rounds` times.
fn startup(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    for _ in 0..o.rounds {
        for &mode in &o.modes {
            for init in &o.inits {
                let argv = command_line(init, mode, &["true".to_string()]);
                let t0 = Instant::now();
                let st = spawn(&argv, &err)?.wait()?;
                let dt = t0.elapsed();
                if !st.success() {
                    return Err(io::Error::other(format!("{argv:?} failed: {st}")));
                }
                emit("startup_ns", mode, init, dt.as_nanos());
            }
        }
    }
    Ok(())
}

fn status_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_ascii_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn ctxt_switches(pid: i32) -> io::Result<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let v = status_field(&s, "voluntary_ctxt_switches:").unwrap_or(0);
    let n = status_field(&s, "nonvoluntary_ctxt_switches:").unwrap_or(0);
    Ok(v + n)
}

/// All inits at once, each with an idle child: context switches over `secs`, then memory.
fn idle(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let insts = start_all(o, false, &err)?;
    sleep(Duration::from_millis(500));
    let before: Vec<u64> = insts
        .iter()
        .map(|i| ctxt_switches(i.target))
        .collect::<io::Result<_>>()?;
    sleep(Duration::from_secs_f64(o.secs));
    for (i, b) in insts.iter().zip(before) {
        let after = ctxt_switches(i.target)?;
        emit("idle_ctxt", i.mode, &i.init, after - b);
        let s = fs::read_to_string(format!("/proc/{}/status", i.target))?;
        emit(
            "rss_kb",
            i.mode,
            &i.init,
            status_field(&s, "VmRSS:").unwrap_or(0),
        );
        emit(
            "hwm_kb",
            i.mode,
            &i.init,
            status_field(&s, "VmHWM:").unwrap_or(0),
        );
        let r = fs::read_to_string(format!("/proc/{}/smaps_rollup", i.target))?;
        emit(
            "pss_kb",
            i.mode,
            &i.init,
            status_field(&r, "Pss:").unwrap_or(0),
        );
    }
    insts.into_iter().for_each(Instance::stop);
    Ok(())
}

/// Signal forwarding: `count` rounds of one SIGUSR1 per init (latency), then `rounds` bursts
/// of `burst` real-time signals per init (throughput).
fn signals(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let insts = start_all(o, true, &err)?;
    let mut lost = vec![0usize; insts.len()];
    for _ in 0..o.count {
        for (k, i) in insts.iter().enumerate() {
            i.chan.drain();
            let t0 = now_ns();
            kill(i.target, libc::SIGUSR1)?;
            match i.chan.read(Duration::from_secs(2)) {
                Ok(t1) => emit("siglat_ns", i.mode, &i.init, t1.saturating_sub(t0)),
                Err(_) => lost[k] += 1,
            }
            sleep(Duration::from_micros(100));
        }
    }
    for _ in 0..o.rounds {
        for (k, i) in insts.iter().enumerate() {
            i.chan.drain();
            sleep(Duration::from_millis(20));
            let t0 = now_ns();
            for _ in 0..o.burst {
                loop {
                    match kill(i.target, rt_signal()) {
                        Ok(()) => break,
                        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                            sleep(Duration::from_micros(20));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            match i.chan.read(Duration::from_secs(20)) {
                Ok(t1) => {
                    let per_s = o.burst as f64 * 1e9 / t1.saturating_sub(t0).max(1) as f64;
                    emit("sigrate_per_s", i.mode, &i.init, format!("{per_s:.0}"));
                }
                Err(_) => lost[k] += 1,
            }
        }
    }
    for (i, l) in insts.iter().zip(lost) {
        emit("signals_lost", i.mode, &i.init, l);
    }
    insts.into_iter().for_each(Instance::stop);
    Ok(())
}

/// SIGTERM to the init until it has exited; the child exits on TERM.
fn shutdown(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    for _ in 0..o.rounds {
        for &mode in &o.modes {
            for init in &o.inits {
                let mut i = start_instance(o, init, mode, 0, &err)?;
                let pidfd = pidfd_open(i.target)?;
                let t0 = now_ns();
                kill(i.target, libc::SIGTERM)?;
                if readable(pidfd.as_raw_fd(), Duration::from_secs(30)) {
                    emit("shutdown_ns", mode, init, now_ns() - t0);
                } else {
                    eprintln!("initbench: {} ({}) ignored SIGTERM", init.name, mode.name());
                }
                finish(&mut i.child, i.target, Duration::from_secs(10));
            }
        }
    }
    Ok(())
}

/// As PID 1: the child releases `orphans` double-forked orphans at once; time until reaped.
fn reap(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let mode = Mode::Pid1;
    for round in 0..o.rounds {
        for init in o.inits.iter().filter(|i| i.name != "none") {
            let out = o.work.join(format!("storm-{round}-{}.txt", init.name));
            let _ = fs::remove_file(&out);
            let cmd = [
                me.clone(),
                "child-storm".into(),
                o.orphans.to_string(),
                out.to_string_lossy().into_owned(),
            ];
            let t_spawn = now_ns();
            let mut child = spawn(&command_line(init, mode, &cmd), &err)?;
            let target = target_pid(&child, mode)?;
            let pidfd = pidfd_open(target)?;
            if !readable(pidfd.as_raw_fd(), Duration::from_secs(300)) {
                eprintln!("initbench: {} did not finish the storm", init.name);
            }
            let t_exit = now_ns();
            finish(&mut child, target, Duration::from_secs(10));
            let text = fs::read_to_string(&out).unwrap_or_default();
            let f: Vec<u64> = text
                .split_ascii_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            let [_t_start, t_release, t_drained, peak, samples] = f[..] else {
                eprintln!("initbench: {} wrote no storm result", init.name);
                continue;
            };
            if t_drained == 0 {
                eprintln!("initbench: {}: orphans were not all reaped", init.name);
                continue;
            }
            emit("reap_drain_ns", mode, init, t_drained - t_release);
            emit("reap_exit_ns", mode, init, t_exit - t_release);
            emit("reap_total_ns", mode, init, t_exit - t_spawn);
            emit("reap_peak_zombies", mode, init, peak);
            emit("reap_zombie_samples", mode, init, samples);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Supervised programs

static CHAN_FD: AtomicI32 = AtomicI32::new(-1);
static RT_COUNT: AtomicU64 = AtomicU64::new(0);
static BURST: AtomicU64 = AtomicU64::new(1);

fn report(v: u64) {
    let b = v.to_ne_bytes();
    // SAFETY: write is async-signal-safe; `b` is 8 readable bytes.
    unsafe { libc::write(CHAN_FD.load(Ordering::Relaxed), b.as_ptr().cast(), 8) };
}

extern "C" fn on_usr1(_: libc::c_int) {
    report(now_ns());
}

extern "C" fn on_rt(_: libc::c_int) {
    let n = RT_COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_multiple_of(BURST.load(Ordering::Relaxed)) {
        report(now_ns());
    }
}

extern "C" fn on_term(_: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(143) };
}

fn handle(sig: i32, f: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid starting value.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = f as libc::sighandler_t;
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa` is initialised; the handlers only call async-signal-safe functions.
    if unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `child-sig FIFO BURST`.
fn child_sig(args: &[String]) -> io::Result<()> {
    let [fifo, burst] = args else {
        return Err(io::Error::other("usage: child-sig FIFO BURST"));
    };
    let f = OpenOptions::new().write(true).open(fifo)?;
    CHAN_FD.store(f.as_raw_fd(), Ordering::Relaxed);
    BURST.store(
        burst.parse::<u64>().map_err(io::Error::other)?.max(1),
        Ordering::Relaxed,
    );
    handle(libc::SIGUSR1, on_usr1)?;
    handle(rt_signal(), on_rt)?;
    // The child of an init that was started in a PID namespace is its PID 1 when run without
    // an init; PID 1 gets no default actions, so TERM must have a handler to end it.
    handle(libc::SIGTERM, on_term)?;
    // SAFETY: an empty set, initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
    report(READY);
    loop {
        // SAFETY: pause has no arguments.
        unsafe { libc::pause() };
    }
}

fn pipe() -> io::Result<[RawFd; 2]> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fds)
}

fn is_zombie(pid: i32) -> bool {
    fs::read(format!("/proc/{pid}/stat")).is_ok_and(|b| {
        b.iter()
            .rposition(|&c| c == b')')
            .and_then(|i| b.get(i + 2))
            .is_some_and(|&s| s == b'Z' || s == b'X')
    })
}

/// What the cloned intermediates and orphans of the storm need; shared through CLONE_VM.
struct Storm {
    rel_r: RawFd,
    rel_w: RawFd,
    /// Where the next intermediate stores its orphan's pid.
    out: *mut i32,
    /// The top of the next orphan's stack.
    stack: *mut libc::c_void,
}

/// An intermediate: clones the orphan, records its pid and exits, which orphans it.
extern "C" fn intermediate(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the storm's `Storm`, alive (and not written) while the vfork-style
    // parent is suspended; clone, the store and _exit are all that runs here.
    unsafe {
        let s = &*arg.cast::<Storm>();
        let pid = libc::clone(orphan, s.stack, libc::CLONE_VM | libc::SIGCHLD, arg);
        *s.out = pid;
        libc::_exit(0)
    }
}

/// An orphan: its own session (as a daemon would), then it blocks until the release.
extern "C" fn orphan(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: only the descriptors are read from `Storm`; they never change. The calls are
    // plain system calls on this process's own copy of the descriptor table.
    unsafe {
        let s = &*arg.cast::<Storm>();
        // Separate sessions also keep the kernel from walking one huge process group on
        // every exit to see whether it became orphaned.
        libc::setsid();
        libc::close(s.rel_w);
        let mut b = 0u8;
        libc::read(s.rel_r, (&raw mut b).cast(), 1);
        libc::_exit(0)
    }
}

/// `child-storm N OUT`: creates N orphans, releases them, waits until all are reaped.
///
/// Each orphan is double-forked: an intermediate is cloned (vfork-style), clones the orphan
/// and exits, so the orphan is re-parented to the init. Both share this process's memory
/// (CLONE_VM, separate stacks, no exec): a full fork copies page tables and exiting tears them
/// down again, which on this class of VM costs ~0.3 ms a process and would swamp the time the
/// init spends reaping. For the init the orphans are ordinary child processes.
fn child_storm(args: &[String]) -> io::Result<()> {
    const STACK: usize = 16 * 1024;
    let [n, out] = args else {
        return Err(io::Error::other("usage: child-storm N OUT"));
    };
    let n: usize = n.parse().map_err(io::Error::other)?;
    let [rel_r, rel_w] = pipe()?;
    let mut pids: Vec<i32> = vec![0; n];
    let mut mid_stack = vec![0u8; 64 * 1024];
    // SAFETY: an anonymous private mapping; checked below.
    let stacks = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            n * STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if stacks == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let mut storm = Storm {
        rel_r,
        rel_w,
        out: std::ptr::null_mut(),
        stack: std::ptr::null_mut(),
    };
    let t_start = now_ns();
    for (i, slot) in pids.iter_mut().enumerate() {
        storm.out = slot;
        // SAFETY: the orphan stacks lie inside the mapping; the top of slot i is its end.
        storm.stack = unsafe { stacks.cast::<u8>().add((i + 1) * STACK) }.cast();
        // SAFETY: `mid_stack` outlives the intermediate (CLONE_VFORK suspends us until it
        // exits); stacks grow down, so the top of the buffer is passed, 16-byte aligned.
        let mid = unsafe {
            let top = mid_stack.as_mut_ptr().add(mid_stack.len() - 64);
            let top = top.sub(top as usize % 16);
            libc::clone(
                intermediate,
                top.cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (&raw mut storm).cast(),
            )
        };
        if mid < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut st = 0;
        // SAFETY: `st` is valid for writing.
        unsafe { libc::waitpid(mid, &mut st, 0) };
        if *slot <= 0 {
            return Err(io::Error::other(
                "an intermediate could not clone its orphan",
            ));
        }
    }
    let t_release = now_ns();
    // SAFETY: closing our last copy of the write end gives every orphan end-of-file at once.
    unsafe { libc::close(rel_w) };
    let gone = |p: i32| kill(p, 0).is_err_and(|e| e.raw_os_error() == Some(libc::ESRCH));
    let sample = n.min(128);
    let stride = (n / sample.max(1)).max(1);
    let (mut next, mut peak, mut samples, mut seed) = (0usize, 0usize, 0u64, t_release);
    let mut t_drained = 0;
    while now_ns() - t_release < 120_000_000_000 {
        while next < n && gone(pids[next]) {
            next += 1;
        }
        if next == n {
            t_drained = now_ns();
            break;
        }
        // Zombies among all N, estimated from an evenly spread sample with a random offset.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let off = usize::try_from(seed % n as u64).unwrap_or(0);
        let z = (0..sample)
            .filter(|s| is_zombie(pids[(off + s * stride) % n]))
            .count();
        peak = peak.max(z * n / sample);
        samples += 1;
        sleep(Duration::from_micros(200));
    }
    fs::write(
        out,
        format!("{t_start} {t_release} {t_drained} {peak} {samples}\n"),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!(
            "usage: initbench startup|idle|signals|shutdown|reap OPTIONS | child-sig | child-storm"
        );
        return ExitCode::from(2);
    };
    let result = match cmd.as_str() {
        "child-sig" => child_sig(rest),
        "child-storm" => child_storm(rest),
        _ => {
            let o = match parse_opts(rest) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("initbench: {e}");
                    return ExitCode::from(2);
                }
            };
            match cmd.as_str() {
                "startup" => startup(&o),
                "idle" => idle(&o),
                "signals" => signals(&o),
                "shutdown" => shutdown(&o),
                "reap" => reap(&o),
                _ => Err(io::Error::other(format!("unknown subcommand {cmd}"))),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("initbench {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
