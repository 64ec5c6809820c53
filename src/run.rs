//! One run of rein, step by step: validate, block signals, register as subreaper, arm the
//! parent-death signal, start the main child, let go of inherited state, supervise, report.
//!
//! Every step before the spawn may fail with a message and exit code 125 (or 126/127 for the
//! program itself); after the spawn nothing may fail, see `supervise.rs`.

use std::time::Instant;

use nix::libc;
use nix::unistd::{Pid, getpid, getppid};

use crate::adopt::Adoption;
use crate::cli::Config;
use crate::environ::{CArray, ChildEnv, names_listen_pid};
use crate::events::SignalSource;
use crate::exit_code::{self, REIN_FAILED, Reason};
use crate::job_control::JobControl;
use crate::spawn::{self, Plan, SignalState, SpawnError};
use crate::status_file::StatusFile;
use crate::summary::Summary;
use crate::supervise::Supervisor;
use crate::terminal::Probe;
use crate::{account, detach, log as rlog, signals, sys};

/// Runs `cfg`: `argv` is PROGRAM and ARGS in place, `env` the main child's environment
/// (exact `KEY=VALUE` entries). Returns rein's exit code.
pub fn run(cfg: &Config, argv: CArray<'_>, env: ChildEnv<'_>) -> u8 {
    let start = Instant::now();
    // Taken first, so that a parent dying at any point of the set-up below is noticed when
    // --pdeathsig is armed, not only one dying between two adjacent calls there.
    let parent = getppid();
    let resolved = match &cfg.user {
        Some((u, g)) => match account::resolve(u, g.as_deref()) {
            Ok(r) => Some(r),
            Err(e) => return fail(&e),
        },
        None => None,
    };
    // Opened before the child exists, which may own the directory (see status_file.rs); a
    // relative path is relative to where rein was started, since rein changes to / later.
    let status_file = match cfg.status_file.as_deref().map(StatusFile::open).transpose() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    // Before anything of the container runs: see proc.rs.
    crate::proc::pin();
    let signal_state = match block_signals() {
        Ok(s) => s,
        Err(e) => return fail(&format!("failed to block signals: {e}")),
    };
    register_subreaper();
    let pending = arm_pdeathsig(cfg.pdeathsig, parent);
    // Issue 12: --adopt remembers what is at --pid-file before the child can write it.
    let adoption = match Adoption::prepare(cfg) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let mut job = JobControl::off();

    let main = if cfg.pause {
        None
    } else {
        let mut env = env;
        if let Some(r) = &resolved {
            account::set_account_env(env.edit(), r.account.as_ref());
        }
        let me = u32::try_from(getpid().as_raw()).unwrap_or(0);
        let fix_listen_pid = env
            .starting_with(b"LISTEN_PID=")
            .any(|e| names_listen_pid(e, me));
        // Issue 12: with a controlling terminal, the child's Ctrl-Z reaches rein's shell.
        let probe = Probe::now();
        job = JobControl::new(!matches!(probe, Probe::None));
        let terminal = match probe {
            Probe::Foreground(t) => Some(t),
            _ => None,
        };
        let plan = Plan {
            argv,
            env,
            fix_listen_pid,
            signals: signal_state,
            terminal: terminal.as_ref(),
            credentials: resolved.map(|r| r.credentials),
        };
        match spawn::spawn_main_child(plan) {
            Ok(pid) => Some(pid),
            Err(e) => return exec_failed(cfg, e, start, status_file.as_ref()),
        }
    };
    if let Some(pid) = main {
        log::info!("main child started: pid {pid}");
    }
    detach::detach(status_file.as_ref().map(StatusFile::fd));
    // After the spawn: the slack is inherited across fork and exec, and is not the main child's.
    coarsen_timers();
    let source = match SignalSource::open(signals::caught_mask()) {
        Ok(s) => s,
        Err(e) => {
            // Without a signalfd rein cannot wait; it must still not abandon a running child.
            log::error!("failed to open a signalfd: {e}");
            return fail_with_child(main);
        }
    };
    let summary = Supervisor::new(cfg, main, start)
        .with_issue12(adoption, job)
        .run(&source, pending);
    // rein exits next, and the kernel closes the signalfd with everything else: a `close` here
    // would only delay the exit, which for PID 1 is the moment the container ends.
    std::mem::forget(source);
    finish(status_file.as_ref(), &summary);
    summary.exit_code
}

