//! smtpcli: an interactive terminal SMTP test client.
//!
//! The crate is layered, each layer depending only on the ones before it:
//! [`proto`] is sans-IO SMTP (parsing, encoding, meanings; no sockets, no
//! printing); `net` is the tokio transport; `session` is the engine that turns
//! input into events; `ui` renders and reads. The binary's `main.rs` only
//! parses flags into a [`config::Config`], calls [`run`] and exits with the
//! returned [`exit::Exit`].

mod app;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exit;
pub mod net;
pub mod proto;
pub mod session;
pub mod settings;
pub mod transcript;
mod ui;

pub use app::run;

/// What the fuzz targets (and the replay of their corpora in `cargo test`)
/// drive beyond the public layers: the offline explainer and the
/// meta-command reader. Not an API: it follows whatever the UI needs.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::ui::explain::{Explainer, items_from_bounce, parse_args, read_bounce};
    pub use crate::ui::meta::{Meta, help, parse as parse_meta, unescape};
    pub use crate::ui::theme::Theme;
}
