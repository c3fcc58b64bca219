//! The text of `:help`, and the guess at what a mistyped name meant.
//!
//! Both read only the table ([`super::COMMANDS`]), so help cannot list a
//! command that does not parse, nor miss one that does. `:help` lists the
//! commands that work where it is typed ([`Place`]), one per entry: the
//! usage on its own line, the summary indented under it, wrapped to the
//! width the caller gives, never cutting a word or an argument group.
//! Nothing here prints; the caller shows the lines.

use textwrap::core::Word;
use textwrap::{Options, WordSeparator, WordSplitter};

use super::{COMMANDS, MetaCommand, MetaError, Place, Scope, find};

/// The indent of the text under a command's usage line.
const INDENT: &str = "    ";

/// Narrower than this, help is laid out as if it were this wide (what is
/// left over, the terminal wraps).
const MIN_WIDTH: usize = 40;

/// A typed name this many edits away from a command's, or closer, is taken
/// for a typo of it.
const MAX_EDITS: usize = 2;

/// The lines of `:help` (`topic` is `None`) or `:help NAME`, at most
/// `width` columns wide, for a session in `place`.
pub(crate) fn help(
    topic: Option<&str>,
    place: Place,
    width: usize,
) -> Result<Vec<String>, MetaError> {
    let width = width.max(MIN_WIDTH);
    match topic {
        None => Ok(overview(place, width)),
        Some(name) => {
            let name = name.strip_prefix(':').unwrap_or(name);
            let command = find(name).ok_or_else(|| MetaError::Unknown(name.to_string()))?;
            Ok(detail(command, width))
        }
    }
}

/// `:help NAME`: the meta-command of that name and the SMTP command or
/// EHLO keyword of that name (both, for `:help starttls`); `:help :NAME`
/// only the meta-command. `caps` (the connected server's) marks what it
/// advertised.
pub(crate) fn help_topic(
    name: &str,
    width: usize,
    caps: Option<&crate::proto::ehlo::Capabilities>,
) -> Result<Vec<String>, MetaError> {
    let smtp = match name.strip_prefix(':') {
        Some(_) => None,
        None => super::reference::lines(name, caps),
    };
    let name = name.strip_prefix(':').unwrap_or(name);
    let meta = find(name).map(|command| detail(command, width.max(MIN_WIDTH)));
    match (meta, smtp) {
        (None, None) => Err(MetaError::Unknown(name.to_string())),
        (Some(meta), None) => Ok(meta),
        (None, Some(smtp)) => Ok(smtp),
        (Some(mut meta), Some(smtp)) => {
            meta.push(String::new());
            meta.extend(smtp);
            Ok(meta)
        }
    }
}

/// Every command offered in `place`, in the table's order.
fn overview(place: Place, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for command in COMMANDS.iter().filter(|c| place.offers(c)) {
        lines.extend(usage(command, width));
        let mut summary = command.summary.to_string();
        if command.scope == Scope::Interactive && !place.interactive {
            // Listed all the same: a script may be tried at the prompt.
            summary.push_str(" (interactive only)");
        }
        lines.extend(prose(&summary, INDENT, width));
    }
    lines.extend(prose(
        "Any other line is sent as typed; '::' at the start sends one ':'.",
        "",
        width,
    ));
    lines.extend(prose(
        ":help VERB explains an SMTP command or EHLO keyword (MAIL, STARTTLS, SIZE…), offline.",
        "",
        width,
    ));
    lines.extend(prose(
        ":help NAME gives the detail: an example, and where it works.",
        "",
        width,
    ));
    lines
}

/// One command: usage, summary, an example, and where it works.
fn detail(command: &MetaCommand, width: usize) -> Vec<String> {
    let mut lines = usage(command, width);
    lines.extend(prose(command.summary, INDENT, width));
    let example = format!("{INDENT}example: {}", command.example);
    let rest = format!("{INDENT}{INDENT}");
    lines.extend(code(&example, &rest, width));
    let scope = match command.scope {
        Scope::Anywhere => "works anywhere: at the prompt, in a script, piped",
        Scope::Interactive => "works only at the interactive prompt",
        Scope::Demo => "works only with --demo",
    };
    lines.extend(prose(scope, INDENT, width));
    lines
}

/// `:name ARGS`; a long one goes on under its first argument.
fn usage(command: &MetaCommand, width: usize) -> Vec<String> {
    let line = format!(":{} {}", command.name, command.args);
    let rest = " ".repeat(command.name.len() + 2);
    code(line.trim_end(), &rest, width)
}

/// Text wrapped at spaces, every row indented by `indent`.
fn prose(text: &str, indent: &str, width: usize) -> Vec<String> {
    let options = Options::new(width)
        .initial_indent(indent)
        .subsequent_indent(indent)
        // `--body-type` stays one word.
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(false);
    textwrap::wrap(text, options)
        .into_iter()
        .map(|row| row.into_owned())
        .collect()
}

