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

use std::collections::VecDeque;
use std::io::{BufRead, Read};

use anyhow::Result;
use tokio::sync::mpsc;

use super::Output;
use super::actions::Flow;
use super::helpers::NoOneToAsk;
use super::runner::{self, StepError};
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::session::SessionError;

/// Batches of lines read ahead of the session at most.
const READ_AHEAD: usize = 16;
/// Lines in one batch at most.
const BATCH: usize = 256;

/// What the reader thread hands over: pieces of lines, then the end or an
/// error.
type Batch = std::io::Result<Vec<Piece>>;

/// How the reading ended.
enum End {
    /// The input ended.
    Input,
    /// `:quit`, or a failure that ends the script.
    Stopped,
}

/// Runs a session fed from `input`; returns the exit code's meaning.
pub(crate) async fn run<O: Output>(
    config: &ConnectConfig,
    input: Box<dyn Read + Send>,
    output: O,
) -> Result<Exit> {
    let mut runner = match runner::open(config, output, false).await {
        Ok(runner) => runner,
        Err((e, output)) => return Ok(super::report_open_failure(e, output)),
    };
    let mut batches = spawn_reader(input);
    let mut ready: VecDeque<Piece> = VecDeque::new();
    // Once the server has closed, what is left of the input is only
    // counted; an input that never ends is not waited for past this.
    let linger = config.session.timeouts.reply;
    // A script saved by a Windows editor may start with a byte order mark.
    let mut first_line = true;
    let end = loop {
        let step = if let Some(mut piece) = ready.pop_front() {
            if first_line {
                first_line = false;
                if let Some(rest) = piece.bytes.strip_prefix(b"\xEF\xBB\xBF") {
                    piece.bytes = rest.to_vec();
                    runner
                        .session
                        .sink()
                        .info(&[crate::app::BOM_NOTE.to_string()]);
                }
            }
            // Lines already read go out without a trip through `select!`.
            runner
                .piece(&piece.bytes, piece.end, true, &mut NoOneToAsk)
                .await
        } else {
            // Everything so far is shown before waiting for more input.
            runner.session.sink().flush();
            if !runner.session.is_open() {
                match tokio::time::timeout(linger, batches.recv()).await {
                    Ok(Some(Ok(lines))) => ready.extend(lines),
                    Ok(Some(Err(e))) => {
                        runner.fail(reading_failed(&e)).await;
                        break End::Stopped;
                    }
                    Ok(None) => break End::Input,
                    // The input goes on and the server is gone: stop here.
                    Err(_) => {
                        runner.input_left_open();
                        break End::Stopped;
                    }
                }
                continue;
            }
            // `biased`: input first, so a line that is ready is sent before
            // the idle read flushes (message text goes out in bulk).
            tokio::select! {
                biased;
                batch = batches.recv() => match batch {
                    Some(Ok(lines)) => {
                        ready.extend(lines);
                        Ok(Flow::Continue)
                    }
                    Some(Err(e)) => Err(reading_failed(&e)),
                    None => break End::Input,
                },
                idle = runner.session.idle() => idle.map(|()| Flow::Continue).map_err(StepError::from),
            }
        };
        if let Some(e) = runner.session.sink().take_error() {
            return Err(e.into());
        }
        match step {
            Ok(Flow::Continue | Flow::Pipeline) => {}
            Ok(Flow::Stop) => break End::Stopped,
            Ok(
                flow @ (Flow::Reconnect
                | Flow::History(_)
                | Flow::Again(_)
                | Flow::Watch(_)
                | Flow::Edit { .. }),
            ) => {
                let name = flow.prompt_only().unwrap_or(":reconnect");
                runner
                    .fail(StepError::Local(format!(
                        "{name} works only at the interactive prompt"
                    )))
                    .await;
                break End::Stopped;
            }
            Err(StepError::Session(e @ SessionError::Closed(_))) => {
                // The server hung up: what is left of the input is counted.
                runner.session.sink().error(&e.to_string());
                runner.session.fail_locally(&e.to_string());
            }
            Err(e) => {
                // A mistake in a script is a local problem: stop before the
                // script does something its author did not mean.
                runner.fail(e).await;
                break End::Stopped;
            }
        }
    };
    if let End::Input = end
        && let Err(e) = runner.end_of_input().await
    {
        runner.session.sink().error(&e.to_string());
        runner.session.fail_locally(&e.to_string());
    }
    Ok(runner.finish()?)
}

