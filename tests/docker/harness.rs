//! What every docker test needs: the engine probe (skip loudly, or fail under
//! `REIN_REQUIRE_DOCKER=1`), the one test image per run, `docker` commands with a deadline,
//! containers that remove themselves, and polling for an event with a deadline.
//!
//! Everything this harness creates is named `rein-test-<pid>-...` and labelled
//! `rein-test.pid=<pid>`; it never touches anything else. If a run is killed before it cleans
//! up, `docker ps -a --filter label=rein-test.pid` lists what was left.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{fs, thread};

/// How long any one `docker` command may take before the test fails.
const COMMAND_DEADLINE: Duration = Duration::from_secs(90);
/// How long a test waits for an event (a log line, a state) before it fails.
pub const EVENT_DEADLINE: Duration = Duration::from_secs(30);

/// The test image, built once per test run.
#[derive(Debug)]
pub struct Fixture {
    /// Its tag, `rein-test-<pid>-<time>-image:latest`.
    pub image: String,
}

/// Returns the fixture, or `None` after printing `SKIPPED (no docker engine): <test>: ...` when
/// no engine answers. Panics instead when `REIN_REQUIRE_DOCKER=1`, and when the image cannot
/// be built (a broken build is a failure, not a reason to skip).
pub fn fixture(test: &str) -> Option<&'static Fixture> {
    static ENGINE: OnceLock<Result<String, String>> = OnceLock::new();
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    match ENGINE.get_or_init(probe_engine) {
        Ok(_) => {}
        Err(why) if std::env::var_os("REIN_REQUIRE_DOCKER").is_some_and(|v| v == "1") => {
            panic!("REIN_REQUIRE_DOCKER=1 but no docker engine answers: {why}")
        }
        Err(why) => {
            say(&format!("SKIPPED (no docker engine): {test}: {why}"));
            return None;
        }
    }
    match FIXTURE.get_or_init(build_fixture) {
        Ok(f) => Some(f),
        Err(e) => panic!("cannot build the test image: {e}"),
    }
}

