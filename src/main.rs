//! The `rein` binary: a C `main`, so that rein sees the process exactly as it was started.
//!
//! Rust's usual entry point sets SIGPIPE to "ignore" before `main` runs, which would hide
//! whether the caller had ignored it; rein must hand the main child the signal dispositions it
//! was started with (as `nohup` callers expect). `#![no_main]` skips that runtime set-up, and
//! `argv`/`envp` are taken as the raw bytes the kernel passed.
#![no_main]
#![allow(unsafe_code)]

use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

/// Collects a NULL-terminated array of C strings, starting at index `skip`.
///
/// # Safety
/// `ptrs` must be null or point to a NULL-terminated array of valid C strings, as `argv` and
/// `envp` are when the C runtime calls `main`.
unsafe fn collect(ptrs: *const *const c_char, skip: usize) -> Vec<OsString> {
    let mut out = Vec::new();
    if ptrs.is_null() {
        return out;
    }
    let mut i = 0;
    loop {
        // SAFETY: the caller guarantees a NULL-terminated array and we stop at the NULL, so
        // index `i` is in bounds.
        let slot = unsafe { ptrs.add(i) };
        // SAFETY: `slot` is in bounds (above) and properly aligned, as the array is.
        let p = unsafe { *slot };
        if p.is_null() {
            return out;
        }
        if i >= skip {
            // SAFETY: each non-null entry is a valid NUL-terminated string (caller's contract).
            out.push(OsString::from_vec(
                unsafe { CStr::from_ptr(p) }.to_bytes().to_vec(),
            ));
        }
        i += 1;
    }
}

/// The process entry point, called by the C runtime.
// SAFETY: `main` with this signature is what the C runtime calls; no other symbol is named so.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes NULL-terminated argv and envp arrays.
    let args = unsafe { collect(argv, 1) };
    // SAFETY: as above.
    let env = unsafe { collect(envp, 0) };
    c_int::from(rein::main_with(args, env))
}
