//! The prompt's power tools: `:watch` (a line repeated until Ctrl-C, one
//! summary line per round), `:edit` (the message written in the user's
//! editor), and the numbered history behind `:history` and `:again N`.
//! They live at the prompt because they need a person: Ctrl-C, an editor,
//! the history.

use std::time::Duration;

use super::{End, Repl, ReplAsker, STOPPED_WAITING, interrupted, with_interrupt};
use crate::session::Syntax;
use crate::ui::Output;
use crate::ui::meta::Watch;
use crate::ui::repl::{ReplOutput, history};
use crate::ui::runner::{self, Runner, StepError};

impl Repl<'_> {
    /// `:watch`: runs the line every `watch.every` until Ctrl-C, each round
    /// one line (time, code, latency, what changed); the transcript of the
    /// rounds is not shown. On this connection, it stops when the
    /// connection closes; with `--reconnect`, each round has its own.
    pub(super) async fn watch(
        &mut self,
        runner: &mut Runner<ReplOutput>,
        watch: Watch,
    ) -> Option<End> {
        let how = if watch.reconnect {
            ", each on a new connection"
        } else {
            ""
        };
        runner.session.sink().note(&format!(
            "watching '{}' every {} s{how} (times in UTC) · Ctrl-C stops",
            watch.line,
            watch.every.as_secs()
        ));
        let mut previous: Option<Round> = None;
        let mut rounds = 0u64;
        // One listener for the whole watch: a Ctrl-C between two rounds is
        // not lost between two listeners.
        let mut interrupts = Interrupts::new();
        loop {
            let started = tokio::time::Instant::now();
            let round = tokio::select! {
                round = self.round(runner, &watch) => round,
                () = interrupts.next() => break,
            };
            rounds += 1;
            let line = round.line(previous.as_ref());
            runner.session.sink().note(&line);
            previous = Some(round);
            if !watch.reconnect && !runner.session.is_open() {
                runner.session.sink().note(
                    "the connection closed: :watch stopped (--reconnect opens a new one each round)",
                );
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(started + watch.every) => {}
                () = interrupts.next() => break,
            }
        }
        runner.session.sink().set_quiet(false);
        let s = if rounds == 1 { "" } else { "s" };
        runner
            .session
            .sink()
            .note(&format!("stopped watching after {rounds} round{s}"));
        None
    }

    /// One round of `:watch`, shown only as its summary.
    async fn round(&mut self, runner: &mut Runner<ReplOutput>, watch: &Watch) -> Round {
        let screen = self.screen.clone();
        let mut asker = ReplAsker { screen: &screen };
        if !watch.reconnect {
            let before = runner.session.reply_count();
            runner.session.sink().set_quiet(true);
            let ran = runner.line(watch.line.as_bytes(), false, &mut asker).await;
            runner.session.sink().set_quiet(false);
            let round = Round::of(
                &runner.session,
                before,
                ran.as_ref().err().map(|e| e.to_string()),
            );
            if let Err(StepError::Session(e)) = ran
                && !matches!(
                    e,
                    crate::session::SessionError::Closed(_)
                        | crate::session::SessionError::NotConnected
                )
            {
                // As at the prompt: a session that failed underneath ends.
                runner.session.close().await;
            }
            return round;
        }
        let mut config = self.config.clone();
        config.session.keep_waiting = false;
        config.session.timeouts.reply = runner.session.reply_timeout();
        let mut output = self.output();
        output.set_quiet(true);
        let mut fresh = match runner::open(&config, output, true).await {
            Ok(fresh) => fresh,
            Err((e, _)) => return Round::failed(e.to_string()),
        };
        let before = fresh.session.reply_count();
        let ran = fresh.line(watch.line.as_bytes(), false, &mut asker).await;
        let round = Round::of(&fresh.session, before, ran.err().map(|e| e.to_string()));
        let _ = fresh.session.quit().await;
        round
    }

    /// `:edit`: the message is written in `$VISUAL` or `$EDITOR`, in a
    /// file only the user can read, removed afterwards; then sent (inside
    /// DATA, as the rest of the message). Ctrl-C, an editor that fails, or
    /// an empty file send nothing.
    pub(super) async fn edit(
        &mut self,
        runner: &mut Runner<ReplOutput>,
        bdat: bool,
    ) -> Option<End> {
        let session = &mut runner.session;
        let status = session.status();
        if status.phase != crate::session::Phase::Data && !status.in_transaction {
            session.sink().note(
                ":edit sends the message of a transaction: MAIL FROM and RCPT TO first \
                 (or :send for a whole test mail)",
            );
            return None;
        }
        let Some(editor) = editor_command() else {
            session
                .sink()
                .note("no editor: set $VISUAL or $EDITOR (export EDITOR=nano, say) to use :edit");
            return None;
        };
        let file = match tempfile::Builder::new()
            .prefix("smtpcli-message-")
            .suffix(".eml")
            .tempfile()
        {
            Ok(file) => file,
            Err(e) => {
                session
                    .sink()
                    .note(&format!("cannot make the message file: {e}"));
                return None;
            }
        };
        self.screen.wait_idle(Duration::from_secs(1));
        let edited = {
            let _echo = crate::ui::repl::terminal::EchoOn::turn_on();
            run_editor(&editor, file.path()).await
        };
        let read = edited.and_then(|()| {
            std::fs::read(file.path()).map_err(|e| format!("cannot read the message back: {e}"))
        });
        // The file is removed now, whatever happens next, and before
        // anything is said: what the user reads is already true.
        drop(file);
        let message = match read {
            Ok(message) => message,
            Err(why) => {
                session.sink().note(&format!("{why}: nothing sent"));
                return None;
            }
        };
        if message.iter().all(u8::is_ascii_whitespace) {
            session.sink().note("the message is empty: nothing sent");
            return None;
        }
        let ran = with_interrupt(runner.helpers.edited(&mut runner.session, message, bdat)).await;
        runner.helpers.record_reply(&runner.session);
        match ran {
            Ok(Some(())) => {}
            Ok(None) => runner.session.sink().note(STOPPED_WAITING),
            Err(e) => runner
                .session
                .sink()
                .info(&[StepError::from(e).to_string()]),
        }
        None
    }
}

