//! Running the helper meta-commands (`:ehlo`, `:auth`, `:send`, `:again`,
//! `:data`, `:bdat`, `:raw`, `:log`, `:save`) for any driver.
//!
//! The engine does the protocol work ([`crate::session::helpers`]); this
//! module does what needs the user's world: defaults from the command line,
//! reading files, finding the password (file, environment, or a prompt with
//! echo off, never without a terminal) or the OAuth 2.0 token (`--token-cmd`,
//! `SMTPCLI_TOKEN`, then as a password), the policy on credentials over
//! unverified connections, building the test message, and remembering what
//! was sent for `:save`.

use std::path::{Path, PathBuf};

use thiserror::Error;

mod send;

use super::Output;
use super::export::{self, Body};
use super::meta::{DEFAULT_CHUNK, ExportForm, Meta};
use crate::config::HelperConfig;
use crate::proto::auth::{Mechanism, Secret};
use crate::proto::command::Command;
use crate::proto::reply::Reply;
use crate::session::{Input, Session, SessionError};

/// Why a helper did not run (the session may still be fine).
#[derive(Debug, Error)]
#[non_exhaustive]
pub(crate) enum HelperError {
    /// The session failed underneath.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A local problem: bad arguments, an unreadable file, no password.
    #[error("{0}")]
    Local(String),
    /// STARTTLS was not offered or was refused: the session must not go on
    /// as if it were encrypted.
    #[error("STARTTLS did not succeed: stopping rather than going on in plaintext")]
    NoTls,
}

/// Asks the person at the terminal, when there is one.
pub(crate) trait Asker {
    /// A yes/no question; `false` when nobody can answer.
    fn confirm(&mut self, question: &str) -> bool;
    /// A line of text (a user name), echoed; `None` when nobody can
    /// answer.
    fn line(&mut self, prompt: &str) -> Option<String>;
    /// A password with echo off; `None` when there is no terminal.
    fn password(&mut self, prompt: &str) -> Option<Secret>;
}

/// No person to ask (scripts, piped input): questions are answered no; a
/// password is read from the terminal only if one is attached.
pub(crate) struct NoOneToAsk;

impl Asker for NoOneToAsk {
    fn confirm(&mut self, _question: &str) -> bool {
        false
    }

    fn line(&mut self, _prompt: &str) -> Option<String> {
        None
    }

    fn password(&mut self, prompt: &str) -> Option<Secret> {
        rpassword::prompt_password(prompt).ok().map(Secret::new)
    }
}

/// The person at the terminal: questions and passwords are read from the
/// terminal itself (`/dev/tty`), with echo off for passwords.
pub(crate) struct TtyAsker;

impl Asker for TtyAsker {
    fn confirm(&mut self, question: &str) -> bool {
        self.line(question)
            .is_some_and(|answer| matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
    }

    fn line(&mut self, prompt: &str) -> Option<String> {
        use std::io::{BufRead, Write};
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        let mut writer = &tty;
        write!(writer, "{prompt}")
            .and_then(|()| writer.flush())
            .ok()?;
        let mut answer = String::new();
        std::io::BufReader::new(std::io::Read::take(&tty, 4096))
            .read_line(&mut answer)
            .ok()?;
        Some(answer.trim().to_string())
    }

    fn password(&mut self, prompt: &str) -> Option<Secret> {
        rpassword::prompt_password(prompt).ok().map(Secret::new)
    }
}

/// The sender address for the authenticated identity: the login if it is an
/// address, else the login at the server's own domain (from its EHLO
/// reply). `None` before a successful AUTH, or when the login is unknown
/// (AUTH typed raw) or cannot make an address.
fn login_sender<O: Output>(session: &Session<O>) -> Option<String> {
    let login = session.status().authenticated.flatten()?;
    let usable = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | ','))
    };
    if let Some((local, domain)) = login.rsplit_once('@') {
        return (usable(local) && usable(domain)).then_some(login);
    }
    let domain = session.capabilities()?.domain.unchecked_str().into_owned();
    (usable(&login) && usable(&domain) && domain.contains('.')).then(|| format!("{login}@{domain}"))
}

