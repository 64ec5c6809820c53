//! Stress and faults: rein as PID 1 under load (100,000 orphans, a storm of 10,000 signals)
//! and with parts of its world broken (no fork, no stderr, no /proc, a child that leaves its
//! process group, session or terminal). Each test is bounded by deadlines; together they take
//! well under a minute.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use crate::harness::{
    self, DEADLINE, Mode, Run, TempDir, deliverable, descendants, kill, namespaces_available,
    ns_command, ns_command_without_proc, probe, rein, skip_under_emulation, wait_until,
};

fn s<T: AsRef<std::ffi::OsStr>>(v: T) -> OsString {
    v.as_ref().to_os_string()
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: i32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

/// Waits until nothing below `rein` (host pid) is a zombie.
fn wait_no_zombies(rein: i32, limit: Duration) {
    wait_until("no zombie is left below rein", limit, || {
        !descendants(rein).iter().any(|p| p.state == 'Z')
    });
}

/// Waits until `file` has a line equal to each of `lines`.
fn wait_lines(file: &std::path::Path, lines: &[&str]) {
    wait_until(
        &format!("{} has {lines:?}", file.display()),
        DEADLINE,
        || {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            lines.iter().all(|l| text.lines().any(|t| t == *l))
        },
    );
}

/// Runs `cmd` with stdin from `/dev/null` and waits for it with a deadline.
fn status_within(mut cmd: Command, limit: Duration) -> ExitStatus {
    let desc = format!("{cmd:?}");
    let mut child = cmd.stdin(Stdio::null()).spawn().unwrap();
    let pid = child.id() as i32;
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| {
        kill(pid, 9);
        panic!("{desc} did not exit within {limit:?}")
    })
}

#[test]
fn a_hundred_thousand_orphans_leave_no_zombie_and_no_memory_growth() {
    if !namespaces_available("a_hundred_thousand_orphans_leave_no_zombie_and_no_memory_growth") {
        return;
    }
    let mut run = Run::start(
        Mode::Pid1,
        &[s("--"), s(probe()), s("orphan-bursts"), s("4")],
    );
    let rein = run.rein_pid(Mode::Pid1);
    // In bursts of 2,000, each reaped before the next: an orphan holds a pid until rein has
    // reaped it, and pids are shared with the whole machine (`pid_max` is 32,768 by default).
    // One burst of 90,000 would, on a loaded machine where rein falls behind, run the host out
    // of pids (forks fail here and in every other program), and would have to be made and
    // reaped within one deadline.
    const BURST: u32 = 2_000;
    let mut bursts = |count: u32| {
        for _ in 0..count {
            run.write_stdin(format!("{BURST}\n").as_bytes());
            let line = run.expect_line("done", |l| l.starts_with("done "));
            assert_eq!(line, format!("done {BURST} made {BURST} failed 0"));
            wait_no_zombies(rein, DEADLINE);
        }
        (status_kib(rein, "VmRSS"), status_kib(rein, "VmHWM"))
    };
    let t = Instant::now();
    let (rss_10k, hwm_10k) = bursts(10_000 / BURST);
    let (rss_100k, hwm_100k) = bursts(90_000 / BURST);
    eprintln!(
        "100k orphans in {:?}: rein VmRSS {rss_10k} -> {rss_100k} KiB, VmHWM {hwm_10k} -> {hwm_100k} KiB",
        t.elapsed()
    );
    // Bounded by a small constant, not proportional to the 90,000 further orphans.
    assert!(
        rss_100k <= rss_10k + 256,
        "VmRSS grew {rss_10k} -> {rss_100k} KiB"
    );
    assert!(
        hwm_100k <= hwm_10k + 256,
        "VmHWM grew {hwm_10k} -> {hwm_100k} KiB"
    );
    let out = run.finish();
    assert_eq!(out.code, Some(0), "{out:?}");
}

