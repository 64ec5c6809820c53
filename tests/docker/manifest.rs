//! Just enough YAML to read a container's `command`, `args` and `env` from the example
//! manifests in `examples/kubernetes/`, so the tests run what the examples show. Handles block
//! and flow sequences of plain, 'single-quoted' and "double-quoted" (escape-free) scalars,
//! which is all the examples use; anything else fails loudly rather than being misread.

use std::path::Path;

/// One container of a pod spec.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ContainerSpec {
    /// `command` followed by `args`: the argv the container runs.
    pub fn argv(&self) -> Vec<&str> {
        self.command
            .iter()
            .chain(&self.args)
            .map(String::as_str)
            .collect()
    }

    /// `-e NAME=VALUE` options for `docker run`.
    pub fn env_options(&self) -> Vec<String> {
        self.env
            .iter()
            .flat_map(|(k, v)| ["-e".to_owned(), format!("{k}={v}")])
            .collect()
    }
}

/// Reads `examples/kubernetes/<file>`.
pub fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/kubernetes")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The value of the first `key: value` line anywhere in `yaml`.
pub fn scalar(yaml: &str, key: &str) -> Option<String> {
    let prefix = format!("{key}:");
    yaml.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| unquote(v.trim()))
}

/// The container named `name` (a `- name: NAME` item) in `yaml`.
pub fn container(yaml: &str, name: &str) -> ContainerSpec {
    let lines: Vec<&str> = yaml.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no container `- name: {name}`"));
    // The item's keys sit two columns right of its dash, and the item ends at the next line
    // that is not indented past the dash.
    let dash = indent(lines[start]);
    let end = lines[start + 1..]
        .iter()
        .position(|l| !is_blank(l) && indent(l) <= dash)
        .map_or(lines.len(), |p| start + 1 + p);
    let body = &lines[start + 1..end];
    let mut spec = ContainerSpec::default();
    for (i, line) in body.iter().enumerate() {
        if indent(line) != dash + 2 {
            continue;
        }
        let Some((key, rest)) = line.trim().split_once(':') else {
            continue;
        };
        let items = || sequence(rest.trim(), &body[i + 1..], dash + 2);
        match key {
            "command" => spec.command = items(),
            "args" => spec.args = items(),
            "env" => spec.env = env(&body[i + 1..], dash + 2),
            _ => {}
        }
    }
    spec
}

/// A sequence given inline (`[a, "b"]`) or as `- item` lines indented past `key_indent`.
fn sequence(inline: &str, following: &[&str], key_indent: usize) -> Vec<String> {
    if let Some(flow) = inline.strip_prefix('[') {
        let flow = flow.strip_suffix(']').expect("a flow sequence on one line");
        return split_flow(flow).into_iter().map(|s| unquote(&s)).collect();
    }
    assert!(inline.is_empty(), "unsupported sequence: {inline}");
    following
        .iter()
        .take_while(|l| is_blank(l) || indent(l) > key_indent)
        .filter(|l| !is_blank(l))
        .map(|l| {
            let item = l.trim().strip_prefix("- ").expect("a `- item` line");
            unquote(item.trim())
        })
        .collect()
}

/// `- name: N` / `value: V` pairs indented past `key_indent`.
fn env(following: &[&str], key_indent: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in following
        .iter()
        .take_while(|l| is_blank(l) || indent(l) > key_indent)
    {
        let t = line.trim().trim_start_matches("- ");
        if let Some(n) = t.strip_prefix("name:") {
            out.push((unquote(n.trim()), String::new()));
        } else if let Some(v) = t.strip_prefix("value:") {
            out.last_mut().expect("`value:` after `name:`").1 = unquote(v.trim());
        }
    }
    out
}

/// Splits `a, "b, c", 'd'` at the commas outside quotes.
fn split_flow(text: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut quote = None;
    for ch in text.chars() {
        match (quote, ch) {
            (None, ',') => items.push(String::new()),
            (None, '"' | '\'') => {
                quote = Some(ch);
                items.last_mut().unwrap().push(ch);
            }
            (Some(q), c) if c == q => {
                quote = None;
                items.last_mut().unwrap().push(ch);
            }
            _ => items.last_mut().unwrap().push(ch),
        }
    }
    items.iter().map(|s| s.trim().to_owned()).collect()
}

fn unquote(text: &str) -> String {
    if let Some(s) = text.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        s.replace("''", "'")
    } else if let Some(s) = text.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        assert!(!s.contains('\\'), "escapes are not supported: {text}");
        s.to_owned()
    } else {
        assert!(
            !text.starts_with(['|', '>', '&', '*', '{']),
            "unsupported YAML scalar: {text}"
        );
        text.to_owned()
    }
}

#[test]
fn reads_block_and_flow_sequences_and_env() {
    let yaml = "\
spec:
  containers:
    - name: a
      command: [\"/rein\", '--', x]
      args:
        - sh
        # a comment
        - 'echo ''hi'', there'
      env:
        - name: K
          value: \"1s\"
    - name: b
      command:
        - true
";
    let a = container(yaml, "a");
    assert_eq!(a.argv(), ["/rein", "--", "x", "sh", "echo 'hi', there"]);
    assert_eq!(a.env, [("K".to_owned(), "1s".to_owned())]);
    assert_eq!(container(yaml, "b").argv(), ["true"]);
}