/// What one round of `:watch` saw.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Round {
    /// `HH:MM:SS`, UTC.
    time: String,
    /// The code (and enhanced code) of the round's last reply.
    code: Option<String>,
    /// Its text, escaped.
    text: String,
    latency: Option<Duration>,
    /// Why the round failed, if it did.
    error: Option<String>,
}

impl Round {
    fn now() -> String {
        let now = time::OffsetDateTime::now_utc();
        format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second())
    }

    fn failed(error: String) -> Round {
        Round {
            time: Round::now(),
            code: None,
            text: String::new(),
            latency: None,
            error: Some(error),
        }
    }

    fn of(
        session: &crate::session::Session<ReplOutput>,
        before: u64,
        error: Option<String>,
    ) -> Round {
        let reply = session
            .last_reply()
            .filter(|_| session.reply_count() > before);
        let code = reply.and_then(|r| {
            let code = r.code()?.value().to_string();
            Some(match r.enhanced_code() {
                Some(e) => format!("{code} {e}"),
                None => code,
            })
        });
        Round {
            time: Round::now(),
            text: reply
                .and_then(|r| r.line_texts().last().map(|t| t.escaped().to_string()))
                .unwrap_or_default(),
            latency: reply.and(session.last_latency()),
            code,
            error,
        }
    }

    /// The round's line: time, code, latency, and what changed since the
    /// round before (the reply's text on the first and on a change).
    fn line(&self, previous: Option<&Round>) -> String {
        let code = self.code.as_deref().unwrap_or("---");
        let latency = self.latency.map_or("-".to_string(), |l| {
            format!("{:.0} ms", l.as_secs_f64() * 1000.0)
        });
        let what = match (previous, &self.error) {
            (
                Some(Round {
                    code: Some(was), ..
                }),
                Some(error),
            ) if self.code.is_none() => {
                format!("failed (was {was}): {error}")
            }
            (_, Some(error)) if self.code.is_none() => format!("failed: {error}"),
            (None, _) => self.text.clone(),
            (Some(p), _) if p.code != self.code => format!(
                "changed from {}: {}",
                p.code.as_deref().unwrap_or("a failure"),
                self.text
            ),
            (Some(p), _) if p.text != self.text => format!("text changed: {}", self.text),
            (Some(_), _) => "no change".to_string(),
        };
        format!("{}  {code:<9}  {latency:>7}  {what}", self.time)
    }
}

/// `:edit` typed inside a message.
pub(super) fn is_edit(line: &str) -> bool {
    line.trim_end() == ":edit"
}

/// The editor to run: `$VISUAL`, else `$EDITOR` (a command line the shell
/// reads, so `code --wait` works).
fn editor_command() -> Option<String> {
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
}

/// Why nothing is sent when Ctrl-C ended the editing.
const EDIT_INTERRUPTED: &str = "editing interrupted (Ctrl-C)";

/// Runs the editor on `path` and waits; Ctrl-C ends it. `Err` says why
/// nothing should be sent.
async fn run_editor(editor: &str, path: &std::path::Path) -> Result<(), String> {
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the editor ({editor}): {e}"))?;
    let interrupt = interrupted();
    // Ctrl-C reaches the editor too (it shares the terminal), and the
    // editor may be gone before the REPL's own listener is woken: an editor
    // ended by that Ctrl-C is the same interruption.
    tokio::select! {
        status = child.wait() => match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) if ended_by_ctrl_c(status) => {
                Err(EDIT_INTERRUPTED.to_string())
            }
            Ok(status) => Err(format!("the editor exited with {status}")),
            Err(e) => Err(format!("waiting for the editor failed: {e}")),
        },
        () = interrupt => {
            let _ = child.kill().await;
            Err(EDIT_INTERRUPTED.to_string())
        }
    }
}

