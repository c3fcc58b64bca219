//! The one-line send's flags (`--from`, `--to`, `--auth MECH:USER` and the
//! composer's), and the lines they stand for: `:auth MECH` and `:send …`,
//! run like a script after `--starttls`. Nothing here runs anything.

use std::path::PathBuf;

use anyhow::bail;
use smtpcli::proto::auth::{Mechanism, mechanism_and_user};

/// `smtpcli HOST PORT --from A --to B [--auth MECH:USER] [composer
/// options]`: the whole dialog, then a table per recipient.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "One-line send (smtpcli HOST PORT --from A --to B ...)")]
pub(crate) struct SendFlags {
    /// The sender (MAIL FROM; '<>' for the null sender). Default: the
    /// login after --auth, else smtpcli@ the EHLO name.
    #[arg(long, value_name = "ADDR", requires = "to")]
    pub from: Option<String>,

    /// A recipient (RCPT TO); repeat for more, or separate with commas.
    /// Sends one message and exits with the exit-code table.
    #[arg(long, value_name = "ADDR", value_delimiter = ',')]
    pub to: Vec<String>,

    /// Authenticate first: MECH:USER (plain:alice), or MECH with --user.
    /// The password: --password-file, SMTPCLI_PASSWORD, or a prompt.
    #[arg(long, value_name = "MECH:USER", requires = "to")]
    pub auth: Option<String>,

    /// The subject (tokens %DATE% %MESSAGEID% %TO% are expanded).
    #[arg(long, value_name = "TEXT", requires = "to")]
    pub subject: Option<String>,

    /// The body text, or @FILE to read it from FILE.
    #[arg(long, value_name = "TEXT|@FILE", requires = "to")]
    pub body: Option<String>,

    /// An HTML alternative to the body, read from FILE.
    #[arg(long, value_name = "FILE", requires = "to")]
    pub html: Option<PathBuf>,

    /// Attach FILE (repeatable); sent base64, received byte for byte.
    #[arg(long, value_name = "FILE", requires = "to")]
    pub attach: Vec<PathBuf>,

    /// An extra header field, 'Name: value' (repeatable).
    #[arg(long, value_name = "'NAME: VALUE'", requires = "to")]
    pub header: Vec<String>,

    /// Put the GTUBE spam-filter test string in the body.
    #[arg(long, requires = "to")]
    pub gtube: bool,

    /// Attach the EICAR anti-virus test file (eicar.com, 68 bytes).
    #[arg(long, requires = "to")]
    pub eicar: bool,

    /// DSN: NEVER, or SUCCESS,FAILURE,DELAY (any of them) on each RCPT.
    #[arg(long, value_name = "WHEN", requires = "to")]
    pub notify: Option<String>,

    /// DSN: FULL or HDRS, what a bounce returns of the message.
    #[arg(long, value_name = "FULL|HDRS", requires = "to")]
    pub ret: Option<String>,

    /// DSN: the envelope id a bounce carries (sent as xtext).
    #[arg(long, value_name = "ID", requires = "to")]
    pub envid: Option<String>,

    /// DSN: ORCPT=rfc822;ADDRESS on each RCPT (the address as given).
    #[arg(long, requires = "to")]
    pub orcpt: bool,

    /// REQUIRETLS (RFC 8689): only over TLS.
    #[arg(long, requires = "to")]
    pub requiretls: bool,

    /// SMTPUTF8 on MAIL even when every address is ASCII (a UTF-8 address
    /// gets it anyway when the server offers it).
    #[arg(long, requires = "to")]
    pub smtputf8: bool,

    /// BODY=7bit|8bitmime|binarymime (binarymime goes with BDAT).
    #[arg(long, value_name = "TYPE", requires = "to", ignore_case = true,
          value_parser = ["7bit", "8bitmime", "binarymime"])]
    pub body_type: Option<String>,

    /// Send the message with BDAT (CHUNKING) instead of DATA.
    #[arg(long, requires = "to")]
    pub bdat: bool,

    /// Send envelope parameters the server did not advertise.
    #[arg(long, requires = "to")]
    pub lax: bool,
}

impl SendFlags {
    /// Whether this run is a one-line send.
    pub(crate) fn is_send(&self) -> bool {
        !self.to.is_empty()
    }

