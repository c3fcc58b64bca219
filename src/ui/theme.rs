//! Colour: decided once, applied everywhere.
//!
//! The policy comes from `--color`, `NO_COLOR`, `TERM=dumb` and whether the
//! output is a terminal, and is resolved into a [`Theme`] before anything is
//! rendered. Renderers ask the theme to paint; with colour off it returns the
//! text untouched, so the same code renders for a terminal, a pipe and a test.

use anstyle::{AnsiColor, Effects, Style};

/// What the user asked for with `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and nothing in the environment
    /// says otherwise.
    #[default]
    Auto,
    /// Always colour, even into a pipe.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Resolves the choice. `no_color` is whether `NO_COLOR` is set to a
    /// non-empty value; `dumb` whether `TERM=dumb`.
    pub fn resolve(self, is_terminal: bool, no_color: bool, dumb: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color && !dumb,
        }
    }

    /// Resolves the choice for stdout from the process environment.
    pub fn resolve_for_stdout(self) -> bool {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|v| v == "dumb");
        self.resolve(std::io::stdout().is_terminal(), no_color, dumb)
    }
}

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
        use ColorChoice::*;
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
