//! `:export swaks|curl`: the session so far as one command that does it
//! again, for a ticket or a colleague.
//!
//! The [`Recorder`] follows what went out (typed lines and helpers alike):
//! the EHLO name, STARTTLS, the AUTH mechanism, and the last transaction's
//! envelope and message. [`command`] turns that into a swaks or curl
//! command line with the message piped in through `printf`. Secrets never
//! appear: the password is `"$SMTP_PASSWORD"` (and a user typed raw in an
//! AUTH line `"$SMTP_USER"`), left for the shell to fill in. The script
//! form is `:save`'s text, made by the helpers.

use std::path::PathBuf;

use crate::proto::command::Command;

/// The message text of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Lines as sent (typed, or split from a message built or edited).
    Lines(Vec<String>),
    /// A file sent with `:data` or `:bdat`.
    File(PathBuf),
}

/// One transaction: envelope and message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Transaction {
    /// The reverse path (empty: `<>`).
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) body: Option<Body>,
}

/// What `:export` knows about the session.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    /// STARTTLS was asked for (typed or `:starttls`).
    pub(crate) starttls: bool,
    /// The SASL mechanism of the last AUTH.
    pub(crate) mechanism: Option<String>,
    /// The transaction under way.
    current: Option<Transaction>,
    /// The last transaction whose message went out.
    last: Option<Transaction>,
}

impl Recorder {
    /// A command that went out (typed, or sent by a helper).
    pub(crate) fn command(&mut self, command: &Command) {
        match command {
            Command::Mail { reverse_path, .. } => {
                self.current = Some(Transaction {
                    from: reverse_path.clone(),
                    ..Transaction::default()
                });
            }
            Command::Rcpt { forward_path, .. } => {
                if let Some(t) = self.current.as_mut() {
                    t.to.push(forward_path.clone());
                }
            }
            Command::Rset => self.current = None,
            Command::StartTls => self.starttls = true,
            Command::Auth { mechanism, .. } => self.mechanism = Some(mechanism.clone()),
            _ => {}
        }
    }

    /// A line of message text typed after `354`; the lone `.` ends it.
    pub(crate) fn text(&mut self, line: &str) {
        let Some(t) = self.current.as_mut() else {
            return;
        };
        if line == "." {
            self.finish();
            return;
        }
        // As typed: the engine dot-stuffs on the wire, and so will the tool.
        match &mut t.body {
            Some(Body::Lines(lines)) => lines.push(line.to_string()),
            _ => t.body = Some(Body::Lines(vec![line.to_string()])),
        }
    }

    /// A whole message sent at once (`:send`, `:edit`, `:data FILE`).
    pub(crate) fn message(&mut self, body: Body) {
        if let Some(t) = self.current.as_mut() {
            t.body = Some(body);
        }
        self.finish();
    }

    /// `:send`: the envelope and the message it built.
    pub(crate) fn sent(&mut self, from: &str, to: &[String], message: &[u8]) {
        self.current = Some(Transaction {
            from: from.to_string(),
            to: to.to_vec(),
            body: None,
        });
        self.message(Body::Lines(lines_of(message)));
    }

    fn finish(&mut self) {
        if let Some(t) = self.current.take() {
            self.last = Some(t);
        }
    }

    /// The transaction to export: the last one sent, else the one under
    /// way (its envelope only).
    fn transaction(&self) -> Option<&Transaction> {
        self.last.as_ref().or(self.current.as_ref())
    }
}

/// Message bytes as lines, CRLF or LF, without the line endings.
pub(crate) fn lines_of(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect()
}

/// What the session is, for the command line.
pub(crate) struct Facts<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// TLS from the first byte (`--tls`).
    pub(crate) implicit_tls: bool,
    /// TLS by STARTTLS.
    pub(crate) starttls: bool,
    /// The certificate did not verify: curl needs `--insecure`.
    pub(crate) untrusted: bool,
    pub(crate) ehlo: Option<&'a str>,
    /// AUTH succeeded: the user if known (else a placeholder), the
    /// mechanism if known.
    pub(crate) auth: Option<(Option<&'a str>, Option<&'a str>)>,
    pub(crate) lmtp: bool,
}

/// The placeholder for the password.
pub(crate) const PASSWORD: &str = "\"$SMTP_PASSWORD\"";
/// The placeholder for a user that was typed raw (in base64) and is not known.
const USER: &str = "\"$SMTP_USER\"";