/// Until the returned sender is dropped, prints every 10 s what rein is doing (so a storm that
/// does not drain before the deadline leaves its evidence in the test's output): its zombie
/// children, CPU time and voluntary context switches (which stop growing while rein never
/// gets back to `poll`).
fn report_while_draining(rein: i32) -> std::sync::mpsc::Sender<()> {
    let (tx, rx) = channel::<()>();
    let t = Instant::now();
    std::thread::spawn(move || {
        while rx.recv_timeout(Duration::from_secs(10))
            == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        {
            let kids = harness::children(rein);
            let zombies = kids
                .iter()
                .filter(|&&p| harness::state(p) == Some('Z'))
                .count();
            let ticks = |n| harness::stat_field(rein, n).unwrap_or_default();
            eprintln!(
                "storm still draining after {:?}: rein has {} children ({zombies} zombies), \
                 utime {} stime {} ticks, {} voluntary context switches",
                t.elapsed(),
                kids.len(),
                ticks(14),
                ticks(15),
                harness::status_field(rein, "voluntary_ctxt_switches").unwrap_or_default(),
            );
        }
    });
    tx
}

#[test]
fn a_storm_of_mixed_signals_keeps_reaching_a_forking_child() {
    if !namespaces_available("a_storm_of_mixed_signals_keeps_reaching_a_forking_child") {
        return;
    }
    // HUP USR1 USR2 ALRM URG WINCH and real-time ones, the last of which is SIGRTMAX.
    let kinds = deliverable(
        "a_storm_of_mixed_signals_keeps_reaching_a_forking_child",
        &[1, 10, 12, 14, 23, 28, 34, 35, 40, 50, 64],
    );
    // SIGTTIN, sent alone once the storm has drained, marks the end of it.
    const MARKER: i32 = 21;
    let list = kinds
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(",")
        + ",21";
    let mut run = Run::start(
        Mode::Pid1,
        &[s("--"), s(probe()), s("storm"), s("42"), s(list)],
    );
    let rein = run.rein_pid(Mode::Pid1);
    run.expect_line("ready", |l| l.starts_with("ready storm"));
    let t = Instant::now();
    let mut sent = 0;
    let mut refused = 0;
    for i in 0..10_000 {
        if kill(rein, kinds[i % kinds.len()]) {
            sent += 1;
        } else {
            refused += 1;
        }
    }
    let send_time = t.elapsed();
    let draining = report_while_draining(rein);
    for &k in &kinds {
        run.expect_line(&format!("got {k}"), |l| l == format!("got {k}"));
    }
    assert!(kill(rein, 0), "rein is gone after the storm");
    // rein forwards in order: once no signal of the storm is pending in rein and the marker
    // has reached the child, every signal of the storm has been forwarded. Only the storm's
    // own signals count: the child's orphans keep raising SIGCHLD in rein, so on a busy
    // machine rein's pending set is seldom empty.
    let storm_mask = kinds.iter().fold(0u64, |m, &k| m | harness::sigbit(k));
    wait_until("rein has no signal of the storm pending", DEADLINE, || {
        ["ShdPnd", "SigPnd"]
            .iter()
            .all(|k| harness::status_mask(rein, k).is_some_and(|m| m & storm_mask == 0))
    });
    assert!(kill(rein, MARKER));
    run.expect_line("got 21", |l| l == "got 21");
    drop(draining);
    let out = run.finish();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let count = |k: i32| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("count {k} ")))
            .map_or(0, |n| n.parse().unwrap())
    };
    let received: u64 = kinds.iter().map(|&k| count(k)).sum();
    let forked = stdout
        .lines()
        .find_map(|l| l.strip_prefix("forked "))
        .unwrap_or("?");
    eprintln!(
        "storm: sent {sent} (refused {refused}) in {send_time:?}; child received {received}: {:?}; it forked {forked} orphans meanwhile",
        kinds.iter().map(|&k| (k, count(k))).collect::<Vec<_>>()
    );
    assert_eq!(refused, 0, "kill to rein failed");
    let n = kinds.len() as u64;
    for (i, &k) in kinds.iter().enumerate() {
        assert!(count(k) > 0, "signal {k} never reached the child: {stdout}");
        // Real-time signals queue instead of coalescing: each one is forwarded.
        if k >= 34 {
            assert_eq!(
                count(k),
                10_000 / n + u64::from((i as u64) < 10_000 % n),
                "signal {k}: {stdout}"
            );
        }
    }
    assert_eq!(out.code, Some(42), "{out:?}");
}

