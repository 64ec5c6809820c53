//! `argv` and `envp` as the kernel passed them, borrowed and never copied, and the main child's
//! environment made from them.
//!
//! Copying every argument and environment entry into owned strings at start-up, and again into
//! NUL-terminated buffers for `execve`, was most of the instructions `rein -- true` ran (with
//! Docker's three variables, and 2,400 more per extra entry; callgrind). The kernel's strings are already NUL-terminated and outlive rein's
//! use of them, so rein reads them in place and, in the common case where it changes nothing,
//! hands `execve` the very `envp` array it received. Only an edited environment (rein's own
//! variables taken out, `--user`'s HOME, USER and LOGNAME) is rebuilt, as an array of pointers
//! into the original strings plus the few new ones.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char};
use std::marker::PhantomData;

use crate::options;

/// A NULL-terminated array of C strings that stays valid and unchanged for `'a`: `argv` or
/// `envp` as the C runtime passed them to `main`. Copy, read-only, never copied element-wise.
#[derive(Debug, Clone, Copy)]
pub struct CArray<'a> {
    /// Null, or the first slot of a NULL-terminated array (see [`CArray::new`]).
    ptrs: *const *const c_char,
    _strings: PhantomData<&'a CStr>,
}

impl<'a> CArray<'a> {
    /// Borrows `ptrs`.
    ///
    /// # Safety
    /// `ptrs` must be null (read as empty) or point to a NULL-terminated array of pointers to
    /// NUL-terminated strings, and the array and the strings must stay valid and unchanged for
    /// `'a`. `argv` and `envp` as `main` receives them qualify for the whole process: the kernel
    /// placed them on the initial stack, above every frame, and rein never changes its own
    /// environment (no `setenv`, `putenv` or `clearenv`; clippy.toml forbids `set_var`).
    pub unsafe fn new(ptrs: *const *const c_char) -> Self {
        Self {
            ptrs,
            _strings: PhantomData,
        }
    }

    /// The entries, in order.
    pub fn iter(self) -> impl Iterator<Item = &'a CStr> {
        // SAFETY: a non-null slot is a valid NUL-terminated string that lives for `'a`.
        self.slots().map(|p| unsafe { CStr::from_ptr(p) })
    }

    /// The entries that start with `prefix`, in order. Only those are measured: the others are
    /// read no further than the first byte that differs, which keeps rein's scans of a long
    /// environment cheap.
    pub fn starting_with(self, prefix: &'static [u8]) -> impl Iterator<Item = &'a CStr> {
        self.slots().filter_map(move |p| {
            let mut at = p.cast::<u8>();
            for &want in prefix {
                // SAFETY: `p` is a NUL-terminated string (`new`'s contract), and the bytes
                // before `at` were all non-NUL (checked below), so `at` is within the string
                // or at its NUL.
                let got = unsafe { at.read() };
                if got != want || got == 0 {
                    return None;
                }
                // SAFETY: `got` was not the NUL, so the next byte is still in the string.
                at = unsafe { at.add(1) };
            }
            // SAFETY: a non-null slot is a valid NUL-terminated string that lives for `'a`.
            Some(unsafe { CStr::from_ptr(p) })
        })
    }

    /// The number of entries.
    pub fn len(self) -> usize {
        self.slots().count()
    }

    /// Whether there is no entry.
    pub fn is_empty(self) -> bool {
        self.slots().next().is_none()
    }

    /// The array from entry `n` on (empty past the end): still NULL-terminated, so `execve`
    /// can take the tail of rein's own `argv` as the main child's.
    pub fn skip(self, n: usize) -> Self {
        let mut at = self.ptrs;
        for _ in self.slots().take(n) {
            // SAFETY: `slots` yielded a non-null slot at `at`, so the next slot is in the array.
            at = unsafe { at.add(1) };
        }
        Self { ptrs: at, ..self }
    }

    /// The array itself, for `execve`: null or NULL-terminated. Linux reads a null `envp` as
    /// empty (execve(2)).
    pub fn as_ptr(self) -> *const *const c_char {
        self.ptrs
    }

    /// The non-null slots, without reading the strings.
    fn slots(self) -> impl Iterator<Item = *const c_char> {
        let mut at = self.ptrs;
        std::iter::from_fn(move || {
            if at.is_null() {
                return None;
            }
            // SAFETY: `at` points into the NULL-terminated array (`new`'s contract) at or before
            // its NULL: it starts at slot 0 and moves on only past a non-null slot.
            let p = unsafe { *at };
            if p.is_null() {
                return None;
            }
            // SAFETY: the slot was not the NULL, so the next one is in the array.
            at = unsafe { at.add(1) };
            Some(p)
        })
    }
}

