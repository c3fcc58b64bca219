//! What the prompt offers while a line is typed: Tab completion, greyed
//! hints, and masking.
//!
//! Completion knows the session as it was when the prompt came up: the
//! verbs valid now (no `RCPT` before `MAIL`, `STARTTLS` only if offered and
//! not yet done), the meta-commands and their arguments (from the one
//! table; `:demo` only in the demo), the parameters the server advertised
//! in its last EHLO (`SIZE=`, `BODY=8BITMIME`, `SMTPUTF8`, `RET=`,
//! `ENVID=`, `NOTIFY=`, `ORCPT=`), the SASL mechanisms it offers, and
//! addresses used before. A hint shows the expected argument
//! (`MAIL FROM:<sender> [params]`) in grey; it is only a reminder, never
//! inserted. A line answering a `334` is masked on screen, and nothing is
//! completed or hinted there; so is the initial response of an `AUTH`
//! line, as it is typed.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use unicode_width::UnicodeWidthChar;

use crate::proto::command::Verb;
use crate::proto::ehlo::Capabilities;
use crate::session::{Phase, Status};
use crate::ui::meta::{self, ArgKind, Place};

/// Addresses remembered for completion at most (few enough that a list of
/// them never needs rustyline's pager, which holds output back).
const MAX_ADDRESSES: usize = 50;

/// What completion knows about the session at this prompt.
#[derive(Clone, Debug, Default)]
pub(super) struct Situation {
    /// The session's state when the prompt came up.
    pub status: Option<Status>,
    /// The capabilities of the last EHLO.
    pub capabilities: Option<Capabilities>,
    /// `--demo`: `:demo` is offered.
    pub demo: bool,
}

/// The rustyline helper of the REPL.
pub(super) struct ReplHelper {
    situation: Situation,
    /// Most recent last, without duplicates.
    addresses: Vec<String>,
    color: bool,
    /// Set while rustyline shows a prompt of its own (reverse search), in
    /// which it does not print what arrives but keeps it.
    modal: Arc<AtomicBool>,
}

impl ReplHelper {
    /// A helper; `color` says whether hints may be greyed (without colour
    /// they are not shown: they would look typed).
    pub(super) fn new(color: bool) -> Self {
        ReplHelper {
            situation: Situation::default(),
            addresses: Vec::new(),
            color,
            modal: Arc::default(),
        }
    }

    /// A flag that is set while rustyline is in a mode of its own (reverse
    /// search) and would hold back output handed to it.
    pub(super) fn modal(&self) -> Arc<AtomicBool> {
        self.modal.clone()
    }

    /// The session as the next prompt sees it.
    pub(super) fn set_situation(&mut self, situation: Situation) {
        self.situation = situation;
    }

    /// Remembers an address for completion.
    pub(super) fn remember_address(&mut self, address: String) {
        self.addresses.retain(|a| *a != address);
        self.addresses.push(address);
        if self.addresses.len() > MAX_ADDRESSES {
            self.addresses.remove(0);
        }
    }

    /// Whether the line being typed is a secret (it answers a `334`).
    fn is_secret(&self) -> bool {
        self.situation
            .status
            .as_ref()
            .is_some_and(|s| s.secret_next)
    }

    /// Whether the line being typed is message text.
    fn is_text(&self) -> bool {
        self.situation
            .status
            .as_ref()
            .is_some_and(|s| s.phase == Phase::Data)
    }

