//! Unix: termios for echo, and a zero-timeout poll for a line typed ahead
//! (the kernel only reports input in line mode once a whole line is there).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{LocalFlags, SetArg, Termios, tcgetattr, tcsetattr};

use super::TypedAhead;

/// The terminal's settings as they were.
pub(super) type Settings = Termios;

/// Sets echo on stdin; the settings before, if stdin is a terminal and the
/// change was made.
pub(super) fn set_echo(on: bool) -> Option<Settings> {
    let stdin = io::stdin();
    let original = tcgetattr(stdin.as_fd()).ok()?;
    let mut changed = original.clone();
    if on {
        changed.local_flags.insert(LocalFlags::ECHO);
    } else {
        changed.local_flags.remove(LocalFlags::ECHO);
    }
    tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &changed).ok()?;
    Some(original)
}

/// Puts stdin's settings back.
pub(super) fn restore(original: &Settings) {
    let _ = tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, original);
}

/// A whole line that is already waiting on stdin, without blocking.
pub(super) fn typed_ahead() -> Option<TypedAhead> {
    let stdin = io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(n) if n > 0 => {}
        _ => return None,
    }
    // A read of its own, unbuffered: in line mode it returns at most one
    // line, so nothing else is taken from the terminal.
    let mut file = File::from(stdin.as_fd().try_clone_to_owned().ok()?);
    let mut buffer = [0u8; 4096];
    match file.read(&mut buffer) {
        Ok(0) => Some(TypedAhead::End),
        Ok(n) => {
            let line = &buffer[..n];
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Some(TypedAhead::Line(String::from_utf8_lossy(line).into_owned()))
        }
        Err(_) => None,
    }
}