    /// The mechanism and user of `--auth`, checked against the mechanisms
    /// smtpcli knows.
    pub(crate) fn auth(&self) -> anyhow::Result<Option<(Mechanism, Option<String>)>> {
        self.auth
            .as_deref()
            .map(mechanism_and_user)
            .transpose()
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// The line the one-line send stands for: `:send` with `--auth` (which
    /// authenticates first and sends nothing if that fails) and every
    /// composer option.
    pub(crate) fn lines(&self) -> anyhow::Result<Vec<String>> {
        self.auth()?;
        let mut lines = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut add = |flag: &str, value: Option<String>| {
            words.push(flag.to_string());
            words.extend(value);
        };
        if let Some(auth) = &self.auth {
            add("--auth", Some(auth.clone()));
        }
        if let Some(from) = &self.from {
            add("--from", Some(from.clone()));
        }
        for to in &self.to {
            add("--to", Some(to.clone()));
        }
        let optional = [
            ("--subject", self.subject.clone()),
            // `:send` reads `\n` in a body as a line break and `\\` as a
            // backslash: a body from the shell keeps its lines and
            // backslashes.
            ("--body", self.body.as_ref().map(|b| escape_body(b))),
            ("--html", self.html.as_deref().map(path)),
            ("--notify", self.notify.clone()),
            ("--ret", self.ret.clone()),
            ("--envid", self.envid.clone()),
            ("--body-type", self.body_type.clone()),
        ];
        for (flag, value) in optional {
            if value.is_some() {
                add(flag, value);
            }
        }
        for file in &self.attach {
            add("--attach", Some(path(file)));
        }
        for header in &self.header {
            add("--header", Some(header.clone()));
        }
        let switches = [
            ("--gtube", self.gtube),
            ("--eicar", self.eicar),
            ("--orcpt", self.orcpt),
            ("--requiretls", self.requiretls),
            ("--smtputf8", self.smtputf8),
            ("--bdat", self.bdat),
            ("--lax", self.lax),
        ];
        for (flag, on) in switches {
            if on {
                add(flag, None);
            }
        }
        for word in &words {
            if word.contains(['\r', '\n', '\0']) {
                bail!(
                    "a one-line send option holds a line break or NUL: {}",
                    word.escape_debug()
                );
            }
        }
        let quoted = shlex::try_join(words.iter().map(String::as_str))
            .map_err(|e| anyhow::anyhow!("cannot pass the send options on: {e}"))?;
        lines.push(format!(":send {quoted}"));
        Ok(lines)
    }
}

/// A body as `:send --body` reads it back: backslashes doubled, line
/// breaks as `\n`.
fn escape_body(body: &str) -> String {
    body.replace('\\', "\\\\")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_a_one_line_send_stands_for() {
        let flags = SendFlags {
            from: Some("a@example.org".into()),
            to: vec!["b@example.org".into(), "c d@example.org".into()],
            auth: Some("PLAIN:alice".into()),
            subject: Some("Grüße %DATE%".into()),
            attach: vec!["my file.pdf".into()],
            header: vec!["X-Test: 1".into()],
            notify: Some("success".into()),
            eicar: true,
            ..SendFlags::default()
        };
        let lines = flags.lines().unwrap();
        assert_eq!(lines.len(), 1);
        let words = shlex::split(lines[0].trim_start_matches(":send ")).unwrap();
        assert_eq!(
            words,
            [
                "--auth",
                "PLAIN:alice",
                "--from",
                "a@example.org",
                "--to",
                "b@example.org",
                "--to",
                "c d@example.org",
                "--subject",
                "Grüße %DATE%",
                "--notify",
                "success",
                "--attach",
                "my file.pdf",
                "--header",
                "X-Test: 1",
                "--eicar",
            ]
        );
    }

    #[test]
    fn auth_takes_the_mechanisms_smtpcli_knows() {
        for mechanism in Mechanism::all() {
            let flags = SendFlags {
                auth: Some(format!("{}:u", mechanism.name().to_ascii_lowercase())),
                ..SendFlags::default()
            };
            assert_eq!(
                flags.auth().unwrap(),
                Some((*mechanism, Some("u".to_string())))
            );
        }
        let unknown = SendFlags {
            auth: Some("gssapi:u".into()),
            ..SendFlags::default()
        };
        let err = unknown.auth().unwrap_err().to_string();
        assert!(err.contains("PLAIN"), "{err}");
        let spaced = SendFlags {
            auth: Some("plain:a b".into()),
            ..SendFlags::default()
        };
        assert!(spaced.auth().is_err());
    }
}