/// How long `--token-cmd` may take before it is stopped.
const TOKEN_CMD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// The most output taken from `--token-cmd`.
const TOKEN_CMD_LIMIT: usize = 64 * 1024;

/// Runs `--token-cmd` through the shell (`sh -c`; `cmd /C` on Windows) with
/// no input, its error output left on the terminal, and takes what it
/// prints, trimmed, as the token. What it printed is never shown: a
/// failure says only how it failed.
async fn token_from_command(command: &str) -> Result<Secret, HelperError> {
    use tokio::io::AsyncReadExt as _;
    let fail = |why: String| HelperError::Local(format!("--token-cmd {why}: no token"));
    let mut shell = if cfg!(windows) {
        let mut shell = tokio::process::Command::new("cmd");
        shell.arg("/C");
        shell
    } else {
        let mut shell = tokio::process::Command::new("sh");
        shell.arg("-c");
        shell
    };
    let mut child = shell
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("could not be started ({e})")))?;
    let mut output = zeroize::Zeroizing::new(Vec::with_capacity(4096));
    let run = async {
        if let Some(stdout) = child.stdout.take() {
            let limit = u64::try_from(TOKEN_CMD_LIMIT).unwrap_or(u64::MAX) + 1;
            stdout.take(limit).read_to_end(&mut output).await?;
        }
        if output.len() > TOKEN_CMD_LIMIT {
            // It may be blocked writing more: nobody reads it any more.
            child.kill().await?;
        }
        child.wait().await
    };
    let status = match tokio::time::timeout(TOKEN_CMD_TIMEOUT, run).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(fail(format!("failed ({e})"))),
        Err(_) => {
            return Err(fail(format!(
                "did not finish within {} s and was stopped",
                TOKEN_CMD_TIMEOUT.as_secs()
            )));
        }
    };
    if output.len() > TOKEN_CMD_LIMIT {
        return Err(fail(format!(
            "printed more than {} KiB",
            TOKEN_CMD_LIMIT / 1024
        )));
    }
    if !status.success() {
        let how = status.code().map_or_else(
            || "was killed by a signal".to_string(),
            |c| format!("exited with {c}"),
        );
        return Err(fail(how));
    }
    let text =
        std::str::from_utf8(&output).map_err(|_| fail("printed text that is not UTF-8".into()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(fail("printed nothing".into()));
    }
    Ok(Secret::new(token))
}

/// What `:save` keeps at most, in bytes.
const SAVE_LIMIT: usize = 8 * 1024 * 1024;

/// What the helpers remember between commands.
pub(crate) struct Helpers {
    config: HelperConfig,
    last_send: Option<Vec<String>>,
    sends: u32,
    /// The name the last `:ehlo` greeted with.
    greeted_as: Option<String>,
    /// Lines for `:save`.
    saved: Vec<String>,
    /// Bytes in `saved`.
    saved_bytes: usize,
    /// Replies already accounted for in `saved`.
    replies_seen: u64,
    /// What `:export` needs.
    export: super::export::Recorder,
}

impl Helpers {
    /// Helpers with the command line's defaults.
    pub(crate) fn new(config: HelperConfig) -> Self {
        Helpers {
            config,
            last_send: None,
            sends: 0,
            greeted_as: None,
            saved: Vec::new(),
            saved_bytes: 0,
            replies_seen: 0,
            export: super::export::Recorder::default(),
        }
    }

    /// The EHLO name to use: `--ehlo`/`--helo`, else this machine's.
    pub(crate) fn ehlo_name<O: Output>(&self, session: &Session<O>) -> String {
        self.greeted_as
            .clone()
            .or_else(|| self.config.helo.clone())
            .or_else(|| self.config.ehlo.clone())
            .unwrap_or_else(|| {
                crate::net::hostname::default_ehlo_name(session.local_addr().map(|a| a.ip()))
            })
    }