/// A pids cgroup (v1 `pids` hierarchy or cgroup v2 with the controller) with a limit, removed
/// when dropped.
struct PidsCgroup(std::path::PathBuf);

impl PidsCgroup {
    fn new(tag: &str, max: u32) -> Option<PidsCgroup> {
        let name = format!("rein-test-{}-{tag}", std::process::id());
        for root in ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"] {
            let dir = std::path::Path::new(root).join(&name);
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            if std::fs::write(dir.join("pids.max"), max.to_string()).is_ok() {
                return Some(PidsCgroup(dir));
            }
            let _ = std::fs::remove_dir(&dir);
        }
        None
    }

    fn procs(&self) -> std::path::PathBuf {
        self.0.join("cgroup.procs")
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // A cgroup can be removed once its last process is gone, which may take a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir(&self.0).is_err() && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }
}

/// `sh` joins the cgroup, then execs the namespace prefix and rein with `args`.
fn in_cgroup(cg: &PidsCgroup, args: &[OsString]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("echo $$ > \"$0\" && exec \"$@\"")
        .arg(cg.procs())
        .args(harness::ns_words())
        .arg(rein())
        .args(args);
    c
}

fn pids_cgroup_or_skip(test: &str, tag: &str, max: u32) -> Option<PidsCgroup> {
    let cg = PidsCgroup::new(tag, max);
    if cg.is_none() {
        eprintln!(
            "SKIPPED (no writable pids cgroup): {test}: need /sys/fs/cgroup/pids or cgroup v2 with pids"
        );
    }
    cg
}

#[test]
fn when_forks_fail_below_it_rein_keeps_reaping_and_exits_with_the_status() {
    let test = "when_forks_fail_below_it_rein_keeps_reaping_and_exits_with_the_status";
    if !namespaces_available(test) {
        return;
    }
    // unshare, rein, the probe, its worker and a few of the worker's children.
    let Some(cg) = pids_cgroup_or_skip(test, "forkfail", 12) else {
        return;
    };
    let mut run = Run::spawn(in_cgroup(
        &cg,
        &[s("-v"), s("--"), s(probe()), s("orphan-bursts"), s("1")],
    ));
    let rein = run.rein_pid(Mode::Pid1);
    for _ in 0..3 {
        run.write_stdin(b"2000\n");
        let line = run.expect_line("done", |l| l.starts_with("done "));
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        eprintln!("under pids.max=12: {line}");
        assert!(f[1] > 0 && f[2] > 0, "expected some forks to fail: {line}");
        wait_no_zombies(rein, DEADLINE);
    }
    let out = run.finish();
    assert_eq!(out.code, Some(0), "{out:?}");
    drop(cg);
}

#[test]
fn when_rein_cannot_fork_the_child_it_exits_125_with_one_line() {
    let test = "when_rein_cannot_fork_the_child_it_exits_125_with_one_line";
    if !namespaces_available(test) {
        return;
    }
    if skip_under_emulation(
        test,
        "qemu-user starts a thread of its own in rein, which a pids limit of 2 already refuses",
    ) {
        return;
    }
    // Room for unshare and rein only.
    let Some(cg) = pids_cgroup_or_skip(test, "nofork", 2) else {
        return;
    };
    let run = Run::spawn(in_cgroup(&cg, &[s("--"), s("true")]));
    let out = run.finish();
    assert_eq!(out.code, Some(125), "{out:?}");
    assert_eq!(
        out.stderr,
        "rein: cannot run 'true': failed to fork: Resource temporarily unavailable\n"
    );
}

