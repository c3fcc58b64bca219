//! `--explain`: reply codes, enhanced status codes, whole reply lines and
//! pasted bounces, explained offline.
//!
//! This module turns the user's arguments (or a pasted bounce) into a list of
//! things to explain and renders each one as a block of text. Meanings come
//! from `proto`; this module only chooses what to show and lays it out.

use crate::text::Untrusted;
use std::io::{self, Write};

use thiserror::Error;

use super::theme::{Role, Theme};
use crate::proto::bounce::{self, Bounce};
use crate::proto::codes::{Class, ReplyCode};
use crate::proto::enhanced::EnhancedCode;
use crate::text::escape_str;

/// Something the user asked to explain that is not a code.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExplainError {
    /// An argument that is neither a reply code nor an enhanced code.
    #[error(
        "'{0}' is not a reply code (three digits, like 550) or an enhanced status code (like 5.1.1)"
    )]
    NotACode(String),
    /// A three-digit code whose first digit no reply class has.
    #[error("'{0}' is not a reply code: the first digit must be 1 to 5")]
    NoSuchClass(String),
    /// Pasted text in which nothing was recognised.
    #[error("no reply code or enhanced status code found in the input")]
    NothingFound,
}

/// One thing to explain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A reply (or just its code), with the enhanced code and text that came
    /// with it.
    Reply {
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        text: String,
    },
    /// An enhanced status code on its own.
    Enhanced(EnhancedCode),
}

/// Reads the arguments of `--explain`. An argument with a space in it is a
/// whole reply line (`"550 5.7.1 Relay access denied"`); otherwise codes and
/// the words after a reply code are read in order, so that
/// `550 5.1.1 User unknown` unquoted means the same.
pub fn parse_args(args: &[String]) -> Result<Vec<Item>, ExplainError> {
    let mut items: Vec<Item> = Vec::new();
    // Whether the last item is a reply still collecting its text.
    let mut open = false;
    for arg in args {
        let arg = arg.trim();
        if arg.contains(char::is_whitespace) {
            items.push(reply_line(arg)?);
            open = false;
            continue;
        }
        if let Some(code) = basic_code(arg)? {
            items.push(Item::Reply {
                code,
                enhanced: None,
                text: String::new(),
            });
            open = true;
            continue;
        }
        let enhanced = EnhancedCode::parse(arg);
        match (items.last_mut(), enhanced) {
            (
                Some(Item::Reply {
                    enhanced: slot @ None,
                    text,
                    ..
                }),
                Some(e),
            ) if open && text.is_empty() => *slot = Some(e),
            (_, Some(e)) => {
                items.push(Item::Enhanced(e));
                open = false;
            }
            (Some(Item::Reply { text, .. }), None) if open => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(arg);
            }
            (_, None) => return Err(ExplainError::NotACode(arg.to_string())),
        }
    }
    Ok(items)
}

/// `550 5.7.1 text`, `550-5.7.26 text`, or `5.7.1 text`.
fn reply_line(line: &str) -> Result<Item, ExplainError> {
    let first = line.split([' ', '-']).next().unwrap_or(line);
    if let Some(code) = basic_code(first)? {
        let rest = line[first.len()..].trim_start_matches(['-', ' ']).trim();
        let (enhanced, text) = match EnhancedCode::parse_prefix(rest) {
            Some((e, len)) => (Some(e), rest[len..].trim()),
            None => (None, rest),
        };
        return Ok(Item::Reply {
            code,
            enhanced,
            text: text.to_string(),
        });
    }
    match EnhancedCode::parse_prefix(line) {
        Some((e, _)) => Ok(Item::Enhanced(e)),
        None => Err(ExplainError::NotACode(
            line.split_whitespace().next().unwrap_or(line).to_string(),
        )),
    }
}

/// `Some` for a three-digit code with a real class, `None` for a word that is
/// not three digits, an error for three digits no class has.
fn basic_code(word: &str) -> Result<Option<ReplyCode>, ExplainError> {
    let Some(code) = ReplyCode::from_digits(word.as_bytes()) else {
        return Ok(None);
    };
    if code.class().is_none() {
        return Err(ExplainError::NoSuchClass(word.to_string()));
    }
    Ok(Some(code))
}

/// The things to explain in a pasted bounce, each once, in the order found.
pub fn items_from_bounce(bounce: &Bounce) -> Vec<Item> {
    let mut items = Vec::new();
    let mut push = |item: Item| {
        if !items.contains(&item) {
            items.push(item);
        }
    };
    for r in &bounce.recipients {
        if let Some(d) = &r.diagnostic
            && let Some(code) = d.code
        {
            push(Item::Reply {
                code,
                enhanced: d.enhanced,
                text: String::new(),
            });
        }
        if let Some(status) = r.status {
            let covered = r
                .diagnostic
                .as_ref()
                .is_some_and(|d| d.enhanced == Some(status));
            if !covered {
                push(Item::Enhanced(status));
            }
        }
    }
    for reply in &bounce.replies {
        if let Some(code) = reply.code() {
            push(Item::Reply {
                code,
                enhanced: reply.enhanced_code(),
                text: String::new(),
            });
        }
    }
    for m in &bounce.mentions {
        push(Item::Reply {
            code: m.code,
            enhanced: m.enhanced,
            text: String::new(),
        });
    }
    items
}

