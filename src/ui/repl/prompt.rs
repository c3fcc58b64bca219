//! The prompt: where the session is, at a glance.
//!
//! `host:port`, then what is true now: `tls` once the connection is
//! encrypted (`tls?`, in the warning colour, when its certificate is not
//! trusted), the authenticated user (or `auth` when the AUTH line was typed
//! raw), `DATA n` inside a message with the number of lines sent so far,
//! `secret` when the next line answers a `334` (and is masked), `closed`
//! once the connection is gone. Built from the engine's [`Status`] before
//! each prompt, never updated while one is up.

use crate::session::{Phase, Status};
use crate::text::escape_str;
use crate::ui::theme::{Role, Theme};

/// A prompt as rustyline takes it: the plain text (for its width) and the
/// same text painted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Prompt {
    /// Without colour.
    pub raw: String,
    /// With colour, when the theme has any.
    pub styled: String,
}

impl Prompt {
    fn push(&mut self, theme: &Theme, role: Role, text: &str) {
        self.raw.push_str(text);
        self.styled.push_str(&theme.paint(role, text));
    }
}

/// The prompt for `status`.
pub(super) fn prompt(status: &Status, theme: &Theme) -> Prompt {
    let mut prompt = Prompt::default();
    let host = escape_str(&status.host);
    let host = if host.contains(':') {
        format!("[{host}]:{}", status.port)
    } else {
        format!("{host}:{}", status.port)
    };
    prompt.push(theme, Role::Strong, &host);
    if status.phase == Phase::Closed {
        prompt.push(theme, Role::Plain, " ");
        prompt.push(theme, Role::Class(5), "closed");
        prompt.push(theme, Role::Plain, "> ");
        return prompt;
    }
    if status.tls && status.tls_trusted {
        prompt.push(theme, Role::Plain, " ");
        prompt.push(theme, Role::Class(2), "tls");
    } else if status.tls {
        // Encrypted, but to whom is not known: the TLS report said why.
        prompt.push(theme, Role::Plain, " ");
        prompt.push(theme, Role::Class(4), "tls?");
    }
    if let Some(user) = &status.authenticated {
        let user = user.as_deref().map_or("auth".to_string(), escape_str);
        prompt.push(theme, Role::Plain, " ");
        prompt.push(theme, Role::Class(2), &user);
    }
    if status.phase == Phase::Data {
        prompt.push(theme, Role::Plain, " ");
        prompt.push(
            theme,
            Role::Class(3),
            &format!("DATA {}", status.message_lines),
        );
    }
    if status.secret_next {
        prompt.push(theme, Role::Plain, " ");
        prompt.push(theme, Role::Class(4), "secret");
    }
    prompt.push(theme, Role::Plain, "> ");
    prompt
}

/// A reply slower than this shows its latency in the prompt (with timing
/// on).
pub(super) const SLOW: std::time::Duration = std::time::Duration::from_secs(1);

/// `prompt` with the last reply's latency before its `> ` (`1.2 s`), when
/// there is one to show.
pub(super) fn with_latency(
    mut prompt: Prompt,
    latency: Option<std::time::Duration>,
    theme: &Theme,
) -> Prompt {
    let Some(latency) = latency else {
        return prompt;
    };
    let end = |p: &mut String| {
        if p.ends_with("> ") {
            p.truncate(p.len() - 2);
        }
    };
    end(&mut prompt.raw);
    end(&mut prompt.styled);
    prompt.push(theme, Role::Plain, " ");
    prompt.push(
        theme,
        Role::Class(4),
        &format!("{:.1} s", latency.as_secs_f64()),
    );
    prompt.push(theme, Role::Plain, "> ");
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        Status {
            host: "mail.example.org".into(),
            port: 587,
            tls: false,
            tls_trusted: false,
            authenticated: None,
            phase: Phase::Command,
            message_lines: 0,
            greeted: true,
            in_transaction: false,
            secret_next: false,
        }
    }

    #[test]
    fn what_the_prompt_says() {
        let plain = Theme::new(false);
        let mut s = status();
        assert_eq!(prompt(&s, &plain).raw, "mail.example.org:587> ");
        s.tls = true;
        assert_eq!(prompt(&s, &plain).raw, "mail.example.org:587 tls?> ");
        s.tls_trusted = true;
        s.authenticated = Some(Some("alice".into()));
        assert_eq!(prompt(&s, &plain).raw, "mail.example.org:587 tls alice> ");
        s.authenticated = Some(None);
        s.phase = Phase::Data;
        s.message_lines = 3;
        assert_eq!(
            prompt(&s, &plain).raw,
            "mail.example.org:587 tls auth DATA 3> "
        );
        s.phase = Phase::Command;
        s.secret_next = true;
        assert_eq!(
            prompt(&s, &plain).raw,
            "mail.example.org:587 tls auth secret> "
        );
        s.phase = Phase::Closed;
        assert_eq!(prompt(&s, &plain).raw, "mail.example.org:587 closed> ");
        s.host = "::1".into();
        assert_eq!(prompt(&s, &plain).raw, "[::1]:587 closed> ");
    }

    #[test]
    fn a_slow_reply_shows_in_the_prompt() {
        let plain = Theme::new(false);
        let p = prompt(&status(), &plain);
        let slow = with_latency(
            p.clone(),
            Some(std::time::Duration::from_millis(1530)),
            &plain,
        );
        assert_eq!(slow.raw, "mail.example.org:587 1.5 s> ");
        assert_eq!(with_latency(p.clone(), None, &plain), p);
        let coloured = with_latency(
            prompt(&status(), &Theme::new(true)),
            Some(std::time::Duration::from_secs(2)),
            &Theme::new(true),
        );
        assert_eq!(coloured.raw, "mail.example.org:587 2.0 s> ");
    }

    #[test]
    fn colour_does_not_change_the_text() {
        let mut s = status();
        s.tls = true;
        s.tls_trusted = true;
        let coloured = prompt(&s, &Theme::new(true));
        assert_eq!(coloured.raw, "mail.example.org:587 tls> ");
        assert!(
            coloured.styled.contains("\x1b[32mtls\x1b[0m"),
            "{coloured:?}"
        );
        let plain = prompt(&s, &Theme::new(false));
        assert_eq!(plain.styled, plain.raw);
    }
}
