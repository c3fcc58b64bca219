//! The terminal between two prompts.
//!
//! While the engine waits for a reply no prompt is up, and the terminal is
//! in its ordinary line mode. Two things follow. Echo is turned off, so text
//! typed (or pasted) ahead does not scribble over the replies as they
//! arrive; it is shown when it is sent. And a whole line typed ahead is
//! recognised as such before the next prompt comes up, so that it is taken
//! as queued (it was written before the reply was seen) and not as typed at
//! the prompt.
//!
//! What this takes from the operating system is in one small module per
//! platform (`imp`): the settings to put back, echo on or off, and a line
//! already waiting. Where a platform cannot tell a line waiting without
//! taking it, none is reported and the line editor reads it as typed.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(not(any(unix, windows)))]
mod other;
#[cfg(not(any(unix, windows)))]
use other as imp;

/// Echo off for as long as this lives; the terminal's settings as they
/// were are restored on drop.
pub(super) struct EchoOff {
    original: Option<imp::Settings>,
}

/// Echo on for as long as this lives (a question's answer is seen as it is
/// typed, and its Enter ends the line); restored on drop.
pub(super) struct EchoOn {
    original: Option<imp::Settings>,
}

/// Lines typed ahead and already read from the terminal (while a reply was
/// awaited, to show them as queued), for the next prompts to take first.
pub(super) type Ahead = std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<TypedAhead>>>;

/// What was waiting at the terminal.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TypedAhead {
    /// A line (without its line ending).
    #[cfg_attr(not(unix), allow(dead_code))]
    Line(String),
    /// End of input (Ctrl-D typed ahead, or the terminal hung up).
    #[cfg_attr(not(unix), allow(dead_code))]
    End,
}

impl EchoOff {
    /// Turns echo off on stdin, if it is a terminal.
    pub(super) fn turn_off() -> EchoOff {
        EchoOff {
            original: imp::set_echo(false),
        }
    }
}

impl EchoOn {
    /// Turns echo on on stdin, if it is a terminal.
    pub(super) fn turn_on() -> EchoOn {
        EchoOn {
            original: imp::set_echo(true),
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(original) = &self.original {
            imp::restore(original);
        }
    }
}

impl Drop for EchoOn {
    fn drop(&mut self) {
        if let Some(original) = &self.original {
            imp::restore(original);
        }
    }
}

/// A whole line (or the end of input) that is already waiting on stdin,
/// taken without blocking: nothing if there is none, or stdin is not a
/// terminal the platform can ask. Enter pressed while the terminal was
/// still raw (the moment after a prompt returned) reaches the line as a
/// bare CR, which no one can type in line mode: each such CR ends a line,
/// so two lines typed quickly stay two lines.
pub(super) fn typed_ahead() -> Vec<TypedAhead> {
    match imp::typed_ahead() {
        Some(TypedAhead::Line(line)) => split_at_enter(&line),
        Some(TypedAhead::End) => vec![TypedAhead::End],
        None => Vec::new(),
    }
}

fn split_at_enter(line: &str) -> Vec<TypedAhead> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.split('\r')
        .map(|part| TypedAhead::Line(part.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_enter_inside_a_typed_ahead_line_ends_it() {
        let lines = |text: &str| -> Vec<TypedAhead> { split_at_enter(text) };
        assert_eq!(lines("NOOP"), [TypedAhead::Line("NOOP".into())]);
        assert_eq!(
            lines("RCPT TO:<b@example.org>\r:edit bdat\r"),
            [
                TypedAhead::Line("RCPT TO:<b@example.org>".into()),
                TypedAhead::Line(":edit bdat".into())
            ]
        );
        assert_eq!(lines(""), [TypedAhead::Line(String::new())]);
    }
}