/// Whether a child ended because of Ctrl-C: SIGINT on Unix, the console's
/// STATUS_CONTROL_C_EXIT on Windows.
fn ended_by_ctrl_c(status: std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        /// SIGINT's number, the same on every Unix.
        const SIGINT: i32 = 2;
        status.signal() == Some(SIGINT)
    }
    #[cfg(windows)]
    {
        const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;
        status
            .code()
            .is_some_and(|code| code.cast_unsigned() == STATUS_CONTROL_C_EXIT)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = status;
        false
    }
}

/// `:history [PATTERN]`: the numbered entries (those containing PATTERN,
/// case-insensitively), never one that carries a secret.
pub(super) fn history_lines(history: &[String], pattern: Option<&str>) -> Vec<String> {
    let pattern = pattern.map(str::to_lowercase);
    let width = history.len().to_string().len();
    let lines: Vec<String> = history
        .iter()
        .enumerate()
        .filter(|(_, line)| is_shareable(line))
        .filter(|(_, line)| {
            pattern
                .as_ref()
                .is_none_or(|p| line.to_lowercase().contains(p))
        })
        .map(|(i, line)| format!("{:>width$}  {line}", i + 1))
        .collect();
    if lines.is_empty() {
        return vec![match pattern {
            Some(p) => format!("no history entry contains {p:?}"),
            None => "the history is empty".to_string(),
        }];
    }
    lines
}

/// Entry `n` of the history, to run again.
pub(super) fn again_line(history: &[String], n: usize) -> Result<String, String> {
    let entry = history
        .get(n.wrapping_sub(1))
        .filter(|line| is_shareable(line))
        .ok_or_else(|| format!("no history entry {n} (:history lists them)"))?;
    let is_again = entry
        .trim_start()
        .strip_prefix(':')
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|name| name.eq_ignore_ascii_case("again"));
    if is_again {
        return Err(format!("entry {n} is itself an :again: not run"));
    }
    Ok(entry.clone())
}

/// Whether a history line may be shown or run again: what history keeps
/// (an entry from an older file is checked once more, as a command).
fn is_shareable(line: &str) -> bool {
    let input = crate::session::input::classify(
        line.as_bytes(),
        crate::session::LineRole::Command,
        Syntax::Interactive,
        &Default::default(),
    );
    history::keep(line, &input)
}

/// Ctrl-C, again and again, from one listener.
struct Interrupts {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    signal: Option<tokio::signal::windows::CtrlC>,
}

impl Interrupts {
    fn new() -> Interrupts {
        Interrupts {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
            #[cfg(windows)]
            signal: tokio::signal::windows::ctrl_c().ok(),
        }
    }

    /// The next Ctrl-C.
    async fn next(&mut self) {
        #[cfg(any(unix, windows))]
        match self.signal.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
        #[cfg(not(any(unix, windows)))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(code: Option<&str>, text: &str, error: Option<&str>) -> Round {
        Round {
            time: "12:00:00".into(),
            code: code.map(str::to_string),
            text: text.into(),
            latency: code.map(|_| Duration::from_millis(12)),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn a_round_line_says_what_changed() {
        let grey = round(Some("450 4.2.0"), "Greylisted", None);
        let ok = round(Some("250 2.1.5"), "Ok", None);
        let down = round(None, "", Some("connection refused"));
        assert_eq!(grey.line(None), "12:00:00  450 4.2.0    12 ms  Greylisted");
        assert!(ok.line(Some(&grey)).ends_with("changed from 450 4.2.0: Ok"));
        assert!(ok.line(Some(&ok)).ends_with("no change"));
        assert_eq!(
            down.line(Some(&ok)),
            "12:00:00  ---              -  failed (was 250 2.1.5): connection refused"
        );
        assert!(ok.line(Some(&down)).ends_with("changed from a failure: Ok"));
        let reworded = round(Some("250 2.1.5"), "Ok, fine", None);
        assert!(reworded.line(Some(&ok)).ends_with("text changed: Ok, fine"));
    }

    #[test]
    fn history_lists_and_runs_entries_but_never_a_secret() {
        let history: Vec<String> = [
            "EHLO a.example",
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
            "MAIL FROM:<a@example.org>",
            ":again 1",
        ]
        .map(str::to_string)
        .to_vec();
        let all = history_lines(&history, None);
        assert_eq!(
            all,
            [
                "1  EHLO a.example",
                "3  MAIL FROM:<a@example.org>",
                "4  :again 1"
            ]
        );
        assert_eq!(
            history_lines(&history, Some("MAIL")),
            ["3  MAIL FROM:<a@example.org>"]
        );
        assert_eq!(
            history_lines(&history, Some("frob")),
            ["no history entry contains \"frob\""]
        );
        assert_eq!(
            again_line(&history, 3),
            Ok("MAIL FROM:<a@example.org>".to_string())
        );
        assert!(again_line(&history, 2).is_err());
        assert!(again_line(&history, 4).is_err());
        assert!(again_line(&history, 0).is_err());
        assert!(again_line(&history, 9).is_err());
        assert_eq!(history_lines(&[], None), ["the history is empty"]);
    }
}
