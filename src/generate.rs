//! `--generate`: shell completions and the man page, made from the clap
//! definition so they can never disagree with `--help`.
//!
//! The output goes to a writer (stdout in the binary); packagers and users
//! redirect it to where their shell or `man` looks. Nothing here parses or
//! resolves options.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;
use smtpcli::settings;

use crate::cli::Cli;

/// What `--generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Artifact {
    /// A bash completion script.
    #[value(name = "completions-bash")]
    CompletionsBash,
    /// A zsh completion script.
    #[value(name = "completions-zsh")]
    CompletionsZsh,
    /// A fish completion script.
    #[value(name = "completions-fish")]
    CompletionsFish,
    /// The man page (roff), section 1.
    #[value(name = "man")]
    Man,
}

/// Writes `artifact` to `out`.
pub(crate) fn write(artifact: Artifact, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let shell = match artifact {
        Artifact::CompletionsBash => Shell::Bash,
        Artifact::CompletionsZsh => Shell::Zsh,
        Artifact::CompletionsFish => Shell::Fish,
        Artifact::Man => return man_page(command, out).context("writing the man page"),
    };
    clap_complete::generate(shell, &mut command, name, out);
    out.flush().context("writing the completions")
}

/// The man page: clap's sections, with FILES and ENVIRONMENT (which clap
/// does not know about) before the version.
fn man_page(command: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let title = command.get_name().to_uppercase();
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .title(title)
        .render(&mut page)?;
    let page = String::from_utf8_lossy(&page);
    let (head, tail) = page.split_at(page.find(".SH VERSION").unwrap_or(page.len()));
    out.write_all(head.as_bytes())?;
    out.write_all(extra_sections().as_bytes())?;
    out.write_all(tail.as_bytes())?;
    out.flush()
}

fn extra_sections() -> String {
    use roff::{Roff, italic, roman};
    let keys: Vec<&str> = settings::keys()
        .iter()
        .copied()
        .filter(|&key| key != "profiles")
        .collect();
    let config = format!(
        "(usually ~/.config/smtpcli/config.toml; SMTPCLI_CONFIG names another, --no-config \
         skips it), in TOML. Top-level keys set defaults for every run: {}. A [profiles.NAME] \
         table describes one server, used by smtpcli @NAME, with the same keys (host is \
         required; tls is starttls, implicit or none). Options on the command line win over the \
         profile, the profile over the top level. Relative paths are taken from the file's \
         directory.",
        keys.join(", ")
    );
    let mut roff = Roff::new();
    roff.control("SH", ["FILES"])
        .control("TP", [])
        .text([italic("$XDG_CONFIG_HOME/smtpcli/config.toml")])
        .text([roman(config)]);
    roff.control("TP", [])
        .text([italic("$XDG_STATE_HOME/smtpcli/history")])
        .text([roman(
            "(usually ~/.local/state/smtpcli/history) The prompt's history, readable only by \
             you. Lines answering a 334, AUTH lines with an initial response, message text and \
             lines typed with a leading space are never kept; --no-history neither reads nor \
             writes it.",
        )]);
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in [
        (
            "SMTPCLI_CONFIG",
            "The config file to read instead of the default one.",
        ),
        (
            "SMTPCLI_PASSWORD",
            "The password (or OAuth2 token) for :auth.",
        ),
        (
            "SMTPCLI_TOKEN",
            "The OAuth 2.0 token for :auth oauthbearer and xoauth2 (without --token-cmd).",
        ),
        (
            "SMTPCLI_SOCKS5_PASSWORD",
            "The password for the SOCKS5 proxy (--socks5-user).",
        ),
        (
            "NO_COLOR",
            "When set and not empty, no colour (unless --color always).",
        ),
    ] {
        roff.control("TP", [])
            .text([italic(name)])
            .text([roman(meaning)]);
    }
    roff.to_roff()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    fn generated(artifact: Artifact) -> String {
        let mut out = Vec::new();
        write(artifact, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_artifact_mentions_the_options() {
        for &artifact in Artifact::value_variants() {
            let text = generated(artifact);
            for option in ["starttls", "ehlo", "explain", "generate"] {
                assert!(text.contains(option), "{artifact:?} lacks {option}");
            }
        }
    }

    #[test]
    fn the_man_page_has_a_title() {
        let man = generated(Artifact::Man);
        assert!(
            man.starts_with(".ie") || man.contains(".TH smtpcli"),
            "{man}"
        );
    }
}
