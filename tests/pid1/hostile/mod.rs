//! Attacks from inside the container, one file per attack surface, each test starting from the
//! reproduction that broke rein before it was fixed (see SECURITY.md for the threat model).

// A symlink, FIFO or directory planted where the status file goes; the directory swapped.
mod status_file;
// Capabilities kept across --user, groups of USER:GROUP, HOME/USER/LOGNAME, non-UTF-8 passwd.
mod credentials;
// REIN_* variables never reach the child (a nested rein does not apply them again).
mod environment;
// Non-UTF-8 and odd process names in /proc are still found and signalled.
mod proc_names;
// A tmpfs over /proc, or a file over one of its files, hides no leftover from rein.
mod proc_mounts;
// Signals a user sends that share a number with a fault are forwarded, not fatal.
mod fault_signals;
// Every forwarded signal arrives exactly once: no SIGCONT nobody sent.
mod exactly_once;
// A leftover that survives SIGKILL or a fork loop cannot keep rein from exiting.
mod endless_shutdown;
// Option combinations that cannot apply are refused (125) or have a documented meaning.
mod options;
// execve failures (EAGAIN from RLIMIT_NPROC) are exec failures, not fork failures.
mod exec;