/// One entry of an edited environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    /// An entry rein received, passed on in place.
    Kept(&'a CStr),
    /// An entry rein sets (`KEY=VALUE`, without the NUL; `--user`'s HOME, USER, LOGNAME).
    Set(Vec<u8>),
}

impl Entry<'_> {
    /// The entry's bytes, without the NUL.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Kept(c) => c.to_bytes(),
            Self::Set(v) => v,
        }
    }
}

/// The main child's environment: rein's own, or an edited copy of its entries.
#[derive(Debug, Clone)]
pub struct ChildEnv<'a> {
    /// `Some`: exactly what rein received, and `execve` gets the same array (`edited` is then
    /// empty). `None`: `edited` is the environment.
    inherited: Option<CArray<'a>>,
    edited: Vec<Entry<'a>>,
}

impl<'a> ChildEnv<'a> {
    /// rein's environment without the variables rein reads itself (see
    /// [`options::is_reins_variable`]): a rein that the program runs in turn must not apply them
    /// again. Every other entry, other `REIN_` names included, stays byte for byte and in order.
    pub fn without_reins_variables(env: CArray<'a>) -> Self {
        let ours = |e: &CStr| options::is_reins_variable(e.to_bytes());
        if !env.starting_with(b"REIN_").any(ours) {
            return Self {
                inherited: Some(env),
                edited: Vec::new(),
            };
        }
        Self {
            inherited: None,
            edited: env.iter().filter(|e| !ours(e)).map(Entry::Kept).collect(),
        }
    }

    /// The array rein received, when the environment is still exactly that.
    pub fn inherited(&self) -> Option<CArray<'a>> {
        self.inherited
    }

    /// The entries, as bytes without the NUL.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let inherited = self.inherited.into_iter().flat_map(CArray::iter);
        inherited
            .map(CStr::to_bytes)
            .chain(self.edited.iter().map(Entry::bytes))
    }

    /// The entries of an edited environment (empty while it is inherited).
    pub fn edited(&self) -> &[Entry<'a>] {
        &self.edited
    }

    /// The entries to edit in place: turns an inherited environment into an edited copy.
    pub fn edit(&mut self) -> &mut Vec<Entry<'a>> {
        if let Some(a) = self.inherited.take() {
            self.edited = a.iter().map(Entry::Kept).collect();
        }
        &mut self.edited
    }

    /// The entries that start with `prefix`, in order.
    pub fn starting_with(&self, prefix: &'static [u8]) -> impl Iterator<Item = &[u8]> {
        let inherited = self
            .inherited
            .into_iter()
            .flat_map(move |a| a.starting_with(prefix));
        let edited = self.edited.iter().map(Entry::bytes);
        inherited
            .map(CStr::to_bytes)
            .chain(edited.filter(move |e| e.starts_with(prefix)))
    }

    /// The value of the last `PATH=` entry, which rein searches as `execvp` would.
    pub fn path(&self) -> Option<&[u8]> {
        self.starting_with(b"PATH=")
            .last()
            .and_then(|e| e.strip_prefix(b"PATH="))
    }
}

/// Whether an entry reads exactly `LISTEN_PID=<pid>` (socket activation naming rein).
pub fn names_listen_pid(entry: &[u8], pid: u32) -> bool {
    entry.strip_prefix(b"LISTEN_PID=").is_some_and(|value| {
        let mut digits = [0u8; 10];
        value == decimal(pid, &mut digits)
    })
}

