//! The REPL's loop: ask for a line when the engine is idle, send it, show
//! what came of it.
//!
//! Lines are handled as the script driver handles them, with what a person
//! at a prompt needs on top: meta-commands go through the same table and
//! runner; a mistyped one is a note, not the end. Message text (after
//! `354`) is never a meta-command and never enters history. Lines that were
//! waiting (pasted, typed ahead) go out one per reply and count as queued,
//! so the engine drops them behind a refused `DATA`. Ctrl-C while a reply
//! is awaited stops waiting and drops the queue; Ctrl-D on an empty line
//! sends `QUIT` (in a message: ends it, like a lone `.`). When the server
//! closes the connection, that is said once, and the next Enter exits
//! unless the line is `:reconnect`.

use std::collections::VecDeque;
use std::time::Duration;

use super::complete::Situation;
use super::console::{Answer, Console, Turn};
use super::printer::Screen;
use super::prompt;
use super::{ReplOutput, history};
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::proto::command::Verb;
use crate::session::{Phase, Session, SessionError, Status};
use crate::ui::Output;
use crate::ui::actions::{self, Flow};
use crate::ui::helpers::{HelperError, Helpers, TtyAsker};
use crate::ui::meta::{self, Line, Meta};
use crate::ui::theme::Theme;

/// How a conversation with one server ended.
enum End {
    /// The user is done.
    Exit,
    /// Open a new connection to the same server.
    Reconnect,
}

/// The REPL's state across connections.
pub struct Repl<'a> {
    config: &'a ConnectConfig,
    theme: Theme,
    screen: Screen,
    console: Console,
    timing: bool,
    hex: bool,
    /// Lines sent since the last prompt that may enter history.
    remember: Vec<String>,
    /// The helper meta-commands' state (`:again`, `:save`…).
    helpers: Helpers,
    /// Lines of a `:pipeline` block being collected.
    pipeline: Option<Vec<String>>,
}

impl<'a> Repl<'a> {
    /// A REPL for the server in `config`.
    pub fn new(config: &'a ConnectConfig, theme: Theme, screen: Screen, console: Console) -> Self {
        Repl {
            config,
            theme,
            screen,
            console,
            timing: config.timing,
            hex: false,
            remember: Vec::new(),
            helpers: Helpers::new(config.helpers.clone()),
            pipeline: None,
        }
    }

    /// Connects, converses, reconnects on request; returns the exit code:
    /// 0, unless the last attempt to connect failed.
    pub async fn run(mut self) -> Exit {
        let exit = self.connections().await;
        self.console.finish(self.remember);
        exit
    }

    async fn connections(&mut self) -> Exit {
        let mut first = true;
        loop {
            let opened = self.open(first).await;
            let (end, connected) = match opened {
                Some(mut session) => {
                    let end = self.converse(&mut session).await;
                    (self.timing, self.hex) = session.sink().settings();
                    (end, true)
                }
                // Not even one connection: the error says it all.
                None if first => return Exit::Local,
                None => (self.closed(None).await, false),
            };
            first = false;
            match end {
                End::Reconnect => {}
                End::Exit if connected => return Exit::Success,
                End::Exit => return Exit::Local,
            }
        }
    }

    fn output(&self) -> ReplOutput {
        ReplOutput::new(self.screen.clone(), self.theme, self.timing, self.hex)
    }

    /// Connects. A failure is one line: on stderr the first time, like any
    /// other mode's, in the transcript on `:reconnect`.
    async fn open(&mut self, first: bool) -> Option<Session<ReplOutput>> {
        let mut config = self.config.clone();
        // Interactively a slow server never drops the session.
        config.session.keep_waiting = true;
        let interrupt = interrupted();
        let opening = crate::ui::open_session(&config, self.output());
        let failed = tokio::select! {
            opened = opening => match opened {
                Ok(session) => return Some(session),
                Err((e, output)) => (e.to_string(), output),
            },
            () = interrupt => ("interrupted (Ctrl-C) before the connection was up".to_string(), self.output()),
        };
        let (message, mut output) = failed;
        if first {
            self.screen.wait_idle(Duration::from_secs(1));
            eprintln!("smtpcli: {message}");
        } else {
            output.error(&message);
        }
        None
    }

