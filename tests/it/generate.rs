//! `--generate`: the completion scripts work in their shells and the man
//! page renders. Each check runs the real tool when it is installed and says
//! so when it is not.

use std::io::ErrorKind;
use std::path::Path;
use std::process::{Command as StdCommand, Output};

use crate::support::{smtpcli, text};

/// `smtpcli --generate WHAT`, which must succeed quietly.
fn generate(what: &str) -> String {
    let out = smtpcli().args(["--generate", what]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Runs `program` with `args`, or `None` with a notice when it is not
/// installed.
fn run_if_present(program: &str, args: &[&str], env: &[(&str, &str)]) -> Option<Output> {
    match StdCommand::new(program)
        .args(args)
        .envs(env.iter().copied())
        .output()
    {
        Ok(out) => Some(out),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!("skipped: {program} is not installed");
            None
        }
        Err(e) => panic!("{program}: {e}"),
    }
}

/// What bash's completion offers for the words typed so far: the script
/// sourced, COMP_WORDS and COMP_CWORD set as readline would, the function
/// `complete -p` names called, COMPREPLY printed one per line.
fn bash_complete(script: &Path, words: &[&str]) -> Option<Vec<String>> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source '{script}' || exit 3
spec=$(complete -p smtpcli) || exit 4
fn=$(printf '%s\n' "$spec" | sed -n 's/.*-F \([^ ]*\).*/\1/p')
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$fn" smtpcli "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        script = script.display(),
        words = quoted.join(" "),
    );
    let out = run_if_present("bash", &["--norc", "--noprofile", "-c", &program], &[])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    Some(text(&out.stdout).lines().map(str::to_string).collect())
}

#[test]
fn bash_completes_st_to_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("smtpcli.bash");
    std::fs::write(&script, generate("completions-bash")).unwrap();

    let Some(offered) = bash_complete(&script, &["smtpcli", "--st"]) else {
        return;
    };
    assert_eq!(offered, ["--starttls", "--strict"], "{offered:?}");

    // Values come from the clap definition too.
    let offered = bash_complete(&script, &["smtpcli", "--generate", "co"]).unwrap();
    assert_eq!(
        offered,
        ["completions-bash", "completions-zsh", "completions-fish"],
        "{offered:?}"
    );
    let offered = bash_complete(&script, &["smtpcli", "--color", ""]).unwrap();
    assert_eq!(offered, ["auto", "always", "never"], "{offered:?}");
}

#[test]
fn zsh_and_fish_completions_are_valid_scripts() {
    let dir = tempfile::tempdir().unwrap();
    for (what, shell, check) in [
        ("completions-zsh", "zsh", "-n"),
        ("completions-fish", "fish", "--no-execute"),
    ] {
        let script = generate(what);
        assert!(script.contains("starttls"), "{what}: {script}");
        let path = dir.path().join(what);
        std::fs::write(&path, &script).unwrap();
        let path = path.to_string_lossy();
        if let Some(out) = run_if_present(shell, &[check, &path], &[]) {
            assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
        }
    }
}

/// Drops groff's overstrike bold and underline (`X\bX`, `_\bX`) and ANSI
/// sequences, leaving the text a reader sees.
fn plain(rendered: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    let mut chars = rendered.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{8}' => {
                out.pop();
            }
            '\u{1b}' => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out.into_iter().collect()
}

#[test]
fn the_man_page_renders() {
    let page = generate("man");
    assert!(page.contains(".TH SMTPCLI 1"), "{page}");
    for option in ["starttls", "ehlo", "explain", "generate", "no\\-config"] {
        assert!(
            page.contains(&format!("\\-\\-{option}")),
            "{option}: {page}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smtpcli.1");
    std::fs::write(&path, &page).unwrap();
    let path = path.to_string_lossy();
    let env = [
        ("MANPAGER", "cat"),
        ("MANWIDTH", "100"),
        ("LC_ALL", "C.UTF-8"),
    ];
    // groff with every warning on: a page that renders with none.
    if let Some(out) = run_if_present("groff", &["-man", "-Tutf8", "-ww", &path], &env) {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "groff warns: {}", text(&out.stderr));
    }
    // What `man -l` shows a reader.
    let Some(out) = run_if_present("man", &["-l", &path], &env) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = plain(&text(&out.stdout));
    for needle in [
        "SMTPCLI(1)",
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "--starttls",
        "--generate <WHAT>",
        "completions-bash",
        "FILES",
        "config.toml",
        "$XDG_STATE_HOME/smtpcli/history",
        "--no-history",
        "ENVIRONMENT",
        "SMTPCLI_CONFIG",
        "Exit codes",
    ] {
        assert!(shown.contains(needle), "{needle:?} missing:\n{shown}");
    }
}

#[test]
fn generate_takes_no_other_arguments() {
    let out = smtpcli()
        .args(["--generate", "man", "mail.example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = smtpcli()
        .args(["--generate", "completions-powershell"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("completions-bash"));
}

#[test]
fn generate_ignores_a_broken_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "this is not toml\n").unwrap();
    let out = smtpcli()
        .env("SMTPCLI_CONFIG", &path)
        .args(["--generate", "completions-bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn help_says_where_the_config_file_and_the_history_live() {
    let out = smtpcli().arg("--help").output().unwrap();
    let help = text(&out.stdout);
    for needle in [
        "$XDG_CONFIG_HOME/smtpcli/",
        "config.toml",
        "SMTPCLI_CONFIG",
        "$XDG_STATE_HOME/smtpcli/history",
        "~/.local/state/smtpcli/history",
        "--no-history",
    ] {
        assert!(help.contains(needle), "{needle:?} missing:\n{help}");
    }
}
