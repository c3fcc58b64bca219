//! `--replay FILE`: send the client side of a recorded dialog and compare
//! every live reply with the recorded one.
//!
//! The transcript is read by [`crate::transcript`], whatever form it is in.
//! Each step goes out through the same engine as typed input (same pacing,
//! message text dot-stuffed); each reply is compared by code, then enhanced
//! code; a text difference is shown but fails only with `--strict`.
//! Recorded AUTH exchanges are replayed only with `--replay-auth`:
//! credentials copied from a ticket must not go out by accident. A summary
//! table ends the run.

use anyhow::Result;

use super::Output;
use super::render::explanation;
use crate::config::{ConnectConfig, ReplayOptions};
use crate::exit::Exit;
use crate::proto::command::Verb;
use crate::proto::reply::Reply;
use crate::session::{Phase, Session, SessionError, TypedLine};
use crate::text::Untrusted;
use crate::transcript::{Recorded, Step, StepKind};

/// The verdict on one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Match,
    TextDiffers,
    Mismatch,
    Unrecorded,
    Skipped,
    NotSent,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Match => "ok",
            Verdict::TextDiffers => "ok (text differs)",
            Verdict::Mismatch => "MISMATCH",
            Verdict::Unrecorded => "sent (no recorded reply)",
            Verdict::Skipped => "skipped",
            Verdict::NotSent => "not sent",
        }
    }
}

/// One row of the summary table.
struct Row {
    step: String,
    sent: String,
    expected: String,
    got: String,
    verdict: Verdict,
    note: String,
}

/// Runs the replay and returns the exit code's meaning.
pub(crate) async fn run<O: Output>(
    config: &ConnectConfig,
    recorded: Recorded,
    options: ReplayOptions,
    output: O,
) -> Result<Exit> {
    let mut runner = match super::runner::open(config, output, false).await {
        Ok(runner) => runner,
        Err((e, output)) => return Ok(super::report_open_failure(e, output)),
    };
    let session = &mut runner.session;
    let mut rows = Vec::new();
    if let Some(banner) = &recorded.banner {
        // With --starttls, more replies came since the banner.
        let live = session.banner().cloned();
        rows.push(compare(
            session, "banner", "(banner)", banner, live, options,
        ));
    }
    let mut auth_skipping = false;
    let mut failed: Option<SessionError> = None;
    // Steps that could not go because the connection had closed.
    let mut unsent = 0;
    for (i, step) in recorded.steps.iter().enumerate() {
        let label = (i + 1).to_string();
        let shown = describe(step);
        if failed.is_some() || !session.is_open() {
            rows.push(row(&label, shown, step, Verdict::NotSent, String::new()));
            unsent += 1;
            continue;
        }
        // AUTH and the SASL responses after it, unless asked for; a
        // recorded line is parsed by the one reader of typed lines.
        let typed = match &step.kind {
            StepKind::Command(line) => Some(TypedLine::new(line.as_bytes(), &Default::default())),
            _ => None,
        };
        let verb = typed.as_ref().and_then(TypedLine::verb);
        let is_auth = verb == Some(Verb::Auth);
        let is_secret = matches!(step.kind, StepKind::Secret);
        // A line smtpcli does not know, after a skipped AUTH, is one of its
        // SASL responses.
        let sasl_response = auth_skipping && typed.is_some() && verb.is_none();
        if is_auth && !options.replay_auth {
            auth_skipping = true;
        } else if !is_auth && !is_secret && !sasl_response {
            auth_skipping = false;
        }
        if auth_skipping || is_secret {
            let shown = match &typed {
                Some(typed) if is_auth => typed.shown(),
                _ => "(SASL response, not shown)".to_string(),
            };
            let why = if is_secret {
                "the recording has no secret to send"
            } else {
                "recorded AUTH is sent only with --replay-auth"
            };
            rows.push(row(&label, shown, step, Verdict::Skipped, why.into()));
            continue;
        }
        let before = session.reply_count();
        let sent = match &step.kind {
            StepKind::Command(line) => session.submit(line.as_bytes(), false).await,
            StepKind::Message(lines) => {
                if session.phase() != Phase::Data {
                    rows.push(row(
                        &label,
                        shown,
                        step,
                        Verdict::NotSent,
                        "DATA was not accepted live".into(),
                    ));
                    continue;
                }
                send_message(session, lines).await
            }
            StepKind::Secret => Ok(()),
        };
        if let Err(e) = sent {
            failed = Some(e);
        }
        let live = (session.reply_count() > before)
            .then(|| session.last_reply().cloned())
            .flatten();
        match &step.reply {
            Some(recorded) => rows.push(compare(session, &label, &shown, recorded, live, options)),
            None => rows.push(row(&label, shown, step, Verdict::Unrecorded, String::new())),
        }
    }
    if session.is_open()
        && failed.is_none()
        && let Err(e) = session.quit().await
    {
        failed = Some(e);
    }
    if let Some(e) = failed {
        session.sink().error(&e.to_string());
        session.fail_locally(&e.to_string());
    }
    session.not_sent(unsent, false);
    let table = table(&rows);
    session.sink().info(&table);
    Ok(super::finish(session)?)
}

