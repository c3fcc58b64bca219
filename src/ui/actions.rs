//! What a meta-command does, for every driver.
//!
//! The script driver and the REPL parse `:` lines the same way
//! ([`super::meta`]) and run them here, so `:caps` or `:expect` cannot
//! behave one way in a script and another at the prompt. What differs is
//! left to the driver: how a mistyped command is treated (fatal in a
//! script, a note at the prompt) and what `:reconnect` means.

use super::Output;
use super::explain;
use super::meta::Meta;
use super::theme::Theme;
use crate::session::{Session, SessionError};

/// What the driver does after a meta-command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on reading lines.
    Continue,
    /// The session is over (`:quit`).
    Stop,
    /// Open a new connection to the same server (`:reconnect`): the driver
    /// decides whether it can.
    Reconnect,
}

/// Runs one parsed meta-command against the session.
pub async fn run_meta<O: Output>(
    session: &mut Session<O>,
    meta: Meta,
) -> Result<Flow, SessionError> {
    match meta {
        Meta::Expect(expected) => {
            session.expect(expected);
        }
        Meta::Explain(args) => {
            let lines = explain_lines(&args);
            session.sink().info(&lines);
        }
        Meta::Help(topic) => match super::meta::help(topic.as_deref()) {
            Ok(lines) => session.sink().info(&lines),
            Err(e) => session.sink().info(&[e.to_string()]),
        },
        Meta::Caps => {
            let lines = match session.capabilities() {
                Some(caps) => caps
                    .list
                    .iter()
                    .map(|c| format!("{:<20} {}", c.to_string(), c.description()))
                    .collect(),
                None => vec!["no capabilities known: send EHLO first".to_string()],
            };
            session.sink().info(&lines);
        }
        Meta::Timing(on) => session.sink().set_timing(on),
        Meta::Hex(on) => session.sink().set_hex(on),
        Meta::Tls => {
            let lines = tls_lines(session.status().tls);
            session.sink().info(&lines);
        }
        Meta::Reconnect => return Ok(Flow::Reconnect),
        Meta::Quit => {
            session.quit().await?;
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

/// `:tls`. The TLS report is not wired into this layer yet; a plain
/// connection says so.
fn tls_lines(tls: bool) -> Vec<String> {
    if tls {
        vec!["the connection is TLS; this build cannot show the TLS report yet".to_string()]
    } else {
        vec!["not connected over TLS".to_string()]
    }
}

/// `:explain`: the offline explainer's text, plain, as info lines.
fn explain_lines(args: &[String]) -> Vec<String> {
    match explain::parse_args(args) {
        Ok(items) => {
            let mut text = Vec::new();
            // Plain: the output paints the lines as notes.
            let plain = Theme::new(false);
            let explainer = explain::Explainer::new(&plain, 76);
            if explainer.items(&items, &mut text).is_err() {
                return Vec::new();
            }
            String::from_utf8_lossy(&text)
                .lines()
                .map(str::to_string)
                .collect()
        }
        Err(e) => vec![e.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_on_a_plain_connection() {
        assert_eq!(tls_lines(false), ["not connected over TLS"]);
    }

    #[test]
    fn explain_gives_lines_or_the_error() {
        let lines = explain_lines(&["550".to_string()]);
        assert!(lines.iter().any(|l| l.contains("550")), "{lines:?}");
        let bad = explain_lines(&["5x0x".to_string()]);
        assert_eq!(bad.len(), 1, "{bad:?}");
    }
}
