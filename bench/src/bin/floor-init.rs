//! `floor-init PROGRAM [ARGS...]`: the least an init can do, as a floor for start-up, memory
//! and reaping. It forks, execs PROGRAM (looked up on PATH), then loops in a blocking `wait()`
//! until it has no child left, and exits with PROGRAM's status. It forwards no signal and
//! stops no leftover. Static musl, no Rust runtime set-up (`no_main`), no allocation.
#![no_main]

use std::ffi::c_char;

/// The entry point the C runtime calls.
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const c_char) -> libc::c_int {
    if argc < 2 {
        return 2;
    }
    // SAFETY: fork has no arguments; the child only calls execvp and _exit.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: argv[1..] is the NULL-terminated argument vector the C runtime passed.
        unsafe {
            let args = argv.add(1);
            libc::execvp(*args, args);
            libc::_exit(127)
        }
    }
    if child < 0 {
        return 125;
    }
    let mut code = 0;
    loop {
        let mut st = 0;
        // SAFETY: `st` is valid for writing.
        let pid = unsafe { libc::wait(&mut st) };
        if pid == child {
            code = if libc::WIFEXITED(st) {
                libc::WEXITSTATUS(st)
            } else {
                128 + libc::WTERMSIG(st)
            };
        } else if pid < 0
            // SAFETY: __errno_location returns this thread's errno slot.
            && unsafe { *libc::__errno_location() } != libc::EINTR
        {
            return code;
        }
    }
}
