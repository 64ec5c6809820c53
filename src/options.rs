//! The one table of rein's options: names, value, environment twin, help text, default, and
//! what each needs in order to have an effect. The parser (`cli.rs`), the environment filter
//! for the child and `--help` all read it, so they cannot drift apart.
//!
//! Adding an option: a [`Key`] variant, a row in [`OPTIONS`], an arm in `cli::apply` (the
//! compiler points at it), and a line in the README's options table (a unit test checks it).

/// Names every option, so applying one is an exhaustive `match` (see `cli::apply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `-c`, `--single-child`.
    SingleChild,
    /// `-t`, `--grace`.
    Grace,
    /// `-k`, `--kill-after`.
    KillAfter,
    /// `-T`, `--timeout`.
    Timeout,
    /// `--timeout-signal`.
    TimeoutSignal,
    /// `-r`, `--rewrite`.
    Rewrite,
    /// `-e`, `--exit-zero`.
    ExitZero,
    /// `--exit-zero-on-stop`.
    ExitZeroOnStop,
    /// `-p`, `--pdeathsig`.
    Pdeathsig,
    /// `-P`, `--pause`.
    Pause,
    /// `-u`, `--user`.
    User,
    /// `--status-file`.
    StatusFile,
    /// `-v`, `--verbose`.
    Verbose,
    /// `-h`, `--help`.
    Help,
    /// `-V`, `--version`.
    Version,
}

/// What an option needs to have any effect. An option given (by flag or variable) without it
/// is refused, never silently ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Applies in every run.
    Nothing,
    /// Concerns the main child, so `--pause`, which runs none, refuses it.
    Program,
    /// Refines `--timeout` (and concerns the main child).
    Timeout,
}

/// One row of the option table.
#[derive(Debug)]
pub struct Opt {
    /// What `cli::apply` matches on.
    pub key: Key,
    /// `-x`, if the option has a short form.
    pub short: Option<u8>,
    /// `--long`.
    pub long: &'static str,
    /// The value's name in `--help` (`DURATION`), `None` for a flag.
    pub value: Option<&'static str>,
    /// The environment twin (a flag's twin takes `1` or `0`).
    pub env: Option<&'static str>,
    /// The flag may be given several times; its variable then takes a comma-separated list.
    pub repeatable: bool,
    /// One sentence for `--help`.
    pub help: &'static str,
    /// The default, as `--help` shows it.
    pub default: Option<&'static str>,
    /// See [`Needs`].
    pub needs: Needs,
}

impl Opt {
    /// `--long`, as messages name the option.
    pub fn flag(&self) -> String {
        format!("--{}", self.long)
    }
}

