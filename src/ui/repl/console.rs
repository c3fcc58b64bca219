//! The readline thread: one prompt per turn, and what came of it.
//!
//! rustyline blocks, so it lives on a thread of its own and is driven turn
//! by turn: the engine asks for a line only when it is idle, with the prompt
//! and completion state of that moment ([`Turn`]), and gets back an
//! [`Answer`]. Before a prompt is drawn, everything queued for the screen is
//! printed, and a whole line already typed ahead is taken as it is, marked
//! queued. A multi-line paste comes back as several lines, all but the
//! first queued; a line that rustyline returns faster than anyone types
//! (left in its buffer by a paste the terminal did not bracket) is queued
//! too. This thread also keeps the history file, and only ever adds to it
//! what the engine's side tells it to ([`Turn::remember`]).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rustyline::config::{ColorMode, CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Editor, ExternalPrinter as _};
use tokio::sync::mpsc;
use unicode_width::UnicodeWidthStr;

use super::complete::{ReplHelper, Situation};
use super::history;
use super::printer::Screen;
use super::prompt::Prompt;
use super::terminal::{self, TypedAhead};

/// A line that comes back from rustyline sooner than this after the prompt
/// was drawn was not typed at that prompt: it was waiting in rustyline's
/// buffer.
const FASTER_THAN_TYPING: Duration = Duration::from_millis(20);

/// How long a prompt waits for output queued before it at most (see
/// [`Screen::wait_idle`]).
const OUTPUT_FIRST: Duration = Duration::from_millis(250);

/// How often a held-back block checks whether rustyline's reverse search
/// is over.
const MODAL_POLL: Duration = Duration::from_millis(10);

/// History entries kept at most.
const HISTORY_SIZE: usize = 1000;

/// What the engine's side asks for.
pub(super) struct Turn {
    /// The prompt to show.
    pub prompt: Prompt,
    /// What completion knows now.
    pub situation: Situation,
    /// Lines sent since the last turn that may enter history.
    pub remember: Vec<String>,
}

/// What came of a turn.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// One line, or several from a paste.
    Lines {
        lines: Vec<String>,
        /// Whether the first line was already waiting (typed ahead);
        /// every further line is queued anyway.
        queued: bool,
        /// Terminal rows the prompt and the edited text took (0 when no
        /// prompt was drawn), for erasing them.
        rows: u16,
    },
    /// Ctrl-C at the prompt: the line was thrown away.
    Interrupted,
    /// Ctrl-D on an empty line, or the end of input.
    End { rows: u16 },
    /// The terminal failed.
    Failed(String),
}

type LineEditor = Editor<ReplHelper, FileHistory>;

/// The line editor and the printer that writes above its prompt;
/// `history_size` is the config file's (default 1000 lines).
pub(super) fn editor(
    color: bool,
    history_size: Option<usize>,
) -> rustyline::Result<(LineEditor, impl FnMut(String) + Send + 'static)> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .max_history_size(history_size.unwrap_or(HISTORY_SIZE))?
        // A list: with one candidate it completes at once, and it never
        // waits for a second Tab, so output arriving meanwhile is not held.
        .completion_type(CompletionType::List)
        .completion_show_all_if_ambiguous(true)
        // Never "Display all N possibilities?", which holds output back.
        .completion_prompt_limit(1000)
        // The helper decides about colour; rustyline must always ask it,
        // or a secret would be shown unmasked without colour.
        .color_mode(ColorMode::Forced)
        .bracketed_paste(true)
        .build();
    let mut editor = LineEditor::with_config(config)?;
    let helper = ReplHelper::new(color);
    let modal = helper.modal();
    editor.set_helper(Some(helper));
    let mut printer = editor.create_external_printer()?;
    let print = move |block: String| {
        // In reverse search rustyline keeps what it is handed and, if the
        // search ends the line, shows it only at the next prompt (or never,
        // at the end): wait until the search is over instead.
        while modal.load(Ordering::SeqCst) {
            std::thread::sleep(MODAL_POLL);
        }
        if printer.print(block.clone()).is_err() {
            use std::io::Write as _;
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(block.as_bytes());
            let _ = stdout.flush();
        }
    };
    Ok((editor, print))
}

/// What the readline thread is asked to do.
enum Request {
    /// Show a prompt and answer.
    Turn(Turn),
    /// Add these lines to history; the REPL is ending.
    Remember(Vec<String>),
}

