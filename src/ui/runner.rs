//! The runner: one way to open a session and one way to handle a line, for
//! every mode.
//!
//! [`open`] connects as the configuration says (TCP or a UNIX socket, `--mx`,
//! implicit TLS, `--lmtp`, `--quit-after`) and then, for `--starttls` (the
//! flag or a profile's `tls = "starttls"`), runs EHLO, STARTTLS, the
//! handshake and EHLO again before any input, in every mode. [`Runner::line`]
//! takes one line of input, lets the session classify it once
//! ([`crate::session::Input`]), and does what it is: a meta-command through
//! the one table, a command or message text through the engine, a
//! `:pipeline` block, `:save` bookkeeping. Lines that arrive after the
//! server closed are counted and reported once at the end.
//!
//! What the drivers keep is policy: where lines come from, whether a person
//! can be asked, and what an error does (the end of a script, a note at the
//! prompt).

use super::Output;
use super::actions::{self, Flow};
use super::helpers::{Asker, HelperError, Helpers};
use super::meta::{self, Meta, MetaError, Place, Scope};
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::session::input::strip_line_ending;
use crate::session::{Input, Phase, Session, SessionError, Syntax};

/// Why a line did not go as asked.
#[derive(Debug)]
pub(crate) enum StepError {
    /// The session failed underneath (a timeout, a close, TLS).
    Session(SessionError),
    /// A local problem: bad arguments, an unreadable file, no password.
    Local(String),
    /// A meta-command line that cannot be understood.
    Meta(MetaError),
    /// STARTTLS was not offered or was refused.
    NoTls,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Session(e) => write!(f, "{e}"),
            StepError::Local(text) => f.write_str(text),
            StepError::Meta(e) => write!(f, "{e}"),
            StepError::NoTls => f.write_str(NO_TLS),
        }
    }
}

const NO_TLS: &str = "STARTTLS did not succeed: stopping rather than going on in plaintext";

impl From<SessionError> for StepError {
    fn from(e: SessionError) -> Self {
        match e {
            // Nothing went out and the session is fine: a mistake in the
            // input, like a bad argument.
            SessionError::Refused(text) => StepError::Local(text),
            e => StepError::Session(e),
        }
    }
}

impl From<HelperError> for StepError {
    fn from(e: HelperError) -> Self {
        match e {
            HelperError::Session(e) => StepError::from(e),
            HelperError::Local(text) => StepError::Local(text),
            HelperError::NoTls => StepError::NoTls,
        }
    }
}

/// What becomes of a line too long to hold whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Long {
    /// Message text: streamed through the encoder piece by piece.
    Text,
    /// Queued text behind a refused DATA: dropped.
    Dropped,
    /// A line after the connection closed: counted as not sent.
    Unsent,
}

/// A session with the helpers' memory and the line handling around it.
pub(crate) struct Runner<O: Output> {
    pub(crate) session: Session<O>,
    pub(crate) helpers: Helpers,
    /// Lines of a `:pipeline` block being collected.
    pipeline: Option<Vec<String>>,
    /// Lines that could not be sent because the connection had closed.
    unsent: u64,
    /// The server closed while a reply was awaited: what follows is not
    /// sent, and no `:expect` after it checks a stale reply.
    cut_short: bool,
    /// A line longer than a piece is under way (piped input).
    long: Option<Long>,
    /// Which meta-commands work here.
    place: Place,
}

/// Opens the session the configuration asks for and, with `--starttls`,
/// brings TLS up before any input. A failed STARTTLS is reported here and
/// leaves the session closed (after a polite QUIT where possible), so no
/// mode goes on in plaintext.
pub(crate) async fn open<O: Output>(
    config: &ConnectConfig,
    output: O,
    interactive: bool,
) -> Result<Runner<O>, (SessionError, O)> {
    let session = open_session(config, output).await?;
    let mut runner = Runner {
        session,
        helpers: Helpers::new(config.helpers.clone()),
        pipeline: None,
        unsent: 0,
        cut_short: false,
        long: None,
        place: Place {
            interactive,
            demo: config.demo,
        },
    };
    let xclient_first = config.xclient_before_starttls;
    if xclient_first {
        runner.xclient(config).await;
    }
    if config.starttls && runner.session.is_open() {
        let started = runner.helpers.starttls(&mut runner.session).await;
        if let Err(e) = started {
            runner.fail(e.into()).await;
        }
        runner.helpers.record_reply(&runner.session);
    }
    if config.resume_test && runner.session.is_open() {
        let tested = runner.helpers.resume_test(&mut runner.session).await;
        if let Err(e) = tested {
            runner.fail(e.into()).await;
        }
    }
    if !xclient_first {
        runner.xclient(config).await;
    }
    Ok(runner)
}