/// Every option, in `--help` order.
pub const OPTIONS: &[Opt] = &[
    Opt {
        key: Key::SingleChild,
        short: Some(b'c'),
        long: "single-child",
        value: None,
        env: Some("REIN_SINGLE_CHILD"),
        repeatable: false,
        help: "forward signals to the main child's pid only, not its process group",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::Grace,
        short: Some(b't'),
        long: "grace",
        value: Some("DURATION"),
        env: Some("REIN_GRACE"),
        repeatable: false,
        help: "once the main child has exited, leftovers get SIGTERM, then SIGKILL after \
               DURATION; 0 kills at once",
        default: Some("5s"),
        needs: Needs::Nothing,
    },
    Opt {
        key: Key::KillAfter,
        short: Some(b'k'),
        long: "kill-after",
        value: Some("DURATION"),
        env: Some("REIN_KILL_AFTER"),
        repeatable: false,
        help: "SIGKILL the main child's group DURATION after rein forwarded TERM, INT, QUIT or \
               HUP to it (and after --timeout's signal)",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::Timeout,
        short: Some(b'T'),
        long: "timeout",
        value: Some("DURATION"),
        env: Some("REIN_TIMEOUT"),
        repeatable: false,
        help: "send --timeout-signal to the main child's group after DURATION (more than 0), \
               SIGKILL after --kill-after (or the grace), and exit 124",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::TimeoutSignal,
        short: None,
        long: "timeout-signal",
        value: Some("SIG"),
        env: Some("REIN_TIMEOUT_SIGNAL"),
        repeatable: false,
        help: "what --timeout sends first (not rewritten)",
        default: Some("TERM"),
        needs: Needs::Timeout,
    },
    Opt {
        key: Key::Rewrite,
        short: Some(b'r'),
        long: "rewrite",
        value: Some("FROM:TO"),
        env: Some("REIN_REWRITE"),
        repeatable: true,
        help: "forward signal FROM as TO; TO of 0 or 'drop' drops it; repeatable, the last rule \
               for a signal counts",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::ExitZero,
        short: Some(b'e'),
        long: "exit-zero",
        value: Some("CODE"),
        env: Some("REIN_EXIT_ZERO"),
        repeatable: true,
        help: "report the main child's exit code CODE (or 128+N for signal N) as 0; repeatable",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::ExitZeroOnStop,
        short: None,
        long: "exit-zero-on-stop",
        value: None,
        env: Some("REIN_EXIT_ZERO_ON_STOP"),
        repeatable: false,
        help: "report 0 when the main child dies of a stopping signal rein forwarded (or exits \
               128+it), never when it crashes on its own",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::Pdeathsig,
        short: Some(b'p'),
        long: "pdeathsig",
        value: Some("SIG"),
        env: Some("REIN_PDEATHSIG"),
        repeatable: false,
        help: "when rein's parent dies, act as if SIG had arrived: forward it (after \
               --rewrite), or with --pause stop; not KILL, STOP or CHLD",
        default: None,
        needs: Needs::Nothing,
    },
    Opt {
        key: Key::Pause,
        short: Some(b'P'),
        long: "pause",
        value: None,
        env: Some("REIN_PAUSE"),
        repeatable: false,
        help: "run no PROGRAM: hold the PID namespace and reap; stop (exit 0) on TERM, INT or \
               the --pdeathsig signal",
        default: None,
        needs: Needs::Nothing,
    },
    Opt {
        key: Key::User,
        short: Some(b'u'),
        long: "user",
        value: Some("USER[:GROUP]"),
        env: Some("REIN_USER"),
        repeatable: false,
        help: "run PROGRAM as USER (a name from /etc/passwd or a number) with its primary and \
               supplementary groups, or with exactly GROUP when one is named",
        default: None,
        needs: Needs::Program,
    },
    Opt {
        key: Key::StatusFile,
        short: None,
        long: "status-file",
        value: Some("PATH"),
        env: Some("REIN_STATUS_FILE"),
        repeatable: false,
        help: "write a JSON summary of the run to PATH when rein exits",
        default: None,
        needs: Needs::Nothing,
    },
    Opt {
        key: Key::Verbose,
        short: Some(b'v'),
        long: "verbose",
        value: None,
        env: None,
        repeatable: true,
        help: "log more on stderr: -v info, -vv debug, -vvv trace (REIN_LOG overrides)",
        default: None,
        needs: Needs::Nothing,
    },
    Opt {
        key: Key::Help,
        short: Some(b'h'),
        long: "help",
        value: None,
        env: None,
        repeatable: false,
        help: "print this help and exit",
        default: None,
        needs: Needs::Nothing,
    },
    Opt {
        key: Key::Version,
        short: Some(b'V'),
        long: "version",
        value: None,
        env: None,
        repeatable: false,
        help: "print the version and exit",
        default: None,
        needs: Needs::Nothing,
    },
];

/// The variable that overrides the log level (`-v` has no twin of its own).
pub const LOG_VARIABLE: &str = "REIN_LOG";

/// The row of `key`. Every key has exactly one (a unit test checks it).
pub fn opt(key: Key) -> &'static Opt {
    match OPTIONS.iter().find(|o| o.key == key) {
        Some(o) => o,
        // Unreachable by the table test; the first row keeps this free of a panic.
        None => &OPTIONS[0],
    }
}

/// Every variable rein reads: the options' twins and `REIN_LOG`.
pub fn variables() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().filter_map(|o| o.env).chain([LOG_VARIABLE])
}