/// Renders explanations as text, wrapped to `width` columns.
pub struct Explainer<'t> {
    theme: &'t Theme,
    width: usize,
}

impl<'t> Explainer<'t> {
    /// An explainer painting with `theme`, wrapping at `width` columns.
    pub fn new(theme: &'t Theme, width: usize) -> Self {
        Explainer {
            theme,
            width: width.max(40),
        }
    }

    /// Writes every item, separated by blank lines.
    pub fn items(&self, items: &[Item], out: &mut impl Write) -> io::Result<()> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            match item {
                Item::Reply {
                    code,
                    enhanced,
                    text,
                } => self.reply(*code, *enhanced, text, out)?,
                Item::Enhanced(e) => self.enhanced(*e, out)?,
            }
        }
        Ok(())
    }

    /// Writes the facts of a pasted bounce, then its codes explained.
    pub fn bounce(&self, bounce: &Bounce, out: &mut impl Write) -> io::Result<()> {
        let t = self.theme;
        if let Some(mta) = &bounce.reporting_mta {
            writeln!(out, "Reported by {}", escape_str(mta))?;
        }
        for r in &bounce.recipients {
            let who = r
                .final_recipient
                .as_deref()
                .unwrap_or("(recipient not named)");
            let action = r.action.as_deref().unwrap_or("no action given");
            writeln!(
                out,
                "{} {}: {}",
                t.paint(Role::Strong, "Recipient"),
                escape_str(who),
                escape_str(action)
            )?;
            if let Some(status) = &r.status_text {
                writeln!(out, "  Status: {}", escape_str(status))?;
            }
            if let Some(mta) = &r.remote_mta {
                writeln!(out, "  Remote MTA: {}", escape_str(mta))?;
            }
            if let Some(d) = &r.diagnostic {
                let prefix = if d.kind.is_empty() {
                    String::new()
                } else {
                    format!("{}; ", d.kind)
                };
                writeln!(
                    out,
                    "  Diagnostic: {}{}",
                    escape_str(&prefix),
                    escape_str(&d.text)
                )?;
            }
        }
        for reply in &bounce.replies {
            for line in &reply.lines {
                writeln!(out, "{}", crate::text::escape(&line.raw))?;
            }
        }
        let items = items_from_bounce(bounce);
        if !bounce.recipients.is_empty()
            || !bounce.replies.is_empty()
            || bounce.reporting_mta.is_some()
        {
            writeln!(out)?;
        }
        self.items(&items, out)
    }

    fn reply(
        &self,
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        text: &str,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let t = self.theme;
        let class = code.class();
        let role = Role::Class(class.map_or(0, Class::digit));
        let head = code.to_string();
        let title = match code.info() {
            Some(info) => info.title.to_string(),
            None => "not a code defined by the SMTP RFCs".to_string(),
        };
        writeln!(
            out,
            "{}  {}",
            t.paint(role, &head),
            t.paint(Role::Strong, &title)
        )?;
        let indent = " ".repeat(head.len() + 2);
        if !text.is_empty() {
            self.para(out, &indent, &format!("text: {}", escape_str(text)), None)?;
        }
        if let Some(class) = class {
            self.para(
                out,
                &indent,
                &format!("{}xx {}: {}", class.digit(), class.title(), class.summary()),
                None,
            )?;
        }
        match code.info() {
            Some(info) => self.para(
                out,
                &indent,
                &format!("{} ({})", info.explanation, info.rfc),
                None,
            )?,
            None => {
                if let Some(category) = code.category() {
                    self.para(
                        out,
                        &indent,
                        &format!("x{}x: {}", code.value() / 10 % 10, category.title()),
                        None,
                    )?;
                }
            }
        }
        // What the text says that the codes do not (greylisting, known
        // refusals): the same notes the transcript shows.
        for part in crate::proto::explain::text_notes(code, &Untrusted::from(text)) {
            if let Some(phrase) = part.phrase() {
                self.para(out, &indent, &phrase, None)?;
            }
        }
        if let Some(e) = enhanced {
            if crate::proto::enhanced::class_mismatch(class.map_or(0, Class::digit), e) {
                self.para(
                    out,
                    &indent,
                    &format!(
                        "warning: the enhanced code {e} has class {}, the reply code {code} has class {}",
                        e.class,
                        code.value() / 100
                    ),
                    Some(Role::Warning),
                )?;
            }
            writeln!(out)?;
            self.enhanced(e, out)?;
        }
        Ok(())
    }

    fn enhanced(&self, e: EnhancedCode, out: &mut impl Write) -> io::Result<()> {
        let t = self.theme;
        let x = e.explain();
        let head = e.to_string();
        let role = Role::Class(e.class);
        let title = match x.detail {
            Some(d) => d.title.to_string(),
            None => format!(
                "not in the IANA registry: a vendor-specific detail {}",
                e.detail
            ),
        };
        writeln!(
            out,
            "{}  {}",
            t.paint(role, &head),
            t.paint(Role::Strong, &title)
        )?;
        let indent = " ".repeat(head.len() + 2);
        self.para(
            out,
            &indent,
            &format!("{}.x.x {}: {}", e.class, x.class.title, x.class.explanation),
            None,
        )?;
        match x.subject {
            Some(s) => self.para(
                out,
                &indent,
                &format!("x.{}.x {}: {}", e.subject, s.title, s.explanation),
                None,
            )?,
            None => self.para(
                out,
                &indent,
                &format!("x.{}.x is not a subject the registry defines", e.subject),
                None,
            )?,
        }
        if let Some(d) = x.detail {
            self.para(
                out,
                &indent,
                &format!("{} ({})", d.explanation, d.reference),
                None,
            )?;
            if !x.class_allowed() {
                self.para(
                    out,
                    &indent,
                    &format!(
                        "note: the registry does not list {}.{}.{} with class {}",
                        e.class, e.subject, e.detail, e.class
                    ),
                    Some(Role::Warning),
                )?;
            }
        }
        Ok(())
    }

    /// One wrapped paragraph under a heading, indented.
    fn para(
        &self,
        out: &mut impl Write,
        indent: &str,
        text: &str,
        role: Option<Role>,
    ) -> io::Result<()> {
        let options = textwrap::Options::new(self.width)
            .initial_indent(indent)
            .subsequent_indent(indent);
        for line in textwrap::wrap(text, options) {
            match role {
                Some(role) => writeln!(out, "{}", self.theme.paint(role, &line))?,
                None => writeln!(out, "{line}")?,
            }
        }
        Ok(())
    }
}