/// Connects: TCP to the target (with `--mx`, to the domain's mail servers),
/// or a UNIX socket.
async fn open_session<O: Output>(
    config: &ConnectConfig,
    output: O,
) -> Result<Session<O>, (SessionError, O)> {
    #[cfg(unix)]
    if let Some(path) = &config.unix {
        return Session::open_unix(path, config.connect.timeout, config.session.clone(), output)
            .await;
    }
    Session::open(
        &config.target,
        &config.connect,
        config.session.clone(),
        output,
    )
    .await
}

impl<O: Output> Runner<O> {
    /// Handles one line of input (its line ending, if any, is removed).
    pub(crate) async fn line(
        &mut self,
        raw: &[u8],
        queued: bool,
        asker: &mut dyn Asker,
    ) -> Result<Flow, StepError> {
        let line = strip_line_ending(raw);
        if self.is_collecting() {
            return self.pipeline_line(line).await;
        }
        let input = self.session.classify(line, queued, Syntax::Interactive);
        self.input(line, input, asker).await
    }

    /// Handles a piece of a line: a whole line (`end`, and no line under
    /// way), or part of one longer than [`super::script::MAX_PIECE`]. Such a
    /// line is message text, streamed as it comes; or text dropped behind a
    /// refused DATA; anything else that long (a command line over 64 KiB)
    /// is refused, and nothing of it is sent.
    pub(crate) async fn piece(
        &mut self,
        bytes: &[u8],
        end: bool,
        queued: bool,
        asker: &mut dyn Asker,
    ) -> Result<Flow, StepError> {
        let long = match self.long {
            None if end => return self.line(bytes, queued, asker).await,
            Some(long) => long,
            None => {
                let long = match self.session.classify(bytes, queued, Syntax::Interactive) {
                    _ if self.unsent > 0 || self.cut_short => Long::Unsent,
                    Input::Text(_) => Long::Text,
                    Input::Dropped(_) => Long::Dropped,
                    Input::NotSendable(_) => Long::Unsent,
                    _ => {
                        return Err(StepError::Local(format!(
                            "a line of over {} KiB is not a command: refused, not sent",
                            super::script::MAX_PIECE / 1024
                        )));
                    }
                };
                self.long = Some(long);
                long
            }
        };
        if end {
            self.long = None;
        }
        match long {
            Long::Text => self.session.text_piece(bytes, end).await?,
            Long::Dropped if end => self.session.input(Input::Dropped(b"")).await?,
            Long::Unsent if end => self.unsent += 1,
            Long::Dropped | Long::Unsent => {}
        }
        Ok(Flow::Continue)
    }

    /// `--xclient`: the words read as `:xclient` reads them, sent before
    /// any input; a mistake or a refusal to advertise ends the session.
    async fn xclient(&mut self, config: &ConnectConfig) {
        let Some(words) = &config.xclient else {
            return;
        };
        if !self.session.is_open() {
            return;
        }
        let ran = match meta::parse(&format!("xclient {words}")) {
            Ok(Meta::XClient { attributes, lax }) => self
                .helpers
                .xclient(&mut self.session, attributes, false, lax)
                .await
                .map_err(StepError::from),
            Ok(_) => Ok(()),
            Err(e) => Err(StepError::Meta(e)),
        };
        if let Err(e) = ran {
            self.fail(e).await;
        }
        self.helpers.record_reply(&self.session);
    }

    /// Whether a `:pipeline` block is being collected (its lines are not
    /// classified until the block is sent).
    pub(crate) fn is_collecting(&self) -> bool {
        self.pipeline.is_some() && self.session.phase() == Phase::Command
    }

