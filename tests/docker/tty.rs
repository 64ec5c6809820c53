//! Ctrl-C through `docker run -it`: the docker client runs on a pseudo-terminal this test
//! opens, puts it in raw mode and passes the `\x03` byte to the container's terminal, whose
//! line discipline sends SIGINT to the terminal's foreground process group. rein made the main
//! child that group, so the program itself gets SIGINT; the program also reports its process
//! group and the terminal's foreground group, which must be equal.

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;

use nix::pty::openpty;
use nix::sys::termios::{LocalFlags, tcgetattr};

use crate::harness::{Container, fixture, poll_until};

/// Prints its own pgrp and the terminal's foreground pgrp (fields 5 and 8 of
/// /proc/PID/stat), then waits in `sleep`.
const SCRIPT: &str =
    "set -- $(cat /proc/$$/stat); echo \"ready pgrp=$5 tpgid=$8\"; exec sleep 1000";

/// Kills the docker client if the test fails while it runs.
struct ClientGuard(Child);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ctrl_c_through_docker_run_it_stops_the_program() {
    let Some(fx) = fixture("ctrl_c_through_docker_run_it_stops_the_program") else {
        return;
    };
    let c = Container::named("tty");
    let pty = openpty(None, None).unwrap();
    let label = format!("rein-test.pid={}", std::process::id());
    let client = Command::new("docker")
        .args([
            "run", "-it", "--name", &c.name, "--label", &label, &fx.image,
        ])
        .args(["/rein", "--", "sh", "-c", SCRIPT])
        .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave))
        .spawn()
        .unwrap();
    let mut client = ClientGuard(client);
    let mut master = File::from(pty.master);
    let termios_fd = master.try_clone().unwrap();

    // Everything the client writes to its terminal, collected by a reader thread.
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut reader = master.try_clone().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Ends with EIO once the client has exited and no one holds the terminal.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let drain = |output: &mut Vec<u8>| {
        while let Ok(chunk) = rx.try_recv() {
            output.extend(chunk);
        }
        String::from_utf8_lossy(output).into_owned()
    };

    // The byte must arrive after the client switched its terminal to raw mode (before that,
    // the local line discipline would swallow it) and after the program is ready.
    let line = poll_until("the program to be ready behind a raw terminal", || {
        let text = drain(&mut output);
        let raw = tcgetattr(&termios_fd)
            .map(|t| !t.local_flags.contains(LocalFlags::ISIG))
            .unwrap_or(false);
        match text.lines().find(|l| l.starts_with("ready")) {
            Some(l) if raw => Ok(l.trim().to_owned()),
            _ => Err(format!("raw mode: {raw}; terminal output so far: {text:?}")),
        }
    });
    let mut fields = line.split_whitespace().skip(1);
    let (pgrp, tpgid) = (fields.next().unwrap(), fields.next().unwrap());
    assert_eq!(
        pgrp.trim_start_matches("pgrp="),
        tpgid.trim_start_matches("tpgid="),
        "the program is not the terminal's foreground group: {line}"
    );

    master.write_all(b"\x03").unwrap();
    let status = poll_until("docker run -it to exit after Ctrl-C", || {
        let text = drain(&mut output);
        client
            .0
            .try_wait()
            .unwrap()
            .ok_or(format!("terminal output: {text:?}"))
    });
    let text = drain(&mut output);
    assert_eq!(
        status.code(),
        Some(128 + 2),
        "expected death by SIGINT; output: {text:?}"
    );
    assert_eq!(c.state(), (false, 130));
}