    /// Notes a line of input about to go to the server, as the session
    /// classified it (`line` as typed, before `::` became `:`): kept for
    /// `:save` unless it is secret, and a typed EHLO/HELO/LHLO sets the name
    /// helpers greet with from then on.
    pub(crate) fn sent(&mut self, line: &[u8], input: &Input<'_>) {
        match input {
            Input::SaslResponse(_) => self.record("# (a SASL response was sent here: not saved)"),
            Input::Command(typed) if typed.is_secret() => {
                if let Some(command) = typed.command() {
                    self.export.command(command);
                }
                self.record("# (AUTH with an initial response was sent here: not saved; use :auth)")
            }
            Input::Command(typed) => {
                if let Some(command) = typed.command() {
                    self.export.command(command);
                }
                self.record(&String::from_utf8_lossy(line));
                if let Some(Command::Ehlo(name) | Command::Helo(name) | Command::Lhlo(name)) =
                    typed.command()
                {
                    self.greeted_as = Some(name.clone());
                }
            }
            Input::Text(_) => {
                let line = String::from_utf8_lossy(line);
                self.export.text(&line);
                self.record(&line);
            }
            Input::Dropped(_) => self.record(&String::from_utf8_lossy(line)),
            Input::Blank | Input::Comment | Input::Meta(_) | Input::NotSendable(_) => {}
        }
    }

    /// Records an input line for `:save` (already known not to be secret).
    /// Past [`SAVE_LIMIT`] bytes nothing more is kept (a long message typed
    /// into a script must not grow memory), and the saved script says so.
    pub(crate) fn record(&mut self, line: &str) {
        if self.saved_bytes > SAVE_LIMIT {
            return;
        }
        self.saved_bytes += line.len() + 1;
        if self.saved_bytes > SAVE_LIMIT {
            self.saved
                .push("# (the session went on; :save keeps only its first 8 MiB)".into());
            return;
        }
        self.saved.push(line.to_string());
    }

    /// After a step: records an `:expect` for the newest reply, if the step
    /// produced one.
    pub(crate) fn record_reply<O: Output>(&mut self, session: &Session<O>) {
        let count = session.reply_count();
        if count == self.replies_seen {
            return;
        }
        self.replies_seen = count;
        if let Some(reply) = session.last_reply()
            && let Some(line) = expect_line(reply)
        {
            self.saved.push(line);
        }
    }

    /// `:ehlo [NAME]`.
    pub(crate) async fn ehlo<O: Output>(
        &mut self,
        session: &mut Session<O>,
        name: Option<String>,
    ) -> Result<(), HelperError> {
        let name = name.unwrap_or_else(|| self.ehlo_name(session));
        self.record(&Meta::Ehlo(Some(name.clone())).to_string());
        let helo = self.config.helo.is_some();
        session.ehlo(&name, self.config.lmtp, helo).await?;
        self.greeted_as = Some(name);
        Ok(())
    }

    /// `:again`: the last `:send` once more.
    pub(crate) async fn again<O: Output>(
        &mut self,
        session: &mut Session<O>,
        asker: &mut dyn Asker,
    ) -> Result<(), HelperError> {
        match self.last_send.clone() {
            Some(words) => self.send(session, words, asker).await,
            None => Err(HelperError::Local("nothing to repeat: no :send yet".into())),
        }
    }

    /// `:data FILE`: DATA, then the file streamed as the message.
    pub(crate) async fn data<O: Output>(
        &mut self,
        session: &mut Session<O>,
        path: PathBuf,
    ) -> Result<(), HelperError> {
        let (file, size) = open(&path).await?;
        let path_for_export = path.clone();
        self.record(&Meta::Data(path).to_string());
        let reply = session.data_command().await?;
        if reply.code().map(|c| c.value()) == Some(354) {
            session.stream_data(file, Some(size)).await?;
            self.export.message(Body::File(path_for_export));
        }
        Ok(())
    }

