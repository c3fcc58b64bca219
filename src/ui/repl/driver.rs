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
//! sends `QUIT` and leaves (in a message: ends it, like a lone `.`). When
//! the connection closes (a `221`, a `421`, the server going away), the
//! prompt stays and says `closed`: meta-commands still work, a command gets
//! a note offering `:reconnect` instead of being lost, and `:quit` or
//! Ctrl-D leaves.

mod power;

use power::{again_line, history_lines, is_edit};

use std::collections::VecDeque;
use std::time::Duration;

use super::complete::Situation;
use super::console::{Answer, Console, Turn};
use super::printer::Screen;
use super::prompt;
use super::{ReplOutput, history};
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::session::{Input, Phase, SessionError, Status, Syntax};
use crate::ui::actions::Flow;
use crate::ui::helpers::TtyAsker;
use crate::ui::meta::{self, Meta};
use crate::ui::runner::{self, Runner, StepError};
use crate::ui::theme::Theme;
use crate::ui::{Output, View};

/// How a conversation with one server ended.
enum End {
    /// The user is done.
    Exit,
    /// Open a new connection to the same server.
    Reconnect,
}

/// The REPL's state across connections.
pub(super) struct Repl<'a> {
    config: &'a ConnectConfig,
    theme: Theme,
    screen: Screen,
    console: Console,
    /// The display settings (`:set`, `:timing`, `:hex`), kept across
    /// connections.
    view: View,
    /// Lines sent since the last prompt that may enter history.
    remember: Vec<String>,
    /// How long each reply is waited for (`--timeout`, `:set timeout`).
    reply_timeout: Duration,
    /// Every history entry, numbered from 1 for `:history` and `:again N`:
    /// the history file's as it was at the start, then each line kept.
    history: Vec<String>,
    /// Lines typed ahead, read while a reply was awaited.
    ahead: super::terminal::Ahead,
}

impl<'a> Repl<'a> {
    /// A REPL for the server in `config`.
    pub(super) fn new(
        config: &'a ConnectConfig,
        theme: Theme,
        screen: Screen,
        console: Console,
        ahead: super::terminal::Ahead,
        history: Vec<String>,
    ) -> Self {
        Repl {
            config,
            theme,
            screen,
            console,
            view: View {
                colour: theme.is_colored(),
                wrap: true,
                timing: config.timing,
                hex: false,
            },
            remember: Vec::new(),
            reply_timeout: config.session.timeouts.reply,
            history,
            ahead,
        }
    }

    /// Connects, converses, reconnects on request; returns the exit code:
    /// 0, unless the last attempt to connect failed.
    pub(super) async fn run(mut self) -> Exit {
        let exit = self.connections().await;
        self.console.finish(self.remember);
        exit
    }

