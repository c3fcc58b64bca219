//! What the REPL remembers across sessions, and what it must never keep.
//!
//! History lives in `$XDG_STATE_HOME/smtpcli/history` (on other platforms,
//! the state or local data directory the `directories` crate names), in a
//! directory only the user can enter and a file only the user can read
//! (0700, 0600). Never kept: a line answering a `334` (a SASL response), an
//! `AUTH` line carrying an initial response, message text, a line typed with
//! a leading space (the shell convention for "do not remember this"), and
//! blank lines. The decision is made when a line is sent, when the session
//! state that makes it secret is known, not when it is typed: a pasted line
//! may turn out to be a SASL response or message text only later.

use std::io;
use std::path::{Path, PathBuf};

use crate::session::Input;

/// The history file, if the platform has a place for it.
pub(super) fn path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "smtpcli")?;
    let dir = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(dir.join("history"))
}

/// The entries of the history file, oldest first, for `:history`: the
/// lines rustyline wrote (its `#V2` header left out, its escapes undone).
/// A file that cannot be read is an empty history.
pub(super) fn load(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read(path) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines();
    let mut first = lines.next();
    if first == Some("#V2") {
        first = None;
    }
    first
        .into_iter()
        .chain(lines)
        .map(unescape)
        .filter(|l| !l.is_empty())
        .collect()
}

/// rustyline's escapes in a history line: `\\` and `\n`.
fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Creates the history file's directory, private to the user.
pub(super) fn prepare(path: &Path) -> io::Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes the history file private to the user (rustyline creates it so,
/// but a file left by something else may not be).
pub(super) fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether `line`, classified by the session as `input`, may enter
/// history: a command that carries no credential, or a meta-command; never
/// a SASL response, message text, a blank line, or a line typed with a
/// leading space.
pub(super) fn keep(line: &str, input: &Input<'_>) -> bool {
    if line.starts_with(char::is_whitespace) {
        return false;
    }
    match input {
        Input::Command(typed) => !typed.is_secret(),
        Input::Meta(_) => true,
        _ => false,
    }
}

/// The address of a `MAIL FROM:` or `RCPT TO:` line, for completion:
/// `mail from:<a@example.org> SIZE=10` gives `a@example.org`.
pub(super) fn address(line: &str) -> Option<String> {
    let line = line.trim_start();
    let (verb, rest) = line.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let keyword = match verb.to_ascii_uppercase().as_str() {
        "MAIL" => "FROM:",
        "RCPT" => "TO:",
        _ => return None,
    };
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let address = match rest.strip_prefix('<') {
        Some(inner) => inner.split('>').next().unwrap_or(""),
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    (!address.is_empty() && !address.contains(char::is_control)).then(|| address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::LineRole;

    fn kept(line: &str, role: LineRole) -> bool {
        let input = crate::session::input::classify(
            line.as_bytes(),
            role,
            crate::session::Syntax::Interactive,
            &Default::default(),
        );
        keep(line, &input)
    }

    #[test]
    fn what_never_enters_history() {
        use LineRole::*;
        let table = [
            ("EHLO client.example.org", Command, true),
            ("auth login", Command, true),
            (":caps", Command, true),
            ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", Command, false),
            ("auth   plain   AGFsaWNl", Command, false),
            (" MAIL FROM:<private@example.org>", Command, false),
            ("\tRSET", Command, false),
            ("", Command, false),
            ("   ", Command, false),
            ("# a comment", Command, false),
            ("YWxpY2U=", SaslResponse, false),
            ("Subject: hello", Text, false),
            ("RSET", Dropped, false),
        ];
        for (line, role, want) in table {
            assert_eq!(kept(line, role), want, "{line:?}");
        }
    }

    #[test]
    fn addresses_of_mail_and_rcpt_lines() {
        let table = [
            (
                "mail from:absender@example.org",
                Some("absender@example.org"),
            ),
            ("MAIL FROM:<a@example.org> SIZE=10", Some("a@example.org")),
            ("rcpt to: <b@example.org>", Some("b@example.org")),
            ("RCPT TO:<postmaster>", Some("postmaster")),
            ("MAIL FROM:<>", None),
            ("EHLO example.org", None),
            ("MAIL", None),
            ("mail frim:<x@y>", None),
        ];
        for (line, want) in table {
            assert_eq!(address(line).as_deref(), want, "{line:?}");
        }
    }

    #[test]
    fn the_file_is_read_back_as_rustyline_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history");
        std::fs::write(
            &path,
            "#V2\nEHLO a.example\n:send --body 'a\\\\b'\n\nNOOP\n",
        )
        .unwrap();
        assert_eq!(
            load(&path),
            ["EHLO a.example", ":send --body 'a\\b'", "NOOP"]
        );
        assert!(load(&dir.path().join("none")).is_empty());
    }

    #[test]
    fn the_file_is_in_the_xdg_state_dir() {
        // Only where XDG applies; elsewhere the platform decides.
        if cfg!(target_os = "linux") {
            let path = path().unwrap();
            assert!(path.ends_with("smtpcli/history"), "{}", path.display());
        }
    }
}
