//! `:send` (and the one-line send, which is a `:send`): its arguments, the
//! files it reads, the message it composes and the transactions it runs.
//!
//! The envelope is planned by [`crate::proto::envelope`] against what the
//! server advertised; the message is built by [`crate::proto::message`];
//! each transaction goes through the engine's `send_message`. Files are
//! read before anything is sent, so a mistyped name costs no transaction.

use std::path::{Path, PathBuf};

use super::{Asker, HelperError, Helpers, login_sender};
use crate::proto::auth::{Mechanism, mechanism_and_user};
use crate::proto::envelope::{self, BodyType, Request};
use crate::proto::message::{self, Attachment, TestMessage};
use crate::session::Session;
use crate::session::helpers::Envelope;
use crate::ui::Output;
use crate::ui::meta::Meta;

/// The largest file `:send` reads for a body or an attachment.
const FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// The arguments of `:send`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SendArgs {
    /// `--auth MECH[:USER]`: AUTH first, unless the session has.
    pub auth: Option<(Mechanism, Option<String>)>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// `--body TEXT` or `--body @FILE`.
    pub body: Option<String>,
    /// `--file FILE`: the body from a file.
    pub file: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub attach: Vec<PathBuf>,
    pub headers: Vec<(String, String)>,
    pub gtube: bool,
    pub eicar: bool,
    pub smtputf8: bool,
    pub ret: Option<String>,
    pub envid: Option<String>,
    pub notify: Option<String>,
    pub orcpt: bool,
    pub requiretls: bool,
    pub body_type: Option<BodyType>,
    pub bdat: bool,
    pub lax: bool,
}

impl SendArgs {
    /// Reads the words after `:send`.
    pub(crate) fn parse(words: &[String]) -> Result<SendArgs, String> {
        let mut args = SendArgs::default();
        let mut it = words.iter();
        while let Some(word) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!(":send {name} needs a value"))
            };
            match word.as_str() {
                "--auth" => args.auth = Some(mechanism_and_user(&value("--auth")?)?),
                "--from" => args.from = Some(strip_brackets(&value("--from")?)),
                "--to" => args.to.push(strip_brackets(&value("--to")?)),
                "--subject" => args.subject = Some(value("--subject")?),
                "--body" => args.body = Some(value("--body")?),
                "--file" => args.file = Some(value("--file")?.into()),
                "--html" => args.html = Some(value("--html")?.into()),
                "--attach" => args.attach.push(value("--attach")?.into()),
                "--header" => {
                    let h = value("--header")?;
                    let (name, v) = h
                        .split_once(':')
                        .ok_or_else(|| format!("--header wants 'Name: value', not '{h}'"))?;
                    let name = name.trim();
                    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                        return Err(format!(
                            "--header: '{}' is not a header field name (printable ASCII, no spaces)",
                            name.escape_debug()
                        ));
                    }
                    if v.chars().any(|c| c.is_control() && c != '\t') {
                        return Err(format!(
                            "--header {name}: the value holds a control character (a line break would start another field)"
                        ));
                    }
                    args.headers.push((name.to_string(), v.trim().to_string()));
                }
                "--gtube" => args.gtube = true,
                "--eicar" => args.eicar = true,
                "--smtputf8" => args.smtputf8 = true,
                "--ret" => args.ret = Some(value("--ret")?.to_ascii_uppercase()),
                "--envid" => args.envid = Some(value("--envid")?),
                "--notify" => args.notify = Some(value("--notify")?.to_ascii_uppercase()),
                "--orcpt" => args.orcpt = true,
                "--requiretls" => args.requiretls = true,
                "--body-type" => {
                    let v = value("--body-type")?;
                    args.body_type = Some(BodyType::parse(&v).ok_or_else(|| {
                        format!("--body-type takes 7bit, 8bitmime or binarymime, not '{v}'")
                    })?);
                }
                "--bdat" => args.bdat = true,
                "--lax" => args.lax = true,
                other => return Err(format!("unknown :send option '{other}' (:help send)")),
            }
        }
        if args.to.is_empty() {
            return Err(":send needs at least one --to ADDRESS".into());
        }
        for address in args.from.iter().chain(&args.to) {
            if let Some(what) = crate::proto::command::line_breaker(address.as_bytes()) {
                return Err(format!(
                    ":send refused: the address {} holds {what}, which would smuggle a command; \
                     :raw sends such bytes on purpose",
                    address.escape_debug()
                ));
            }
        }
        if args.body.is_some() && args.file.is_some() {
            return Err(":send takes --body or --file, not both".into());
        }
        Ok(args)
    }

    /// The envelope asked for, from `from`.
    fn request(&self, from: String) -> Request {
        Request {
            from,
            to: self.to.clone(),
            smtputf8: self.smtputf8,
            ret: self.ret.clone(),
            envid: self.envid.clone(),
            notify: self.notify.clone(),
            orcpt: self.orcpt,
            requiretls: self.requiretls,
            body: self.body_type,
            bdat: self.bdat,
            lax: self.lax,
        }
    }
}

