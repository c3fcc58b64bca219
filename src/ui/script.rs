//! The line-by-line driver: `--script FILE`, or stdin when it is not a
//! terminal.
//!
//! Lines are read on a thread of their own and handed to the engine one at a
//! time, each after the previous reply: lock-step, whatever speed they arrive
//! at. Between commands, `#` starts a comment and `:` a meta-command
//! (`:expect 250`); inside a message every line up to the lone `.` is text,
//! `#` and `:` lines included. While waiting for input the engine still
//! listens, so an idle `421` is shown when it comes. End of input sends QUIT
//! if the session is still open.

use std::io::{BufRead, Read};

use anyhow::Result;
use tokio::sync::mpsc;

use super::Output;
use super::actions;
use super::helpers::{HelperError, Helpers, NoOneToAsk};
use super::meta::{self, Line, Meta};
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::session::{Phase, Session, SessionError};

/// Batches of lines read ahead of the session at most.
const READ_AHEAD: usize = 16;
/// Lines in one batch at most.
const BATCH: usize = 256;

/// What the reader thread hands over: lines, then the end or an error.
type Batch = std::io::Result<Vec<Vec<u8>>>;

/// What the driver does after a line.
enum Flow {
    Continue,
    Stop,
}

/// A step failed: the session broke, or the script asked for something
/// that cannot be done (a local problem: exit 2).
enum StepError {
    Session(SessionError),
    Local(String),
    /// STARTTLS failed: stop politely (QUIT), the outcome already says why.
    NoTls,
}

impl From<SessionError> for StepError {
    fn from(e: SessionError) -> Self {
        StepError::Session(e)
    }
}

impl From<HelperError> for StepError {
    fn from(e: HelperError) -> Self {
        match e {
            HelperError::Session(e) => StepError::Session(e),
            HelperError::Local(text) => StepError::Local(text),
            HelperError::NoTls => StepError::NoTls,
        }
    }
}

/// Runs a session fed from `input`; returns the exit code's meaning.
pub async fn run<O: Output>(
    config: &ConnectConfig,
    input: Box<dyn Read + Send>,
    output: O,
) -> Result<Exit> {
    let mut session = match super::open_or_report(config, output).await {
        Ok(session) => session,
        Err(exit) => return Ok(exit),
    };
    let mut driver = Driver {
        helpers: Helpers::new(config.helpers.clone()),
        pipeline: None,
    };
    if config.starttls && session.is_open() {
        let step = driver
            .helpers
            .run(&mut session, Meta::StartTls, &mut NoOneToAsk)
            .await;
        if let Err(e) = step {
            match StepError::from(e) {
                StepError::NoTls => {
                    let _ = session.quit().await;
                }
                StepError::Session(e) => {
                    session.sink().error(&e.to_string());
                    session.fail_locally();
                    session.close().await;
                }
                StepError::Local(text) => {
                    session.sink().error(&text);
                    session.fail_locally();
                    session.close().await;
                }
            }
        }
    }
    let mut batches = spawn_reader(input);
    let mut ready: std::collections::VecDeque<Vec<u8>> = std::collections::VecDeque::new();
    while session.is_open() {
        let step = if let Some(line) = ready.pop_front() {
            // Lines already read go out without a trip through `select!`.
            driver.line(&mut session, &line).await
        } else {
            // Everything so far is shown before waiting for more input.
            session.sink().flush();
            // `biased`: input first, so a line that is ready is sent before
            // the idle read flushes (message text goes out in bulk).
            tokio::select! {
                biased;
                batch = batches.recv() => match batch {
                    Some(Ok(lines)) => {
                        ready.extend(lines);
                        Ok(Flow::Continue)
                    }
                    Some(Err(e)) => Err(StepError::Local(format!("reading the input: {e}"))),
                    None => session.quit().await.map(|()| Flow::Stop).map_err(StepError::from),
                },
                idle = session.idle() => idle.map(|()| Flow::Continue).map_err(StepError::from),
            }
        };
        driver.helpers.record_reply(&session);
        if let Some(e) = session.sink().take_error() {
            return Err(e.into());
        }
        match step {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => break,
            Err(StepError::Session(e)) => {
                session.sink().error(&e.to_string());
                session.fail_locally();
                break;
            }
            Err(StepError::NoTls) => {
                session.sink().info(&[
                    "STARTTLS did not succeed: stopping rather than going on in plaintext"
                        .to_string(),
                ]);
                let _ = session.quit().await;
                break;
            }
            Err(StepError::Local(text)) => {
                // A mistake in a script is a local problem: stop before the
                // script does something its author did not mean.
                session.sink().error(&text);
                session.fail_locally();
                session.close().await;
                break;
            }
        }
    }
    super::finish(&mut session)
}

