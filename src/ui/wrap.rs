//! Long transcript lines on a terminal: wrapped at its width.
//!
//! Only the screen wraps; a `:log`, a pipe or a replay gets each line whole.
//! A wrapped note keeps its `#` on every row, so a replay of a copied screen
//! still skips it; any other line continues indented under its text.

use std::borrow::Cow;

use unicode_width::UnicodeWidthStr;

/// Where long lines are wrapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Wrap {
    /// Never: the transcript for a file or a pipe.
    #[default]
    Off,
    /// At this many columns (tests pin the width this way).
    #[cfg(test)]
    Width(usize),
    /// At the terminal's width, asked again for each event (it may have
    /// been resized).
    Terminal,
}

/// Narrower than this, wrapping does more harm than good.
const MIN_WRAP: usize = 20;

impl Wrap {
    /// The width to wrap at now, if any.
    pub(crate) fn width(self) -> Option<usize> {
        let width = match self {
            Wrap::Off => return None,
            #[cfg(test)]
            Wrap::Width(width) => width,
            Wrap::Terminal => usize::from(crossterm::terminal::size().ok()?.0),
        };
        (width >= MIN_WRAP).then_some(width)
    }
}

/// The rows `text` takes at `width` columns (all of it in one row without
/// a width).
pub(crate) fn rows(text: &str, width: Option<usize>) -> Vec<Cow<'_, str>> {
    match width {
        Some(width) if text.width() > width => {
            let indent = if text.starts_with('#') { "#   " } else { "   " };
            let options = textwrap::Options::new(width)
                .subsequent_indent(indent)
                .break_words(true);
            textwrap::wrap(text, options)
        }
        _ => vec![Cow::Borrowed(text)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_at_a_width() {
        let long = "<< 550 5.1.1 <nosuchuser@example.org>: Recipient address rejected";
        assert_eq!(rows(long, None), [long]);
        assert_eq!(rows("<< 250 ok", Some(20)), ["<< 250 ok"]);
        assert_eq!(
            rows(long, Some(30)),
            [
                "<< 550 5.1.1",
                "   <nosuchuser@example.org>:",
                "   Recipient address rejected",
            ]
        );
        assert_eq!(
            rows("# a note that is long enough to wrap", Some(20)),
            ["# a note that is", "#   long enough to", "#   wrap"]
        );
        // No row is wider than the screen, even for one long word.
        for row in rows(&format!("<< 250 {}", "x".repeat(50)), Some(20)) {
            assert!(row.width() <= 20, "{row}");
        }
    }

    #[test]
    fn too_narrow_to_bother() {
        assert_eq!(Wrap::Width(10).width(), None);
        assert_eq!(Wrap::Width(80).width(), Some(80));
        assert_eq!(Wrap::Off.width(), None);
    }
}