/// Blocks every signal rein catches and takes SIGCHLD back to its default; returns the mask
/// and SIGCHLD disposition rein was started with, which the main child gets back.
fn block_signals() -> std::io::Result<SignalState> {
    let mask = sys::sigprocmask(libc::SIG_BLOCK, Some(signals::caught_mask()))?;
    let sigchld_ignored = sys::take_sigchld_default()?;
    Ok(SignalState {
        mask,
        sigchld_ignored,
    })
}

/// `PR_SET_CHILD_SUBREAPER`, always: as PID 1 it changes nothing, elsewhere it makes orphans
/// of the main child's tree come to rein instead of the host's init.
fn register_subreaper() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        log::warn!(
            "failed to register as child subreaper ({e}); orphans will be re-parented past rein and not reaped by it"
        );
    }
}

/// How late the kernel may wake rein from a timed wait: one timer tick at 250 Hz.
///
/// rein's deadlines are coarse by design (a grace of seconds, a 20 ms re-scan, the group scan
/// owed 1 ms after a stopping signal, see `target.rs`), and a timer that may fire this much
/// later expires after the next tick, so the kernel needs not reprogram the CPU's timer to arm
/// it, nor again to cancel it when a signal comes first. Each reprogramming is a VM exit on a
/// virtual machine: traced on the benchmark's, the `poll` rein waits in after forwarding SIGTERM
/// took 18 µs before the task slept and 18 µs after it woke, with the default 50 µs slack.
const TIMER_SLACK_NS: libc::c_ulong = 4_000_000;

fn coarsen_timers() {
    if let Err(e) = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS) {
        log::debug!("failed to set the timer slack: {e}");
    }
}

/// Arms `--pdeathsig`. The parent may already have died before the prctl (tini and bwrap
/// leave that window open): compare `parent`, read when rein started, with the parent after,
/// and if it changed, act on the signal at once. Returns the signal to handle immediately.
fn arm_pdeathsig(sig: Option<i32>, parent: Pid) -> Option<i32> {
    let sig = sig?;
    if let Err(e) = sys::set_pdeathsig(sig) {
        log::warn!("failed to set the parent-death signal: {e}");
        return None;
    }
    // A parent outside rein's PID namespace reads as 0 before and after; then only the kernel's
    // signal tells.
    (getppid() != parent && parent != Pid::from_raw(0)).then(|| {
        log::info!("parent already gone; acting on {} now", signals::name(sig));
        sig
    })
}

fn fail(message: &str) -> u8 {
    rlog::say(message);
    REIN_FAILED
}

fn exec_failed(
    cfg: &Config,
    e: SpawnError,
    start: Instant,
    status_file: Option<&StatusFile>,
) -> u8 {
    let program = cfg
        .command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (code, message) = match e {
        SpawnError::NotFound(err) => (
            exit_code::NOT_FOUND,
            format!("cannot run '{program}': {}", os_message(&err)),
        ),
        SpawnError::CannotExecute(err) => (
            exit_code::CANNOT_EXECUTE,
            format!("cannot run '{program}': {}", os_message(&err)),
        ),
        SpawnError::Setup(step, err) => (
            REIN_FAILED,
            format!(
                "cannot run '{program}': failed to {step}: {}",
                os_message(&err)
            ),
        ),
    };
    rlog::say(&message);
    let summary = Summary {
        exit_code: code,
        child: None,
        reason: Reason::ExecFailed,
        runtime: start.elapsed(),
        orphans_reaped: 0,
        leftovers_terminated: 0,
        leftovers_killed: 0,
        adopted: false,
        followed_pid: None,
    };
    finish(status_file, &summary);
    code
}

/// The OS's text without Rust's " (os error N)" suffix, as coreutils prints it.
fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Last resort when rein cannot wait for signals: block in waitpid for the main child so its
/// status is not lost, reaping anything else on the way.
fn fail_with_child(main: Option<Pid>) -> u8 {
    use nix::sys::wait::{WaitStatus, waitpid};
    let Some(main) = main else { return REIN_FAILED };
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(st) if st.pid() == Some(main) => {
                return exit_code::ChildEnd::from_wait(st)
                    .map_or(REIN_FAILED, exit_code::ChildEnd::exit_code);
            }
            Ok(WaitStatus::StillAlive) | Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return REIN_FAILED,
        }
    }
}

fn finish(status_file: Option<&StatusFile>, summary: &Summary) {
    log::info!("{}", summary.line());
    if let Some(f) = status_file
        && let Err(e) = f.write(&summary.json())
    {
        log::error!("{e}");
    }
}
