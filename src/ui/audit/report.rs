//! Where an audit's verdicts go: text for a person (the verdict word in
//! its class colour, the detail, the evidence lines indented under it) or
//! `--json` `verdict` events and an `end`.

use std::io::Write;

use serde_json::json;

use crate::exit::Exit;
use crate::proto::audit::{Finding, Test, Verdict};
use crate::session::EventSink;
use crate::text::escape_str;
use crate::ui::Output;
use crate::ui::json::JsonOutput;
use crate::ui::theme::{Role, Theme};

/// One verdict, ready to report.
pub(super) struct Case {
    pub(super) test: Test,
    /// Which variant or row, for tests with several.
    pub(super) case: Option<String>,
    pub(super) finding: Finding,
    pub(super) evidence: Vec<String>,
}

/// Where the verdicts go: text or JSON lines.
pub(crate) enum Report<W: Write> {
    /// Text for a person.
    Text { out: W, theme: Theme },
    /// `--json`: `verdict` events and an `end`.
    Json(JsonOutput<W>),
}

impl<W: Write> Report<W> {
    pub(super) fn intro(&mut self, lines: &[String]) {
        match self {
            Report::Text { out, theme } => {
                for line in lines {
                    let _ = writeln!(out, "{}", theme.paint(Role::Note, &format!("# {line}")));
                }
            }
            Report::Json(json) => json.info(lines),
        }
    }

    pub(super) fn case(&mut self, case: &Case) {
        match self {
            Report::Text { out, theme } => {
                let role = match case.finding.verdict {
                    Verdict::Vulnerable => Role::Class(5),
                    Verdict::Unknown => Role::Class(4),
                    Verdict::Pass => Role::Class(2),
                };
                let name = match &case.case {
                    Some(c) => format!("{} {}", case.test, escape_str(c)),
                    None => case.test.to_string(),
                };
                let _ = writeln!(
                    out,
                    "{:<10} {}: {}",
                    theme.paint(role, case.finding.verdict.word()),
                    theme.paint(Role::Strong, &name),
                    escape_str(&case.finding.detail)
                );
                for line in &case.evidence {
                    let _ = writeln!(out, "           {}", escape_str(line));
                }
                let _ = out.flush();
            }
            Report::Json(json) => json.verdict(json!({
                "test": case.test.name(),
                "case": case.case.as_deref().map(escape_str),
                "verdict": case.finding.verdict.word(),
                "detail": escape_str(&case.finding.detail),
                "evidence": case.evidence.iter().map(|l| escape_str(l)).collect::<Vec<_>>(),
            })),
        }
    }

    pub(super) fn end(&mut self, exit: Exit, why: Option<&str>, counts: [usize; 3]) {
        let [vulnerable, unknown, pass] = counts;
        let summary = format!("audit: {vulnerable} VULNERABLE, {unknown} UNKNOWN, {pass} PASS");
        match self {
            Report::Text { out, theme } => {
                let _ = writeln!(out, "{}", theme.paint(Role::Strong, &summary));
                let _ = out.flush();
            }
            Report::Json(json) => {
                json.info(&[summary]);
                json.end(exit, why);
                json.flush();
            }
        }
    }
}