    /// `:bdat FILE [--chunk N]`.
    pub(crate) async fn bdat<O: Output>(
        &mut self,
        session: &mut Session<O>,
        path: PathBuf,
        chunk: usize,
    ) -> Result<(), HelperError> {
        let (file, size) = open(&path).await?;
        self.record(
            &Meta::Bdat {
                path: path.clone(),
                chunk,
            }
            .to_string(),
        );
        session.stream_bdat(file, chunk, Some(size)).await?;
        self.export.message(Body::File(path));
        Ok(())
    }

    /// `:starttls` (and `--starttls`): TLS up, or [`HelperError::NoTls`].
    pub(crate) async fn starttls<O: Output>(
        &mut self,
        session: &mut Session<O>,
    ) -> Result<(), HelperError> {
        let name = self.ehlo_name(session);
        self.record(&Meta::StartTls.to_string());
        self.export.starttls = true;
        if !session.starttls(&name, self.config.lmtp).await? {
            return Err(HelperError::NoTls);
        }
        self.greeted_as = Some(name);
        Ok(())
    }

    /// `:xclient` and (`forward`) `:xforward`: a refusal is a reply like
    /// any other; asking for what the server does not advertise (without
    /// `--lax`) is a mistake, and nothing is sent.
    pub(crate) async fn xclient<O: Output>(
        &mut self,
        session: &mut Session<O>,
        attributes: Vec<(String, String)>,
        forward: bool,
        lax: bool,
    ) -> Result<(), HelperError> {
        let name = self.ehlo_name(session);
        self.record(
            &if forward {
                Meta::XForward {
                    attributes: attributes.clone(),
                    lax,
                }
            } else {
                Meta::XClient {
                    attributes: attributes.clone(),
                    lax,
                }
            }
            .to_string(),
        );
        if let Some(why) = session
            .xclient(&attributes, forward, lax, &name, self.config.lmtp)
            .await?
        {
            return Err(HelperError::Local(why));
        }
        if !forward {
            let helo = attributes
                .iter()
                .find(|(attribute, _)| attribute == "HELO")
                .map_or(name, |(_, value)| value.clone());
            self.greeted_as = Some(helo);
        }
        Ok(())
    }

    /// `:tls`, `:tls pem`, `:tls pem FILE`.
    pub(crate) fn tls<O: Output>(
        &mut self,
        session: &mut Session<O>,
        pem: Option<Option<PathBuf>>,
    ) -> Result<(), HelperError> {
        let Some(report) = session.tls_report().cloned() else {
            session
                .sink()
                .info(&["not connected over TLS (:starttls starts it)".to_string()]);
            return Ok(());
        };
        match pem {
            None => {
                let lines: Vec<String> = super::tls::report_lines(&report)
                    .into_iter()
                    .map(|l| l.text)
                    .collect();
                session.sink().info(&lines);
            }
            Some(None) => {
                let pem = crate::net::tls::chain_pem(&report);
                session
                    .sink()
                    .info(&pem.lines().map(str::to_string).collect::<Vec<_>>());
            }
            Some(Some(path)) => {
                std::fs::write(&path, crate::net::tls::chain_pem(&report))
                    .map_err(|e| cannot_write(&path, &e))?;
                session.sink().info(&[format!(
                    "wrote {} certificate(s) to {}",
                    report.chain.len(),
                    path.display()
                )]);
            }
        }
        Ok(())
    }

    /// `:tls resume` and `--resume-test`: new connections offering the TLS
    /// session, until one is resumed.
    pub(crate) async fn resume_test<O: Output>(
        &mut self,
        session: &mut Session<O>,
    ) -> Result<(), HelperError> {
        let name = self.ehlo_name(session);
        self.record(&Meta::TlsResume.to_string());
        session
            .resume_test(&name, crate::session::RESUME_ATTEMPTS)
            .await?;
        Ok(())
    }

