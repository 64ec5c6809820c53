//! Job control that passes through rein, as it passes through sudo: `rein -- vim` typed in an
//! interactive shell stops on Ctrl-Z and comes back on `fg` or `bg` as if rein were not there.
//!
//! The terminal stops the main child (its group is the terminal's foreground, see
//! `terminal.rs`), but the shell waits for rein's process group (its job), which keeps
//! running, so the prompt never comes back. So when the main child is stopped by SIGTSTP,
//! SIGTTIN or SIGTTOU, rein sends the same signal to its own process group, itself included,
//! which is what the terminal would have done had rein not moved the child to a group of its
//! own: the shell sees its job stopped. When the shell continues the job (`fg`: SIGCONT after
//! giving the terminal to the job's group; `bg`: SIGCONT only), rein gives the terminal to the
//! child's group if, and only if, rein's own group is the foreground at that moment (after
//! `bg`, or if another job took the terminal meanwhile, it is left alone), then continues the
//! child's group. A child continued in the background that reads the terminal is stopped by
//! SIGTTIN, and rein follows it again: the shell shows the job stopped on terminal input,
//! exactly as for the program run without rein.
//!
//! Only when rein is not PID 1 (PID 1 cannot be stopped) and has a controlling terminal. rein
//! started in the background of a shell (`rein -- vim &`) still leaves the terminal alone at
//! start, but follows the child's stops, so that `fg` works: then rein is in the foreground
//! and hands the terminal on. Without a terminal, or as PID 1, nothing here ever runs.

use nix::libc;
use nix::unistd::{Pid, getpgid, getpgrp, getpid, tcgetpgrp, tcsetpgrp};

use crate::signals::{self, bit, num};
use crate::sys;

/// The job-control signals the terminal stops a process with.
const TSTP: i32 = 20;
const TTIN: i32 = 21;
const TTOU: i32 = 22;

/// Whether rein follows its main child's job-control stops, and what it owes afterwards.
#[derive(Debug, Clone, Default)]
pub struct JobControl {
    enabled: bool,
    /// The SIGCONT that continued rein is still pending (rein blocks it) and will come out of
    /// the signalfd: the child has already been continued, so it must not be forwarded again.
    own_cont_pending: bool,
}

impl JobControl {
    /// Nothing to follow (PID 1, pause mode, no terminal, started in the background).
    pub fn off() -> Self {
        Self::default()
    }

    /// Follows stops when rein has a controlling terminal and is not PID 1.
    pub fn new(has_terminal: bool) -> Self {
        Self {
            enabled: has_terminal && getpid().as_raw() != 1,
            own_cont_pending: false,
        }
    }

    /// Whether rein follows the main child's stops at all, and so needs its stop reports as
    /// they come (on every SIGCHLD) rather than only when a stopping signal is forwarded.
    pub fn follows_stops(&self) -> bool {
        self.enabled
    }

    /// The main child `main` reported a stop by `sig` (waitpid with WUNTRACED). If the
    /// terminal stopped it, rein stops its own group with the same signal; once continued, it
    /// hands the terminal on (when in the foreground) and continues the child's group.
    pub fn on_main_stopped(&mut self, main: Pid, sig: i32) {
        if !self.enabled || !matches!(sig, TSTP | TTIN | TTOU) {
            return;
        }
        let cont = bit(num::CONT);
        let pending = || sys::sigpending().unwrap_or(0) & cont != 0;
        // The child stopped again (`bg`, then it read the terminal) before the SIGCONT that
        // continued rein came out of the signalfd: that one is done with, take it off.
        if self.own_cont_pending {
            self.own_cont_pending = false;
            sys::take_pending(num::CONT);
        }
        if pending() {
            // Someone already continued the job; forwarding that SIGCONT resumes the child.
            return;
        }
        log::debug!(
            "main child {main} stopped by {}; stopping rein's job the same way",
            signals::name(sig)
        );
        if let Err(e) = stop_self(sig) {
            log::warn!("failed to stop rein with {}: {e}", signals::name(sig));
            return;
        }
        if !pending() {
            // The kernel discards a terminal stop signal for a process in an orphaned process
            // group (nobody could continue it), and rein's caller may ignore the signal. Then
            // the child stays stopped, as without rein: continuing it now would only loop.
            log::debug!("rein was not stopped by {}", signals::name(sig));
            return;
        }
        self.own_cont_pending = true;
        resume(main);
    }

    /// Whether a received `sig` is the SIGCONT that continued rein, already passed on by
    /// [`Self::on_main_stopped`]; it is consumed here.
    pub fn swallow(&mut self, sig: i32) -> bool {
        if sig == num::CONT && self.own_cont_pending {
            self.own_cont_pending = false;
            return true;
        }
        false
    }
}

/// Stops rein's process group with `sig`'s default action, returning once rein has been
/// continued. `kill(0, sig)` is the caller's own group, whatever its number reads as (0 when
/// the group lies outside rein's PID namespace).
///
/// rein blocks every job-control signal (it reads them from its signalfd), so for rein the
/// signal is first made pending and then unblocked: the kernel delivers it on the way out of
/// `rt_sigprocmask`, before that call returns, and the default action stops rein right there.
/// Sending it before unblocking makes it one signal, even if another was already pending.
fn stop_self(sig: i32) -> std::io::Result<()> {
    sys::kill_raw(0, sig)?;
    sys::sigprocmask(libc::SIG_UNBLOCK, Some(bit(sig)))?;
    // Continued: block it again, so later ones are forwarded, not acted on.
    sys::sigprocmask(libc::SIG_BLOCK, Some(bit(sig)))?;
    Ok(())
}

/// After rein was continued: the terminal goes to the child's group only if rein's group is
/// the foreground now (`fg`); after `bg`, or if another job took the terminal meanwhile, it is
/// left alone, since rein blocks SIGTTOU and `tcsetpgrp` from the background would otherwise
/// succeed and steal it. Then the child's group gets SIGCONT (the whole group: the terminal
/// stopped all of it, even with `--single-child`).
fn resume(main: Pid) {
    let group = getpgid(Some(main)).unwrap_or(main);
    match crate::terminal::controlling() {
        Some(tty) => {
            let foreground = tcgetpgrp(&tty).ok();
            if foreground == Some(getpgrp()) {
                match tcsetpgrp(&tty, group) {
                    Ok(()) => log::debug!("gave the terminal back to group {group}"),
                    Err(e) => log::warn!("failed to give the terminal to group {group}: {e}"),
                }
            } else {
                log::debug!(
                    "continued in the background (foreground group {foreground:?}); terminal left alone"
                );
            }
        }
        None => log::debug!("no controlling terminal any more; continuing the child only"),
    }
    if sys::kill_raw(-group.as_raw(), num::CONT).is_err() {
        let _ = sys::kill_raw(main.as_raw(), num::CONT);
    }
}