/// Whether the environment entry `entry` (`NAME=VALUE`) sets a variable rein reads. rein
/// consumes those: the main child does not see them, so a nested rein does not apply them
/// again. Entries without `=` are no variable to rein and stay.
pub fn is_reins_variable(entry: &[u8]) -> bool {
    entry.starts_with(b"REIN_")
        && variables().any(|v| {
            entry
                .strip_prefix(v.as_bytes())
                .is_some_and(|rest| rest.first() == Some(&b'='))
        })
}

/// Where the help text starts in an option line.
const HELP_COLUMN: usize = 30;
/// The widest line `--help` prints.
const WIDTH: usize = 92;

/// The `--help` text.
pub fn usage() -> String {
    // Built with push_str rather than format!: the help is the one long text rein makes, and
    // this keeps its code small (measured: 1.5 KB less code than the same built with format!).
    let mut out = String::from("rein ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str(
        ": a tiny init for containers. Runs PROGRAM in its own process group,
forwards every signal it receives to that group, reaps every zombie, stops every leftover
process, and exits with PROGRAM's status.

Usage: rein [OPTIONS] [--] PROGRAM [ARGS...]
       rein --pause [OPTIONS]

Options (a flag wins over its variable; for repeatable options, any flag replaces the list):
",
    );
    for o in OPTIONS {
        option_lines(&mut out, o);
    }
    let mut refused =
        String::from("An option that cannot apply is refused (exit 125): with --pause,");
    for o in OPTIONS.iter().filter(|o| o.needs != Needs::Nothing) {
        refused.push_str(" --");
        refused.push_str(o.long);
        refused.push(',');
    }
    refused.pop();
    refused.push_str("; --timeout-signal without --timeout.");
    out.push('\n');
    wrap_into(&mut out, "", refused.split(' '), None, 2);
    out.push_str(
        "
DURATION: 500ms, 2s, 1.5s, 1m, 1h, or a number of seconds. SIG: TERM, SIGTERM, 15, RTMIN+2.

Exit status:
  N        PROGRAM exited with N
  128+N    PROGRAM was killed by signal N
  0        --exit-zero or --exit-zero-on-stop matched, or --pause was stopped
  124      --timeout expired
  125      rein itself failed (bad usage, bad option value, set-up failure, failed fork)
  126      PROGRAM was found but could not be executed (permission, format, EAGAIN)
  127      PROGRAM was not found

Environment:
  REIN_LOG  log filter in env_logger syntax (error, warn, info, debug, trace, off);
            overrides -v. Default: warn. A normal run prints nothing.
  rein removes every variable it reads (REIN_LOG and the twins above) from PROGRAM's
  environment, so a rein run by PROGRAM does not apply them again; all else passes on.
",
    );
    out
}

/// Appends the help lines of one option: names on the left, the wrapped help on the right,
/// ending with the variable and the default in brackets.
fn option_lines(out: &mut String, o: &Opt) {
    let mut names = String::from(if o.short.is_some() { "  -" } else { "      --" });
    if let Some(c) = o.short {
        names.push(char::from(c));
        names.push_str(", --");
    }
    names.push_str(o.long);
    if let Some(v) = o.value {
        names.push(' ');
        names.push_str(v);
    }
    // The bracket is one word: a variable is never split from its default.
    let mut bracket = String::new();
    if let Some(env) = o.env {
        bracket.push_str(env);
        match (o.value, o.repeatable) {
            (None, _) => bracket.push_str("=1"),
            (Some(v), true) => {
                bracket.push('=');
                bracket.push_str(v);
                bracket.push_str(",...");
            }
            (Some(_), false) => {}
        }
    }
    if let Some(d) = o.default {
        if !bracket.is_empty() {
            bracket.push_str("; ");
        }
        bracket.push_str("default ");
        bracket.push_str(d);
    }
    if !bracket.is_empty() {
        bracket.insert(0, '[');
        bracket.push(']');
    }
    if names.len() + 1 >= HELP_COLUMN {
        out.push_str(&names);
        out.push('\n');
        names.clear();
    }
    let tail = (!bracket.is_empty()).then_some(bracket.as_str());
    wrap_into(out, &names, o.help.split(' '), tail, HELP_COLUMN);
}