fn probe_engine() -> Result<String, String> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the docker client: {e}"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() && !version.is_empty() {
        Ok(version)
    } else {
        Err(format!(
            "`docker version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Writes one line to stderr past libtest's output capture (which takes only the `eprint!`
/// family), so skips and measurements show in a plain `cargo test` run.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A prefix unique to this test process: `rein-test-<pid>`.
pub fn prefix() -> String {
    format!("rein-test-{}", std::process::id())
}

fn build_fixture() -> Result<Fixture, String> {
    let rein = static_rein_path()?;
    let busybox = static_busybox()?;
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let image = format!("{}-{stamp}-image:latest", prefix());
    let context = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-context", prefix()));
    let _ = fs::remove_dir_all(&context);
    fs::create_dir_all(&context).map_err(|e| format!("{}: {e}", context.display()))?;
    let copy = |from: &Path, to: &str| {
        fs::copy(from, context.join(to)).map_err(|e| format!("copy {}: {e}", from.display()))
    };
    copy(rein, "rein")?;
    copy(&busybox, "busybox")?;
    // Nothing can be pulled, so the image starts from scratch: rein, a static busybox for the
    // shell and tools the test programs use, and a /tmp for their marker files.
    let dockerfile = "FROM scratch\n\
                      COPY rein /rein\n\
                      COPY busybox /bin/busybox\n\
                      RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
                      RUN [\"/bin/mkdir\", \"-m\", \"1777\", \"/tmp\"]\n";
    fs::write(context.join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
    remove_image_at_exit(&image);
    let label = format!("rein-test.pid={}", std::process::id());
    let ctx = context.to_string_lossy();
    let built = docker(&["build", "--force-rm", "--label", &label, "-t", &image, &ctx]);
    let _ = fs::remove_dir_all(&context);
    if built.code != Some(0) {
        return Err(built.dump());
    }
    say(&format!(
        "docker tests: built {image} from {}",
        rein.display()
    ));
    Ok(Fixture { image })
}

/// The static rein binary the test image holds (built once per test run), for tests that put
/// rein into an image or an engine of their own.
pub fn static_rein_path() -> Result<&'static Path, String> {
    static REIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    REIN.get_or_init(static_rein)
        .as_deref()
        .map_err(Clone::clone)
}

/// The static rein binary: `REIN_STATIC_BIN`, or what `scripts/build-static.sh` builds.
fn static_rein() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(bin) = std::env::var_os("REIN_STATIC_BIN") {
        return Ok(root.join(bin));
    }
    let out = Command::new(root.join("scripts/build-static.sh"))
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run scripts/build-static.sh: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
    {
        Some(path) if out.status.success() => Ok(root.join(path)),
        _ => Err(format!(
            "scripts/build-static.sh failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// `/bin/busybox` from Debian's busybox-static, installed with apt-get if missing (CI starts
/// from a fresh machine). A dynamically linked busybox would not run in a scratch image.
pub fn static_busybox() -> Result<PathBuf, String> {
    let path = PathBuf::from("/bin/busybox");
    if !is_static_elf(&path) {
        say("docker tests: no static /bin/busybox; installing busybox-static");
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "busybox-static"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !install() {
            let _ = Command::new("apt-get").arg("update").output();
            if !install() {
                return Err("`apt-get install -y busybox-static` failed".to_owned());
            }
        }
    }
    if is_static_elf(&path) {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing or not statically linked",
            path.display()
        ))
    }
}

/// `true` if `path` is a 64-bit ELF file without a `PT_INTERP` program header (no dynamic
/// loader). Reads the header fields by offset; see elf(5).
fn is_static_elf(path: &Path) -> bool {
    let Ok(bytes) = fs::read(path) else {
        return false;
    };
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    if bytes.get(..5) != Some(b"\x7fELF\x02") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    let Ok(phoff) = usize::try_from(phoff) else {
        return false;
    };
    const PT_INTERP: u16 = 3;
    (0..usize::from(phnum)).all(|i| u16_at(phoff + i * usize::from(phentsize)) != Some(PT_INTERP))
}

/// Removes `image` when the test process exits, whether tests passed or failed. An image may
/// be shared by many tests, so no single test's guard can own it; libtest ends the process with
/// `exit()` in both cases, which runs `atexit` handlers.
#[allow(unsafe_code)]
pub fn remove_image_at_exit(image: &str) {
    static IMAGES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    extern "C" fn remove() {
        let images = IMAGES.lock().map(|v| v.clone()).unwrap_or_default();
        for image in images {
            let _ = Command::new("docker")
                .args(["rmi", "-f", &image])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    let Ok(mut images) = IMAGES.lock() else {
        return;
    };
    if images.is_empty() {
        // SAFETY: `remove` is a plain `extern "C" fn()` that lives for the whole program, which
        // is all atexit(3) requires; it only reads a static list and runs commands.
        let _ = unsafe { nix::libc::atexit(remove) };
    }
    images.push(image.to_owned());
}

/// The outcome of one `docker` command.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// Its exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// How long it took.
    pub elapsed: Duration,
}

impl Run {
    /// A framed dump for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "\n---- command: {}\n---- exit code: {:?} after {:?}\n---- stdout:\n{}\n---- stderr:\n{}\n----",
            self.command, self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// Panics with a dump unless the command exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "docker command failed:{}", self.dump());
        self
    }
}

/// Runs `docker ARGS...` to completion (or fails the test after [`COMMAND_DEADLINE`]).
#[track_caller]
pub fn docker(args: &[&str]) -> Run {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    run_command(cmd)
}

/// Runs any prepared command (another engine's client, `docker-compose`) the way [`docker`]
/// runs the docker client: stdin closed, output collected, failing the test after
/// [`COMMAND_DEADLINE`].
#[track_caller]
pub fn run_command(mut cmd: Command) -> Run {
    let command = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{command}`: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(COMMAND_DEADLINE) {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("`{command}` failed to complete: {e}"),
        Err(_) => {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            panic!("`{command}` still running after {COMMAND_DEADLINE:?}; killed it")
        }
    };
    Run {
        command,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// A container name this test process owns; `docker rm -f` runs on drop, so the container is
/// removed also when the test fails.
#[derive(Debug)]
pub struct Container {
    pub name: String,
}

impl Container {
    /// Reserves a unique name `rein-test-<pid>-<what>-<n>`; nothing is created yet.
    pub fn named(what: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Container {
            name: format!("{}-{what}-{n}", prefix()),
        }
    }

    /// `docker run --name NAME --label ... OPTIONS IMAGE COMMAND...`, returning when the client
    /// does (so pass `-d` to start it in the background).
    #[track_caller]
    pub fn run(&self, fx: &Fixture, options: &[&str], command: &[&str]) -> Run {
        let label = format!("rein-test.pid={}", std::process::id());
        let mut args = vec!["run", "--name", &self.name, "--label", &label];
        args.extend_from_slice(options);
        args.push(&fx.image);
        args.extend_from_slice(command);
        docker(&args)
    }

    /// Starts it in the background (`docker run -d`), failing the test if that fails.
    #[track_caller]
    pub fn start(fx: &Fixture, what: &str, options: &[&str], command: &[&str]) -> Self {
        let c = Container::named(what);
        let mut opts = vec!["-d"];
        opts.extend_from_slice(options);
        c.run(fx, &opts, command).ok();
        c
    }

    /// Its output so far, stdout then stderr.
    pub fn logs(&self) -> String {
        let r = docker(&["logs", &self.name]);
        format!("{}{}", r.stdout, r.stderr)
    }

    /// `docker exec NAME COMMAND...`.
    pub fn exec(&self, command: &[&str]) -> Run {
        let mut args = vec!["exec", &self.name];
        args.extend_from_slice(command);
        docker(&args)
    }

    /// `(running, exit code)` from `docker inspect`.
    #[track_caller]
    pub fn state(&self) -> (bool, i32) {
        let r = docker(&[
            "inspect",
            "-f",
            "{{.State.Running}} {{.State.ExitCode}}",
            &self.name,
        ])
        .ok();
        let mut words = r.stdout.split_whitespace();
        let running = words.next() == Some("true");
        let code = words.next().and_then(|c| c.parse().ok()).unwrap_or(-1);
        (running, code)
    }

    /// Waits until its logs contain every one of `lines`; returns the logs.
    #[track_caller]
    pub fn wait_for_logs(&self, lines: &[&str]) -> String {
        poll_until(&format!("{} to log {lines:?}", self.name), || {
            let logs = self.logs();
            if lines.iter().all(|l| logs.contains(l)) {
                Ok(logs)
            } else {
                Err(format!("logs so far:\n{logs}"))
            }
        })
    }

    /// Waits until it is no longer running; returns its exit code.
    #[track_caller]
    pub fn wait_exited(&self) -> i32 {
        poll_until(&format!("{} to exit", self.name), || match self.state() {
            (false, code) => Ok(code),
            (true, _) => Err(format!("still running; logs:\n{}", self.logs())),
        })
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Calls `probe` until it returns `Ok`, at short intervals, for up to [`EVENT_DEADLINE`]; then
/// fails the test with `what` and the last observation `probe` returned as `Err`.
///
/// The state polled here (container logs, files, `/proc` inside a container) offers nothing to
/// block on, so the pause between probes is the only sleep in these tests; it never decides
/// an outcome, only how often the state is looked at.
#[track_caller]
pub fn poll_until<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < EVENT_DEADLINE {
        match probe() {
            Ok(v) => return v,
            Err(seen) => last = seen,
        }
        pause_between_probes();
    }
    panic!("timed out after {EVENT_DEADLINE:?} waiting for {what}; last observation:\n{last}")
}

#[allow(clippy::disallowed_methods)]
fn pause_between_probes() {
    thread::sleep(Duration::from_millis(50));
}

/// One process from `/proc/PID/stat` inside a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub comm: String,
    pub state: char,
}

/// What a container sees: the files in `/tmp` and every process in its PID namespace, from one
/// `docker exec` (so both describe the same moment, give or take the exec itself).
#[derive(Debug)]
pub struct Snapshot {
    pub tmp_files: Vec<String>,
    pub procs: Vec<Proc>,
}

impl Snapshot {
    /// Takes a snapshot through `docker exec` in `container`.
    #[track_caller]
    pub fn take(container: &Container) -> Self {
        // A process may exit between the glob and `cat`; that is not an error here.
        let script = "ls /tmp; echo ---; cat /proc/[0-9]*/stat 2>/dev/null; true";
        let r = container.exec(&["sh", "-c", script]).ok();
        let (files, stats) = r.stdout.split_once("---\n").unwrap_or((&r.stdout, ""));
        Snapshot {
            tmp_files: files.lines().map(str::to_owned).collect(),
            procs: stats.lines().filter_map(parse_stat).collect(),
        }
    }

    /// The processes in state `Z`.
    pub fn zombies(&self) -> Vec<&Proc> {
        self.procs.iter().filter(|p| p.state == 'Z').collect()
    }

    /// How many `/tmp` files end with `suffix`.
    pub fn count_files(&self, suffix: &str) -> usize {
        self.tmp_files
            .iter()
            .filter(|f| f.ends_with(suffix))
            .count()
    }

    /// A readable listing for failure messages.
    pub fn describe(&self) -> String {
        let mut s = format!("/tmp: {:?}\nprocesses:\n", self.tmp_files);
        for p in &self.procs {
            let _ = writeln!(s, "  {:>5} {} {}", p.pid, p.state, p.comm);
        }
        s
    }
}

/// Parses `PID (COMM) STATE ...`; COMM may hold spaces and parentheses, so the state follows
/// the last `)`.
fn parse_stat(line: &str) -> Option<Proc> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    Some(Proc {
        pid: line[..open].trim().parse().ok()?,
        comm: line.get(open + 1..close)?.to_owned(),
        state: line.get(close + 1..)?.trim_start().chars().next()?,
    })
}

#[test]
fn parse_stat_finds_the_state_after_the_last_parenthesis() {
    let p = parse_stat("42 (a) b) Z 1 42 42 0 -1").unwrap();
    assert_eq!((p.pid, p.comm.as_str(), p.state), (42, "a) b", 'Z'));
    assert!(parse_stat("garbage").is_none());
}

/// Whether `REIN_REQUIRE_TOOLS=1` (CI): the engines and programs beyond the docker engine
/// (podman, docker-compose, kubernetes-validate) must run, so a skip becomes a failure.
pub fn tools_required() -> bool {
    std::env::var_os("REIN_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}
