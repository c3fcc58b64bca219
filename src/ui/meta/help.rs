//! What a mistyped meta-command most likely meant.
//!
//! It reads only the table ([`super::COMMANDS`]), so it cannot suggest a
//! command that does not parse. Nothing here prints; the error's message
//! carries the suggestion.

use super::COMMANDS;

/// A typed name this many edits away from a command's, or closer, is taken
/// for a typo of it.
const MAX_EDITS: usize = 2;

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
    use super::super::MetaError;
    use super::*;

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
}