    /// One connection, until it closes or the user leaves.
    async fn converse(&mut self, session: &mut Session<ReplOutput>) -> End {
        let mut queue: VecDeque<String> = VecDeque::new();
        loop {
            if !session.is_open() {
                return self.closed(Some(session.status())).await;
            }
            if let Some(line) = queue.pop_front() {
                if let Some(end) = self.line(session, &line, true, &mut queue).await {
                    return end;
                }
                continue;
            }
            let turn = self.turn(session);
            self.console.ask(turn);
            let answer = loop {
                tokio::select! {
                    answer = self.console.answer() => break answer,
                    idle = session.idle(), if session.is_open() => {
                        if let Err(e) = idle {
                            session.sink().error(&e.to_string());
                            session.close().await;
                        }
                        if !session.is_open() {
                            // The prompt is still up; its answer decides.
                            session.sink().note(CLOSED_HINT);
                        }
                    }
                }
            };
            if !session.is_open() {
                return self.leave_or_reconnect(&answer);
            }
            match answer {
                Answer::Interrupted => {}
                Answer::Failed(e) => {
                    session.sink().error(&format!("the terminal failed: {e}"));
                    session.close().await;
                    return End::Exit;
                }
                Answer::End { rows } => {
                    self.erase(rows);
                    if session.phase() == Phase::Data {
                        self.send(session, ".", false, &mut queue).await;
                    } else {
                        if let Err(e) = with_interrupt(session.quit()).await {
                            session.sink().error(&e.to_string());
                        }
                        return End::Exit;
                    }
                }
                Answer::Lines {
                    lines,
                    queued,
                    rows,
                } => {
                    let mut lines = lines.into_iter();
                    let Some(first) = lines.next() else {
                        continue;
                    };
                    // A meta-command stays on screen as typed; a line sent
                    // is replaced by its transcript line.
                    if lines.len() > 0 || !is_meta(&first, session.phase()) {
                        self.erase(rows);
                    }
                    queue.extend(lines);
                    if !queue.is_empty() {
                        let n = queue.len();
                        session.sink().note(&format!(
                            "{n} more line{} queued: each goes out after the reply to the one before",
                            if n == 1 { "" } else { "s" }
                        ));
                    }
                    if let Some(end) = self.line(session, &first, queued, &mut queue).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Handles one line; `Some` when the conversation is over.
    async fn line(
        &mut self,
        session: &mut Session<ReplOutput>,
        line: &str,
        queued: bool,
        queue: &mut VecDeque<String>,
    ) -> Option<End> {
        match session.phase() {
            // Message text, or text dropped behind a refused DATA.
            Phase::Data => return self.send(session, line, queued, queue).await,
            Phase::DroppingText if queued => return self.send(session, line, queued, queue).await,
            Phase::Closed => return Some(End::Exit),
            Phase::Command | Phase::DroppingText => {}
        }
        if let Some(block) = self.pipeline.as_mut() {
            // A `:pipeline` block, up to a lone `.`.
            self.helpers.record(line);
            if line.trim() != "." {
                block.push(line.to_string());
                return None;
            }
            let block = self.pipeline.take().unwrap_or_default();
            if let Ok(None) = with_interrupt(session.pipeline(&block)).await {
                session.sink().note(STOPPED_WAITING);
            }
            self.helpers.record_reply(session);
            return None;
        }
        if line.trim().is_empty() {
            return None;
        }
        let status = session.status();
        if history::keep(line, &status) {
            self.remember.push(line.to_string());
        }
        let text = match meta::classify(line.as_bytes()) {
            Line::Meta(text) => text,
            Line::Send(bytes) => {
                self.helpers.sent(&status, line.as_bytes(), bytes);
                let end = self.send(session, line, queued, queue).await;
                self.helpers.record_reply(session);
                return end;
            }
        };
        let meta = match meta::parse(text) {
            Ok(meta) => meta,
            Err(e) => {
                session.sink().info(&[e.to_string()]);
                return None;
            }
        };
        let quitting = meta == Meta::Quit;
        let ran = with_interrupt(actions::run_meta(
            session,
            meta,
            &mut self.helpers,
            &mut TtyAsker,
        ))
        .await;
        self.helpers.record_reply(session);
        match ran {
            Ok(Some(Flow::Continue)) => None,
            Ok(Some(Flow::Pipeline)) => {
                session
                    .sink()
                    .info(&["type the commands, then a lone '.' to send them at once".to_string()]);
                self.pipeline = Some(Vec::new());
                None
            }
            Ok(Some(Flow::Stop)) => Some(End::Exit),
            // Ctrl-C while `:quit` waited for its 221: leave all the same.
            Ok(None) if quitting => Some(End::Exit),
            Ok(None) => {
                session.sink().note(STOPPED_WAITING);
                None
            }
            Ok(Some(Flow::Reconnect)) => {
                if let Err(e) = with_interrupt(session.quit()).await {
                    session.sink().error(&e.to_string());
                }
                Some(End::Reconnect)
            }
            Err(HelperError::Local(text)) => {
                // A mistake at the prompt is a note; the session goes on.
                session.sink().info(&[text]);
                None
            }
            Err(e) => {
                session.sink().error(&e.to_string());
                None
            }
        }
    }

    /// Sends a line (`::` reduced to `:` between commands) and waits for
    /// what it brings, unless Ctrl-C says to stop waiting. `Some` when the
    /// conversation is over: a `QUIT` answered with `221`.
    async fn send(
        &mut self,
        session: &mut Session<ReplOutput>,
        line: &str,
        queued: bool,
        queue: &mut VecDeque<String>,
    ) -> Option<End> {
        let status = session.status();
        let bytes = match (status.phase, meta::classify(line.as_bytes())) {
            (Phase::Command | Phase::DroppingText, Line::Send(bytes)) => bytes,
            _ => line.as_bytes(),
        };
        let quitting = status.phase == Phase::Command
            && !status.secret_next
            && line
                .split_whitespace()
                .next()
                .and_then(Verb::from_word)
                .is_some_and(|v| v == Verb::Quit);
        let interrupt = interrupted();
        let result = tokio::select! {
            sent = session.submit(bytes, queued) => sent,
            () = interrupt => {
                let dropped = std::mem::take(queue).len();
                let mut note = STOPPED_WAITING.to_string();
                if dropped > 0 {
                    note.push_str(&format!("; {dropped} queued line{} dropped", if dropped == 1 { "" } else { "s" }));
                }
                session.sink().note(&note);
                Ok(())
            }
        };
        match result {
            Ok(()) => {}
            // The engine has said so.
            Err(SessionError::Closed(_) | SessionError::NotConnected) => {}
            Err(e) => {
                session.sink().error(&e.to_string());
                session.close().await;
            }
        }
        if !session.is_open() {
            queue.clear();
        }
        if quitting && session.sink().last_code() == Some(221) {
            // Like telnet: the server said goodbye, and that is the end.
            session.close().await;
            return Some(End::Exit);
        }
        None
    }

    /// After the connection is gone: says so, then the next line decides.
    async fn closed(&mut self, status: Option<Status>) -> End {
        self.output().note(CLOSED_HINT);
        let status = status.unwrap_or_else(|| Status {
            host: self.config.target.host.clone(),
            port: self.config.target.port,
            tls: false,
            authenticated: None,
            phase: Phase::Closed,
            message_lines: 0,
            greeted: false,
            in_transaction: false,
            secret_next: false,
        });
        loop {
            self.console.ask(Turn {
                prompt: prompt::prompt(&status, &self.theme),
                situation: Situation {
                    status: Some(status.clone()),
                    capabilities: None,
                },
                remember: std::mem::take(&mut self.remember),
            });
            let answer = self.console.answer().await;
            if answer != Answer::Interrupted {
                return self.leave_or_reconnect(&answer);
            }
        }
    }

    /// What a line typed after the connection closed means.
    fn leave_or_reconnect(&mut self, answer: &Answer) -> End {
        match answer {
            Answer::Lines { lines, .. }
                if lines.first().is_some_and(|l| l.trim() == ":reconnect") =>
            {
                self.remember.push(":reconnect".into());
                End::Reconnect
            }
            _ => End::Exit,
        }
    }

    fn turn(&mut self, session: &Session<ReplOutput>) -> Turn {
        let status = session.status();
        Turn {
            prompt: prompt::prompt(&status, &self.theme),
            situation: Situation {
                status: Some(status),
                capabilities: session.capabilities().cloned(),
            },
            remember: std::mem::take(&mut self.remember),
        }
    }

    /// Erases the prompt and the text typed after it (`rows` rows up from
    /// the cursor), so the transcript line of what was sent takes its place.
    fn erase(&self, rows: u16) {
        if rows == 0 {
            return;
        }
        use crossterm::cursor::{MoveToColumn, MoveUp};
        use crossterm::terminal::{Clear, ClearType};
        let mut bytes = Vec::new();
        if crossterm::queue!(
            bytes,
            MoveUp(rows),
            MoveToColumn(0),
            Clear(ClearType::FromCursorDown)
        )
        .is_ok()
        {
            self.screen
                .print(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
}

const CLOSED_HINT: &str = "Enter exits; :reconnect opens a new connection";

const STOPPED_WAITING: &str =
    "stopped waiting (Ctrl-C); a reply that still comes is shown when it arrives";

/// Whether `line` is a meta-command in this phase.
fn is_meta(line: &str, phase: Phase) -> bool {
    phase != Phase::Data && matches!(meta::classify(line.as_bytes()), Line::Meta(_))
}

/// Runs `work` unless Ctrl-C comes first.
async fn with_interrupt<T, E>(work: impl Future<Output = Result<T, E>>) -> Result<Option<T>, E> {
    let interrupt = interrupted();
    tokio::select! {
        done = work => done.map(Some),
        () = interrupt => Ok(None),
    }
}

/// Makes sure Ctrl-C (SIGINT) is handled by the REPL rather than ending the
/// process: once a listener exists, the default action is gone for good.
pub fn listen_for_interrupts() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let _ = signal(SignalKind::interrupt());
    }
}

/// The next Ctrl-C from the moment this is called (not first polled):
/// earlier ones do not count, and one that comes while the work beside it
/// starts is not missed.
fn interrupted() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listener = signal(SignalKind::interrupt());
        async move {
            match listener {
                Ok(mut listener) => {
                    listener.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
