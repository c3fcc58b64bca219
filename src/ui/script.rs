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
use super::meta::{self, Line};
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::session::{Phase, Session, SessionError};

/// Lines read ahead of the session at most.
const READ_AHEAD: usize = 1024;

/// What the driver does after a line.
enum Flow {
    Continue,
    Stop,
}

/// Runs a session fed from `input`; returns the exit code's meaning.
pub async fn run<O: Output>(
    config: &ConnectConfig,
    input: Box<dyn Read + Send>,
    output: O,
) -> Result<Exit> {
    let mut session =
        match Session::open(&config.target, &config.connect, config.session, output).await {
            Ok(session) => session,
            Err((e, mut output)) => {
                output.error(&e.to_string());
                output.end(Exit::Local);
                output.flush();
                return Ok(Exit::Local);
            }
        };
    let mut lines = spawn_reader(input);
    while session.is_open() {
        let step = tokio::select! {
            line = lines.recv() => match line {
                Some(Ok(line)) => handle_line(&mut session, &line).await,
                Some(Err(e)) => {
                    session.sink().error(&format!("reading the input: {e}"));
                    session.fail_locally();
                    session.close().await;
                    Ok(Flow::Stop)
                }
                None => session.quit().await.map(|()| Flow::Stop),
            },
            idle = session.idle() => idle.map(|()| Flow::Continue),
        };
        if let Some(e) = session.sink().take_error() {
            return Err(e.into());
        }
        match step {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => break,
            Err(e) => {
                session.sink().error(&e.to_string());
                session.fail_locally();
                break;
            }
        }
    }
    let exit = session.outcome();
    session.sink().end(exit);
    session.sink().flush();
    if let Some(e) = session.sink().take_error() {
        return Err(e.into());
    }
    Ok(exit)
}

async fn handle_line<O: Output>(
    session: &mut Session<O>,
    raw: &[u8],
) -> Result<Flow, SessionError> {
    if session.phase() != Phase::Command {
        // Message text (or text being dropped after a refused DATA).
        session.submit(raw, true).await?;
        return Ok(Flow::Continue);
    }
    let line = trim_line_ending(raw);
    if line.trim_ascii().is_empty() || line.trim_ascii_start().starts_with(b"#") {
        return Ok(Flow::Continue);
    }
    match meta::classify(line) {
        Line::Send(bytes) => {
            session.submit(bytes, true).await?;
            Ok(Flow::Continue)
        }
        Line::Meta(text) => run_meta(session, text).await,
    }
}

async fn run_meta<O: Output>(session: &mut Session<O>, text: &str) -> Result<Flow, SessionError> {
    let meta = match meta::parse(text) {
        Ok(meta) => meta,
        // A mistake in a script is a local problem: stop before the script
        // does something its author did not mean.
        Err(e) => return stop_locally(session, &e.to_string()).await,
    };
    match actions::run_meta(session, meta).await? {
        actions::Flow::Continue => Ok(Flow::Continue),
        actions::Flow::Stop => Ok(Flow::Stop),
        actions::Flow::Reconnect => {
            stop_locally(session, ":reconnect works only at the interactive prompt").await
        }
    }
}

async fn stop_locally<O: Output>(
    session: &mut Session<O>,
    message: &str,
) -> Result<Flow, SessionError> {
    session.sink().error(message);
    session.fail_locally();
    session.close().await;
    Ok(Flow::Stop)
}

fn trim_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads `input` line by line (bytes, not necessarily UTF-8) on a thread, so
/// a blocked read never holds up the session or the exit.
fn spawn_reader(input: Box<dyn Read + Send>) -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
        loop {
            let mut line = Vec::new();
            match input.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if tx.blocking_send(Ok(line)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    rx
}
