//! smtpcli: an interactive terminal SMTP test client.
//!
//! The crate is layered, each layer depending only on the ones before it:
//! [`proto`] is sans-IO SMTP (parsing, encoding, meanings; no sockets, no
//! printing); `net` is the tokio transport; `session` is the engine that turns
//! input into events; `ui` renders and reads. The binary in `main.rs` only
//! resolves options and dispatches.

pub mod proto;