/// `n` in decimal, written into `buf` without allocating (also used between fork and exec).
pub fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` is below 10, so the cast keeps every bit.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// Owned strings and the NULL-terminated pointer array over them.
    struct Owned(#[allow(dead_code)] Vec<CString>, Vec<*const c_char>);

    fn owned(items: &[&[u8]]) -> Owned {
        let strings: Vec<CString> = items.iter().map(|b| CString::new(*b).unwrap()).collect();
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        Owned(strings, ptrs)
    }

    fn array(o: &Owned) -> CArray<'_> {
        // SAFETY: `o` holds the strings and the NULL-terminated array for the borrow's length.
        unsafe { CArray::new(o.1.as_ptr()) }
    }

    fn bytes<'a>(it: impl Iterator<Item = &'a [u8]>) -> Vec<Vec<u8>> {
        it.map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn arrays_read_in_place_and_skip_to_a_null_terminated_tail() {
        let o = owned(&[b"rein", b"--", b"true", b"\xff"]);
        let a = array(&o);
        assert_eq!(a.len(), 4);
        assert_eq!(
            bytes(a.iter().map(CStr::to_bytes)),
            [&b"rein"[..], b"--", b"true", b"\xff"]
        );
        let tail = a.skip(2);
        assert_eq!(tail.len(), 2);
        assert_eq!(tail.as_ptr(), o.1[2..].as_ptr());
        assert!(a.skip(4).is_empty() && a.skip(9).is_empty());
        let dashes: Vec<&CStr> = a.starting_with(b"-").collect();
        assert_eq!(dashes, [c"--"]);
        assert_eq!(a.starting_with(b"rein--").count(), 0);
        assert_eq!(a.starting_with(b"").count(), 4);
        // SAFETY: null is read as empty.
        let none = unsafe { CArray::new(std::ptr::null()) };
        assert!(none.is_empty() && none.skip(1).is_empty());
    }

    #[test]
    fn reins_variables_go_everything_else_stays_in_place() {
        let o = owned(&[
            b"A=1",
            b"REIN_GRACE=1s",
            b"REIN_GRACEFUL=1",
            b"NOEQ",
            b"REIN_LOG=x",
        ]);
        let env = ChildEnv::without_reins_variables(array(&o));
        assert!(env.inherited().is_none());
        assert_eq!(
            bytes(env.iter()),
            [&b"A=1"[..], b"REIN_GRACEFUL=1", b"NOEQ"]
        );
        let o = owned(&[b"PATH=/a", b"REIN_GRACE", b"PATH=/b:/c"]);
        let env = ChildEnv::without_reins_variables(array(&o));
        assert!(env.inherited().is_some());
        assert_eq!(env.path(), Some(&b"/b:/c"[..]));
    }

    #[test]
    fn editing_keeps_the_entries_and_their_order() {
        let o = owned(&[b"A=1", b"B=2"]);
        let mut env = ChildEnv::without_reins_variables(array(&o));
        env.edit().push(Entry::Set(b"C=3".to_vec()));
        assert_eq!(bytes(env.iter()), [&b"A=1"[..], b"B=2", b"C=3"]);
        assert_eq!(env.path(), None);
    }

    #[test]
    fn listen_pid_must_name_the_pid_exactly() {
        assert!(names_listen_pid(b"LISTEN_PID=1", 1));
        assert!(names_listen_pid(b"LISTEN_PID=4294967295", u32::MAX));
        for e in [
            &b"LISTEN_PID=01"[..],
            b"LISTEN_PID=1x",
            b"LISTEN_PID=",
            b"LISTEN_PID",
            b"X=1",
        ] {
            assert!(!names_listen_pid(e, 1), "{}", e.escape_ascii());
        }
        let mut buf = [0; 10];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(40_312, &mut buf), b"40312");
    }
}
