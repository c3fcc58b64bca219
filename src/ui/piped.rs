//! The line-by-line driver: stdin is not a terminal (or no REPL is wanted).
//!
//! Lines are read on a thread of their own and handed to the engine one at
//! a time, each after the previous reply: lock-step, whatever speed they
//! arrive at. While waiting for input the engine still listens, so an idle
//! `421` is shown when it comes. End of input sends QUIT if the session is
//! still open.

use std::io::{BufRead, Write};

use anyhow::Result;
use tokio::sync::mpsc;

use super::render::Renderer;
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::session::{Session, SessionError};

/// Lines read ahead of the session at most.
const READ_AHEAD: usize = 1024;

/// Runs a session fed from stdin; returns the exit code's meaning.
pub async fn run<W: Write>(config: &ConnectConfig, renderer: Renderer<W>) -> Result<Exit> {
    let mut session =
        match Session::open(&config.target, &config.connect, config.timeouts, renderer).await {
            Ok(session) => session,
            Err((e, mut renderer)) => {
                renderer.flush();
                eprintln!("smtpcli: {e}");
                return Ok(Exit::Local);
            }
        };
    let mut lines = spawn_stdin_reader();
    while session.is_open() {
        let result = tokio::select! {
            line = lines.recv() => match line {
                Some(Ok(line)) => session.submit(&line, true).await,
                Some(Err(e)) => {
                    eprintln!("smtpcli: reading stdin: {e}");
                    session.fail_locally();
                    session.close().await;
                    break;
                }
                None => {
                    let result = session.quit().await;
                    finish(&mut session, result)?;
                    break;
                }
            },
            idle = session.idle() => idle,
        };
        if !finish(&mut session, result)? {
            break;
        }
    }
    session.sink().flush();
    if let Some(e) = session.sink().take_error() {
        return Err(e.into());
    }
    Ok(session.outcome())
}

/// Handles a step's error: prints it, counts it, says whether to go on.
fn finish<W: Write>(
    session: &mut Session<Renderer<W>>,
    result: Result<(), SessionError>,
) -> Result<bool> {
    if let Some(e) = session.sink().take_error() {
        return Err(e.into());
    }
    match result {
        Ok(()) => Ok(true),
        Err(e) => {
            session.sink().flush();
            eprintln!("smtpcli: {e}");
            session.fail_locally();
            Ok(false)
        }
    }
}

/// Reads stdin line by line (bytes, not necessarily UTF-8) on a thread, so
/// a blocked read never holds up the session or the exit.
fn spawn_stdin_reader() -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
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
