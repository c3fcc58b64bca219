//! smtpcli: an interactive terminal SMTP test client.
//!
//! The crate is layered, each layer depending only on the ones before it:
//! [`proto`] is sans-IO SMTP (parsing, encoding, meanings; no sockets, no
//! printing); `net` is the tokio transport; `session` is the engine that turns
//! input into events; `ui` renders and reads. The binary's `main.rs` only
//! parses flags into a [`config::Config`], calls [`run`] and exits with the
//! returned [`exit::Exit`].

pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exit;
pub mod net;
pub mod proto;
pub mod session;
pub mod settings;
pub mod transcript;
pub mod ui;

pub use ui::run;
