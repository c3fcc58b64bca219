//! Windows: the console's input mode for echo, through crossterm's console
//! layer (crossterm_winapi).
//!
//! A line typed ahead is not reported: the console can only be asked how
//! many input events wait, not whether a whole line is among them, without
//! taking them. What was typed ahead stays in the console's buffer and the
//! line editor reads it at the next prompt, as typed there.

use crossterm_winapi::{ConsoleMode, Handle};

use super::TypedAhead;

/// `ENABLE_ECHO_INPUT`: characters read in line mode are echoed.
const ECHO_INPUT: u32 = 0x0004;

/// The console's input mode as it was.
pub(super) type Settings = u32;

/// The console mode of stdin, if stdin is a console (not a pipe or a file).
fn stdin_mode() -> Option<ConsoleMode> {
    Handle::input_handle().ok().map(ConsoleMode::from)
}

/// Sets echo on stdin; the mode before, if stdin is a console and the
/// change was made.
pub(super) fn set_echo(on: bool) -> Option<Settings> {
    let console = stdin_mode()?;
    let original = console.mode().ok()?;
    let changed = if on {
        original | ECHO_INPUT
    } else {
        original & !ECHO_INPUT
    };
    console.set_mode(changed).ok()?;
    Some(original)
}

/// Puts stdin's console mode back.
pub(super) fn restore(original: &Settings) {
    if let Some(console) = stdin_mode() {
        let _ = console.set_mode(*original);
    }
}

/// None: see the module's comment.
pub(super) fn typed_ahead() -> Option<TypedAhead> {
    None
}
