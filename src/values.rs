//! Parsers for option values: durations, timeouts, exit codes, signal rewrites, the
//! parent-death signal and `USER[:GROUP]`.
//! Pure functions of a string, each returning a message that names the bad input, so the fuzz
//! and property tests can throw anything at them.

use std::time::Duration;

use crate::signals;

/// Longest duration accepted anywhere: ten years, so deadline arithmetic can never overflow.
const MAX_DURATION_MS: u64 = 10 * 366 * 24 * 3600 * 1000;

/// Parses `500ms`, `2s`, `1.5s`, `1m`, `1h` or a bare number of seconds (`3`, `0.25`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("invalid duration '{text}' (expected e.g. 500ms, 2s, 1m or a number of seconds)")
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    // The fraction, in units of 1/1000 of the unit: at most three digits count.
    let mut frac_milli: u64 = 0;
    for (i, d) in frac.bytes().enumerate() {
        if i < 3 {
            frac_milli = frac_milli * 10 + u64::from(d - b'0');
        }
    }
    for _ in frac.len()..3 {
        frac_milli *= 10;
    }
    let ms = whole
        .checked_mul(unit_ms)
        .and_then(|w| w.checked_add(frac_milli * unit_ms / 1000))
        .filter(|&ms| ms <= MAX_DURATION_MS)
        .ok_or_else(bad)?;
    Ok(Duration::from_millis(ms))
}

/// Parses `--timeout`: a duration above zero. A timeout of 0 would stop the program before it
/// did anything (coreutils `timeout` reads 0 as "no timeout"); either reading surprises
/// someone, so rein refuses it and no timeout is simply leaving the option out.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!(
            "invalid timeout '{text}' (must be more than 0; leave --timeout out for none)"
        ));
    }
    Ok(d)
}

/// Parses `--pdeathsig`: any signal rein can act on. KILL would end rein itself and orphan
/// the program, STOP would stop rein, and CHLD cannot be told apart from a child's exit.
pub fn parse_pdeathsig(text: &str) -> Result<i32, String> {
    let sig = signals::parse_signal(text)?;
    let why = match sig {
        signals::num::KILL => "would kill rein itself and orphan the program",
        signals::num::STOP => "would stop rein itself",
        signals::num::CHLD => "cannot be told apart from a child's exit",
        _ => return Ok(sig),
    };
    Err(format!(
        "--pdeathsig {} {why}; use TERM, HUP or another signal rein forwards",
        signals::name(sig)
    ))
}

/// Parses an exit code 0..=255.
pub fn parse_exit_code(text: &str) -> Result<u8, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid exit code '{text}' (expected a number 0-255)"
        ));
    }
    t.parse::<u8>()
        .map_err(|_| format!("invalid exit code '{text}' (expected a number 0-255)"))
}

/// Parses `FROM:TO`. `TO` of `0` or `drop` yields `None`: the signal is not forwarded.
pub fn parse_rewrite(text: &str) -> Result<(i32, Option<i32>), String> {
    let (from, to) = text.split_once(':').ok_or_else(|| {
        format!("invalid rewrite '{text}' (expected FROM:TO, e.g. TERM:QUIT or WINCH:drop)")
    })?;
    let from = signals::parse_signal(from)?;
    if !signals::classify(from).forwards() {
        return Err(format!(
            "invalid rewrite '{text}': rein does not forward {} (only signals it forwards can be rewritten)",
            signals::name(from)
        ));
    }
    let to_t = to.trim();
    if to_t == "0" || to_t.eq_ignore_ascii_case("drop") {
        return Ok((from, None));
    }
    Ok((from, Some(signals::parse_signal(to)?)))
}

/// Splits `USER[:GROUP]` into its parts; both must be non-empty. Looking them up is `account.rs`'s
/// job.
pub fn parse_user_spec(text: &str) -> Result<(String, Option<String>), String> {
    let bad =
        || format!("invalid user '{text}' (expected USER or USER:GROUP, as names or numbers)");
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    let ok = |s: &str| !s.is_empty() && !s.contains([':', '\n', '\0']);
    if !ok(user) || group.is_some_and(|g| !ok(g)) {
        return Err(bad());
    }
    Ok((user.to_string(), group.map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        for (t, ms) in [
            ("500ms", 500),
            ("2s", 2000),
            ("1m", 60_000),
            ("1h", 3_600_000),
            ("3", 3000),
            ("0", 0),
            ("0.25", 250),
            ("1.5s", 1500),
            (".5", 500),
            ("2.", 2000),
            ("1.0005s", 1000),
            ("0.5ms", 0),
        ] {
            assert_eq!(parse_duration(t), Ok(Duration::from_millis(ms)), "{t}");
        }
    }

    #[test]
    fn bad_durations_name_the_input() {
        for t in [
            "",
            "abc",
            "1x",
            "-1",
            "1..2",
            ".",
            "s",
            "1 s",
            "99999999999999999999",
            "1e3",
            "100000000h",
        ] {
            let e = parse_duration(t).expect_err(t);
            assert!(e.contains(&format!("'{t}'")), "{e}");
        }
    }

    #[test]
    fn exit_codes_are_0_to_255() {
        assert_eq!(parse_exit_code("0"), Ok(0));
        assert_eq!(parse_exit_code("143"), Ok(143));
        assert_eq!(parse_exit_code("255"), Ok(255));
        for t in ["256", "300", "-1", "", "x", "1.0"] {
            assert!(parse_exit_code(t).is_err(), "{t}");
        }
    }

    #[test]
    fn rewrites_take_names_numbers_and_drop() {
        assert_eq!(parse_rewrite("TERM:QUIT"), Ok((15, Some(3))));
        assert_eq!(parse_rewrite("SIGWINCH:drop"), Ok((28, None)));
        assert_eq!(parse_rewrite("15:0"), Ok((15, None)));
        assert_eq!(parse_rewrite("TSTP:STOP"), Ok((20, Some(19))));
        // A fault's number that a process sent is forwarded, so it can be rewritten.
        assert_eq!(parse_rewrite("SEGV:TERM"), Ok((11, Some(15))));
        for t in [
            "TERM",
            "TERM:",
            ":QUIT",
            "CHLD:TERM",
            "KILL:TERM",
            "TERM:NOPE",
            "STOP:TERM",
        ] {
            assert!(parse_rewrite(t).is_err(), "{t}");
        }
    }

    #[test]
    fn timeouts_are_above_zero() {
        assert_eq!(parse_timeout("1ms"), Ok(Duration::from_millis(1)));
        for t in ["0", "0s", "0.0001", "x"] {
            assert!(parse_timeout(t).is_err(), "{t}");
        }
    }

    #[test]
    fn pdeathsig_refuses_the_signals_rein_cannot_act_on() {
        assert_eq!(parse_pdeathsig("TERM"), Ok(15));
        assert_eq!(parse_pdeathsig("SEGV"), Ok(11));
        assert_eq!(parse_pdeathsig("RTMAX"), Ok(64));
        for (t, name) in [
            ("KILL", "SIGKILL"),
            ("9", "SIGKILL"),
            ("sigstop", "SIGSTOP"),
            ("CLD", "SIGCHLD"),
        ] {
            let e = parse_pdeathsig(t).expect_err(t);
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn user_specs_split_on_one_colon() {
        assert_eq!(parse_user_spec("app"), Ok(("app".into(), None)));
        assert_eq!(
            parse_user_spec("1000:50"),
            Ok(("1000".into(), Some("50".into())))
        );
        for t in ["", ":g", "u:", "a:b:c"] {
            assert!(parse_user_spec(t).is_err(), "{t}");
        }
    }
}