fn reading_failed(e: &std::io::Error) -> StepError {
    StepError::Local(format!("reading the input: {e}"))
}

/// The most of one line handed over at a time: a longer line comes in
/// pieces, so no line, however long, is held whole.
pub(crate) const MAX_PIECE: usize = 64 * 1024;

/// Bytes in one batch at most (about): the reader stays at most
/// [`READ_AHEAD`] batches ahead, so input in flight stays bounded.
const BATCH_BYTES: usize = 256 * 1024;

/// A line of input, or a piece of a long one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// The bytes, with the line ending if this piece ends the line.
    pub(crate) bytes: Vec<u8>,
    /// Whether the line ends with this piece.
    pub(crate) end: bool,
}

/// Cuts input into lines, and long lines into pieces of at most
/// [`MAX_PIECE`] bytes.
struct Pieces<R> {
    input: std::io::BufReader<R>,
    partial: Vec<u8>,
}

impl<R: Read> Pieces<R> {
    fn new(input: std::io::BufReader<R>) -> Self {
        Pieces {
            input,
            partial: Vec::new(),
        }
    }

    /// The next piece; `None` at the end of the input.
    fn next_piece(&mut self) -> std::io::Result<Option<Piece>> {
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if self.partial.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.take(true)));
            }
            let room = MAX_PIECE - self.partial.len();
            if let Some(i) = buf.iter().take(room).position(|&b| b == b'\n') {
                self.partial.extend_from_slice(&buf[..=i]);
                self.input.consume(i + 1);
                return Ok(Some(self.take(true)));
            }
            let n = buf.len().min(room);
            self.partial.extend_from_slice(&buf[..n]);
            self.input.consume(n);
            if self.partial.len() >= MAX_PIECE {
                return Ok(Some(self.take(false)));
            }
        }
    }

    fn take(&mut self, end: bool) -> Piece {
        Piece {
            bytes: std::mem::take(&mut self.partial),
            end,
        }
    }

    /// Whether a read now would wait for more input.
    fn is_drained(&self) -> bool {
        self.input.buffer().is_empty()
    }
}

/// Reads `input` (bytes, not necessarily UTF-8) on a thread, so a blocked
/// read never holds up the session or the exit. Lines already buffered go
/// over in batches; a batch ends when the buffer is empty, so typed or
/// slowly piped input is not held back. However long a line, memory stays
/// bounded: lines come in pieces, batches by size.
fn spawn_reader(input: Box<dyn Read + Send>) -> mpsc::Receiver<Batch> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        let mut pieces = Pieces::new(std::io::BufReader::with_capacity(64 * 1024, input));
        loop {
            let mut batch = Vec::new();
            let mut bytes = 0;
            let end = loop {
                match pieces.next_piece() {
                    Ok(None) => break Some(Ok(())),
                    Ok(Some(piece)) => {
                        bytes += piece.bytes.len();
                        batch.push(piece);
                    }
                    Err(e) => break Some(Err(e)),
                }
                if batch.len() >= BATCH || bytes >= BATCH_BYTES || pieces.is_drained() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &[u8], capacity: usize) -> Vec<(usize, bool)> {
        let mut p = Pieces::new(std::io::BufReader::with_capacity(capacity, input));
        let mut out = Vec::new();
        while let Some(piece) = p.next_piece().unwrap() {
            out.push((piece.bytes.len(), piece.end));
        }
        out
    }

    #[test]
    fn lines_come_whole_and_long_lines_in_pieces() {
        assert_eq!(pieces(b"EHLO a\nQUIT\n", 8), [(7, true), (5, true)]);
        assert_eq!(pieces(b"no newline", 4), [(10, true)]);
        let long = vec![b'x'; MAX_PIECE * 2 + 10];
        assert_eq!(
            pieces(&long, 4096),
            [(MAX_PIECE, false), (MAX_PIECE, false), (10, true)]
        );
        let mut exact = vec![b'y'; MAX_PIECE - 1];
        exact.push(b'\n');
        assert_eq!(pieces(&exact, 4096), [(MAX_PIECE, true)]);
    }
}