#[test]
fn a_closed_or_broken_stderr_changes_nothing() {
    if !namespaces_available("a_closed_or_broken_stderr_changes_nothing") {
        return;
    }
    for v in ["-v", "-vv"] {
        // stderr closed before rein starts (`2>&-`).
        let mut cmd = ns_command(&[
            s("sh"),
            s("-c"),
            s("exec 2>&-; exec \"$@\""),
            s("sh"),
            s(rein()),
            s(v),
            s("--"),
            s("sh"),
            s("-c"),
            s("exit 7"),
        ]);
        cmd.stdout(Stdio::null());
        assert_eq!(
            status_within(cmd, DEADLINE).code(),
            Some(7),
            "{v}, stderr closed"
        );
        // stderr a pipe whose reader has exited: every log write fails with EPIPE.
        let (r, w) = nix::unistd::pipe().unwrap();
        drop(r);
        let mut cmd = harness::command(Mode::Pid1, &[v, "--", "sh", "-c", "exit 7"]);
        cmd.stdout(Stdio::null()).stderr(Stdio::from(w));
        assert_eq!(
            status_within(cmd, DEADLINE).code(),
            Some(7),
            "{v}, broken pipe"
        );
    }
}

#[test]
fn reins_own_sigpipe_is_not_forwarded_to_the_child() {
    if !namespaces_available("reins_own_sigpipe_is_not_forwarded_to_the_child") {
        return;
    }
    let dir = TempDir::new("sigpipe");
    let file = dir.join("signals");
    let (r, w) = nix::unistd::pipe().unwrap();
    drop(r);
    let mut cmd = harness::command(
        Mode::Pid1,
        &[s("-vv"), s("--"), s(probe()), s("signals"), s(&file)],
    );
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(w));
    let mut child = cmd.spawn().unwrap();
    let unshare = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..2 {
        let l = lines.next().unwrap().unwrap();
        assert!(l.starts_with("ready "), "{l}");
    }
    let rein = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Each forwarded signal makes rein log at debug level, and each log write raises SIGPIPE
    // in rein. The SIGPIPE is read before the next signal is forwarded, so once WINCH is in
    // the file, any SIGPIPE rein passed on would be there too.
    assert!(kill(rein, 10));
    wait_lines(&file, &["child 10", "grandchild 10"]);
    assert!(kill(rein, 28));
    wait_lines(&file, &["child 28", "grandchild 28"]);
    drop(child.stdin.take());
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    let st = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        kill(unshare as i32, 9);
        panic!("rein did not exit")
    });
    assert_eq!(st.code(), Some(0));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.lines().any(|l| l.ends_with(" 13")),
        "the child got SIGPIPE: {text}"
    );
}

#[test]
fn without_proc_rein_still_reaps_forwards_and_warns_once() {
    if !namespaces_available("without_proc_rein_still_reaps_forwards_and_warns_once") {
        return;
    }
    let dir = TempDir::new("noproc");
    let file = dir.join("signals");
    // 200 orphans from subshells, a leftover `sleep` in the main child's group, then the probe.
    let script = format!(
        "sleep 100 & i=0; while [ $i -lt 200 ]; do (true &); i=$((i+1)); done; exec '{}' signals '{}'",
        probe().display(),
        file.display()
    );
    let mut run = Run::spawn(ns_command_without_proc(&[
        s(rein()),
        s("-v"),
        s("--grace"),
        s("1h"),
        s("--"),
        s("sh"),
        s("-c"),
        s(script),
    ]));
    let rein = run.rein_pid(Mode::Pid1);
    for _ in 0..2 {
        run.expect_line("ready", |l| l.starts_with("ready "));
    }
    wait_no_zombies(rein, DEADLINE);
    assert!(kill(rein, 12));
    wait_lines(&file, &["child 12", "grandchild 12"]);
    let t = Instant::now();
    let out = run.finish();
    let stopped = t.elapsed();
    assert_eq!(out.code, Some(0), "{out:?}");
    let warnings = out.stderr.matches("/proc is not mounted").count();
    eprintln!("without /proc: {warnings} warning(s), leftover stopped in {stopped:?}");
    assert!(warnings <= 1, "{out:?}");
    // The leftover `sleep` went with SIGTERM (kill(-1)): rein ended within the deadline,
    // not after the hour of grace.
}