    /// Completions for the text before the cursor: where they start, and
    /// what they are.
    pub(super) fn candidates(&self, before: &str) -> (usize, Vec<Pair>) {
        if self.is_secret() || self.is_text() {
            return (0, Vec::new());
        }
        if before.starts_with(':') && !before.starts_with("::") {
            let place = Place {
                interactive: true,
                demo: self.situation.demo,
            };
            return meta_candidates(before, self.situation.capabilities.as_ref(), place);
        }
        let Some(status) = self
            .situation
            .status
            .as_ref()
            .filter(|s| s.phase != Phase::Closed)
        else {
            // Nothing to send to: only meta-commands (`:reconnect`) make sense.
            return (0, Vec::new());
        };
        let caps = self.situation.capabilities.as_ref();
        let Some((verb_word, _)) = before.split_once(char::is_whitespace) else {
            let verbs = verbs_now(status, caps);
            return (0, verb_candidates(before, &verbs));
        };
        let word_start = before.rfind(char::is_whitespace).map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
        let word = &before[word_start..];
        match Verb::from_word(verb_word) {
            Some(Verb::Auth) if before[..word_start].split_whitespace().count() == 1 => {
                // Server text: only names that are mechanism names.
                let mechanisms = caps
                    .map(Capabilities::auth_mechanisms)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|m| crate::proto::auth::is_mechanism_name(m))
                    .collect();
                (word_start, matching(word, mechanisms))
            }
            Some(verb @ (Verb::Mail | Verb::Rcpt)) => self.envelope(before, verb, caps),
            _ => (word_start, Vec::new()),
        }
    }

    /// `MAIL FROM:<…> params` and `RCPT TO:<…> params`.
    fn envelope(
        &self,
        before: &str,
        verb: Verb,
        caps: Option<&Capabilities>,
    ) -> (usize, Vec<Pair>) {
        let keyword = if verb == Verb::Mail { "FROM:<" } else { "TO:<" };
        let after_verb = before.find(char::is_whitespace).unwrap_or(before.len());
        let lower = !before[..after_verb].contains(|c: char| c.is_ascii_uppercase());
        let keyword = if lower {
            keyword.to_ascii_lowercase()
        } else {
            keyword.to_string()
        };
        let Some(colon) = before.find(':') else {
            // Still typing the keyword.
            let start = before[after_verb..]
                .find(|c: char| !c.is_whitespace())
                .map_or(before.len(), |i| after_verb + i);
            let typed = &before[start..];
            return (start, matching(typed, vec![keyword]));
        };
        let address_start = before[colon + 1..]
            .find(|c: char| !c.is_whitespace())
            .map_or(before.len(), |i| colon + 1 + i);
        let address = &before[address_start..];
        if !address.contains(char::is_whitespace) {
            let typed = address.strip_prefix('<').unwrap_or(address);
            let found = self
                .addresses
                .iter()
                .rev()
                .filter(|a| starts_with_ignore_case(a, typed))
                .map(|a| Pair {
                    display: a.clone(),
                    replacement: format!("<{a}>"),
                })
                .collect();
            return (address_start, found);
        }
        let word_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[word_start..];
        let present: Vec<String> = before[address_start..word_start]
            .split_whitespace()
            .skip(1)
            .map(|p| p.split('=').next().unwrap_or("").to_ascii_uppercase())
            .collect();
        if let Some(value) = strip_prefix_ignore_case(word, "NOTIFY=") {
            let done = value.rfind(',').map_or(0, |i| i + 1);
            let start = word_start + "NOTIFY=".len() + done;
            let words = ["SUCCESS", "FAILURE", "DELAY", "NEVER"].map(str::to_string);
            return (start, matching(&value[done..], words.to_vec()));
        }
        let params = advertised_params(verb, caps)
            .into_iter()
            .filter(|p| !present.contains(&p.split('=').next().unwrap_or("").to_string()))
            .collect();
        (word_start, matching(word, params))
    }

    fn hint_for(&self, line: &str) -> Option<String> {
        if !self.color || self.is_secret() || self.is_text() {
            return None;
        }
        if let Some(rest) = line.strip_prefix(':') {
            let name = rest.trim_end();
            let command = meta::find(name).filter(|c| c.name == name && !c.args.is_empty())?;
            return match &rest[name.len()..] {
                "" => Some(format!(" {}", command.args)),
                " " => Some(command.args.to_string()),
                _ => None,
            };
        }
        let verb = Verb::from_word(line.split_whitespace().next()?)?;
        if matches!(verb, Verb::Mail | Verb::Rcpt) && line.ends_with(char::is_whitespace) {
            return self.params_hint(line, verb);
        }
        let usage = verb.usage();
        if line.len() < verb.name().len() || line.len() >= usage.len() {
            return None;
        }
        let (head, tail) = usage.split_at(line.len());
        head.eq_ignore_ascii_case(line).then(|| tail.to_string())
    }
}

