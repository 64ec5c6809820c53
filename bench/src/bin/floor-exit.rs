//! `floor-exit`: the instruction floor, a static musl program that only calls `_exit(0)`.
//! What callgrind counts for it is the C runtime's start-up (static-PIE self-relocation, libc
//! initialisation), which every static init pays before its first line of code.
#![no_main]

/// The entry point the C runtime calls; Rust's own runtime set-up is skipped (`no_main`).
#[unsafe(no_mangle)]
extern "C" fn main() -> libc::c_int {
    // SAFETY: _exit never returns and needs no state.
    unsafe { libc::_exit(0) }
}
