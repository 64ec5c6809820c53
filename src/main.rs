//! The `rein` binary: a C `main`, so that rein sees the process exactly as it was started.
//!
//! Rust's usual entry point sets SIGPIPE to "ignore" before `main` runs, which would hide
//! whether the caller had ignored it; rein must hand the main child the signal dispositions it
//! was started with (as `nohup` callers expect). `#![no_main]` skips that runtime set-up, and
//! `argv`/`envp` are borrowed as the raw bytes the kernel passed (see `environ.rs`).
#![no_main]
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};

use rein::environ::CArray;

/// The process entry point, called by the C runtime.
// SAFETY: `main` with this signature is what the C runtime calls; no other symbol is named so.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes NULL-terminated argv and envp arrays of NUL-terminated
    // strings, which the kernel placed on the initial stack: they stay valid for the whole
    // process, and rein never changes them (it never sets a variable of its own environment).
    let args = unsafe { CArray::new(argv) };
    // SAFETY: as above.
    let env = unsafe { CArray::new(envp) };
    c_int::from(rein::main_with(args.skip(1), env))
}