    /// `:raw STRING`: exact bytes.
    pub(crate) async fn raw<O: Output>(
        &mut self,
        session: &mut Session<O>,
        bytes: Vec<u8>,
    ) -> Result<(), HelperError> {
        self.record(&Meta::Raw(bytes.clone()).to_string());
        session.raw(&bytes).await?;
        Ok(())
    }

    /// `:log FILE` or `:log off`.
    pub(crate) fn log<O: Output>(
        &mut self,
        session: &mut Session<O>,
        path: Option<PathBuf>,
    ) -> Result<(), HelperError> {
        let file = match &path {
            Some(path) => Some(create(path)?),
            None => None,
        };
        session.sink().set_log(file.map(|f| Box::new(f) as _));
        let text = match path {
            Some(path) => format!("logging the transcript to {}", path.display()),
            None => "logging stopped".to_string(),
        };
        session.sink().info(&[text]);
        Ok(())
    }

    /// What `:save` writes: the lines sent so far, each reply checked.
    fn script(&self) -> String {
        let mut text = String::from(
            "# saved by smtpcli: replay with --script (each step checked by :expect)\n",
        );
        for line in &self.saved {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// `:export swaks|curl|script`: the lines to print.
    pub(crate) fn export<O: Output>(
        &mut self,
        session: &mut Session<O>,
        form: ExportForm,
    ) -> Vec<String> {
        let curl = match form {
            ExportForm::Script => return self.script().lines().map(str::to_string).collect(),
            ExportForm::Swaks => false,
            ExportForm::Curl => true,
        };
        let status = session.status();
        let tls = status.tls;
        let target = session.target().clone();
        let user = status.authenticated.clone();
        let facts = export::Facts {
            host: &target.host,
            port: target.port,
            implicit_tls: tls && !self.export.starttls,
            starttls: tls && self.export.starttls,
            untrusted: tls && !session.tls_verified(),
            ehlo: self.greeted_as.as_deref(),
            auth: user
                .as_ref()
                .map(|user| (user.as_deref(), self.export.mechanism.as_deref())),
            lmtp: self.config.lmtp,
        };
        export::command(&facts, &self.export, curl)
    }

    /// `:edit`: the message written in the editor, sent with DATA or BDAT
    /// (inside DATA: as the rest of the message).
    pub(crate) async fn edited<O: Output>(
        &mut self,
        session: &mut Session<O>,
        message: Vec<u8>,
        bdat: bool,
    ) -> Result<(), HelperError> {
        let in_data = session.phase() == crate::session::Phase::Data;
        let lines = export::lines_of(&message);
        if in_data {
            self.record("# (the rest of the message came from :edit)");
            for line in &lines {
                self.record(&stuffed(line));
            }
            self.record(".");
            session
                .stream_data(message.as_slice(), Some(message.len() as u64))
                .await?;
        } else if bdat {
            self.record("# (a message written with :edit bdat went here: not saved)");
            session
                .stream_bdat(
                    message.as_slice(),
                    DEFAULT_CHUNK,
                    Some(message.len() as u64),
                )
                .await?;
        } else {
            self.record("DATA");
            let reply = session.data_command().await?;
            self.record_reply(session);
            if reply.code().map(|c| c.value()) != Some(354) {
                return Ok(());
            }
            for line in &lines {
                self.record(&stuffed(line));
            }
            self.record(".");
            session
                .stream_data(message.as_slice(), Some(message.len() as u64))
                .await?;
        }
        self.export.message(Body::Lines(lines));
        Ok(())
    }

    /// `:save FILE`: what was sent so far, as a script that checks itself.
    pub(crate) fn save<O: Output>(
        &mut self,
        session: &mut Session<O>,
        path: PathBuf,
    ) -> Result<(), HelperError> {
        let text = self.script();
        std::fs::write(&path, text).map_err(|e| cannot_write(&path, &e))?;
        session.sink().info(&[format!(
            "saved {} lines to {}",
            self.saved.len(),
            path.display()
        )]);
        Ok(())
    }

    /// `:auth MECH [USER]`.
    pub(crate) async fn auth<O: Output>(
        &mut self,
        session: &mut Session<O>,
        mechanism: Mechanism,
        user: Option<String>,
        asker: &mut dyn Asker,
    ) -> Result<(), HelperError> {
        let user = user
            .or_else(|| self.config.user.clone())
            .or_else(|| {
                // Asked at the prompt, like the password after it.
                asker
                    .line(&format!("user for AUTH {}: ", mechanism.name()))
                    .filter(|user| !user.is_empty())
            })
            .ok_or_else(|| {
                HelperError::Local(format!("usage: :auth {mechanism} USER (or --user)"))
            })?;
        if user.chars().any(char::is_control) {
            return Err(HelperError::Local(format!(
                ":auth refused: the user name {} holds a control character",
                user.escape_debug()
            )));
        }
        let status = session.status();
        let unprotected = if !status.tls {
            Some("over a cleartext connection: anyone on the path can read them")
        } else if !session.tls_verified() {
            Some("over TLS whose certificate was not verified: a man in the middle could read them")
        } else {
            None
        };
        if let Some(why) = unprotected {
            if self.config.insecure {
                session
                    .sink()
                    .info(&[format!("warning: sending credentials {why} (--insecure)")]);
            } else if !{
                // The reason in the transcript (wrapped there), the question
                // short, on a line of its own.
                session
                    .sink()
                    .info(&[format!("warning: this would send the credentials {why}")]);
                asker.confirm("Send them anyway? [y/N] ")
            } {
                return Err(HelperError::Local(format!(
                    "refusing to send credentials {why}; use STARTTLS (with a verified certificate) or --insecure"
                )));
            }
        }
        let secret = if mechanism.takes_token() {
            self.token(&user, asker).await?
        } else {
            self.password(&user, mechanism, asker)?
        };
        self.export.mechanism = Some(mechanism.name().to_string());
        self.record(
            &Meta::Auth {
                mechanism,
                user: Some(user.clone()),
            }
            .to_string(),
        );
        session.auth(mechanism, &user, &secret).await?;
        Ok(())
    }

    fn password(
        &self,
        user: &str,
        mechanism: Mechanism,
        asker: &mut dyn Asker,
    ) -> Result<Secret, HelperError> {
        if let Some(known) = &self.config.password {
            return Ok(known.clone());
        }
        if let Some(path) = &self.config.password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                HelperError::Local(format!(
                    "cannot read the password file {}: {}",
                    path.display(),
                    crate::net::connect::describe_io(&e)
                ))
            })?;
            return Ok(Secret::new(text.lines().next().unwrap_or("").to_string()));
        }
        if let Ok(password) = std::env::var("SMTPCLI_PASSWORD") {
            return Ok(Secret::new(password));
        }
        let what = if mechanism.takes_token() {
            "OAuth2 token"
        } else {
            "password"
        };
        let Some(hint) = &self.config.password_hint else {
            return asker
                .password(&format!("{what} for {user}: "))
                .ok_or_else(|| {
                    HelperError::Local(format!(
                        "no terminal to ask for the {what}: use --password-file FILE or SMTPCLI_PASSWORD"
                    ))
                });
        };
        // The demo's password is no secret: offered, and taken by Enter.
        Ok(asker
            .password(&format!("{what} for {user} (Enter for {hint}): "))
            .filter(|typed| !typed.is_empty())
            .unwrap_or_else(|| Secret::new(hint.clone())))
    }

    /// The bearer token for XOAUTH2 and OAUTHBEARER: `--token-cmd`'s
    /// output, else `SMTPCLI_TOKEN`, else where a password comes from
    /// (`--password-file`, `SMTPCLI_PASSWORD`, the prompt).
    async fn token(&self, user: &str, asker: &mut dyn Asker) -> Result<Secret, HelperError> {
        if let Some(command) = &self.config.token_cmd {
            return token_from_command(command).await;
        }
        match std::env::var("SMTPCLI_TOKEN") {
            Ok(token) if !token.is_empty() => return Ok(Secret::new(token.trim())),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(HelperError::Local("SMTPCLI_TOKEN is not UTF-8".into()));
            }
            _ => {}
        }
        self.password(user, Mechanism::OAuthBearer, asker)
    }
}

