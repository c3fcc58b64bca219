//! The `smtpcli` binary: flags → config → run → exit code. Nothing else.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use smtpcli::config::Config;
use smtpcli::exit::Exit;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = Config::try_from(cli).and_then(smtpcli::run);
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("smtpcli: {e:#}");
            Exit::Local.into()
        }
    }
}

/// A closed pipe (`smtpcli … | head`) is not an error worth a message.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