impl ReplHelper {
    /// After `MAIL FROM:<a@b> ` or `RCPT TO:<c@d> `: the parameters this
    /// server advertised that the line does not have yet (Tab offers them).
    fn params_hint(&self, line: &str, verb: Verb) -> Option<String> {
        let (_, after) = line.split_once('>')?;
        let present: Vec<String> = after
            .split_whitespace()
            .map(|p| p.split('=').next().unwrap_or("").to_ascii_uppercase())
            .collect();
        let mut shown: Vec<String> = Vec::new();
        for param in advertised_params(verb, self.situation.capabilities.as_ref()) {
            let keyword = param.split('=').next().unwrap_or("").to_string();
            if present.contains(&keyword) {
                continue;
            }
            // RET=FULL and RET=HDRS: one entry.
            match shown
                .iter_mut()
                .find(|s| s.starts_with(&format!("{keyword}=")))
            {
                Some(entry) => {
                    entry.push('|');
                    entry.push_str(param.split('=').nth(1).unwrap_or(""));
                }
                None => shown.push(param),
            }
        }
        (!shown.is_empty()).then(|| format!("[{}]", shown.join(" ")))
    }
}

/// The verbs that make sense now.
fn verbs_now(status: &Status, caps: Option<&Capabilities>) -> Vec<Verb> {
    let offered = |keyword: &str| caps.is_some_and(|c| c.has(keyword));
    let mut verbs = Vec::new();
    if !status.greeted {
        verbs.extend([Verb::Ehlo, Verb::Helo]);
    } else if status.in_transaction {
        verbs.extend([Verb::Rcpt, Verb::Data]);
        if offered("CHUNKING") {
            verbs.push(Verb::Bdat);
        }
    } else {
        verbs.push(Verb::Mail);
        if offered("STARTTLS") && !status.tls {
            verbs.push(Verb::StartTls);
        }
        if offered("AUTH") && status.authenticated.is_none() {
            verbs.push(Verb::Auth);
        }
        verbs.extend([Verb::Ehlo, Verb::Helo]);
        if offered("ETRN") {
            verbs.push(Verb::Etrn);
        }
    }
    verbs.extend([
        Verb::Rset,
        Verb::Noop,
        Verb::Vrfy,
        Verb::Expn,
        Verb::Help,
        Verb::Quit,
    ]);
    verbs
}

/// Verbs completed with what usually follows them, in the case typed.
fn verb_candidates(typed: &str, verbs: &[Verb]) -> Vec<Pair> {
    let lower = !typed.is_empty() && !typed.chars().any(|c| c.is_ascii_uppercase());
    verbs
        .iter()
        .filter(|v| starts_with_ignore_case(v.name(), typed))
        .map(|&v| {
            let text = match v {
                Verb::Mail => "MAIL FROM:<".to_string(),
                Verb::Rcpt => "RCPT TO:<".to_string(),
                Verb::Data | Verb::Rset | Verb::Quit | Verb::StartTls => v.name().to_string(),
                _ => format!("{} ", v.name()),
            };
            Pair {
                display: v.name().to_string(),
                replacement: if lower {
                    text.to_ascii_lowercase()
                } else {
                    text
                },
            }
        })
        .collect()
}

