//! The terminal between two prompts.
//!
//! While the engine waits for a reply no prompt is up, and the terminal is
//! in its ordinary line mode. Two things follow. Echo is turned off, so text
//! typed (or pasted) ahead does not scribble over the replies as they
//! arrive; it is shown when it is sent. And a whole line typed ahead is
//! recognised as such before the next prompt comes up: the kernel only
//! reports input in line mode once a whole line is there, so a zero-timeout
//! poll tells a line that was already waiting (queued: it was written
//! before the reply was seen) from one typed at the prompt.

/// Echo off for as long as this lives; the terminal's settings as they
/// were are restored on drop.
pub(super) struct EchoOff {
    #[cfg(unix)]
    original: Option<nix::sys::termios::Termios>,
}

/// Echo on for as long as this lives (a question's answer is seen as it is
/// typed, and its Enter ends the line); restored on drop.
pub(super) struct EchoOn {
    #[cfg(unix)]
    original: Option<nix::sys::termios::Termios>,
}

/// Lines typed ahead and already read from the terminal (while a reply was
/// awaited, to show them as queued), for the next prompts to take first.
pub(super) type Ahead = std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<TypedAhead>>>;

/// What was waiting at the terminal.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TypedAhead {
    /// A line (without its line ending).
    Line(String),
    /// End of input (Ctrl-D typed ahead, or the terminal hung up).
    End,
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io::{self, Read};
    use std::os::fd::AsFd;

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};

    use super::{EchoOff, EchoOn, TypedAhead};

    impl EchoOff {
        /// Turns echo off on stdin, if it is a terminal.
        pub(crate) fn turn_off() -> EchoOff {
            let stdin = io::stdin();
            let Ok(original) = tcgetattr(stdin.as_fd()) else {
                return EchoOff { original: None };
            };
            let mut quiet = original.clone();
            quiet.local_flags.remove(LocalFlags::ECHO);
            match tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &quiet) {
                Ok(()) => EchoOff {
                    original: Some(original),
                },
                Err(_) => EchoOff { original: None },
            }
        }
    }

    impl EchoOn {
        /// Turns echo on on stdin, if it is a terminal.
        pub(crate) fn turn_on() -> EchoOn {
            let stdin = io::stdin();
            let Ok(original) = tcgetattr(stdin.as_fd()) else {
                return EchoOn { original: None };
            };
            let mut echo = original.clone();
            echo.local_flags.insert(LocalFlags::ECHO);
            match tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &echo) {
                Ok(()) => EchoOn {
                    original: Some(original),
                },
                Err(_) => EchoOn { original: None },
            }
        }
    }

    impl Drop for EchoOn {
        fn drop(&mut self) {
            if let Some(original) = &self.original {
                let _ = tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, original);
            }
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            if let Some(original) = &self.original {
                let _ = tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, original);
            }
        }
    }

    /// A whole line that is already waiting on stdin, without blocking.
    pub(crate) fn typed_ahead() -> Option<TypedAhead> {
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
}

#[cfg(unix)]
pub(super) use imp::typed_ahead;

#[cfg(not(unix))]
impl EchoOff {
    /// Does nothing where termios is not available.
    pub fn turn_off() -> EchoOff {
        EchoOff {}
    }
}

#[cfg(not(unix))]
impl EchoOn {
    /// Does nothing where termios is not available.
    pub fn turn_on() -> EchoOn {
        EchoOn {}
    }
}

/// Lines typed ahead cannot be told apart here: none is reported.
#[cfg(not(unix))]
pub fn typed_ahead() -> Option<TypedAhead> {
    None
}
