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

use crate::session::{Phase, Status};

/// The history file, if the platform has a place for it.
pub fn path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "smtpcli")?;
    let dir = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(dir.join("history"))
}

/// Creates the history file's directory, private to the user.
pub fn prepare(path: &Path) -> io::Result<()> {
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
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether `line`, sent as a command with the session in `status`, may
/// enter history. (Message text, and lines dropped behind a refused DATA,
/// never reach this question.)
pub fn keep(line: &str, status: &Status) -> bool {
    !(line.trim().is_empty()
        || line.starts_with(char::is_whitespace)
        || status.secret_next
        || status.phase == Phase::Data
        || has_initial_response(line))
}

/// `AUTH MECHANISM RESPONSE`: the third word is a credential.
fn has_initial_response(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words
        .next()
        .is_some_and(|verb| verb.eq_ignore_ascii_case("AUTH"))
        && words.nth(1).is_some()
}

/// The address of a `MAIL FROM:` or `RCPT TO:` line, for completion:
/// `mail from:<a@example.org> SIZE=10` gives `a@example.org`.
pub fn address(line: &str) -> Option<String> {
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

    fn status(phase: Phase, secret_next: bool) -> Status {
        Status {
            host: "h".into(),
            port: 25,
            tls: false,
            authenticated: None,
            phase,
            message_lines: 0,
            greeted: true,
            in_transaction: false,
            secret_next,
        }
    }

    #[test]
    fn what_never_enters_history() {
        let command = status(Phase::Command, false);
        let table = [
            ("EHLO client.example.org", &command, true),
            ("auth login", &command, true),
            (":caps", &command, true),
            ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", &command, false),
            ("auth   plain   AGFsaWNl", &command, false),
            (" MAIL FROM:<private@example.org>", &command, false),
            ("\tRSET", &command, false),
            ("", &command, false),
            ("   ", &command, false),
            ("YWxpY2U=", &status(Phase::Command, true), false),
            ("Subject: hello", &status(Phase::Data, false), false),
            ("RSET", &status(Phase::DroppingText, false), true),
        ];
        for (line, status, want) in table {
            assert_eq!(keep(line, status), want, "{line:?}");
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
    fn the_file_is_in_the_xdg_state_dir() {
        // Only where XDG applies; elsewhere the platform decides.
        if cfg!(target_os = "linux") {
            let path = path().unwrap();
            assert!(path.ends_with("smtpcli/history"), "{}", path.display());
        }
    }
}
