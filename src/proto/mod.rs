//! Sans-IO SMTP: everything about the protocol that can be said without a
//! socket, a clock or a terminal.
//!
//! Nothing in here performs I/O, spawns tasks or prints. Parsers take bytes
//! and return values; encoders take values and return bytes. Negative replies
//! are data like any other: nothing here turns a 5xx into an `Err`.

pub mod audit;
pub mod auth;
pub mod bounce;
pub mod codes;
pub mod command;
pub mod data;
pub mod ehlo;
pub mod enhanced;
pub mod envelope;
pub mod explain;
pub mod message;
pub mod param;
pub mod policy;
pub mod proxy;
pub mod reference;
pub mod reply;
