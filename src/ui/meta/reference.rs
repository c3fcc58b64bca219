//! `help VERB` and `:help VERB`: an SMTP command or extension keyword from
//! the offline reference ([`crate::proto::reference`]), laid out as lines;
//! when a server is connected, the parameters it advertised are marked.
//! Nothing here prints; the caller shows the lines.

use crate::proto::ehlo::Capabilities;
use crate::proto::reference::{self, Topic};

/// The mark before a parameter the connected server advertised.
const ADVERTISED: &str = "*";

/// The lines for `name`, or `None` if the reference has no such entry.
/// `caps` is the connected server's last EHLO reply, if any.
pub(crate) fn lines(name: &str, caps: Option<&Capabilities>) -> Option<Vec<String>> {
    reference::topic(name).map(|topic| detail(topic, caps))
}

/// Every entry on one line each: `smtpcli help` without a topic.
pub(crate) fn overview() -> Vec<String> {
    let mut lines = vec!["SMTP commands and extension keywords (help NAME for one):".to_string()];
    for topic in reference::TOPICS {
        lines.push(format!("  {:<20}{}", topic.name, topic.summary));
    }
    lines
}

fn detail(topic: &Topic, caps: Option<&Capabilities>) -> Vec<String> {
    let what = match (topic.verb, topic.keyword) {
        (true, true) => "command and EHLO keyword",
        (true, false) => "command",
        _ => "EHLO keyword",
    };
    let mut lines = vec![format!("{} ({what}, {})", topic.name, topic.rfc)];
    lines.push(format!("    {}", topic.summary));
    if let (true, Some(caps)) = (topic.keyword, caps) {
        lines.push(if caps.has(topic.name) {
            "    advertised by this server".to_string()
        } else {
            "    not advertised by this server".to_string()
        });
    }
    for (i, syntax) in topic.syntax.iter().enumerate() {
        let head = if i == 0 { "syntax:" } else { "" };
        lines.push(format!("    {head:<8}{syntax}"));
    }
    if !topic.params.is_empty() {
        lines.push(match caps {
            Some(_) => {
                format!("    parameters ({ADVERTISED}: this server advertised what it needs):")
            }
            None => "    parameters:".to_string(),
        });
        let column = topic
            .params
            .iter()
            .map(|p| p.syntax.len())
            .max()
            .unwrap_or(0);
        for p in topic.params {
            let mark = match (caps, p.needs) {
                (Some(caps), Some(keyword)) if caps.has(keyword) => ADVERTISED,
                _ => " ",
            };
            let needs = p.needs.map(|k| format!(" (needs {k})")).unwrap_or_default();
            lines.push(format!(
                "    {mark} {:<column$}  {}{needs}",
                p.syntax, p.meaning
            ));
        }
    }
    if !topic.replies.is_empty() {
        lines.push("    common replies:".to_string());
        for (code, meaning) in topic.replies {
            lines.push(format!("      {code}  {meaning}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::Verb;
    use crate::proto::ehlo::KNOWN_KEYWORDS;
    use crate::proto::reference::RFC5321_VERBS;

    #[test]
    fn every_verb_and_keyword_has_help_with_its_rfc_and_replies() {
        let verbs = Verb::all().iter().map(|v| v.name());
        let names = RFC5321_VERBS
            .iter()
            .copied()
            .chain(verbs)
            .chain(KNOWN_KEYWORDS.iter().copied());
        for name in names {
            let lines = lines(&name.to_ascii_lowercase(), None)
                .unwrap_or_else(|| panic!("no help for {name}"));
            assert!(lines[0].starts_with(name), "{lines:?}");
            assert!(
                lines[0].contains("RFC")
                    || lines[0].contains("Postfix")
                    || lines[0].contains("Exim")
                    || lines[0].contains("draft"),
                "{lines:?}"
            );
            assert!(lines.iter().any(|l| l.trim_start().starts_with("syntax:")));
        }
        assert!(lines("FROB", None).is_none());
    }

    #[test]
    fn parameters_the_server_advertised_are_marked() {
        let caps = Capabilities::from_lines(["mail.example.org", "SIZE 1000", "DSN"]);
        let mail = lines("MAIL", Some(&caps)).unwrap();
        let row = |start: &str| {
            mail.iter()
                .find(|l| l.trim_start_matches([' ', '*']).starts_with(start))
                .unwrap_or_else(|| panic!("{start}: {mail:#?}"))
                .clone()
        };
        assert!(row("SIZE=n").starts_with("    * SIZE=n"), "{mail:#?}");
        assert!(row("RET=").starts_with("    * RET="), "{mail:#?}");
        assert!(row("SMTPUTF8").starts_with("      SMTPUTF8"), "{mail:#?}");
        assert!(
            mail.iter()
                .any(|l| l.contains("550  the sender is refused"))
        );
        let offline = lines("MAIL", None).unwrap();
        assert!(!offline.iter().any(|l| l.contains(" * ")), "{offline:#?}");
        let starttls = lines("starttls", Some(&caps)).unwrap();
        assert!(starttls.contains(&"    not advertised by this server".to_string()));
        assert!(
            lines("dsn", Some(&caps))
                .unwrap()
                .contains(&"    advertised by this server".to_string())
        );
    }
}