/// What `:send` read from files, before connecting to anything.
struct Files {
    body: Option<String>,
    html: Option<String>,
    attachments: Vec<Attachment>,
}

impl Files {
    fn read(args: &SendArgs) -> Result<Files, HelperError> {
        let body = match (&args.file, &args.body) {
            (Some(path), _) => Some(text_of(path)?),
            (None, Some(body)) => match body.strip_prefix('@') {
                Some(path) => Some(text_of(Path::new(path))?),
                None => Some(unescape_body(body)),
            },
            (None, None) => None,
        };
        let html = args.html.as_deref().map(text_of).transpose()?;
        let mut attachments = Vec::with_capacity(args.attach.len() + 1);
        for path in &args.attach {
            let name = path
                .file_name()
                .map_or_else(|| "attachment".into(), |n| n.to_string_lossy());
            attachments.push(Attachment::new(&name, read(path)?));
        }
        if args.eicar {
            attachments.push(Attachment::eicar());
        }
        Ok(Files {
            body,
            html,
            attachments,
        })
    }
}

impl Helpers {
    /// `:send …`: EHLO if needed, the envelope planned against the
    /// server, the message composed, and one transaction per LIMITS
    /// RCPTMAX recipients.
    pub(crate) async fn send<O: Output>(
        &mut self,
        session: &mut Session<O>,
        words: Vec<String>,
        asker: &mut dyn Asker,
    ) -> Result<(), HelperError> {
        let args = SendArgs::parse(&words).map_err(HelperError::Local)?;
        let files = Files::read(&args)?;
        self.last_send = Some(words.clone());
        if !session.status().greeted {
            let name = self.ehlo_name(session);
            self.record(&Meta::Ehlo(Some(name.clone())).to_string());
            session
                .ehlo(&name, self.config.lmtp, self.config.helo.is_some())
                .await?;
            self.record_reply(session);
        }
        if let Some((mechanism, user)) = &args.auth
            && session.status().authenticated.is_none()
        {
            self.auth(session, *mechanism, user.clone(), asker).await?;
            self.record_reply(session);
            if session.status().authenticated.is_none() {
                // Unauthenticated, a submission server refuses the sender or
                // an MTA relays nothing: the refusal above is the answer.
                session.sink().info(&[format!(
                    "AUTH {mechanism} did not succeed: the message was not sent"
                )]);
                return Ok(());
            }
        }
        let ehlo = self.ehlo_name(session);
        let domain = ehlo
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let from = match (&args.from, login_sender(session)) {
            (Some(from), _) => from.clone(),
            // Submission servers that check the sender against the login
            // refuse anything else.
            (None, Some(login)) => {
                session.sink().info(&[format!(
                    "MAIL FROM:<{login}>: the authenticated identity (--from sets another)"
                )]);
                login
            }
            (None, None) => format!("smtpcli@{domain}"),
        };
        let from = if from == "<>" { String::new() } else { from };
        let caps = session.capabilities().cloned().unwrap_or_default();
        let tls = session.status().tls;
        let local = |e: envelope::EnvelopeError| HelperError::Local(format!(":send refused: {e}"));
        let mut plan = envelope::plan(&args.request(from), &caps, tls).map_err(local)?;

        self.sends += 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let token = message::token(now.as_nanos(), std::process::id(), self.sends);
        let mut body = files.body.unwrap_or_else(|| {
            format!("This is a test message sent by smtpcli.\nToken: {token}\n")
        });
        if args.gtube {
            if !body.ends_with('\n') {
                body.push('\n');
            }
            body.push_str(message::GTUBE);
            body.push('\n');
        }
        let message = TestMessage {
            from: if plan.from.is_empty() {
                format!("MAILER-DAEMON@{domain}")
            } else {
                plan.from.clone()
            },
            to: plan
                .transactions
                .iter()
                .flatten()
                .map(|r| r.address.clone())
                .chain(plan.left_out.iter().cloned())
                .collect(),
            subject: args
                .subject
                .clone()
                .unwrap_or_else(|| format!("smtpcli test {token}")),
            body,
            html: files.html,
            attachments: files.attachments,
            headers: args.headers.clone(),
            token: token.clone(),
            date: i64::try_from(now.as_secs()).unwrap_or(0),
            domain,
        }
        .build();
        plan.fit(&message, &caps, args.lax).map_err(local)?;
        if !plan.notes.is_empty() {
            session.sink().info(&plan.notes);
        }
        // The AUTH, if any, is saved as the :auth it was.
        self.record(&Meta::Send(without_auth(words)).to_string());
        let mut transactions = plan.transactions.into_iter();
        while let Some(recipients) = transactions.next() {
            if !session.is_open() {
                // The server went away between two transactions.
                let left: Vec<String> = recipients
                    .into_iter()
                    .chain(transactions.flatten())
                    .map(|r| r.address)
                    .collect();
                session.fail_locally(&format!(
                    "not sent to (the server closed the connection): {}",
                    left.join(", ")
                ));
                break;
            }
            let envelope = Envelope {
                from: plan.from.clone(),
                to: recipients,
                mail_params: plan.mail_params.clone(),
                bdat: plan.bdat,
            };
            if let Err(e) = session.send_message(&envelope, &message, &token).await {
                if transactions.len() > 0 {
                    let unfinished: Vec<String> = envelope
                        .to
                        .into_iter()
                        .chain(transactions.flatten())
                        .map(|r| r.address)
                        .collect();
                    session.sink().info(&[format!(
                        "not sent to (the session failed): {}",
                        unfinished.join(", ")
                    )]);
                }
                return Err(e.into());
            }
            let to: Vec<String> = envelope.to.iter().map(|r| r.address.clone()).collect();
            self.export.sent(&envelope.from, &to, &message);
        }
        if !plan.left_out.is_empty() {
            session.fail_locally(&format!(
                "{} recipients left out (LIMITS MAILMAX)",
                plan.left_out.len()
            ));
        }
        Ok(())
    }
}

