//! docs/cli.md's usage block cannot drift from the CLI: every flag it names exists on its
//! subcommand, and every flag of every subcommand (`--help`) appears in its usage line.

mod common;

use std::collections::{BTreeMap, BTreeSet};

fn flags(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts =
            b[i] == b'-' && b[i + 1] == b'-' && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if starts && b[i + 2].is_ascii_lowercase() {
            let end = (i + 2..b.len())
                .find(|&j| !(b[j].is_ascii_alphanumeric() || b[j] == b'-'))
                .unwrap_or(b.len());
            out.insert(text[i..end].trim_end_matches('-').to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// docs/cli.md's usage block: subcommand (`train`, `experiment depth`, …) → its lines.
fn usage_block() -> BTreeMap<String, String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md")).unwrap();
    let start = readme.find("```text\nsteadygrad ").expect("a usage block") + 8;
    let end = start + readme[start..].find("```").unwrap();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut current = String::new();
    for line in readme[start..end].lines() {
        if let Some(rest) = line.strip_prefix("steadygrad ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            current = if words[0] == "experiment" {
                format!("experiment {}", words[1])
            } else {
                words[0].to_string()
            };
        }
        let e = out.entry(current.clone()).or_default();
        e.push_str(line);
        e.push('\n');
    }
    out
}

/// The long flags a subcommand's `--help` lists as options.
fn help_flags(sub: &str) -> BTreeSet<String> {
    let mut args: Vec<&str> = sub.split(' ').collect();
    args.push("--help");
    let (ok, out, err) = common::steadygrad(&args);
    assert!(ok, "{sub} --help: {err}");
    let options: String = out
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            let indent = l.len() - t.len();
            (2..=6).contains(&indent) && (t.starts_with("--") || t.starts_with('-'))
        })
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let mut f = flags(&options);
    f.remove("--help");
    f.remove("--version");
    f
}

/// The subcommands `steadygrad --help` lists (with `experiment`'s own).
fn subcommands() -> Vec<String> {
    let (ok, out, _) = common::steadygrad(&["--help"]);
    assert!(ok);
    let mut subs = Vec::new();
    let mut in_commands = false;
    for line in out.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            let Some(name) = line.split_whitespace().next() else {
                break;
            };
            if !line.starts_with("  ") {
                break;
            }
            match name {
                "help" => {}
                "experiment" => {
                    subs.push("experiment depth".to_string());
                    subs.push("experiment regularization".to_string());
                }
                n => subs.push(n.to_string()),
            }
        }
    }
    subs
}

#[test]
fn the_usage_block_names_every_flag_of_every_subcommand_and_no_other() {
    let block = usage_block();
    let subs = subcommands();
    assert!(subs.len() >= 9, "{subs:?}");
    let train = help_flags("train");
    for sub in &subs {
        let line = block.get(sub).unwrap_or_else(|| {
            panic!("docs/cli.md's usage block has no line for `steadygrad {sub}`")
        });
        let mut listed = flags(line);
        if line.contains("[training and data flags]") {
            listed.extend(help_flags(sub).into_iter().filter(|f| train.contains(f)));
        }
        if line.contains("the same model flags") {
            listed.extend(help_flags(sub).into_iter().filter(|f| train.contains(f)));
        }
        let real = help_flags(sub);
        let missing: Vec<_> = real.difference(&listed).collect();
        let unknown: Vec<_> = listed.difference(&real).collect();
        assert!(
            missing.is_empty(),
            "`steadygrad {sub}`: docs/cli.md omits {missing:?}"
        );
        assert!(
            unknown.is_empty(),
            "`steadygrad {sub}`: docs/cli.md names {unknown:?}, which it does not take"
        );
    }
    for sub in block.keys() {
        assert!(
            subs.contains(sub),
            "docs/cli.md shows `steadygrad {sub}`, which does not exist"
        );
    }
}

#[test]
fn flags_are_read_from_text() {
    let f = flags("[--epochs 5] [--nesterov | --no-nesterov] a-b --x-y, --lr-");
    let want: BTreeSet<String> = ["--epochs", "--nesterov", "--no-nesterov", "--x-y", "--lr"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(f, want);
}

#[test]
fn the_readme_shows_the_quick_start_example_as_it_is() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/examples/quickstart.rs")).unwrap();
    let body = &example[example.find("use steadygrad").unwrap()..];
    assert!(
        readme.contains(&format!("```rust,no_run\n{body}```")),
        "README.md's library quick start differs from examples/quickstart.rs"
    );
}

#[test]
fn the_readme_s_cli_examples_name_only_flags_their_subcommands_take() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("## Using the CLI").expect("a CLI section")..];
    let start = section.find("```sh\n").expect("its examples") + 6;
    let end = start + section[start..].find("```").unwrap();
    let mut seen = 0;
    for line in section[start..end].lines() {
        let rest = line
            .strip_prefix("steadygrad ")
            .expect("a steadygrad command");
        let sub = rest.split_whitespace().next().unwrap();
        let unknown: BTreeSet<String> = flags(rest).difference(&help_flags(sub)).cloned().collect();
        assert!(
            unknown.is_empty(),
            "README: `steadygrad {sub}` does not take {unknown:?}"
        );
        seen += 1;
    }
    assert!(seen >= 5, "{seen} examples");
}