/// The parameters of `verb` that the server's last EHLO allows.
fn advertised_params(verb: Verb, caps: Option<&Capabilities>) -> Vec<String> {
    let Some(caps) = caps else {
        return Vec::new();
    };
    let table: &[(&str, &str)] = if verb == Verb::Mail {
        &[
            ("SIZE", "SIZE="),
            ("8BITMIME", "BODY=8BITMIME"),
            ("BINARYMIME", "BODY=BINARYMIME"),
            ("SMTPUTF8", "SMTPUTF8"),
            ("DSN", "RET=FULL"),
            ("DSN", "RET=HDRS"),
            ("DSN", "ENVID="),
            ("REQUIRETLS", "REQUIRETLS"),
        ]
    } else {
        &[("DSN", "NOTIFY="), ("DSN", "ORCPT=rfc822;")]
    };
    table
        .iter()
        .filter(|(keyword, _)| caps.has(keyword))
        .map(|(_, param)| param.to_string())
        .collect()
}

/// `:name` and the arguments of the command being typed, by the table's
/// argument kind: words, command names, files, the SASL mechanisms (those
/// the server advertised, if it did), `:send` options. Only commands
/// offered in `place` are named.
fn meta_candidates(before: &str, caps: Option<&Capabilities>, place: Place) -> (usize, Vec<Pair>) {
    let Some((name, rest)) = before[1..].split_once(char::is_whitespace) else {
        let found = meta::COMMANDS
            .iter()
            .filter(|c| place.offers(c) && starts_with_ignore_case(c.name, &before[1..]))
            .map(|c| Pair {
                display: format!(":{}", c.name),
                replacement: format!(":{}{}", c.name, if c.args.is_empty() { "" } else { " " }),
            })
            .collect();
        return (0, found);
    };
    let Some(command) = meta::find(name).filter(|c| place.offers(c)) else {
        return (0, Vec::new());
    };
    let rest = rest.trim_start();
    let word_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = &before[word_start..];
    let first = !rest.contains(char::is_whitespace);
    // The option this word is the value of, for `:send`.
    let option = before[..word_start].split_whitespace().next_back();
    let words = match command.kind {
        ArgKind::SendOptions if matches!(option, Some("--attach" | "--html" | "--file")) => {
            return (word_start, files(word));
        }
        ArgKind::SendOptions if option == Some("--body") && word.starts_with('@') => {
            return (word_start + 1, files(&word[1..]));
        }
        ArgKind::SendOptions if option == Some("--auth") => {
            let offered = caps.map(Capabilities::auth_mechanisms).unwrap_or_default();
            crate::proto::auth::Mechanism::all()
                .iter()
                .map(|m| m.name())
                .filter(|m| offered.is_empty() || offered.iter().any(|o| o.eq_ignore_ascii_case(m)))
                .map(str::to_ascii_lowercase)
                .collect()
        }
        ArgKind::SendOptions if option == Some("--body-type") => ["7bit", "8bitmime", "binarymime"]
            .map(str::to_string)
            .to_vec(),
        ArgKind::SendOptions if option == Some("--ret") => {
            ["FULL", "HDRS"].map(str::to_string).to_vec()
        }
        ArgKind::SendOptions if option == Some("--notify") => [
            "NEVER",
            "SUCCESS,FAILURE",
            "SUCCESS,FAILURE,DELAY",
            "FAILURE",
        ]
        .map(str::to_string)
        .to_vec(),
        ArgKind::SendOptions if word.starts_with('-') || word.is_empty() => {
            meta::argument_words(command, place)
                .into_iter()
                .map(str::to_string)
                .collect()
        }
        ArgKind::File if first => return (word_start, files(word)),
        ArgKind::Mechanism if first => {
            let offered = caps.map(Capabilities::auth_mechanisms).unwrap_or_default();
            meta::argument_words(command, place)
                .into_iter()
                .filter(|m| offered.is_empty() || offered.iter().any(|o| o.eq_ignore_ascii_case(m)))
                .map(str::to_ascii_lowercase)
                .collect()
        }
        ArgKind::Attributes(forward) if !word.contains('=') => {
            let mut words: Vec<String> = meta::argument_words(command, place)
                .into_iter()
                .map(str::to_string)
                .collect();
            words.extend(
                advertised_attributes(caps, forward)
                    .into_iter()
                    .map(|n| n + "="),
            );
            words
        }
        ArgKind::Words(_) | ArgKind::Command if first => meta::argument_words(command, place)
            .into_iter()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    (word_start, matching(word, words))
}

/// The XCLIENT (or XFORWARD) attribute names the server advertised, those
/// that are plain words (the server's text, checked before it is offered).
fn advertised_attributes(caps: Option<&Capabilities>, forward: bool) -> Vec<String> {
    use crate::proto::ehlo::Capability;
    let Some(caps) = caps else {
        return Vec::new();
    };
    caps.list
        .iter()
        .filter_map(|cap| match cap {
            Capability::XClient(names) if !forward => Some(names),
            Capability::XForward(names) if forward => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|name| name.checked(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_ascii_uppercase)
        .collect()
}

/// File names that complete `word` (a path typed so far): entries of its
/// directory, directories with a `/` after them, hidden ones only when
/// asked for.
fn files(word: &str) -> Vec<Pair> {
    let (dir, prefix) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut found: Vec<Pair> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let slash = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                "/"
            } else {
                ""
            };
            Some(Pair {
                display: format!("{name}{slash}"),
                replacement: format!("{dir}{name}{slash}"),
            })
        })
        .collect();
    found.sort_by(|a, b| a.display.cmp(&b.display));
    found
}