/// The words of a `:send` without its `--auth MECH[:USER]`.
fn without_auth(words: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == "--auth" {
            words.next();
        } else {
            out.push(word);
        }
    }
    out
}

/// `<a@b>` → `a@b`; `<>` stays `<>` (the null sender).
fn strip_brackets(addr: &str) -> String {
    if addr == "<>" {
        return addr.to_string();
    }
    addr.trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// `--body TEXT` with `\n` read as a line break and `\\` as a backslash
/// (a line typed at the prompt cannot hold a line break); any other
/// backslash stays as it is.
fn unescape_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A file's bytes, at most [`FILE_LIMIT`].
fn read(path: &Path) -> Result<Vec<u8>, HelperError> {
    use std::io::Read as _;
    let cannot = |e: &std::io::Error| {
        HelperError::Local(format!(
            "cannot read {}: {}",
            path.display(),
            crate::net::connect::describe_io(e)
        ))
    };
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = Vec::new();
    file.take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(HelperError::Local(format!(
            "{} is larger than 64 MiB: :send builds the message in memory (:data FILE streams one)",
            path.display()
        )));
    }
    Ok(bytes)
}

/// A file as text (invalid UTF-8 replaced).
fn text_of(path: &Path) -> Result<String, HelperError> {
    Ok(String::from_utf8_lossy(&read(path)?).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        shlex::split(text).unwrap()
    }

    #[test]
    fn send_arguments() {
        let args = SendArgs::parse(&words(
            "--from <a@example.org> --to b@example.org --to nosuchuser@example.org --subject 'Grüße' --header 'X-A: 1' --notify success,failure",
        ))
        .unwrap();
        assert_eq!(args.from.as_deref(), Some("a@example.org"));
        assert_eq!(args.to, ["b@example.org", "nosuchuser@example.org"]);
        assert_eq!(args.subject.as_deref(), Some("Grüße"));
        assert_eq!(args.headers, [("X-A".to_string(), "1".to_string())]);
        assert_eq!(args.notify.as_deref(), Some("SUCCESS,FAILURE"));
        assert_eq!(
            SendArgs::parse(&words("--from '<>' --to b@x"))
                .unwrap()
                .from
                .as_deref(),
            Some("<>")
        );
        assert!(SendArgs::parse(&words("--from a@x")).is_err());
        assert!(SendArgs::parse(&words("--to a@x --bogus")).is_err());
        assert!(SendArgs::parse(&words("--to a@x --body x --file y")).is_err());
        let smuggled = SendArgs::parse(&["--to".into(), "b@example.org>\rRCPT TO:<x@y".into()]);
        assert!(smuggled.unwrap_err().contains(":raw"));
        assert!(
            SendArgs::parse(&["--from".into(), "a\0@x".into(), "--to".into(), "b@x".into()])
                .is_err()
        );
    }

    #[test]
    fn composer_and_envelope_arguments() {
        let args = SendArgs::parse(&words(
            "--to b@x --attach a.pdf --attach 'b c.txt' --html h.html --gtube --eicar \
             --orcpt --envid QQ+1 --ret hdrs --requiretls --body-type BinaryMime --bdat --lax",
        ))
        .unwrap();
        assert_eq!(
            args.attach,
            [PathBuf::from("a.pdf"), PathBuf::from("b c.txt")]
        );
        assert_eq!(args.html, Some(PathBuf::from("h.html")));
        assert!(args.gtube && args.eicar && args.orcpt && args.requiretls);
        assert!(args.bdat && args.lax);
        assert_eq!(args.body_type, Some(BodyType::BinaryMime));
        assert_eq!(args.ret.as_deref(), Some("HDRS"));
        assert!(SendArgs::parse(&words("--to b@x --body-type 9bit")).is_err());
    }

    #[test]
    fn a_body_reads_backslash_n_as_a_line_break() {
        for (typed, body) in [
            (r"a\nb", "a\nb"),
            (r"C:\\new", r"C:\new"),
            (r"C:\temp", r"C:\temp"),
            ("end\\", "end\\"),
        ] {
            assert_eq!(unescape_body(typed), body, "{typed}");
        }
    }

    #[test]
    fn the_saved_send_leaves_its_auth_to_the_saved_auth() {
        let args = SendArgs::parse(&words("--auth plain:alice --to b@x")).unwrap();
        assert_eq!(args.auth, Some((Mechanism::Plain, Some("alice".into()))));
        assert_eq!(
            without_auth(words("--auth plain:alice --to b@x --auth login")),
            ["--to", "b@x"]
        );
        assert!(SendArgs::parse(&words("--auth gssapi --to b@x")).is_err());
    }

    #[test]
    fn a_header_cannot_smuggle_another_field() {
        for header in ["X-A: 1\r\nBcc: c@x", "X A: 1", ": 1", "X-A: \u{0}"] {
            let err = SendArgs::parse(&[
                "--to".into(),
                "b@x".into(),
                "--header".into(),
                header.into(),
            ]);
            assert!(err.is_err(), "{header:?}");
        }
    }

    #[test]
    fn a_missing_attachment_is_named_before_anything_is_sent() {
        let args = SendArgs::parse(&words("--to b@x --attach /nonexistent/file.pdf")).unwrap();
        let Err(HelperError::Local(text)) = Files::read(&args) else {
            panic!("read a file that is not there");
        };
        assert!(text.contains("/nonexistent/file.pdf"), "{text}");
    }
}
