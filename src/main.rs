//! The `smtpcli` binary: flags (with the config file under them) → config →
//! run → exit code; or `--generate`. Nothing else.

mod cli;
mod config_file;
mod generate;

use std::process::ExitCode;

use smtpcli::exit::Exit;

fn main() -> ExitCode {
    if let Some(exit) = cli::offline_help() {
        return exit.into();
    }
    let cli = cli::parse();
    let result = match cli.generate {
        Some(artifact) => generate::write(artifact, &mut std::io::stdout()).map(|()| Exit::Success),
        None => config_file::file_options(&cli)
            .and_then(|file| cli::resolve(cli, file))
            .and_then(smtpcli::run),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            smtpcli::print_error(&format!("{e:#}"));
            Exit::Local.into()
        }
    }
}

/// A closed pipe (`smtpcli … | head`) is not an error worth a message.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe || closed_pipe(io))
    })
}

/// Windows also reports a reader that went away as "the pipe is not
/// connected" (ERROR_PIPE_NOT_CONNECTED, 233), which std does not count as
/// a broken pipe.
#[cfg(windows)]
fn closed_pipe(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(233)
}

#[cfg(not(windows))]
fn closed_pipe(_: &std::io::Error) -> bool {
    false
}
