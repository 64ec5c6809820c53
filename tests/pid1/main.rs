//! Integration tests: the real rein binary as PID 1 of a fresh PID namespace and as a plain
//! process (subreaper mode). One file per behaviour; `harness.rs` runs rein and waits on events
//! with deadlines, `examples/probe.rs` is the main child where a shell is not precise enough.
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
#![allow(clippy::cast_possible_wrap, clippy::cast_sign_loss, dead_code)]

mod harness;
// Helpers the behaviour files share: modes, skips, the signal log, accounts, common checks.
mod support;
// The harness itself: clean signal state, no signal to a reaped pid, marks found mid-exec.
mod plumbing;

// Exit codes: 0..=255, 128+N, 127/126/125 and their messages.
mod exit_status;
// Stress and faults: 100k orphans, signal storms, fork failure, closed stderr, no /proc, regrouping.
mod stress;
// Forwarding of every signal to the group (or child), CHLD kept, no stop, no spawn race.
mod signals;
// The child's blocked mask and ignored set equal what rein was started with.
mod sigstate;
// Orphans never stay zombies (PID 1 and subreaper), coalesced SIGCHLD, exit status kept.
mod reaping;
// argv and envp pass through byte for byte.
mod args_env;
// rein drops its cwd and inherited fds after spawning; the child keeps them.
mod hygiene;
// An idle rein is blocked in one poll() with no timeout and never wakes.
mod idle;
// Log levels (-v, -vv, REIN_LOG), stderr only, silent by default.
mod logging;
// Terminal: the child gets the foreground (Ctrl-C, sh -i); a background rein leaves it alone.
mod tty;
// Stopped processes still end on TERM: rein adds a CONT, for stopped targets only.
mod stopped;
// HUP and STOP/CONT floods: rein still forwards, reaps and wakes a stopped member once.
mod flood;
// The grace period: leftovers get TERM, then KILL; setsid'd and double-forked ones too.
mod shutdown;
// --timeout: 124, the timeout signal, escalation, no survivors.
mod timeout;
// --kill-after: SIGKILL for a child that ignores a forwarded stop, none for one that obeys.
mod kill_after;
// --rewrite: TERM:QUIT, WINCH:drop, numbers, TSTP:STOP.
mod rewrite;
// --exit-zero and --exit-zero-on-stop, both ways.
mod exit_mapping;
// --status-file: contents for each ending, counters, atomic replacement.
mod status_file;
// --pdeathsig: the parent dies, the child gets the signal (rewritten), rein exits.
mod pdeathsig;
// --pause: holds the namespace, reaps joined processes' orphans, exits 0 on TERM/INT.
mod pause;
// --user: ids, exact groups, account variables, no_new_privs, no way back to root.
mod user;
// LISTEN_PID: rein's own pid becomes the child's; anything else passes through.
mod listen_pid;
// REIN_* twins: each has an effect, a flag wins; bad values give 125 before the child runs.
mod env_twins;
// --adopt and --pid-file: a main program that daemonizes; hostile pid files (issue 12).
mod adopt;
// Ctrl-Z, fg and bg pass through rein in a real interactive bash on a pty (issue 12).
mod job_control;
// --stop-delay: the first stopping signal is held, a second one goes at once (issue 12).
mod stop_delay;
// Attacks from inside the container: planted files, odd names, hostile signals and options.
mod hostile;
