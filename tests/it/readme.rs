//! README.md and `--help` agree: every long option `--help` lists is in the
//! README, every option the README's option table names exists, and every
//! config file key is documented.

use std::collections::BTreeSet;

use crate::support::{smtpcli, text};

const README: &str = include_str!("../../README.md");

/// Options that exist only in some builds: the README documents them with
/// the cargo feature or platform they need.
fn built(option: &str) -> bool {
    let needs = match option {
        "--demo" => Some(cfg!(feature = "demo")),
        "--unix" => Some(cfg!(unix)),
        _ => None,
    };
    needs.unwrap_or(true)
}

/// Every `--name` at the start of `text` or after a non-name character.
fn long_options(text: &str) -> BTreeSet<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + 2..];
        let len = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
        let name = &after[..len];
        if !before.is_some_and(is_name) && name.starts_with(|c: char| c.is_ascii_lowercase()) {
            found.insert(format!("--{name}"));
        }
        rest = &after[len..];
    }
    found
}

/// The long options `smtpcli --help` lists: the first words of its option
/// lines.
fn help_options() -> BTreeSet<String> {
    let out = smtpcli().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    let mut options = BTreeSet::new();
    for line in help.lines().map(str::trim_start) {
        if !line.starts_with('-') {
            continue;
        }
        for word in line.split_whitespace() {
            let word = word.trim_end_matches(',');
            if let Some(name) = word.strip_prefix("--") {
                let name = name.split(['=', '[', '<']).next().unwrap_or(name);
                options.insert(format!("--{name}"));
            } else if !word.starts_with('-') {
                break;
            }
        }
    }
    assert!(options.contains("--starttls"), "{help}");
    options
}

/// The rows of the README table whose header is `| option | meaning |`.
fn option_table() -> String {
    let start = README
        .find("| option | meaning |")
        .expect("README has an option table");
    README[start..]
        .lines()
        .take_while(|line| line.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_option_in_help_is_in_the_readme() {
    let missing: Vec<String> = help_options()
        .into_iter()
        .filter(|option| {
            let mentioned = README.match_indices(&format!("`{option}")).any(|(at, m)| {
                let next = README[at + m.len()..].chars().next();
                !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            });
            !mentioned
        })
        .collect();
    assert!(
        missing.is_empty(),
        "in --help but not in README.md: {missing:?}"
    );
}

#[test]
fn every_option_in_the_readme_table_is_in_help() {
    let help = help_options();
    let table = option_table();
    let unknown: Vec<String> = long_options(&table)
        .into_iter()
        .filter(|option| built(option) && !help.contains(option))
        .collect();
    assert!(
        unknown.is_empty(),
        "in README.md's option table but not in --help: {unknown:?}"
    );
    // And the table is really the option table.
    assert!(long_options(&table).contains("--starttls"), "{table}");
}

#[test]
fn every_config_key_is_in_the_readme() {
    let missing: Vec<&str> = smtpcli::settings::keys()
        .iter()
        .copied()
        .filter(|key| {
            // In the text, in the example file, or as its table header.
            let forms = [
                format!("`{key}`"),
                format!("\n{key} = "),
                format!("[{key}."),
            ];
            !forms.iter().any(|form| README.contains(form.as_str()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "config keys not in README.md: {missing:?}"
    );
}

#[test]
fn long_options_are_found_in_text() {
    let found = long_options("`--tls-min V`, --tls; a--b not, `--explain CODE…` and --x=1 `-4`");
    let want: BTreeSet<String> = ["--tls-min", "--tls", "--explain", "--x"]
        .map(String::from)
        .into();
    assert_eq!(found, want);
}
