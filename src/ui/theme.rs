//! Colour: decided once, applied everywhere.
//!
//! The policy comes from `--color`, `NO_COLOR`, `TERM=dumb` and whether the
//! output is a terminal, and is resolved into a [`Theme`] before anything is
//! rendered. Renderers ask the theme to paint; with colour off it returns the
//! text untouched, so the same code renders for a terminal, a pipe and a test.

use anstyle::{AnsiColor, Effects, Style};

/// The role a piece of text plays on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Text as it is.
    Plain,
    /// A reply of the given class digit (1–5); anything else is uncoloured.
    Class(u8),
    /// Explanations and `#` notes.
    Note,
    /// Warnings a user should not miss.
    Warning,
    /// What the client sent.
    Sent,
    /// Headings and names.
    Strong,
}

/// The resolved colour policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// A theme that colours (`true`) or not.
    pub fn new(color: bool) -> Self {
        Theme { color }
    }

    /// Whether this theme colours at all.
    pub fn is_colored(&self) -> bool {
        self.color
    }

    /// `text` painted for `role`: unchanged when colour is off.
    pub fn paint(&self, role: Role, text: &str) -> String {
        let style = self.style(role);
        if !self.color || style == Style::new() || text.is_empty() {
            return text.to_string();
        }
        format!("{}{text}{}", style.render(), style.render_reset())
    }

    fn style(&self, role: Role) -> Style {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match role {
            Role::Class(2) => fg(AnsiColor::Green),
            Role::Class(3) => fg(AnsiColor::Cyan),
            Role::Class(4) => fg(AnsiColor::Yellow),
            Role::Class(5) => fg(AnsiColor::Red),
            Role::Class(_) | Role::Plain => Style::new(),
            Role::Note => Style::new().effects(Effects::DIMMED),
            Role::Warning => fg(AnsiColor::Magenta).effects(Effects::BOLD),
            Role::Sent => Style::new().effects(Effects::BOLD),
            Role::Strong => Style::new().effects(Effects::BOLD),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        use crate::config::ColorChoice::*;
        // (choice, terminal, NO_COLOR, TERM=dumb) -> colour
        let table = [
            (Auto, true, false, false, true),
            (Auto, false, false, false, false),
            (Auto, true, true, false, false),
            (Auto, true, false, true, false),
            (Always, false, true, true, true),
            (Never, true, false, false, false),
        ];
        for (choice, tty, no_color, dumb, want) in table {
            assert_eq!(
                choice.resolve(tty, no_color, dumb),
                want,
                "{choice:?} {tty} {no_color} {dumb}"
            );
        }
    }

    #[test]
    fn paint_is_identity_without_colour() {
        assert_eq!(Theme::new(false).paint(Role::Class(5), "550"), "550");
        let red = Theme::new(true).paint(Role::Class(5), "550");
        assert_eq!(red, "\x1b[31m550\x1b[0m");
    }
}