/// A line of message text as a script types it: a lone `.` would end the
/// message, so it goes as `..` (the closest a typed line can come).
fn stuffed(line: &str) -> String {
    if line == "." {
        "..".to_string()
    } else {
        line.to_string()
    }
}

/// `:demo inbox` (`None`) and `:demo show N`.
#[cfg(feature = "demo")]
pub(crate) fn demo_lines(show: Option<usize>) -> Vec<String> {
    let messages = crate::demo::messages();
    let from = |m: &crate::demo::Received| {
        if m.from.is_empty() {
            "<>".to_string()
        } else {
            m.from.clone()
        }
    };
    match show {
        None if messages.is_empty() => {
            vec!["the demo inbox is empty: try :send --to friend@example.org".into()]
        }
        None => {
            let mut lines = vec![format!(
                "{:<3} {:<28} {:<28} {:>8}  subject",
                "#", "from", "to", "bytes"
            )];
            for (i, m) in messages.iter().enumerate() {
                lines.push(format!(
                    "{:<3} {:<28} {:<28} {:>8}  {}",
                    i + 1,
                    from(m),
                    m.to.join(", "),
                    m.data.len(),
                    m.subject().unwrap_or_default()
                ));
            }
            lines
        }
        Some(n) => match messages.get(n.wrapping_sub(1)) {
            Some(m) => {
                let mut lines = vec![
                    format!("from {} to {}", from(m), m.to.join(", ")),
                    String::new(),
                ];
                // The server folds its Received: header with tabs, which
                // the sanitiser would show as `\t`: they show as the eight
                // columns a tab stands for at the start of a line.
                lines.extend(
                    String::from_utf8_lossy(&m.data)
                        .lines()
                        .map(|line| line.replace('\t', "        ")),
                );
                lines
            }
            None => vec![format!(
                "no message {n} in the demo inbox ({} there)",
                messages.len()
            )],
        },
    }
}

