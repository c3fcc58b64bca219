//! Integration tests: the one test binary. Each file covers one area and runs
//! the real `smtpcli` binary against a fake server (faults) or a real one
//! (interop: `#[ignore = "needs …"]`, run with `--include-ignored` once
//! `scripts/test-servers` has started the servers).

#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test binary is no library: its helpers are `pub` for its own modules.
#![allow(unreachable_pub)]

mod audit;
mod check;
mod config_file;
#[cfg(all(unix, feature = "demo"))]
mod demo;
mod dns;
mod engine;
mod examples;
mod explain;
#[cfg(unix)]
mod export;
mod fuzz_corpus;
mod generate;
mod helpers;
mod hostile;
mod interop;
mod lmtp;
mod mtas;
mod piped;
mod probe;
mod proxy;
mod readme;
#[cfg(unix)]
mod repl;
#[cfg(all(unix, feature = "demo"))]
mod repl_power;
mod replay;
mod sasl;
mod script;
mod secrets;
mod send;
mod socks5;
mod support;
mod tls;
mod tls_depth;
