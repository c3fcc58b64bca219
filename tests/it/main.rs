//! Integration tests: the one test binary. Each file covers one area and runs
//! the real `smtpcli` binary against a fake server (faults) or a real one
//! (interop, when its address is in the environment).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod explain;
mod interop;
mod piped;
#[cfg(unix)]
mod repl;
mod script;
mod support;
