//! What a meta-command does, for every driver.
//!
//! The script driver and the REPL parse `:` lines the same way
//! ([`super::meta`]) and run them here, so `:caps` or `:expect` cannot
//! behave one way in a script and another at the prompt; the helpers
//! (`:auth`, `:send`…) run through [`super::helpers::Helpers`]. What differs
//! is left to the driver: how a mistyped command is treated (fatal in a
//! script, a note at the prompt), who answers a question (nobody in a
//! script), where a `:pipeline` block comes from, and what `:reconnect`
//! means.

use super::Output;
use super::View;
use super::explain;
use super::helpers::{Asker, HelperError, Helpers};
use super::meta::{Meta, Place, Setting};
use super::theme::Theme;
use crate::session::Session;

/// What the driver does after a meta-command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on reading lines.
    Continue,
    /// The session is over (`:quit`).
    Stop,
    /// Open a new connection to the same server (`:reconnect`): the driver
    /// decides whether it can.
    Reconnect,
    /// `:pipeline`: the driver collects the lines up to a lone `.` and
    /// hands them to [`Session::pipeline`].
    Pipeline,
    /// `:history [PATTERN]`: the prompt keeps the history.
    History(Option<String>),
    /// `:again N`: the prompt runs history entry N.
    Again(usize),
    /// `:watch`: the prompt repeats a line until Ctrl-C.
    Watch(super::meta::Watch),
    /// `:edit`: the prompt runs the editor, then sends the message.
    Edit { bdat: bool },
}

impl Flow {
    /// What a flow only the interactive prompt can follow is called
    /// (`:again N` needs its history), for a driver without one.
    pub(crate) fn prompt_only(&self) -> Option<&'static str> {
        match self {
            Flow::Reconnect => Some(":reconnect"),
            Flow::History(_) => Some(":history"),
            Flow::Again(_) => Some(":again N"),
            Flow::Watch(_) => Some(":watch"),
            Flow::Edit { .. } => Some(":edit"),
            Flow::Continue | Flow::Stop | Flow::Pipeline => None,
        }
    }
}

/// Runs one parsed meta-command against the session: the one place each
/// meta-command is executed (the match is exhaustive, so a new entry in
/// the table cannot be forgotten here). `place` says which commands
/// `:help` lists.
pub(crate) async fn run_meta<O: Output>(
    session: &mut Session<O>,
    meta: Meta,
    helpers: &mut Helpers,
    asker: &mut dyn Asker,
    place: Place,
) -> Result<Flow, HelperError> {
    match meta {
        Meta::Expect(expected) => {
            session.expect(expected);
        }
        Meta::Explain(args) => {
            let lines = explain_lines(&args);
            session.sink().info(&lines);
        }
        Meta::Help(Some(topic)) => {
            let caps = session.capabilities().cloned();
            match super::meta::help::help_topic(&topic, help_width(), caps.as_ref()) {
                Ok(lines) => session.sink().info(&lines),
                Err(e) => session.sink().info(&[e.to_string()]),
            }
        }
        Meta::Help(None) => match super::meta::help(None, place, help_width()) {
            Ok(lines) => session.sink().info(&lines),
            Err(e) => session.sink().info(&[e.to_string()]),
        },
        Meta::Caps => {
            let lines = caps_lines(session.capabilities());
            session.sink().info(&lines);
        }
        Meta::Timing(on) => session.sink().set_timing(on),
        Meta::Hex(on) => session.sink().set_hex(on),
        Meta::Reconnect => return Ok(Flow::Reconnect),
        Meta::Pipeline => {
            helpers.record(&meta.to_string());
            return Ok(Flow::Pipeline);
        }
        Meta::Quit => {
            helpers.record(&meta.to_string());
            session.quit().await?;
            return Ok(Flow::Stop);
        }
        Meta::Ehlo(name) => helpers.ehlo(session, name).await?,
        Meta::StartTls => helpers.starttls(session).await?,
        Meta::Tls(pem) => helpers.tls(session, pem)?,
        Meta::TlsResume => helpers.resume_test(session).await?,
        Meta::Auth { mechanism, user } => helpers.auth(session, mechanism, user, asker).await?,
        Meta::Send(words) => helpers.send(session, words, asker).await?,
        Meta::Again(None) => helpers.again(session, asker).await?,
        Meta::Again(Some(n)) => return Ok(Flow::Again(n)),
        Meta::History(pattern) => return Ok(Flow::History(pattern)),
        Meta::Watch(watch) => return Ok(Flow::Watch(watch)),
        Meta::Edit { bdat } => return Ok(Flow::Edit { bdat }),
        Meta::Export(form) => {
            let lines = helpers.export(session, form);
            session.sink().plain(&lines);
        }
        Meta::Set(None) => {
            let lines = settings_lines(session.sink().view(), session.reply_timeout());
            session.sink().info(&lines);
        }
        Meta::Set(Some(setting)) => {
            helpers.record(&Meta::Set(Some(setting)).to_string());
            set(session, setting);
        }
        Meta::Data(path) => helpers.data(session, path).await?,
        Meta::Bdat { path, chunk } => helpers.bdat(session, path, chunk).await?,
        Meta::Raw(bytes) => helpers.raw(session, bytes).await?,
        Meta::XClient { attributes, lax } => {
            helpers.xclient(session, attributes, false, lax).await?;
        }
        Meta::XForward { attributes, lax } => {
            helpers.xclient(session, attributes, true, lax).await?;
        }
        Meta::Log(path) => helpers.log(session, path)?,
        Meta::Save(path) => helpers.save(session, path)?,
        Meta::DemoInbox => session.sink().info(&super::helpers::demo_lines(None)),
        Meta::DemoShow(n) => session.sink().info(&super::helpers::demo_lines(Some(n))),
    }
    Ok(Flow::Continue)
}

