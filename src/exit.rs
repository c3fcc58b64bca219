//! The process exit codes of DESIGN §4, in one place.
//!
//! Scripts, replays and piped sessions end with one of these; monitors rely
//! on telling a permanent disagreement (1) from a temporary one (75) and both
//! from a local problem or no SMTP answer at all (2).

use std::process::ExitCode;

/// How a run ended, as the exit code reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every reply as expected (without expectations: no 4xx or 5xx).
    Success,
    /// The only disagreements were temporary (4xx): `EX_TEMPFAIL`.
    Temporary,
    /// The server spoke SMTP and disagreed permanently.
    Permanent,
    /// No SMTP answer, or a local problem (usage, DNS, connect, TLS, timeout,
    /// unreadable file, unknown code to `--explain`).
    Local,
    /// Stopped with Ctrl-C before the work was done (`--probe`).
    Interrupted,
}

impl Exit {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Permanent => 1,
            Exit::Local => 2,
            Exit::Temporary => 75,
            Exit::Interrupted => 130,
        }
    }

    /// The worse of two outcomes: a local failure outranks a permanent one,
    /// which outranks a temporary one.
    pub fn worst(self, other: Exit) -> Exit {
        self.max(other)
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The exit-code table as `--help` shows it.
pub const HELP: &str = "\
Exit codes (scripts, replays and piped input):
  0   every reply as expected (no expectations: no 4xx or 5xx reply)
  1   the server disagreed permanently: an unexpected 5xx, a failed :expect,
      a replay mismatch, STARTTLS not offered (or refused with a 5xx), a 554 banner,
      a null MX, a SCRAM server that did not prove it knows the password
  75  the only disagreements were temporary (4xx: greylisting, a 421 banner,
      input left unsent after a 421)
  2   no SMTP answer or a local problem: usage, DNS, connect, TLS handshake,
      timeout, connection closed mid-dialog or with input left unsent, a reply
      code outside 2xx-5xx, unreadable script, a mistyped meta-command, a
      script ending inside a message, unknown code to --explain
With --audit: 1 when a test found the server VULNERABLE, else 2 when a test
could not run (no connection, no SMTP answer), else 0.
Probing many servers (--probe FILE): 0 every address passed, 1 any failed a
  check, 2 usage or input error, 130 stopped with Ctrl-C.
An interactive session exits 0 unless it could not connect.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_outcome_wins() {
        use Exit::*;
        assert_eq!(Success.worst(Temporary), Temporary);
        assert_eq!(Temporary.worst(Permanent), Permanent);
        assert_eq!(Permanent.worst(Temporary), Permanent);
        assert_eq!(Permanent.worst(Local), Local);
        assert_eq!(
            [Success, Permanent, Temporary, Local].map(Exit::code),
            [0, 1, 75, 2]
        );
    }
}