/// A shell word.
fn quote(word: &str) -> String {
    shlex::try_quote(word)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", word.replace('\0', "").replace('\'', r"'\''")))
}

/// The `printf … |` that feeds the message, or the file's name for the
/// tool's own option.
fn feed(body: &Body, ending: &str) -> String {
    let Body::Lines(lines) = body else {
        return String::new();
    };
    // A tab or another control character cannot be shown (the screen
    // escapes it) nor pasted: such a message goes through printf's %b,
    // with the character written as an escape %b reads back.
    let raw = lines
        .iter()
        .any(|l| l.contains('\\') || l.chars().any(char::is_control));
    let (conversion, words): (&str, Vec<String>) = if raw {
        ("%b", lines.iter().map(|l| quote(&b_escaped(l))).collect())
    } else {
        ("%s", lines.iter().map(|l| quote(l)).collect())
    };
    let format = if ending.starts_with("\\r") {
        format!("{conversion}{ending}")
    } else {
        // swaks ends the data with its own line break: no break after the
        // last line for it, or the message would grow an empty line.
        vec![conversion; lines.len()].join(ending)
    };
    format!("printf '{format}' {} |", words.join(" "))
}

/// A line as printf's `%b` reads it back: backslashes doubled, control
/// characters as `\0ooo`.
fn b_escaped(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x100 => {
                out.push_str(&format!("\\0{:03o}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// `:export swaks` or `:export curl` (`curl` false: swaks): the lines of
/// one command (continued with `\`), then notes on what it cannot carry.
pub(crate) fn command(facts: &Facts<'_>, recorder: &Recorder, curl: bool) -> Vec<String> {
    let transaction = recorder.transaction();
    if curl {
        curl_command(facts, transaction)
    } else {
        swaks_command(facts, transaction)
    }
}

fn host_in_url(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn swaks_command(facts: &Facts<'_>, t: Option<&Transaction>) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    let mut head = String::new();
    if let Some(Body::Lines(_)) = t.and_then(|t| t.body.as_ref())
        && let Some(body) = t.and_then(|t| t.body.as_ref())
    {
        head = feed(body, "\\n");
        head.push(' ');
    }
    head.push_str("swaks");
    groups.push(head);
    groups.push(format!(
        "--server {} --port {}",
        quote(facts.host),
        facts.port
    ));
    if facts.lmtp {
        groups.push("--protocol LMTP".to_string());
    }
    if let Some(ehlo) = facts.ehlo {
        groups.push(format!("--ehlo {}", quote(ehlo)));
    }
    if facts.implicit_tls {
        groups.push("--tls-on-connect".to_string());
    } else if facts.starttls {
        groups.push("--tls".to_string());
    }
    if let Some((user, mechanism)) = facts.auth {
        let mut auth = String::from("--auth");
        if let Some(m) = mechanism {
            auth.push(' ');
            auth.push_str(&quote(m));
        }
        // swaks has no XOAUTH2: say so rather than print a command that fails.
        if mechanism.is_some_and(|m| m.eq_ignore_ascii_case("XOAUTH2")) {
            return vec!["# swaks cannot authenticate with XOAUTH2: try :export curl".to_string()];
        }
        let user = user.map_or(USER.to_string(), quote);
        groups.push(format!(
            "{auth} --auth-user {user} --auth-password {PASSWORD}"
        ));
    }
    match t {
        Some(t) => {
            groups.push(format!("--from {}", quote(swaks_sender(&t.from))));
            let to = if t.to.is_empty() {
                "postmaster".to_string()
            } else {
                t.to.join(",")
            };
            groups.push(format!("--to {}", quote(&to)));
            match &t.body {
                Some(Body::Lines(_)) => groups.push("--data -".to_string()),
                Some(Body::File(path)) => {
                    groups.push(format!("--data {}", quote(&format!("@{}", path.display()))));
                }
                None => groups.push("--quit-after RCPT".to_string()),
            }
        }
        None => {
            let stage = if facts.auth.is_some() {
                "AUTH"
            } else if facts.starttls || facts.implicit_tls {
                "TLS"
            } else {
                "EHLO"
            };
            groups.push(format!("--to postmaster --quit-after {stage}"));
        }
    }
    continued(groups)
}

/// swaks reads `--from ''` as "ask"; the null sender is `<>`.
fn swaks_sender(from: &str) -> &str {
    if from.is_empty() { "<>" } else { from }
}

fn curl_command(facts: &Facts<'_>, t: Option<&Transaction>) -> Vec<String> {
    let Some(t) = t.filter(|t| !t.to.is_empty()) else {
        return vec![
            "# nothing to export for curl yet: it needs a transaction (MAIL and RCPT); \
             :export swaks can stop after EHLO"
                .to_string(),
        ];
    };
    if facts.lmtp {
        return vec!["# curl does not speak LMTP: try :export swaks".to_string()];
    }
    let mut groups: Vec<String> = Vec::new();
    let mut head = String::new();
    if let Some(body @ Body::Lines(_)) = &t.body {
        head = feed(body, "\\r\\n");
        head.push(' ');
    }
    head.push_str("curl");
    groups.push(head);
    let scheme = if facts.implicit_tls { "smtps" } else { "smtp" };
    let ehlo = facts.ehlo.map(|e| format!("/{e}")).unwrap_or_default();
    groups.push(format!(
        "--url {}",
        quote(&format!(
            "{scheme}://{}:{}{ehlo}",
            host_in_url(facts.host),
            facts.port
        ))
    ));
    if facts.starttls && !facts.implicit_tls {
        groups.push("--ssl-reqd".to_string());
    }
    if (facts.starttls || facts.implicit_tls) && facts.untrusted {
        groups.push("--insecure".to_string());
    }
    if let Some((user, mechanism)) = facts.auth {
        let user = user.map_or("$SMTP_USER".to_string(), shell_double);
        if mechanism.is_some_and(|m| m.eq_ignore_ascii_case("XOAUTH2")) {
            // A token, not a password: curl sends it with AUTH XOAUTH2.
            groups.push(format!(
                "--user \"{user}\" --oauth2-bearer \"$SMTP_TOKEN\" --login-options AUTH=XOAUTH2"
            ));
        } else {
            let mut auth = format!("--user \"{user}:$SMTP_PASSWORD\"");
            if let Some(m) = mechanism {
                auth.push_str(&format!(" --login-options {}", quote(&format!("AUTH={m}"))));
            }
            groups.push(auth);
        }
    }
    groups.push(format!("--mail-from {}", quote(&t.from)));
    let rcpts: Vec<String> =
        t.to.iter()
            .map(|r| format!("--mail-rcpt {}", quote(r)))
            .collect();
    groups.push(rcpts.join(" "));
    match &t.body {
        Some(Body::Lines(_)) => groups.push("--upload-file -".to_string()),
        Some(Body::File(path)) => {
            groups.push(format!(
                "--crlf --upload-file {}",
                quote(&path.to_string_lossy())
            ));
        }
        None => groups.push("--upload-file /dev/null".to_string()),
    }
    continued(groups)
}

/// Text inside double quotes in a shell.
fn shell_double(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The groups as lines of one command, each but the last ending in ` \`.
fn continued(groups: Vec<String>) -> Vec<String> {
    let n = groups.len();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let indent = if i == 0 { "" } else { "  " };
            if i + 1 < n {
                format!("{indent}{g} \\")
            } else {
                format!("{indent}{g}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            host: "127.0.0.1",
            port: 2525,
            implicit_tls: false,
            starttls: true,
            untrusted: true,
            ehlo: Some("pc0815.example.com"),
            auth: Some((Some("alice"), Some("PLAIN"))),
            lmtp: false,
        }
    }

    fn typed_session() -> Recorder {
        let mut r = Recorder::default();
        r.command(&Command::StartTls);
        r.command(&Command::Auth {
            mechanism: "PLAIN".into(),
            initial_response: None,
        });
        r.command(&Command::Mail {
            reverse_path: "a@example.org".into(),
            params: vec![],
        });
        for to in ["b@example.org", "c@example.org"] {
            r.command(&Command::Rcpt {
                forward_path: to.into(),
                params: vec![],
            });
        }
        r.text("Subject: it's a test");
        r.text("");
        r.text(".leading dot");
        r.text(".");
        r
    }

    #[test]
    fn swaks_form_with_placeholders() {
        let lines = command(&facts(), &typed_session(), false);
        assert_eq!(
            lines,
            [
                r#"printf '%s\n%s\n%s' "Subject: it's a test" '' '.leading dot' | swaks \"#,
                "  --server 127.0.0.1 --port 2525 \\",
                "  --ehlo pc0815.example.com \\",
                "  --tls \\",
                "  --auth PLAIN --auth-user alice --auth-password \"$SMTP_PASSWORD\" \\",
                "  --from a@example.org \\",
                "  --to 'b@example.org,c@example.org' \\",
                "  --data -",
            ]
        );
    }

    #[test]
    fn curl_form_with_placeholders() {
        let lines = command(&facts(), &typed_session(), true);
        let text = lines.join("\n");
        assert!(lines[0].starts_with("printf '%s\\r\\n' "), "{text}");
        assert!(
            text.contains("--url smtp://127.0.0.1:2525/pc0815.example.com"),
            "{text}"
        );
        assert!(text.contains("--ssl-reqd"), "{text}");
        assert!(text.contains("--insecure"), "{text}");
        assert!(
            text.contains("--user \"alice:$SMTP_PASSWORD\" --login-options 'AUTH=PLAIN'"),
            "{text}"
        );
        assert!(text.contains("--mail-rcpt b@example.org --mail-rcpt c@example.org"));
        assert!(text.ends_with("--upload-file -"), "{text}");
    }

    #[test]
    fn no_transaction_yet() {
        let mut f = facts();
        f.auth = None;
        let r = Recorder::default();
        let swaks = command(&f, &r, false).join("\n");
        assert!(
            swaks.ends_with("--to postmaster --quit-after TLS"),
            "{swaks}"
        );
        let curl = command(&f, &r, true);
        assert!(curl[0].starts_with("# nothing to export"), "{curl:?}");
    }

    #[test]
    fn a_raw_auth_user_is_a_placeholder_and_the_null_sender_stays_null() {
        let mut f = facts();
        f.auth = Some((None, None));
        let mut r = Recorder::default();
        r.sent("", &["b@example.org".into()], b"Subject: x\r\n\r\nbody\r\n");
        let swaks = command(&f, &r, false).join("\n");
        assert!(
            swaks.contains("--auth --auth-user \"$SMTP_USER\""),
            "{swaks}"
        );
        assert!(swaks.contains("--from '<>'"), "{swaks}");
        let curl = command(&f, &r, true).join("\n");
        assert!(
            curl.contains("--user \"$SMTP_USER:$SMTP_PASSWORD\""),
            "{curl}"
        );
        assert!(curl.contains("--mail-from ''"), "{curl}");
        assert!(
            curl.starts_with("printf '%s\\r\\n' 'Subject: x' '' body |"),
            "{curl}"
        );
    }

    #[test]
    fn xoauth2_exports_a_token_placeholder_for_curl_only() {
        let mut f = facts();
        f.auth = Some((Some("alice@example.org"), Some("XOAUTH2")));
        let curl = command(&f, &typed_session(), true).join("\n");
        assert!(
            curl.contains("--user \"alice@example.org\" --oauth2-bearer \"$SMTP_TOKEN\""),
            "{curl}"
        );
        let swaks = command(&f, &typed_session(), false);
        assert!(
            swaks[0].contains("cannot authenticate with XOAUTH2"),
            "{swaks:?}"
        );
    }

    #[test]
    fn tabs_and_backslashes_go_through_printf_b() {
        let mut r = Recorder::default();
        r.sent(
            "a@example.org",
            &["b@example.org".into()],
            b"Subject: x\r\nX-Folded: a\r\n\tb\r\n\r\nC:\\path\r\n",
        );
        let curl = command(&facts(), &r, true);
        // What the screen shows is what was meant: no control character.
        assert!(!curl[0].contains('\t'), "{curl:?}");
        assert!(curl[0].starts_with("printf '%b\\r\\n' "), "{curl:?}");
        // And the shell prints the message back byte for byte.
        if cfg!(not(unix)) {
            return;
        }
        let printf = curl[0].strip_suffix(" | curl \\").expect("the printf");
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(printf)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Subject: x\r\nX-Folded: a\r\n\tb\r\n\r\nC:\\path\r\n"
        );
    }

    #[test]
    fn rset_forgets_the_transaction_under_way() {
        let mut r = Recorder::default();
        r.command(&Command::Mail {
            reverse_path: "a@example.org".into(),
            params: vec![],
        });
        r.command(&Command::Rset);
        assert!(r.transaction().is_none());
    }
}