/// `:set NAME VALUE`.
fn set<O: Output>(session: &mut Session<O>, setting: Setting) {
    match setting {
        Setting::Colour(on) => session.sink().set_colour(on),
        Setting::Wrap(on) => session.sink().set_wrap(on),
        Setting::Hex(on) => session.sink().set_hex(on),
        Setting::Timing(on) => session.sink().set_timing(on),
        Setting::Timeout(timeout) => session.set_reply_timeout(timeout),
    }
}

/// `:set` alone: every setting and its value, as `:set` takes it.
fn settings_lines(view: View, timeout: std::time::Duration) -> Vec<String> {
    let on = |b: bool| if b { "on" } else { "off" };
    vec![
        format!("colour   {:<5} colour on the screen", on(view.colour)),
        format!(
            "wrap     {:<5} long lines wrapped at the terminal's width",
            on(view.wrap)
        ),
        format!(
            "timeout  {:<5} seconds to wait for each reply",
            timeout.as_secs()
        ),
        format!(
            "hex      {:<5} a hex dump of the bytes each way",
            on(view.hex)
        ),
        format!("timing   {:<5} each reply's latency", on(view.timing)),
        "change one with :set NAME VALUE (:set timeout 60)".to_string(),
    ]
}

/// The width `:help` may use: the terminal's (80 columns off a terminal),
/// less the `# ` the transcript puts before each line, so the renderer
/// never wraps it again.
fn help_width() -> usize {
    use std::io::IsTerminal;
    let columns = if std::io::stdout().is_terminal() {
        textwrap::termwidth()
    } else {
        80
    };
    columns.saturating_sub(2)
}

/// `:caps`: each capability of the last EHLO with what it means.
fn caps_lines(caps: Option<&crate::proto::ehlo::Capabilities>) -> Vec<String> {
    match caps {
        Some(caps) => caps
            .list
            .iter()
            .map(|c| format!("{:<24} {}", c.to_string(), c.description()))
            .collect(),
        None => vec!["no capabilities known: send EHLO first".to_string()],
    }
}

/// `:explain`: the offline explainer's text, plain, as info lines.
fn explain_lines(args: &[String]) -> Vec<String> {
    match explain::parse_args(args) {
        Ok(items) => {
            let mut text = Vec::new();
            // Plain: the output paints the lines as notes.
            let plain = Theme::new(false);
            let explainer = explain::Explainer::new(&plain, 76);
            if explainer.items(&items, &mut text).is_err() {
                return Vec::new();
            }
            String::from_utf8_lossy(&text)
                .lines()
                .map(str::to_string)
                .collect()
        }
        Err(e) => vec![e.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_without_ehlo() {
        assert_eq!(caps_lines(None), ["no capabilities known: send EHLO first"]);
    }

    #[test]
    fn explain_gives_lines_or_the_error() {
        let lines = explain_lines(&["550".to_string()]);
        assert!(lines.iter().any(|l| l.contains("550")), "{lines:?}");
        let bad = explain_lines(&["5x0x".to_string()]);
        assert_eq!(bad.len(), 1, "{bad:?}");
    }
}