/// The candidates that start with `typed`, case-insensitively.
fn matching(typed: &str, candidates: Vec<String>) -> Vec<Pair> {
    candidates
        .into_iter()
        .filter(|c| starts_with_ignore_case(c, typed))
        .map(|c| Pair {
            display: c.clone(),
            replacement: c,
        })
        .collect()
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    strip_prefix_ignore_case(text, prefix).is_some()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Each character as many `*` as it is wide: the cursor stays where it
/// would be, and nothing of the text shows.
fn mask(line: &str) -> String {
    line.chars()
        .map(|c| "*".repeat(c.width().unwrap_or(0)))
        .collect()
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(self.candidates(line.get(..pos).unwrap_or(line)))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        self.hint_for(line)
    }
}

impl ReplHelper {
    /// Where the secret part of `line` starts, if it has one: all of a line
    /// answering a `334`, the initial response of an `AUTH` line.
    fn secret_from(&self, line: &str) -> Option<usize> {
        if self.is_secret() {
            return Some(0);
        }
        if self.is_text() || !is_auth_line(line) {
            return None;
        }
        // After the verb, its blanks, the mechanism and its blanks.
        let mut at = 0;
        for _ in 0..2 {
            at += line[at..].find(|c: char| !c.is_whitespace())?;
            at += line[at..].find(char::is_whitespace)?;
        }
        at += line[at..].find(|c: char| !c.is_whitespace())?;
        Some(at)
    }
}

/// Whether the line starts with the `AUTH` verb.
fn is_auth_line(line: &str) -> bool {
    line.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("AUTH"))
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        match self.secret_from(line) {
            Some(at) => Cow::Owned(format!("{}{}", &line[..at], mask(&line[at..]))),
            None => Cow::Borrowed(line),
        }
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        // rustyline asks on every redraw: a prompt other than ours is its
        // reverse search.
        self.modal.store(!default, Ordering::SeqCst);
        Cow::Borrowed(prompt)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        use crate::ui::theme::{Role, Theme};
        if self.color {
            // The theme owns every colour: a hint is a note, dimmed.
            Cow::Owned(Theme::new(true).paint(Role::Note, hint))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, line: &str, _pos: usize, _kind: CmdKind) -> bool {
        // rustyline echoes a typed character itself unless asked to redraw
        // the line: where a secret may be typed it must redraw, through the
        // mask, always.
        self.is_secret() || (!self.is_text() && is_auth_line(line))
    }
}

impl Validator for ReplHelper {}

impl rustyline::Helper for ReplHelper {}

#[cfg(test)]
#[path = "complete_tests.rs"]
mod tests;