/// A usage or an example: wrapped only between its arguments, the rows
/// after the first indented by `rest`.
fn code(text: &str, rest: &str, width: usize) -> Vec<String> {
    let options = Options::new(width)
        .subsequent_indent(rest)
        .word_separator(WordSeparator::Custom(code_words))
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(false);
    textwrap::wrap(text, options)
        .into_iter()
        .map(|row| row.into_owned())
        .collect()
}

/// The words of a usage or an example: a bracketed group or a quoted
/// string is one word, so `[--header 'H: v']` stays whole.
fn code_words(line: &str) -> Box<dyn Iterator<Item = Word<'_>> + '_> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut quote = None;
    let mut after_space = false;
    for (i, c) in line.char_indices() {
        if after_space && c != ' ' {
            words.push(Word::from(&line[start..i]));
            start = i;
        }
        match (quote, c) {
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            _ => {}
        }
        after_space = c == ' ' && depth == 0 && quote.is_none();
    }
    if start < line.len() {
        words.push(Word::from(&line[start..]));
    }
    Box::new(words.into_iter())
}

/// The command a mistyped name most likely meant: the only one it is the
/// start of (none if it starts several), else the only closest one within
/// [`MAX_EDITS`] edits (a swapped pair of letters is one), and never for a
/// name so short that anything is that close.
fn suggestion(typed: &str) -> Option<&'static str> {
    let typed = typed.to_ascii_lowercase();
    if typed.is_empty() {
        return None;
    }
    let mut starting = COMMANDS.iter().filter(|c| c.name.starts_with(&typed));
    match (starting.next(), starting.next()) {
        (Some(only), None) => return Some(only.name),
        // The start of several: one of them, but which is anyone's guess.
        (Some(_), Some(_)) => return None,
        (None, _) => {}
    }
    let len = typed.chars().count();
    let mut close: Vec<(usize, &'static str)> = COMMANDS
        .iter()
        .map(|c| (strsim::osa_distance(&typed, c.name), c.name))
        .filter(|&(edits, _)| edits <= MAX_EDITS && 2 * edits <= len)
        .collect();
    close.sort_unstable();
    match close.as_slice() {
        [(best, name), (next, _), ..] if best < next => Some(name),
        [(_, name)] => Some(name),
        _ => None,
    }
}