#[cfg(not(feature = "demo"))]
pub(crate) fn demo_lines(_show: Option<usize>) -> Vec<String> {
    vec!["this build has no demo server (cargo feature demo)".into()]
}

/// An `:expect` line that pins a reply's code and enhanced code.
fn expect_line(reply: &Reply) -> Option<String> {
    let code = reply.code()?;
    Some(match reply.enhanced_code() {
        Some(e) => format!(":expect {code} {e}"),
        None => format!(":expect {code}"),
    })
}

async fn open(path: &Path) -> Result<(tokio::fs::File, u64), HelperError> {
    let file = tokio::fs::File::open(path).await.map_err(|e| {
        HelperError::Local(format!(
            "cannot read {}: {}",
            path.display(),
            crate::net::connect::describe_io(&e)
        ))
    })?;
    let size = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    Ok((file, size))
}

fn create(path: &Path) -> Result<std::fs::File, HelperError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| cannot_write(path, &e))
}

fn cannot_write(path: &Path, e: &std::io::Error) -> HelperError {
    HelperError::Local(format!(
        "cannot write {}: {}",
        path.display(),
        crate::net::connect::describe_io(e)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_lines_pin_codes() {
        let r = Reply::parse_all(b"250 2.1.5 Ok\r\n").remove(0);
        assert_eq!(expect_line(&r).as_deref(), Some(":expect 250 2.1.5"));
        let r = Reply::parse_all(b"250-a\r\n250 b\r\n").remove(0);
        assert_eq!(expect_line(&r).as_deref(), Some(":expect 250"));
    }
}