/// The readline thread's handle.
pub(super) struct Console {
    requests: std::sync::mpsc::Sender<Request>,
    answers: mpsc::Receiver<Answer>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Console {
    /// Starts the thread with `editor`; history is read from and appended
    /// to `history` when given.
    pub(super) fn start(
        editor: LineEditor,
        screen: Screen,
        history: Option<PathBuf>,
        ahead: terminal::Ahead,
    ) -> Console {
        let (requests, request_rx) = std::sync::mpsc::channel();
        let (answer_tx, answers) = mpsc::channel(1);
        let thread = std::thread::Builder::new()
            .name("smtpcli-readline".into())
            .spawn(move || {
                let mut reader = Reader {
                    editor,
                    screen,
                    history,
                    ahead,
                    warned: false,
                };
                reader.load_history();
                while let Ok(request) = request_rx.recv() {
                    match request {
                        Request::Turn(turn) => {
                            let answer = reader.turn(turn);
                            if answer_tx.blocking_send(answer).is_err() {
                                break;
                            }
                        }
                        Request::Remember(lines) => {
                            for line in lines {
                                reader.remember(line);
                            }
                        }
                    }
                }
            })
            .ok();
        Console {
            requests,
            answers,
            thread,
        }
    }

    /// Asks for the next line.
    pub(super) fn ask(&self, turn: Turn) {
        let _ = self.requests.send(Request::Turn(turn));
    }

    /// Adds the last lines to history and stops the thread. Called with no
    /// prompt up (after the last answer).
    pub(super) fn finish(mut self, remember: Vec<String>) {
        let _ = self.requests.send(Request::Remember(remember));
        let (requests, _) = std::sync::mpsc::channel();
        drop(std::mem::replace(&mut self.requests, requests));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The answer to the last [`Console::ask`]. Cancel-safe.
    pub(super) async fn answer(&mut self) -> Answer {
        match self.answers.recv().await {
            Some(answer) => answer,
            None => Answer::Failed("the line editor stopped".into()),
        }
    }
}

struct Reader {
    editor: LineEditor,
    screen: Screen,
    history: Option<PathBuf>,
    ahead: terminal::Ahead,
    /// Whether a history problem was reported already.
    warned: bool,
}

impl Reader {
    fn load_history(&mut self) {
        let Some(path) = self.history.clone() else {
            return;
        };
        if let Err(e) = history::prepare(&path) {
            self.warn(&format!("history disabled: {}: {e}", path.display()));
            self.history = None;
            return;
        }
        if path.exists()
            && let Err(e) = self.editor.load_history(&path)
        {
            self.warn(&format!("cannot read the history {}: {e}", path.display()));
        }
        let addresses: Vec<String> = self
            .editor
            .history()
            .iter()
            .filter_map(|line| history::address(line))
            .collect();
        if let Some(helper) = self.editor.helper_mut() {
            for address in addresses {
                helper.remember_address(address);
            }
        }
    }

    fn turn(&mut self, turn: Turn) -> Answer {
        for line in turn.remember {
            self.remember(line);
        }
        if let Some(helper) = self.editor.helper_mut() {
            helper.set_situation(turn.situation);
        }
        // The prompt goes below everything already queued.
        self.screen.wait_idle(OUTPUT_FIRST);
        // Lines read (and shown as queued) while a reply was awaited come
        // first, then what is still waiting at the terminal.
        let waiting = {
            let mut ahead = self
                .ahead
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if ahead.is_empty() {
                ahead.extend(terminal::typed_ahead());
            }
            ahead.pop_front()
        };
        match waiting {
            Some(TypedAhead::Line(line)) => {
                return Answer::Lines {
                    lines: vec![line],
                    queued: true,
                    rows: 0,
                };
            }
            Some(TypedAhead::End) => return Answer::End { rows: 0 },
            None => {}
        }
        let prompt = (turn.prompt.raw.as_str(), turn.prompt.styled.as_str());
        let started = Instant::now();
        let result = self.editor.readline(&prompt);
        let fast = started.elapsed() < FASTER_THAN_TYPING;
        if let Some(helper) = self.editor.helper() {
            // No prompt is up: whatever rustyline was in, it is over.
            helper.modal().store(false, Ordering::SeqCst);
        }
        match result {
            Ok(text) => {
                let rows = rows(&turn.prompt.raw, &text);
                let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
                if lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
                    lines.pop();
                }
                Answer::Lines {
                    lines,
                    queued: fast,
                    rows,
                }
            }
            Err(ReadlineError::Interrupted) => Answer::Interrupted,
            Err(ReadlineError::Eof) => Answer::End {
                rows: rows(&turn.prompt.raw, ""),
            },
            Err(e) => Answer::Failed(e.to_string()),
        }
    }

    fn remember(&mut self, line: String) {
        if let Some(address) = history::address(&line)
            && let Some(helper) = self.editor.helper_mut()
        {
            helper.remember_address(address);
        }
        if !matches!(self.editor.add_history_entry(line), Ok(true)) {
            return;
        }
        let Some(path) = self.history.clone() else {
            return;
        };
        let saved = self
            .editor
            .append_history(&path)
            .map_err(|e| e.to_string())
            .and_then(|()| history::make_private(&path).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            self.warn(&format!("cannot write the history {}: {e}", path.display()));
        }
    }

    fn warn(&mut self, message: &str) {
        if !std::mem::replace(&mut self.warned, true) {
            self.screen.print(format!("# warning: {message}\n"));
        }
    }
}

/// The terminal rows a prompt and the line typed after it took, the row
/// the cursor moved to afterwards included: how far up to go to erase them.
fn rows(prompt: &str, text: &str) -> u16 {
    let cols = crossterm::terminal::size()
        .map(|(cols, _)| usize::from(cols))
        .unwrap_or(80);
    rows_at(cols, prompt, text)
}

fn rows_at(cols: usize, prompt: &str, text: &str) -> u16 {
    let cols = cols.max(1);
    let mut rows = 0;
    for (i, segment) in text.split('\n').enumerate() {
        let width = segment.width() + if i == 0 { prompt.width() } else { 0 };
        // A segment exactly as wide as the screen leaves the cursor on the
        // next row: integer division counts that row.
        rows += width / cols + 1;
    }
    u16::try_from(rows).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_taken() {
        let p = "host:25> ";
        assert_eq!(rows_at(80, p, ""), 1);
        assert_eq!(rows_at(80, p, "EHLO x"), 1);
        assert_eq!(rows_at(80, p, &"x".repeat(70)), 1);
        // Exactly the width: the cursor wrapped to the next row.
        assert_eq!(rows_at(80, p, &"x".repeat(71)), 2);
        assert_eq!(rows_at(80, p, &"x".repeat(200)), 3);
        assert_eq!(rows_at(80, p, "a\nb\nc"), 3);
        assert_eq!(rows_at(80, p, "漢".repeat(40).as_str()), 2);
    }
}