/// The script driver's own state.
struct Driver {
    helpers: Helpers,
    /// Lines of a `:pipeline` block being collected.
    pipeline: Option<Vec<String>>,
}

impl Driver {
    async fn line<O: Output>(
        &mut self,
        session: &mut Session<O>,
        raw: &[u8],
    ) -> Result<Flow, StepError> {
        let line = trim_line_ending(raw);
        if session.phase() != Phase::Command {
            // Message text (or text being dropped after a refused DATA).
            self.helpers.record(&String::from_utf8_lossy(line));
            session.submit(raw, true).await?;
            return Ok(Flow::Continue);
        }
        if let Some(block) = self.pipeline.as_mut() {
            if line == b"." {
                let block = self.pipeline.take().unwrap_or_default();
                self.helpers.record(".");
                session.pipeline(&block).await?;
            } else {
                let text = String::from_utf8_lossy(line).into_owned();
                self.helpers.record(&text);
                block.push(text);
            }
            return Ok(Flow::Continue);
        }
        if line.trim_ascii().is_empty() || line.trim_ascii_start().starts_with(b"#") {
            return Ok(Flow::Continue);
        }
        match meta::classify(line) {
            Line::Send(bytes) => {
                self.helpers.sent(&session.status(), line, bytes);
                session.submit(bytes, true).await?;
                Ok(Flow::Continue)
            }
            Line::Meta(text) => self.meta(session, text).await,
        }
    }

    async fn meta<O: Output>(
        &mut self,
        session: &mut Session<O>,
        text: &str,
    ) -> Result<Flow, StepError> {
        let meta = meta::parse(text).map_err(|e| StepError::Local(e.to_string()))?;
        match actions::run_meta(session, meta, &mut self.helpers, &mut NoOneToAsk).await? {
            actions::Flow::Continue => Ok(Flow::Continue),
            actions::Flow::Stop => Ok(Flow::Stop),
            actions::Flow::Pipeline => {
                self.pipeline = Some(Vec::new());
                Ok(Flow::Continue)
            }
            actions::Flow::Reconnect => Err(StepError::Local(
                ":reconnect works only at the interactive prompt".into(),
            )),
        }
    }
}

fn trim_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads `input` line by line (bytes, not necessarily UTF-8) on a thread, so
/// a blocked read never holds up the session or the exit. Lines already
/// buffered go over in batches; a batch ends when the buffer is empty, so
/// typed or slowly piped input is not held back.
fn spawn_reader(input: Box<dyn Read + Send>) -> mpsc::Receiver<Batch> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
        loop {
            let mut batch = Vec::new();
            let end = loop {
                let mut line = Vec::new();
                match input.read_until(b'\n', &mut line) {
                    Ok(0) => break Some(Ok(())),
                    Ok(_) => batch.push(line),
                    Err(e) => break Some(Err(e)),
                }
                if batch.len() >= BATCH || input.buffer().is_empty() {
                    break None;
                }
            };
            if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
                return;
            }
            match end {
                None => {}
                Some(Ok(())) => return,
                Some(Err(e)) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    rx
}