fn regroup(how: &str) {
    let dir = TempDir::new(how);
    let file = dir.join("signals");
    let mut run = Run::start(
        Mode::Pid1,
        &[
            s("-vv"),
            s("--"),
            s(probe()),
            s("regroup"),
            s(how),
            s(&file),
            s("5"),
        ],
    );
    let rein = run.rein_pid(Mode::Pid1);
    let ids = |l: &str| -> Vec<i32> {
        l.split_whitespace()
            .skip(2)
            .map(|w| w.parse().unwrap())
            .collect()
    };
    let helper = ids(&run.expect_line("ready helper", |l| l.starts_with("ready helper")));
    let main = ids(&run.expect_line("ready main", |l| l.starts_with("ready main")));
    match how {
        // The main child's own group (its pid) is empty now.
        "setpgid" => assert_eq!(main[1], helper[0], "main {main:?} helper {helper:?}"),
        _ => assert_eq!(helper[2], helper[0], "helper {helper:?} leads a session"),
    }
    assert!(kill(rein, 10));
    wait_lines(&file, &["main 10"]);
    assert!(kill(rein, 28));
    wait_lines(&file, &["main 28"]);
    let out = run.finish();
    assert_eq!(out.code, Some(5), "{out:?}");
    assert!(
        !out.stderr.contains("failed to forward"),
        "{how}: {}",
        out.stderr
    );
}

#[test]
fn a_child_that_leaves_its_process_group_still_gets_signals() {
    if !namespaces_available("a_child_that_leaves_its_process_group_still_gets_signals") {
        return;
    }
    regroup("setpgid");
}

#[test]
fn a_child_whose_helper_calls_setsid_still_gets_signals() {
    if !namespaces_available("a_child_whose_helper_calls_setsid_still_gets_signals") {
        return;
    }
    regroup("setsid");
}

#[test]
fn a_child_that_closes_and_reopens_its_terminal_still_gets_signals() {
    if !namespaces_available("a_child_that_closes_and_reopens_its_terminal_still_gets_signals") {
        return;
    }
    let dir = TempDir::new("tty");
    let file = dir.join("signals");
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = pty.slave;
    let mut cmd = harness::command(
        Mode::Pid1,
        &[s("--"), s(probe()), s("tty"), s(&file), s("9")],
    );
    harness::on_controlling_tty(&mut cmd, &slave);
    drop(slave);
    let mut child = cmd.spawn().unwrap();
    // The parent's copies of the slave were moved into `cmd`; drop them so EOF can come.
    drop(cmd);
    let unshare = child.id() as i32;
    let (tx, lines) = channel();
    let mut master = std::fs::File::from(pty.master);
    let reader = master.try_clone().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(reader).lines() {
            let Ok(l) = l else { break };
            let _ = tx.send(l.trim_end().to_string());
        }
    });
    let ready = loop {
        let l = lines
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("no ready line from the tty probe"));
        if l.starts_with("ready tty") {
            break l;
        }
    };
    let rein = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(kill(rein, 10));
    wait_lines(&file, &["tty 10"]);
    if ready.ends_with("foreground=yes") {
        // ^C on the terminal goes to its foreground group: the child, not rein.
        master.write_all(&[3]).unwrap();
        wait_lines(&file, &["tty 2"]);
    }
    assert!(kill(rein, 12));
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    let st = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        kill(unshare, 9);
        panic!("rein did not exit")
    });
    eprintln!("tty: {ready}");
    assert_eq!(st.code(), Some(9));
}
