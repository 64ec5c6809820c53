//! `EAGAIN` from `execve` is an exec failure (126, `cannot run 'PROG': Resource temporarily
//! unavailable`), not a fork failure: only a failed fork() in rein itself is rein's own (125).
//!
//! The kernel checks RLIMIT_NPROC again at execve when the uid changed (set_user() marks the
//! process, fs/exec.c refuses the exec), so `--user U` with RLIMIT_NPROC 0 and one process of
//! U already running makes the exec fail with EAGAIN after the fork has succeeded: rein runs as
//! root, whose fork is not limited.
//!
//! Reproduction on the old main: `prlimit --nproc=0 rein --user U -- true` (U owning a
//! process) gave 125 and `failed to fork: Resource temporarily unavailable`.

use std::process::Command;

use crate::harness::{DEADLINE, Run, TempDir, namespaces_available, ns_words, rein};
use crate::support::root;

/// A uid no other test uses, with no /etc/passwd entry (rein accepts a bare number).
const UID: &str = "48113";

/// One process of UID that lives until stdin closes (it says it runs through a FIFO, so rein
/// starts only once U owns a process), then rein under RLIMIT_NPROC 0.
const SCRIPT: &str = r#"
    exec 3<&0
    setpriv --reuid "$U" --regid "$U" --clear-groups sh -c 'echo up >"$FIFO"; read x <&3' \
        >/dev/null 2>&1 &
    read line <"$FIFO"
    exec prlimit --nproc=0 "$REIN" --user "$U" -- true"#;

#[test]
fn eagain_from_execve_is_an_exec_failure_126_as_pid1_and_plain() {
    if !root(
        "eagain_from_execve_is_an_exec_failure",
        "needs root (to run a process as another uid)",
    ) {
        return;
    }
    let mut prefixes: Vec<Vec<&str>> = vec![vec![]];
    if namespaces_available("eagain_from_execve_is_an_exec_failure") {
        prefixes.insert(0, ns_words().to_vec());
    }
    for prefix in prefixes {
        let dir = TempDir::new("eagain");
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // The holder runs as U and must be able to open it.
        std::fs::set_permissions(&fifo, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        let mut cmd = Command::new(prefix.first().copied().unwrap_or("sh"));
        if !prefix.is_empty() {
            cmd.args(&prefix[1..]).arg("sh");
        }
        cmd.args(["-c", SCRIPT])
            .env("U", UID)
            .env("REIN", rein())
            .env("FIFO", &fifo);
        let what = format!("{prefix:?}");
        // rein must exit while stdin is still open: closing it ends the holder.
        let mut run = Run::spawn(cmd);
        if !run.exited_within(DEADLINE) {
            run.fail("rein did not exit");
        }
        let out = run.finish();
        assert_eq!(out.code, Some(126), "{what}: {out:?}");
        assert_eq!(
            out.stderr, "rein: cannot run 'true': Resource temporarily unavailable\n",
            "{what}: {out:?}"
        );
    }
}
