//! An idle rein sleeps in one blocking `read` of its signalfd (or, as before, one `poll` with no
//! timeout): over a few seconds with an idle child it is not woken once (no timer, no periodic
//! reaping; tini wakes every second).

use std::time::Duration;

use crate::harness::{
    DEADLINE, Mode, Run, emulation, namespaces_available, rein, status_field, wait_until,
};

/// `voluntary_ctxt_switches + nonvoluntary_ctxt_switches` of `pid`: every wake-up counts.
fn wakeups(pid: i32) -> u64 {
    ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"]
        .iter()
        .map(|k| status_field(pid, k).unwrap().parse::<u64>().unwrap())
        .sum()
}

/// The system-call numbers that `/proc/PID/syscall` of rein shows for poll(2) and for ppoll(2)
/// (both ppoll variants on 32-bit ABIs, whose C libraries may use either).
#[derive(Debug)]
struct PollNumbers {
    poll: Option<i64>,
    ppoll: &'static [i64],
    read: i64,
}

/// The numbers in the ABI rein's calls reach the kernel through. Natively on this machine's
/// architecture, and under qemu-user (which makes the host's own call for each of rein's),
/// that is this test's own target: libc's constants. A 32-bit rein run natively by a 64-bit
/// kernel (i686 on x86_64, armv7 on aarch64) uses the compat table, which libc only has when
/// built for that target, so those numbers are written out (the kernel's
/// `arch/x86/entry/syscalls/syscall_32.tbl`, `arch/arm/tools/syscall.tbl`).
fn poll_numbers() -> PollNumbers {
    const EM_386: u16 = 3;
    const EM_ARM: u16 = 40;
    let compat_machine = (cfg!(target_pointer_width = "64") && emulation().is_none())
        .then(elf_machine_if_32_bit)
        .flatten();
    match compat_machine {
        Some(EM_386) => PollNumbers {
            poll: Some(168),
            ppoll: &[309, 414],
            read: 3,
        },
        Some(EM_ARM) => PollNumbers {
            poll: Some(168),
            ppoll: &[336, 414],
            read: 3,
        },
        Some(other) => panic!("no compat poll numbers for ELF machine {other} (add them here)"),
        None => PollNumbers {
            // aarch64 and riscv64 have no poll(2), only ppoll(2).
            #[cfg(not(any(target_arch = "aarch64", target_arch = "riscv64")))]
            poll: Some(nix::libc::SYS_poll),
            #[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
            poll: None,
            ppoll: &[nix::libc::SYS_ppoll],
            read: nix::libc::SYS_read,
        },
    }
}

/// `e_machine` of the rein under test if it is a 32-bit ELF file (`EI_CLASS` 1), from its header
/// (elf(5)).
fn elf_machine_if_32_bit() -> Option<u16> {
    let head = std::fs::read(rein()).ok()?;
    if head.get(..5)? != b"\x7fELF\x01" {
        return None;
    }
    let m = head.get(18..20)?;
    // EI_DATA 1 is little-endian, 2 big-endian.
    Some(match head.get(5)? {
        2 => u16::from_be_bytes([m[0], m[1]]),
        _ => u16::from_le_bytes([m[0], m[1]]),
    })
}

/// Whether `pid` is blocked in poll(2) with an infinite timeout (`poll(fds, n, -1)`), in
/// ppoll(2) with a NULL timeout, or in read(2) of a signalfd (its fdinfo has a `sigmask`
/// line), from `/proc/PID/syscall`.
fn in_poll_without_timeout_as(pid: i32, numbers: &PollNumbers) -> bool {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    let f: Vec<&str> = text.split_whitespace().collect();
    let arg = |i: usize| {
        f.get(i)
            .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
    };
    let Some(nr) = f.first().and_then(|n| n.parse::<i64>().ok()) else {
        return false;
    };
    if Some(nr) == numbers.poll {
        // poll: the timeout is an int, -1 for none (a 32-bit ABI shows 0xffffffff).
        arg(3).is_some_and(|t| t as u32 == u32::MAX)
    } else if numbers.ppoll.contains(&nr) {
        // ppoll: the timeout is a pointer, NULL for none.
        arg(3) == Some(0)
    } else if nr == numbers.read {
        arg(1).is_some_and(|fd| {
            std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}"))
                .is_ok_and(|info| info.lines().any(|l| l.starts_with("sigmask:")))
        })
    } else {
        false
    }
}

#[test]
fn an_idle_rein_is_never_woken() {
    let mut modes = vec![Mode::Plain];
    if namespaces_available("an_idle_rein_is_never_woken") {
        modes.push(Mode::Pid1);
    }
    let numbers = poll_numbers();
    // Both modes share one measuring window, so the test costs it once.
    let runs: Vec<(Mode, Run, i32)> = modes
        .into_iter()
        .map(|mode| {
            let run = Run::start(mode, &["--", "sleep", "1000"]);
            let rein = run.rein_pid(mode);
            wait_until(
                "rein is blocked waiting for a signal without a timeout",
                DEADLINE,
                || in_poll_without_timeout_as(rein, &numbers),
            );
            (mode, run, rein)
        })
        .collect();
    let before: Vec<u64> = runs.iter().map(|(_, _, r)| wakeups(*r)).collect();
    // A measurement window, not synchronisation: nothing is awaited here, the test counts what
    // happens in rein while nothing should.
    #[allow(clippy::disallowed_methods)]
    std::thread::sleep(Duration::from_secs(3));
    for ((mode, run, rein), before) in runs.into_iter().zip(before) {
        let after = wakeups(rein);
        assert!(in_poll_without_timeout_as(rein, &numbers), "{mode:?}");
        assert_eq!(
            after - before,
            0,
            "{mode:?}: rein woke {} times while idle",
            after - before
        );
        // Leave nothing behind: TERM reaches `sleep`, rein exits with its status.
        run.signal(rein, 15);
        assert_eq!(run.finish().code, Some(143), "{mode:?}");
    }
}

/// [`in_poll_without_timeout_as`] with the numbers of the binary under test. (Also used by
/// adopt.rs and stop_delay.rs: rein's timers have run out once it waits like this.)
pub(crate) fn in_poll_without_timeout(pid: i32) -> bool {
    in_poll_without_timeout_as(pid, &poll_numbers())
}

/// Whether `pid` is blocked in poll(2) or ppoll(2), with or without a timeout, in the ABI of
/// the binary under test (hostile/exactly_once.rs: rein waits there between signal batches).
pub(crate) fn in_poll_any(pid: i32) -> bool {
    let numbers = poll_numbers();
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse::<i64>().ok())
        .is_some_and(|nr| Some(nr) == numbers.poll || numbers.ppoll.contains(&nr))
}
