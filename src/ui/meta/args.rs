//! The arguments of the meta-commands added for the prompt's power tools:
//! `:watch` (an interval and a line), `:set` (a setting and its value) and
//! `:export` (a form), as values whose `Display` is the `:save` form.

use std::fmt;

use super::{Args, Meta, MetaError};

/// `:watch`: what to run, how often, and whether on a fresh connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch {
    /// Between the starts of two rounds.
    pub every: std::time::Duration,
    /// The line run each round (a command or a meta-command).
    pub line: String,
    /// `--reconnect`: connect, run, QUIT, each round.
    pub reconnect: bool,
}

/// The shortest `:watch` interval, so a typo cannot hammer a server.
pub(crate) const MIN_WATCH_SECONDS: u64 = 1;

/// `:watch` arguments: `[--reconnect] SECONDS LINE` (the option may come
/// after the seconds too).
pub(crate) fn parse_watch(a: &Args<'_>) -> Result<Meta, MetaError> {
    let mut rest = a.rest;
    let mut reconnect = false;
    let mut every = None;
    while every.is_none() {
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if word == "--reconnect" {
            reconnect = true;
        } else {
            let seconds = word.parse::<u64>().map_err(|_| a.usage())?;
            if seconds < MIN_WATCH_SECONDS {
                return Err(MetaError::Invalid(format!(
                    ":watch runs at most once a second, not every {seconds} s"
                )));
            }
            every = Some(std::time::Duration::from_secs(seconds));
        }
        rest = after.trim_start();
    }
    if let Some(after) = rest.strip_prefix("--reconnect ") {
        reconnect = true;
        rest = after.trim_start();
    }
    let line = rest.trim_end();
    if line.is_empty() {
        return Err(a.usage());
    }
    if line
        .strip_prefix(':')
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|name| {
            ["watch", "edit", "again"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
        })
    {
        return Err(MetaError::Invalid(format!(
            ":watch repeats a command or a helper, not {line}"
        )));
    }
    Ok(Meta::Watch(Watch {
        every: every.unwrap_or_default(),
        line: line.to_string(),
        reconnect,
    }))
}

/// What `:export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportForm {
    /// A swaks command line.
    Swaks,
    /// A curl command line (the message piped in).
    Curl,
    /// The script `:save` writes.
    Script,
}

impl ExportForm {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ExportForm::Swaks => "swaks",
            ExportForm::Curl => "curl",
            ExportForm::Script => "script",
        }
    }
}

/// The names `:set` takes.
pub(crate) const SETTINGS: &[&str] = &["colour", "wrap", "timeout", "hex", "timing"];

/// One `:set NAME VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// Colour on the screen.
    Colour(bool),
    /// Long lines wrapped at the terminal's width.
    Wrap(bool),
    /// How long to wait for each reply.
    Timeout(std::time::Duration),
    /// The hex dump of the bytes each way.
    Hex(bool),
    /// Each reply's latency.
    Timing(bool),
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        match self {
            Setting::Colour(b) => write!(f, "colour {}", on(*b)),
            Setting::Wrap(b) => write!(f, "wrap {}", on(*b)),
            Setting::Timeout(d) => write!(f, "timeout {}", d.as_secs()),
            Setting::Hex(b) => write!(f, "hex {}", on(*b)),
            Setting::Timing(b) => write!(f, "timing {}", on(*b)),
        }
    }
}

/// The longest reply timeout `:set timeout` takes (a day).
const MAX_TIMEOUT_SECONDS: u64 = 24 * 3600;

/// `:set` arguments.
pub(crate) fn parse_set(a: &Args<'_>) -> Result<Meta, MetaError> {
    let (name, value) = match a.words.as_slice() {
        [] => return Ok(Meta::Set(None)),
        [name, value] => (name.to_ascii_lowercase(), value.to_ascii_lowercase()),
        _ => return Err(a.usage()),
    };
    let on_off = || match value.as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(MetaError::Invalid(format!(
            ":set {name} takes on or off, not {value:?}"
        ))),
    };
    let setting = match name.as_str() {
        "colour" | "color" => Setting::Colour(on_off()?),
        "wrap" => Setting::Wrap(on_off()?),
        "hex" => Setting::Hex(on_off()?),
        "timing" => Setting::Timing(on_off()?),
        "timeout" => {
            let seconds = value
                .trim_end_matches('s')
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=MAX_TIMEOUT_SECONDS).contains(s))
                .ok_or_else(|| {
                    MetaError::Invalid(format!(
                        ":set timeout takes seconds, 1 to {MAX_TIMEOUT_SECONDS}, not {value:?}"
                    ))
                })?;
            Setting::Timeout(std::time::Duration::from_secs(seconds))
        }
        _ => {
            return Err(MetaError::Invalid(format!(
                "no setting {name:?}: :set takes {}",
                SETTINGS.join(", ")
            )));
        }
    };
    Ok(Meta::Set(Some(setting)))
}