async fn send_message<O: Output>(
    session: &mut Session<O>,
    lines: &[Untrusted],
) -> Result<(), SessionError> {
    for line in lines {
        session.submit(line.as_bytes(), true).await?;
    }
    session.submit(b".", true).await
}

fn describe(step: &Step) -> String {
    match &step.kind {
        StepKind::Command(line) => line.escaped().to_string(),
        StepKind::Message(lines) => format!("(message, {} lines)", lines.len()),
        StepKind::Secret => "(secret)".into(),
    }
}

fn summary(reply: &Reply) -> String {
    let code = reply.code().map_or("???".into(), |c| c.to_string());
    match reply.enhanced_code() {
        Some(e) => format!("{code} {e}"),
        None => code,
    }
}

fn row(label: &str, sent: String, step: &Step, verdict: Verdict, note: String) -> Row {
    Row {
        step: label.into(),
        sent,
        expected: step.reply.as_ref().map(summary).unwrap_or_default(),
        got: String::new(),
        verdict,
        note,
    }
}

/// Compares a live reply with the recorded one and judges the session's
/// last reply accordingly.
fn compare<O: Output>(
    session: &mut Session<O>,
    label: &str,
    sent: &str,
    recorded: &Reply,
    live: Option<Reply>,
    options: ReplayOptions,
) -> Row {
    let expected = summary(recorded);
    let Some(live) = live else {
        return Row {
            step: label.into(),
            sent: sent.into(),
            expected,
            got: "(no reply)".into(),
            verdict: Verdict::Mismatch,
            note: String::new(),
        };
    };
    let same_code = live.code() == recorded.code();
    // The enhanced code counts only where the recording has one.
    let same_enhanced =
        recorded.enhanced_code().is_none() || live.enhanced_code() == recorded.enhanced_code();
    let same_text = live.text() == recorded.text();
    let verdict = match (same_code && same_enhanced, same_text) {
        (true, true) => Verdict::Match,
        (true, false) if !options.strict => Verdict::TextDiffers,
        _ => Verdict::Mismatch,
    };
    let ok = verdict != Verdict::Mismatch;
    if session.last_reply() == Some(&live) {
        session.judge_last(ok, "the reply differs from the recording");
    } else if !ok {
        session.disagree(&live, "a reply differs from the recording");
    }
    let note = match verdict {
        Verdict::Mismatch if !(same_code && same_enhanced) => {
            explanation(&live).unwrap_or_default()
        }
        Verdict::Mismatch | Verdict::TextDiffers => format!(
            "recorded text: {}",
            recorded
                .line_texts()
                .iter()
                .map(|t| t.escaped().to_string())
                .collect::<Vec<_>>()
                .join(" / ")
        ),
        _ => String::new(),
    };
    if verdict == Verdict::Mismatch {
        session.sink().info(&[format!(
            "replay step {label}: expected {expected}, got {}",
            summary(&live)
        )]);
    }
    Row {
        step: label.into(),
        sent: sent.into(),
        expected,
        got: summary(&live),
        verdict,
        note,
    }
}

/// The summary table, one line per step.
fn table(rows: &[Row]) -> Vec<String> {
    let clip = |s: &str, n: usize| -> String {
        if s.chars().count() <= n {
            s.to_string()
        } else {
            let mut t: String = s.chars().take(n - 1).collect();
            t.push('…');
            t
        }
    };
    let sent_w = rows
        .iter()
        .map(|r| r.sent.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 34);
    let mut lines = vec![format!(
        "{:<6} {:<sent_w$} {:<11} {:<11} verdict",
        "step", "sent", "expected", "got"
    )];
    for r in rows {
        let mut line = format!(
            "{:<6} {:<sent_w$} {:<11} {:<11} {}",
            r.step,
            clip(&r.sent, sent_w),
            r.expected,
            r.got,
            r.verdict.word()
        );
        if !r.note.is_empty() {
            line.push_str(": ");
            line.push_str(&r.note);
        }
        lines.push(line);
    }
    let bad = rows
        .iter()
        .filter(|r| r.verdict == Verdict::Mismatch)
        .count();
    lines.push(match bad {
        0 => "every recorded reply matched".to_string(),
        1 => "1 step did not match".to_string(),
        n => format!("{n} steps did not match"),
    });
    lines
}
