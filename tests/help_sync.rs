//! The man page (`packaging/rein.1`) and the README's options table name exactly the long
//! options and `REIN_*` variables that `rein --help` names: every one of them, and nothing
//! else. The list comes from the real `--help` output, so an option added to rein fails this
//! test until both documents describe it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Every `--long-option` and `REIN_VARIABLE` in `text`. A bare `--` (end of options) is not an
/// option, nor is a `--` inside a word (`x--y`).
fn names(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let run = |from: usize, ok: fn(&u8) -> bool| {
        &text[from..from + b[from..].iter().take_while(|c| ok(c)).count()]
    };
    let mut out = BTreeSet::new();
    for i in 0..b.len() {
        let prev = i.checked_sub(1).map(|p| b[p]);
        if b[i..].starts_with(b"--")
            && !prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == b'-')
        {
            let name = run(i + 2, |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-'
            });
            if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                out.insert(format!("--{}", name.trim_end_matches('-')));
            }
        }
        if b[i..].starts_with(b"REIN_")
            && !prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == b'_')
        {
            let name = run(i, |c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_'
            });
            let name = name.trim_end_matches('_');
            if name.len() > "REIN_".len() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

fn help() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rein"))
        .arg("--help")
        .output()
        .expect("run rein --help");
    assert!(out.status.success(), "rein --help failed: {out:?}");
    String::from_utf8(out.stdout).expect("--help is UTF-8")
}

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of the man page's sections `wanted`, with roff's escapes and font changes turned
/// back into plain text (`\-` is a minus, `\fB`...`\fR` switch fonts, `\&` is nothing).
fn man_sections(page: &str, wanted: &[&str]) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in page.lines() {
        if let Some(title) = line.strip_prefix(".SH ") {
            inside = wanted.contains(&title.trim_matches('"'));
            continue;
        }
        if !inside || line.starts_with(".\\\"") {
            continue;
        }
        let mut text = line.replace("\\-", "-").replace("\\&", "");
        for font in ["\\fB", "\\fI", "\\fR", "\\fP"] {
            text = text.replace(font, "");
        }
        // Macro lines (`.BR`, `.TP`) keep their arguments; the macro name is not text.
        let text = match text.strip_prefix('.') {
            Some(rest) => rest
                .split_once(' ')
                .map_or("", |(_, args)| args)
                .to_string(),
            None => text,
        };
        out.push_str(&text.replace('"', " "));
        out.push('\n');
    }
    assert!(!out.is_empty(), "no section {wanted:?} in the man page");
    out
}

/// The rows of the README's options table: the table after the `### Options` heading.
fn readme_options_table(readme: &str) -> String {
    let after = readme
        .split_once("\n### Options\n")
        .expect("README has a '### Options' section")
        .1;
    let rows: Vec<&str> = after
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() > 2, "no options table under '### Options'");
    rows.join("\n")
}

fn diff(doc: &str, help: &BTreeSet<String>, got: &BTreeSet<String>) {
    let missing: Vec<&String> = help.difference(got).collect();
    let extra: Vec<&String> = got.difference(help).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{doc} is out of sync with `rein --help`:\n  named by --help, missing from {doc}: \
         {missing:?}\n  named by {doc}, unknown to --help: {extra:?}"
    );
}

#[test]
fn the_parser_finds_options_and_variables_but_not_the_end_of_options() {
    let got = names("rein [--] --grace 5s [REIN_GRACE; default] x--y REIN_ -- `--pause`, XREIN_A");
    let want: BTreeSet<String> = ["--grace", "--pause", "REIN_GRACE"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn help_names_options_and_variables() {
    let help = names(&help());
    // A sanity floor, not the list: if --help stopped naming options, the checks below would
    // compare empty sets.
    assert!(
        help.iter().filter(|n| n.starts_with("--")).count() >= 10,
        "{help:?}"
    );
    assert!(
        help.iter().filter(|n| n.starts_with("REIN_")).count() >= 10,
        "{help:?}"
    );
}

#[test]
fn the_man_page_names_every_option_and_variable_of_help_and_no_other() {
    let page = read("packaging/rein.1");
    diff(
        "rein.1 (OPTIONS, ENVIRONMENT)",
        &names(&help()),
        &names(&man_sections(&page, &["OPTIONS", "ENVIRONMENT"])),
    );
}

#[test]
fn the_readme_options_table_names_every_option_and_variable_of_help_and_no_other() {
    let readme = read("README.md");
    diff(
        "README.md's options table",
        &names(&help()),
        &names(&readme_options_table(&readme)),
    );
}