/// Reads pasted text and returns what was recognised, or an error if nothing.
pub fn read_bounce(text: &str) -> Result<Bounce, ExplainError> {
    let b = bounce::read(text);
    if items_from_bounce(&b).is_empty() {
        return Err(ExplainError::NothingFound);
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn reply(code: u16, enhanced: Option<&str>, text: &str) -> Item {
        Item::Reply {
            code: ReplyCode::new(code).unwrap(),
            enhanced: enhanced.map(|e| EnhancedCode::parse(e).unwrap()),
            text: text.into(),
        }
    }

    #[test]
    fn reads_arguments() {
        let table: &[(&[&str], Vec<Item>)] = &[
            (&["550"], vec![reply(550, None, "")]),
            (
                &["5.1.1"],
                vec![Item::Enhanced(EnhancedCode::parse("5.1.1").unwrap())],
            ),
            (&["550", "5.1.1"], vec![reply(550, Some("5.1.1"), "")]),
            (
                &["550 5.7.1 Relay access denied"],
                vec![reply(550, Some("5.7.1"), "Relay access denied")],
            ),
            (
                &["550", "5.7.1", "Relay", "access", "denied"],
                vec![reply(550, Some("5.7.1"), "Relay access denied")],
            ),
            (
                &["550-5.7.26 Unauthenticated email"],
                vec![reply(550, Some("5.7.26"), "Unauthenticated email")],
            ),
            (
                &["421", "4.7.0", "5.1.1"],
                vec![
                    reply(421, Some("4.7.0"), ""),
                    Item::Enhanced(EnhancedCode::parse("5.1.1").unwrap()),
                ],
            ),
            (
                &["250", "250"],
                vec![reply(250, None, ""), reply(250, None, "")],
            ),
        ];
        for (input, want) in table {
            assert_eq!(&parse_args(&args(input)).unwrap(), want, "{input:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_code() {
        for bad in ["9.9", "5.1", "55", "5500", "hello", "3.1.1", "5.01.1"] {
            assert_eq!(
                parse_args(&args(&[bad])),
                Err(ExplainError::NotACode(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            parse_args(&args(&["650"])),
            Err(ExplainError::NoSuchClass("650".into()))
        );
    }

    fn render(items: &[Item]) -> String {
        let theme = Theme::new(false);
        let mut out = Vec::new();
        Explainer::new(&theme, 80).items(items, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_a_reply_with_its_enhanced_code_on_80_columns() {
        let text = render(&[reply(550, Some("5.1.1"), "User unknown")]);
        assert!(text.starts_with("550  "), "{text}");
        assert!(text.contains("text: User unknown"), "{text}");
        assert!(
            text.contains("5.1.1  Bad destination mailbox address"),
            "{text}"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }

    #[test]
    fn vendor_codes_fall_back_to_class_and_subject() {
        let text = render(&[Item::Enhanced(EnhancedCode::parse("5.7.606").unwrap())]);
        assert!(text.contains("not in the IANA registry"), "{text}");
        assert!(text.contains("x.7.x Security or Policy Status"), "{text}");
    }

    #[test]
    fn server_text_is_escaped() {
        let text = render(&[reply(550, None, "\u{1b}]0;pwned\u{7}")]);
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("\\e]0;pwned\\x07"));
    }
}