    /// Handles a line the caller has classified already (the prompt, which
    /// decides about history on the same classification).
    pub(crate) async fn input(
        &mut self,
        line: &[u8],
        input: Input<'_>,
        asker: &mut dyn Asker,
    ) -> Result<Flow, StepError> {
        if (self.unsent > 0 || self.cut_short) && !matches!(input, Input::Blank | Input::Comment) {
            // After a line that could not go, or went unanswered, nothing
            // after it is sent or checked.
            self.unsent += 1;
            return Ok(Flow::Continue);
        }
        let flow = match input {
            Input::Blank | Input::Comment => return Ok(Flow::Continue),
            Input::NotSendable(_) => {
                self.unsent += 1;
                return Ok(Flow::Continue);
            }
            Input::Meta(text) => {
                let meta = meta::parse(text).map_err(StepError::Meta)?;
                self.in_scope(&meta)?;
                let ran = actions::run_meta(
                    &mut self.session,
                    meta,
                    &mut self.helpers,
                    asker,
                    self.place,
                )
                .await;
                let flow = match ran.map_err(StepError::from) {
                    Ok(flow) => flow,
                    // The server hung up mid-helper: nothing after it is
                    // sent or checked.
                    Err(e @ StepError::Session(SessionError::Closed(_))) => {
                        self.cut_short = true;
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                };
                if flow == Flow::Pipeline {
                    self.pipeline = Some(Vec::new());
                }
                flow
            }
            input => {
                self.helpers.sent(line, &input);
                let lint = matches!(input, Input::Text(_))
                    .then(|| meta_as_text(line))
                    .flatten();
                match self.session.input(input).await {
                    Ok(()) => {
                        if let Some(lint) = lint {
                            self.session.sink().info(&[lint]);
                        }
                        Flow::Continue
                    }
                    // The server hung up before the line could go.
                    Err(SessionError::NotConnected) => {
                        self.unsent += 1;
                        return Ok(Flow::Continue);
                    }
                    Err(e @ SessionError::Closed(_)) => {
                        self.cut_short = true;
                        return Err(e.into());
                    }
                    Err(e) => return Err(StepError::from(e)),
                }
            }
        };
        self.helpers.record_reply(&self.session);
        Ok(flow)
    }

    /// Whether a meta-command can be used in this mode (the table says
    /// where each one works).
    fn in_scope(&self, meta: &Meta) -> Result<(), StepError> {
        let command = meta.command();
        let name = command.name;
        match command.scope {
            scope if self.place.allows(scope) => Ok(()),
            Scope::Interactive => Err(StepError::Local(format!(
                ":{name} works only at the interactive prompt"
            ))),
            Scope::Demo | Scope::Anywhere => {
                Err(StepError::Local(format!(":{name} works only with --demo")))
            }
        }
    }

    /// A line of a `:pipeline` block; the lone `.` sends the block.
    async fn pipeline_line(&mut self, line: &[u8]) -> Result<Flow, StepError> {
        let text = String::from_utf8_lossy(line).into_owned();
        self.helpers.record(&text);
        if text.trim() != "." {
            if let Some(block) = self.pipeline.as_mut() {
                block.push(text);
            }
            return Ok(Flow::Continue);
        }
        let block = self.pipeline.take().unwrap_or_default();
        self.session.pipeline(&block).await?;
        self.helpers.record_reply(&self.session);
        Ok(Flow::Continue)
    }

    /// The input is over: QUIT if the session is still open, and what could
    /// not be sent is said once.
    pub(crate) async fn end_of_input(&mut self) -> Result<(), SessionError> {
        let quit = self.session.quit().await;
        self.session
            .not_sent(std::mem::take(&mut self.unsent), false);
        quit
    }

    /// The server closed and the input goes on (a pipe still open): what
    /// arrived so far was not sent, and the rest will not be.
    pub(crate) fn input_left_open(&mut self) {
        self.session
            .not_sent(std::mem::take(&mut self.unsent), true);
    }

    /// A step failed in a mode that cannot ask anyone: the error is said,
    /// counted, and the session ends (politely after a refused STARTTLS).
    pub(crate) async fn fail(&mut self, error: StepError) {
        match error {
            StepError::NoTls => {
                self.session.sink().info(&[NO_TLS.to_string()]);
                let _ = self.session.quit().await;
            }
            other => {
                self.session.sink().error(&other.to_string());
                self.session.fail_locally(&other.to_string());
                self.session.close().await;
            }
        }
    }

    /// Ends the run: the exit code, reported and flushed; a failed write to
    /// the output (a closed pipe) comes back as the error.
    pub(crate) fn finish(&mut self) -> std::io::Result<Exit> {
        super::finish(&mut self.session)
    }
}

/// The note for a line of message text that reads like a meta-command
/// (`:expect 250` after the message began): it went out as text.
fn meta_as_text(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b":")?;
    let name = rest.split(|b| b.is_ascii_whitespace()).next()?;
    let name = std::str::from_utf8(name).ok()?;
    let command = meta::find(name)?;
    Some(format!(
        "this line went out as message text: meta-commands such as :{} are not read inside \
         a message (an :expect right after DATA checks the 354, one after the final '.' the \
         reply to the message)",
        command.name
    ))
}