    async fn connections(&mut self) -> Exit {
        let mut first = true;
        loop {
            let opened = self.open(first).await;
            let (end, connected) = match opened {
                Some(mut runner) => {
                    let end = self.converse(&mut runner).await;
                    self.keep_view(&runner);
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
        ReplOutput::new(self.screen.clone(), self.view, self.ahead.clone())
    }

    /// Takes the display settings from the session's output (`:set` may
    /// have changed them), for the prompt and the next connection.
    fn keep_view(&mut self, runner: &Runner<ReplOutput>) {
        self.view = runner.session.sink_ref().view();
        self.theme = Theme::new(self.view.colour);
        self.reply_timeout = runner.session.reply_timeout();
    }

    /// Connects. A failure is one line: on stderr the first time, like any
    /// other mode's, in the transcript on `:reconnect`.
    async fn open(&mut self, first: bool) -> Option<Runner<ReplOutput>> {
        let mut config = self.config.clone();
        // Interactively a slow server never drops the session.
        config.session.keep_waiting = true;
        // `:set timeout` outlives a `:reconnect`.
        config.session.timeouts.reply = self.reply_timeout;
        let interrupt = interrupted();
        let opening = runner::open(&config, self.output(), true);
        let failed = tokio::select! {
            opened = opening => match opened {
                Ok(runner) => return Some(runner),
                Err((e, output)) => (e.to_string(), output),
            },
            () = interrupt => ("interrupted (Ctrl-C) before the connection was up".to_string(), self.output()),
        };
        let (message, mut output) = failed;
        if first {
            self.screen.wait_idle(Duration::from_secs(1));
            crate::text::print_error(&message);
        } else {
            output.error(&message);
        }
        None
    }

    /// One connection, until it closes or the user leaves.
    async fn converse(&mut self, runner: &mut Runner<ReplOutput>) -> End {
        let mut queue: VecDeque<String> = VecDeque::new();
        loop {
            if !runner.session.is_open() {
                return self.closed_session(runner, None).await;
            }
            if let Some(line) = queue.pop_front() {
                if let Some(end) = self.line(runner, &line, true, &mut queue).await {
                    return end;
                }
                continue;
            }
            let turn = self.turn(runner);
            self.console.ask(turn);
            let session = &mut runner.session;
            let answer = loop {
                tokio::select! {
                    answer = self.console.answer() => break answer,
                    idle = session.idle(), if session.is_open() => {
                        if let Err(e) = idle {
                            session.sink().error(&e.to_string());
                            session.close().await;
                        }
                        if !session.is_open() {
                            // The prompt is still up; its answer is
                            // handled as the closed prompt's.
                            session.sink().note(CLOSED_HINT);
                        }
                    }
                }
            };
            if !runner.session.is_open() {
                // The server went away while the prompt was up.
                return self.closed_session(runner, Some(answer)).await;
            }
            match answer {
                Answer::Interrupted => {}
                Answer::Failed(e) => {
                    let session = &mut runner.session;
                    session.sink().error(&format!("the terminal failed: {e}"));
                    session.close().await;
                    return End::Exit;
                }
                Answer::End { rows } => {
                    self.erase(rows);
                    if runner.session.phase() == Phase::Data {
                        if let Some(end) = self.line(runner, ".", false, &mut queue).await {
                            return end;
                        }
                    } else {
                        if let Err(e) = with_interrupt(runner.session.quit()).await {
                            runner.session.sink().error(&e.to_string());
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
                    // A meta-command or a comment stays on screen as
                    // typed; a line sent is replaced by its transcript line.
                    let stays = matches!(
                        runner
                            .session
                            .classify(first.as_bytes(), queued, Syntax::Interactive),
                        Input::Meta(_) | Input::Comment
                    );
                    if lines.len() > 0 || !stays {
                        self.erase(rows);
                    }
                    queue.extend(lines);
                    if !queue.is_empty() {
                        let n = queue.len();
                        runner.session.sink().note(&format!(
                            "{n} more line{} queued: each goes out after the reply to the one before",
                            if n == 1 { "" } else { "s" }
                        ));
                    }
                    if let Some(end) = self.line(runner, &first, queued, &mut queue).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Handles one line through the runner, with what a prompt adds:
    /// history, Ctrl-C to stop waiting, and mistakes as notes. `Some` when
    /// the conversation is over.
    async fn line(
        &mut self,
        runner: &mut Runner<ReplOutput>,
        line: &str,
        queued: bool,
        queue: &mut VecDeque<String>,
    ) -> Option<End> {
        let bytes = line.as_bytes();
        if (!queued || queue.is_empty()) && runner.session.phase() == Phase::Data && is_edit(line) {
            // Inside a message only a line that is exactly `:edit` is read
            // as the command: the editor takes the rest of the message.
            return self.edit(runner, false).await;
        }
        let input = runner.session.classify(bytes, queued, Syntax::Interactive);
        if !runner.is_collecting() && history::keep(line, &input) {
            self.remember.push(line.to_string());
            self.history.push(line.to_string());
        }
        let quitting = matches!(&input, Input::Meta(text) if meta::parse(text) == Ok(Meta::Quit));
        let screen = self.screen.clone();
        let mut asker = ReplAsker { screen: &screen };
        let ran = if runner.is_collecting() {
            with_interrupt(runner.line(bytes, queued, &mut asker)).await
        } else {
            with_interrupt(runner.input(bytes, input, &mut asker)).await
        };
        let session = &mut runner.session;
        let end = match ran {
            Ok(Some(Flow::Continue)) => None,
            Ok(Some(Flow::Pipeline)) => {
                session
                    .sink()
                    .info(&["type the commands, then a lone '.' to send them at once".to_string()]);
                None
            }
            Ok(Some(Flow::Stop)) => Some(End::Exit),
            Ok(Some(Flow::History(pattern))) => {
                let lines = history_lines(&self.history, pattern.as_deref());
                session.sink().info(&lines);
                None
            }
            Ok(Some(Flow::Again(n))) => {
                match again_line(&self.history, n) {
                    Ok(entry) => {
                        session.sink().info(&[format!("again {n}: {entry}")]);
                        queue.push_front(entry);
                    }
                    Err(why) => session.sink().info(&[why]),
                }
                None
            }
            Ok(Some(Flow::Watch(watch))) => {
                self.keep_view(runner);
                return self.watch(runner, watch).await;
            }
            Ok(Some(Flow::Edit { bdat })) => return self.edit(runner, bdat).await,
            Ok(Some(Flow::Reconnect)) => {
                if let Err(e) = with_interrupt(session.quit()).await {
                    session.sink().error(&e.to_string());
                }
                Some(End::Reconnect)
            }
            // Ctrl-C while `:quit` waited for its 221: leave all the same.
            Ok(None) if quitting => Some(End::Exit),
            Ok(None) => {
                // Lines typed ahead go with the wait they were queued behind.
                let typed_ahead = std::mem::take(
                    &mut *self
                        .ahead
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                );
                let dropped = std::mem::take(queue).len() + typed_ahead.len();
                let mut note = STOPPED_WAITING.to_string();
                if dropped > 0 {
                    note.push_str(&format!(
                        "; {dropped} queued line{} dropped",
                        if dropped == 1 { "" } else { "s" }
                    ));
                }
                session.sink().note(&note);
                None
            }
            // A mistake at the prompt is a note; the session goes on.
            Err(e @ (StepError::Local(_) | StepError::Meta(_) | StepError::NoTls)) => {
                session.sink().info(&[e.to_string()]);
                None
            }
            // The engine has said so.
            Err(StepError::Session(SessionError::Closed(_) | SessionError::NotConnected)) => None,
            Err(StepError::Session(e)) => {
                session.sink().error(&e.to_string());
                session.close().await;
                None
            }
        };
        if !session.is_open() {
            queue.clear();
        }
        end
    }

    /// The connection is gone, the session's state is not: the prompt says
    /// `closed`, meta-commands (`:save`, `:tls`, `:help`…) still run, and
    /// a command is not lost in silence. `pending` is an answer typed while
    /// the server went away.
    async fn closed_session(
        &mut self,
        runner: &mut Runner<ReplOutput>,
        mut pending: Option<Answer>,
    ) -> End {
        if pending.is_none() {
            runner.session.sink().note(CLOSED_HINT);
        }
        loop {
            let answer = match pending.take() {
                Some(answer) => answer,
                None => {
                    let turn = self.turn(runner);
                    self.console.ask(turn);
                    self.console.answer().await
                }
            };
            let line = match answer {
                Answer::Interrupted => continue,
                Answer::End { .. } | Answer::Failed(_) => return End::Exit,
                Answer::Lines { lines, rows, .. } => {
                    if lines.len() > 1 {
                        self.erase(rows);
                    }
                    let Some(line) = lines.into_iter().next() else {
                        continue;
                    };
                    line
                }
            };
            let input = runner
                .session
                .classify(line.as_bytes(), false, Syntax::Interactive);
            match input {
                Input::Blank | Input::Comment => {}
                Input::Meta(_) => {
                    let mut queue = VecDeque::new();
                    if let Some(end) = self.line(runner, &line, false, &mut queue).await {
                        return end;
                    }
                    // `:again N` queues its entry: a meta-command runs, a
                    // command gets the note.
                    while let Some(again) = queue.pop_front() {
                        let input =
                            runner
                                .session
                                .classify(again.as_bytes(), true, Syntax::Interactive);
                        if !matches!(input, Input::Meta(_)) {
                            runner.session.sink().note(NOT_SENT_CLOSED);
                            continue;
                        }
                        if let Some(end) = self.line(runner, &again, true, &mut queue).await {
                            return end;
                        }
                    }
                }
                _ => runner.session.sink().note(NOT_SENT_CLOSED),
            }
        }
    }

    /// No connection could be made on `:reconnect`: the same prompt, with
    /// nothing to run meta-commands on.
    async fn closed(&mut self, status: Option<Status>) -> End {
        self.output().note(CLOSED_HINT);
        let status = status.unwrap_or_else(|| Status::disconnected(&self.config.target));
        loop {
            self.console.ask(Turn {
                prompt: prompt::prompt(&status, &self.theme),
                situation: Situation {
                    status: Some(status.clone()),
                    capabilities: None,
                    demo: self.config.demo,
                },
                remember: std::mem::take(&mut self.remember),
            });
            match self.console.answer().await {
                Answer::Interrupted => {}
                Answer::End { .. } | Answer::Failed(_) => return End::Exit,
                Answer::Lines { lines, .. } => {
                    let line = lines.first().map(|l| l.trim()).unwrap_or_default();
                    match meta::parse(line.strip_prefix(':').unwrap_or("-")) {
                        _ if line.is_empty() => {}
                        Ok(Meta::Reconnect) => {
                            self.remember.push(":reconnect".into());
                            return End::Reconnect;
                        }
                        Ok(Meta::Quit) => return End::Exit,
                        _ => self.output().note(NOT_SENT_CLOSED),
                    }
                }
            }
        }
    }

    fn turn(&mut self, runner: &Runner<ReplOutput>) -> Turn {
        self.keep_view(runner);
        let session = &runner.session;
        let status = session.status();
        let slow = session
            .last_latency()
            .filter(|l| self.view.timing && *l > prompt::SLOW && session.is_open());
        Turn {
            prompt: prompt::with_latency(prompt::prompt(&status, &self.theme), slow, &self.theme),
            situation: Situation {
                status: Some(status),
                capabilities: session.capabilities().cloned(),
                demo: self.config.demo,
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

const CLOSED_HINT: &str =
    "the connection is closed: :reconnect opens a new one; :quit or Ctrl-D leaves";

const NOT_SENT_CLOSED: &str =
    "not sent: the connection is closed; :reconnect opens a new one (:quit or Ctrl-D leaves)";

const STOPPED_WAITING: &str =
    "stopped waiting (Ctrl-C); a reply that still comes is shown when it arrives";

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
pub(super) fn listen_for_interrupts() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let _ = signal(SignalKind::interrupt());
    }
    // On Windows the console's default (ending the process) is skipped only
    // while a listener lives: one is kept for the life of the process.
    #[cfg(windows)]
    if let Ok(listener) = tokio::signal::windows::ctrl_c() {
        std::mem::forget(listener);
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
    #[cfg(windows)]
    {
        let listener = tokio::signal::windows::ctrl_c();
        async move {
            match listener {
                Ok(mut listener) => {
                    listener.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let listener = tokio::signal::ctrl_c();
        async move {
            if listener.await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The person at the prompt, asked on the terminal once everything queued
/// for the screen is out: a question never lands in the middle of the
/// transcript, and starts a line of its own.
pub(super) struct ReplAsker<'a> {
    pub(super) screen: &'a Screen,
}

impl crate::ui::helpers::Asker for ReplAsker<'_> {
    fn confirm(&mut self, question: &str) -> bool {
        self.screen.wait_idle(Duration::from_secs(1));
        // Between prompts echo is off; the answer should be seen.
        let _echo = super::terminal::EchoOn::turn_on();
        TtyAsker.confirm(question)
    }

    fn line(&mut self, prompt: &str) -> Option<String> {
        self.screen.wait_idle(Duration::from_secs(1));
        let _echo = super::terminal::EchoOn::turn_on();
        TtyAsker.line(prompt)
    }

    fn password(&mut self, prompt: &str) -> Option<crate::proto::auth::Secret> {
        self.screen.wait_idle(Duration::from_secs(1));
        TtyAsker.password(prompt)
    }
}
