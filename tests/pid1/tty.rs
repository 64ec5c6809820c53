//! The controlling terminal: when rein is in its terminal's foreground, the main child becomes
//! the foreground process group (Ctrl-C reaches it, an interactive shell is not stopped); when
//! rein is started in the background of a job-control shell, it leaves the terminal alone.
//! (Without a terminal nothing terminal-related happens: every other test runs without one.)
//!
//! Each test gives a fresh pseudo-terminal to the process it starts, as its stdio and its
//! controlling terminal (`setsid` + `TIOCSCTTY` before exec), and reads the master side.

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Command, ExitStatus};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use crate::harness::{
    DEADLINE, Mode, children, command, descendants, ns_words, rein, stat_field, state, wait_until,
};
use crate::support::modes;

/// A process started as session leader on a fresh pty (also used by job_control.rs).
pub(crate) struct TtyRun {
    pub(crate) pid: i32,
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    exited: Receiver<ExitStatus>,
}

impl TtyRun {
    pub(crate) fn start(mut cmd: Command) -> TtyRun {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        crate::harness::on_controlling_tty(&mut cmd, &pty.slave);
        cmd.env("PS1", "$ ").env("TERM", "dumb").env_remove("ENV");
        let mut child = cmd.spawn().expect("spawn on the pty");
        drop(cmd);
        drop(pty.slave);
        let master = File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once every slave descriptor is closed: the end of the output.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let (tx, exited) = channel();
        let pid = child.id() as i32;
        std::thread::spawn(move || {
            let _ = tx.send(child.wait().unwrap());
        });
        TtyRun {
            pid,
            master,
            output,
            exited,
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    pub(crate) fn wait_output(&self, needle: &str) {
        wait_until(&format!("the terminal shows {needle:?}"), DEADLINE, || {
            self.text().contains(needle)
        });
    }

    pub(crate) fn type_in(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    pub(crate) fn exit_code(&self) -> Option<i32> {
        let st = self
            .exited
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("no exit; terminal: {}", self.text()));
        st.code()
    }
}

impl Drop for TtyRun {
    fn drop(&mut self) {
        crate::harness::kill(self.pid, 9);
    }
}

/// rein's host pid: the started process itself, or unshare's child.
fn rein_of(mode: Mode, started: i32) -> i32 {
    match mode {
        Mode::Plain => started,
        Mode::Pid1 => {
            let mut found = None;
            wait_until("unshare has forked rein", DEADLINE, || {
                found = children(started).first().copied();
                found.is_some()
            });
            found.unwrap()
        }
    }
}

/// The terminal's foreground process group as `pid`'s `/proc/PID/stat` shows it (`tpgid`).
pub(crate) fn tpgid(pid: i32) -> i32 {
    stat_field(pid, 8).unwrap().parse().unwrap()
}

pub(crate) fn pgrp(pid: i32) -> i32 {
    stat_field(pid, 5).unwrap().parse().unwrap()
}

#[test]
fn ctrl_c_reaches_the_child_in_the_terminals_foreground() {
    let script = "trap 'echo GOT-INT; exit 3' INT; echo ready; while :; do sleep 1; done";
    for mode in modes("ctrl_c_reaches_the_child_in_the_terminals_foreground") {
        let mut t = TtyRun::start(command(mode, &["--", "sh", "-c", script]));
        t.wait_output("ready");
        let rein = rein_of(mode, t.pid);
        let child = children(rein)[0];
        // The child's group, not rein's, is the terminal's foreground now.
        assert_eq!(pgrp(child), child, "{mode:?}");
        assert_eq!(tpgid(rein), child, "{mode:?}: foreground group");
        assert_ne!(pgrp(rein), child, "{mode:?}");
        t.type_in(b"\x03");
        t.wait_output("GOT-INT");
        assert_eq!(t.exit_code(), Some(3), "{mode:?}: {}", t.text());
    }
}

#[test]
fn an_interactive_shell_under_rein_is_not_stopped() {
    for mode in modes("an_interactive_shell_under_rein_is_not_stopped") {
        let mut t = TtyRun::start(command(mode, &["--", "sh", "-i"]));
        // The quotes keep the typed line (echoed by the terminal) from matching the output.
        t.type_in(b"echo hel''lo-from-sh\n");
        t.wait_output("hello-from-sh");
        let rein = rein_of(mode, t.pid);
        let sh = children(rein)[0];
        assert_ne!(state(rein), Some('T'), "{mode:?}");
        assert_ne!(state(sh), Some('T'), "{mode:?}");
        assert_eq!(tpgid(sh), pgrp(sh), "{mode:?}: sh owns the terminal");
        t.type_in(b"exit 7\n");
        assert_eq!(t.exit_code(), Some(7), "{mode:?}: {}", t.text());
    }
}

#[test]
fn rein_started_in_the_background_leaves_the_terminal_alone() {
    let mut words: Vec<String> = Vec::new();
    for mode in modes("rein_started_in_the_background_leaves_the_terminal_alone") {
        words.clear();
        if mode == Mode::Pid1 {
            words.extend(ns_words().iter().map(|w| w.to_string()));
        }
        words.extend([
            rein().to_string(),
            "--".into(),
            "sleep".into(),
            "100".into(),
        ]);
        // A job-control shell owns the terminal; rein runs as its background job.
        let mut t = TtyRun::start({
            let mut c = Command::new("sh");
            c.arg("-i");
            c
        });
        let shell = t.pid;
        t.type_in(format!("{} &\n", words.join(" ")).as_bytes());
        let mut sleep = None;
        wait_until("the background job's sleep is running", DEADLINE, || {
            sleep = descendants(shell).into_iter().find(|p| {
                std::fs::read_to_string(format!("/proc/{}/comm", p.pid))
                    .is_ok_and(|c| c.trim() == "sleep")
            });
            sleep.is_some()
        });
        let sleep = sleep.unwrap();
        let rein = sleep.ppid;
        // The terminal still belongs to the shell; the job (rein's group) and rein's child
        // (in a group of its own) are in the background.
        assert_eq!(
            tpgid(shell),
            pgrp(shell),
            "{mode:?}: the shell lost the terminal"
        );
        assert_ne!(tpgid(shell), pgrp(sleep.pid), "{mode:?}");
        assert_ne!(tpgid(shell), pgrp(rein), "{mode:?}");
        assert_ne!(state(rein), Some('T'), "{mode:?}");
        // Clean up: TERM reaches sleep through rein, then the shell leaves.
        crate::harness::kill(rein, 15);
        wait_until("the job is gone", DEADLINE, || {
            state(rein).is_none_or(|s| s == 'Z')
        });
        t.type_in(b"exit 0\n");
        assert_eq!(t.exit_code(), Some(0), "{mode:?}: {}", t.text());
    }
}