/// Appends `words` (then `tail`) wrapped to [`WIDTH`], the first line after `first` padded to
/// `indent`, the others indented by `indent`. Empty words (from double spaces) are skipped.
fn wrap_into<'a>(
    out: &mut String,
    first: &str,
    words: impl Iterator<Item = &'a str>,
    tail: Option<&'a str>,
    indent: usize,
) {
    let mut col = first.len();
    out.push_str(first);
    let mut empty = true;
    for word in words.chain(tail).filter(|w| !w.is_empty()) {
        if !empty && col + 1 + word.len() > WIDTH {
            out.push('\n');
            col = 0;
            empty = true;
        }
        let pad = if empty { indent.saturating_sub(col) } else { 1 };
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(word);
        col += pad + word.len();
        empty = false;
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_one_row_and_names_are_unique() {
        let keys = [
            Key::SingleChild,
            Key::Grace,
            Key::KillAfter,
            Key::Timeout,
            Key::TimeoutSignal,
            Key::Rewrite,
            Key::ExitZero,
            Key::ExitZeroOnStop,
            Key::Pdeathsig,
            Key::Pause,
            Key::User,
            Key::StatusFile,
            Key::Verbose,
            Key::Help,
            Key::Version,
        ];
        assert_eq!(keys.len(), OPTIONS.len());
        for k in keys {
            assert_eq!(OPTIONS.iter().filter(|o| o.key == k).count(), 1, "{k:?}");
            assert_eq!(opt(k).key, k);
        }
        for (i, a) in OPTIONS.iter().enumerate() {
            for b in &OPTIONS[i + 1..] {
                assert_ne!(a.long, b.long);
                assert!(a.short.is_none() || a.short != b.short, "{}", a.long);
                assert!(a.env.is_none() || a.env != b.env, "{}", a.long);
            }
        }
    }

    #[test]
    fn usage_lists_every_option_its_variable_and_default_within_the_width() {
        let u = usage();
        for o in OPTIONS {
            assert!(u.contains(&o.flag()), "{}", o.long);
            if let Some(c) = o.short {
                assert!(u.contains(&format!("-{}, --{}", char::from(c), o.long)));
            }
            if let Some(e) = o.env {
                assert!(u.contains(e), "{e}");
            }
            if let Some(d) = o.default {
                assert!(u.contains(&format!("default {d}")), "{}", o.long);
            }
        }
        for line in u.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line:?}");
        }
        assert!(u.contains("\n  -k, --kill-after DURATION   SIGKILL"), "{u}");
        assert!(
            u.contains("\n  -c, --single-child          forward signals"),
            "{u}"
        );
    }

    #[test]
    fn the_readme_tables_name_every_option_and_variable() {
        let readme = include_str!("../README.md");
        for o in OPTIONS {
            let mut spelled = format!("`--{}", o.long);
            if let Some(c) = o.short {
                spelled = format!("`-{}`, {spelled}", char::from(c));
            }
            assert!(readme.contains(&spelled), "README lacks {spelled}");
            if let Some(e) = o.env {
                assert!(readme.contains(&format!("`{e}")), "README lacks {e}");
            }
        }
    }

    #[test]
    fn only_entries_that_set_one_of_reins_variables_are_its_own() {
        for e in [
            &b"REIN_GRACE=1s"[..],
            b"REIN_GRACE=",
            b"REIN_LOG=debug",
            b"REIN_USER=app",
            b"REIN_STATUS_FILE=/x=y",
        ] {
            assert!(is_reins_variable(e), "{}", e.escape_ascii());
        }
        for e in [
            &b"REIN_GRACE"[..],
            b"REIN_GRACEFUL=1",
            b"REIN_TEST_MARK=1",
            b"rein_grace=1",
            b"XREIN_GRACE=1",
            b"REIN_=1",
            b"",
            b"\xffREIN_GRACE=1",
        ] {
            assert!(!is_reins_variable(e), "{}", e.escape_ascii());
        }
        assert_eq!(variables().count(), 13);
    }
}