/// What follows `unknown meta-command :NAME`.
pub(super) fn after_unknown(typed: &str) -> String {
    match suggestion(typed) {
        Some(name) => format!("; did you mean :{name}?"),
        None => " (:help lists them; '::' at the start sends one ':')".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    use super::*;

    const PROMPT: Place = Place {
        interactive: true,
        demo: false,
    };
    const SCRIPT: Place = Place {
        interactive: false,
        demo: false,
    };
    const DEMO: Place = Place {
        interactive: true,
        demo: true,
    };

    /// The rows of `lines` that belong to `name`: its usage line and what
    /// is indented under it.
    fn entry<'a>(lines: &'a [String], name: &str) -> &'a [String] {
        let head = format!(":{name}");
        let start = lines
            .iter()
            .position(|l| l == &head || l.starts_with(&format!("{head} ")))
            .unwrap_or_else(|| panic!("no line for {head}: {lines:#?}"));
        let len = lines[start + 1..]
            .iter()
            .take_while(|l| l.starts_with(' '))
            .count();
        &lines[start..=start + len]
    }

    /// The words of `rows` after their indents, joined as one text.
    fn joined(rows: &[String]) -> String {
        rows.iter().map(|r| r.trim()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn help_fits_the_width_with_each_summary_under_its_command() {
        for width in [80, 120] {
            let lines = help(None, PROMPT, width).unwrap();
            for line in &lines {
                assert!(line.width() <= width, "wider than {width}: {line:?}");
            }
            for c in COMMANDS.iter().filter(|c| c.scope != Scope::Demo) {
                let rows = entry(&lines, c.name);
                let usage = format!(":{} {}", c.name, c.args);
                // Under a long usage, its arguments go on further in.
                let summary_at = rows
                    .iter()
                    .position(|r| r.strip_prefix(INDENT).is_some_and(|r| !r.starts_with(' ')))
                    .unwrap_or_else(|| panic!("no summary under :{}: {rows:#?}", c.name));
                // Wrapped or not, nothing of either is lost or cut.
                assert_eq!(joined(&rows[..summary_at]), usage.trim_end(), "{width}");
                assert_eq!(joined(&rows[summary_at..]), c.summary, "{width}");
            }
            let last = lines.last().unwrap();
            assert!(last.starts_with(":help NAME gives the detail"), "{last}");
            assert!(lines.iter().any(|l| l.contains("'::' at the start")));
        }
    }

    #[test]
    fn help_at_80_columns_reads_as_entries() {
        let lines = help(None, PROMPT, 80).unwrap();
        assert_eq!(
            entry(&lines, "send"),
            [
                ":send --to ADDR… [--auth MECH[:USER]] [--from ADDR] [--subject S]",
                "      [--body TEXT|@FILE] [--html F] [--attach F]… [--header 'H: v']… [--gtube]",
                "      [--eicar] [--notify N] [--ret R] [--envid ID] [--orcpt] [--requiretls]",
                "      [--smtputf8] [--body-type T] [--bdat] [--lax]",
                "    a whole test mail as an MTA sends it, then a table per recipient; envelope",
                "    options the server did not advertise are refused (--lax sends them); after",
                "    AUTH the sender is the login",
            ]
        );
        assert_eq!(
            entry(&lines, "quit"),
            [":quit", "    send QUIT and end the session"]
        );
    }

    #[test]
    fn demo_commands_are_listed_only_in_the_demo() {
        let table = [(PROMPT, false), (SCRIPT, false), (DEMO, true)];
        for (place, listed) in table {
            let lines = help(None, place, 80).unwrap();
            let found = lines.iter().any(|l| l.starts_with(":demo"));
            assert_eq!(found, listed, "{place:?}");
        }
        // Asked for by name, it says where it works.
        let lines = help(Some("demo"), PROMPT, 80).unwrap();
        assert_eq!(lines.last().unwrap(), "    works only with --demo");
    }

    #[test]
    fn a_script_marks_the_interactive_commands() {
        let script = help(None, SCRIPT, 120).unwrap();
        assert_eq!(
            entry(&script, "reconnect")[1..].last().unwrap(),
            "    end this connection (QUIT if it is open) and open a new one to the same server (interactive only)"
        );
        let prompt = help(None, PROMPT, 120).unwrap();
        assert!(!prompt.iter().any(|l| l.contains("(interactive only)")));
    }

    #[test]
    fn help_name_gives_usage_summary_example_and_where_it_works() {
        let lines = help(Some("expect"), PROMPT, 80).unwrap();
        assert_eq!(
            lines,
            [
                ":expect CODE[|CODE…] [ENHANCED] [for ADDRESS]",
                "    check the last reply (right after DATA, the 354; after '.', the message's",
                "    final reply); codes may use x: 2xx, 25x",
                "    example: :expect 550 5.1.1",
                "    works anywhere: at the prompt, in a script, piped",
            ]
        );
        let reconnect = help(Some(":reconnect"), SCRIPT, 80).unwrap();
        assert_eq!(
            reconnect.last().unwrap(),
            "    works only at the interactive prompt"
        );
        for c in COMMANDS {
            for width in [80, 120] {
                let lines = help(Some(c.name), DEMO, width).unwrap();
                assert!(lines.iter().all(|l| l.width() <= width), "{lines:#?}");
                assert!(lines[0].starts_with(&format!(":{}", c.name)));
                let text = joined(&lines);
                assert!(text.contains(&format!("example: {}", c.example)), "{text}");
                assert!(text.contains(c.summary), "{text}");
            }
        }
    }

    #[test]
    fn an_unknown_topic_gets_the_typo_suggestion() {
        let e = help(Some("sned"), PROMPT, 80).unwrap_err();
        assert_eq!(e, MetaError::Unknown("sned".into()));
        assert_eq!(
            e.to_string(),
            "unknown meta-command :sned; did you mean :send?"
        );
    }

    #[test]
    fn typos_get_a_suggestion_when_one_is_close() {
        let table: &[(&str, Option<&str>)] = &[
            ("sned", Some("send")),
            ("expcet", Some("expect")),
            ("hlep", Some("help")),
            ("SNED", Some("send")),
            ("snd", Some("send")),
            ("starttsl", Some("starttls")),
            ("reconect", Some("reconnect")),
            // The only command it starts.
            ("q", Some("quit")),
            ("tim", Some("timing")),
            ("xyzzy", None),
            ("", None),
            ("x", None),
            // Starts several, closest to none alone.
            ("s", None),
            ("ex", None),
        ];
        for (typed, want) in table {
            assert_eq!(suggestion(typed), *want, "{typed:?}");
        }
    }

    #[test]
    fn the_error_says_the_suggestion_or_where_the_list_is() {
        assert_eq!(
            MetaError::Unknown("expcet".into()).to_string(),
            "unknown meta-command :expcet; did you mean :expect?"
        );
        assert_eq!(
            MetaError::Unknown("xyzzy".into()).to_string(),
            "unknown meta-command :xyzzy (:help lists them; '::' at the start sends one ':')"
        );
    }

    #[test]
    fn usage_and_examples_break_only_between_arguments() {
        assert_eq!(
            code(":send [--header 'H: v']… [--body TEXT|--file F]", "  ", 28),
            [":send [--header 'H: v']…", "  [--body TEXT|--file F]"]
        );
        assert_eq!(
            code(r#":raw "MAIL FROM:<a@b> x\n" y"#, "  ", 20),
            [":raw", r#"  "MAIL FROM:<a@b> x\n""#, "  y"]
        );
    }
}
