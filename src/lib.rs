//! smtpcli: an interactive terminal SMTP test client.
//!
//! The crate is layered, each layer depending only on the ones before it:
//! [`text`] holds outside text ([`text::Untrusted`], which has no `Display`)
//! and the sanitiser that is its only way to a screen; [`proto`] is sans-IO SMTP (parsing, encoding, meanings; no sockets, no
//! printing); `net` is the tokio transport; `session` is the engine (the
//! dialog's state machine, the one input classifier, and the I/O shell that
//! sends and waits); `ui` (private) holds the runner every mode goes
//! through, the drivers, and the rendering; `app` picks the mode. The
//! binary's `main.rs` only resolves flags and the config file into a
//! [`config::Config`], calls [`run`] and exits with the returned
//! [`exit::Exit`]. `ARCHITECTURE.md` is the map.

mod app;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exit;
pub mod net;
pub mod proto;
pub mod session;
pub mod settings;
pub mod text;
pub mod transcript;
mod ui;

pub use app::run;

/// Prints an error on stderr as `smtpcli: …`, with any outside text in it
/// (a certificate's names, a host argument, a file's contents) escaped.
/// `smtpcli help [VERB]`: the offline reference for an SMTP command or
/// EHLO keyword (`None`: the list of them); `None` back when there is no
/// such entry.
pub fn verb_help(name: Option<&str>) -> Option<Vec<String>> {
    match name {
        None => Some(ui::meta::reference::overview()),
        Some(name) => ui::meta::reference::lines(name, None),
    }
}

pub fn print_error(message: &str) {
    text::print_error(message);
}

/// What the fuzz targets (and the replay of their corpora in `cargo test`)
/// drive beyond the public layers: the offline explainer and the
/// meta-command reader. Not an API: it follows whatever the UI needs.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::text::{escape, escape_str, is_invisible};
    pub use crate::ui::explain::{Explainer, items_from_bounce, parse_args, read_bounce};
    pub use crate::ui::meta::{Meta, parse as parse_meta, unescape};
    pub use crate::ui::theme::Theme;

    /// `:help` or `:help TOPIC` as the demo's prompt shows it (every command
    /// listed), `width` columns wide.
    pub fn help(
        topic: Option<&str>,
        width: usize,
    ) -> Result<Vec<String>, crate::ui::meta::MetaError> {
        let everywhere = crate::ui::meta::Place {
            interactive: true,
            demo: true,
        };
        crate::ui::meta::help(topic, everywhere, width)
    }
}
