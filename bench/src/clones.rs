//! Many processes, cheaply: clone(2) with CLONE_VM, each on its own small stack, no exec.
//!
//! A full fork copies page tables and exiting tears them down again, which on this class of
//! VM costs ~0.3 ms a process and would swamp the time an init spends on reaping or stopping
//! them. Processes that share their creator's memory cost a fraction of that; for the init they
//! are ordinary processes (their own pid, thread group and signal handling).

use std::io;

/// Bytes of stack per cloned process; they run a few system calls and nothing else.
pub const STACK: usize = 16 * 1024;

/// One mapping holding `n` stacks (reserved, not committed: untouched pages cost nothing).
/// It is never unmapped: the cloned processes may run on it after its owner is done with it,
/// and it goes away with the last of them.
#[derive(Debug)]
pub struct Stacks {
    base: *mut u8,
    n: usize,
}

impl Stacks {
    /// Maps `n` stacks.
    pub fn map(n: usize) -> io::Result<Self> {
        // SAFETY: an anonymous private mapping; checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                n.max(1) * STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            base: base.cast(),
            n,
        })
    }

    /// The top of stack `i` (stacks grow down), 16-byte aligned.
    pub fn top(&self, i: usize) -> *mut libc::c_void {
        assert!(i < self.n, "stack {i} of {}", self.n);
        // SAFETY: (i + 1) * STACK is at most the mapping's length, so the pointer is in it or
        // one past its end, which is a valid stack top.
        unsafe { self.base.add((i + 1) * STACK) }.cast()
    }
}

/// `clone(f, stack, CLONE_VM | flags | SIGCHLD, arg)`: a new process sharing this one's
/// memory, running `f(arg)` on `stack`.
///
/// # Safety
/// `stack` must be the top of memory that nothing else uses while the new process runs, and
/// `f` must touch only what stays valid and unchanged for as long as it runs (it shares
/// memory with the caller but not its stack), ending with `_exit` or a fatal signal.
pub unsafe fn clone_vm(
    f: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    stack: *mut libc::c_void,
    flags: libc::c_int,
    arg: *mut libc::c_void,
) -> io::Result<i32> {
    // SAFETY: the caller upholds the stack and memory contract above.
    let pid = unsafe { libc::clone(f, stack, libc::CLONE_VM | flags | libc::SIGCHLD, arg) };
    if pid < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    }
}
