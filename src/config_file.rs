//! The config file, as a layer of options under the command line.
//!
//! Finds `config.toml` (`SMTPCLI_CONFIG`, else the platform's config
//! directory; `--no-config` skips it), loads it with
//! [`smtpcli::settings`], and returns its options: the profile named by
//! `@NAME` over the file's top level. `cli::resolve` puts the flags over
//! them and resolves the whole into a `Config`; nothing here touches the
//! flags.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::bail;
use smtpcli::settings::{self, Options, Settings, SettingsError};

use crate::cli::Cli;

/// Names a config file to use instead of the default one.
const ENV: &str = "SMTPCLI_CONFIG";

/// Where the config file is, and whether it must exist (named by
/// `SMTPCLI_CONFIG`) or may be missing (the default location).
fn location() -> Option<(PathBuf, bool)> {
    match std::env::var_os(ENV) {
        Some(path) if !path.is_empty() => Some((PathBuf::from(path), true)),
        _ => settings::default_path().map(|path| (path, false)),
    }
}

/// The config file's settings, if there is one.
fn read(path: &Path, required: bool) -> anyhow::Result<Option<Settings>> {
    match settings::load(path) {
        Ok(settings) => Ok(Some(settings)),
        Err(SettingsError::Read { reason, .. })
            if !required && reason.kind() == ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The config file's options for this run: the profile `@NAME` names (if
/// the host is one) over the file's top level; nothing without a file.
pub(crate) fn file_options(cli: &Cli) -> anyhow::Result<Options> {
    let profile_name = cli
        .options
        .host
        .as_deref()
        .and_then(|host| host.strip_prefix('@'))
        .map(str::to_string);
    if cli.no_config {
        if let Some(name) = profile_name {
            bail!("@{name} names a profile in the config file, which --no-config skips");
        }
        return Ok(Options::default());
    }
    let Some((path, required)) = location() else {
        if let Some(name) = profile_name {
            bail!("no profile '{name}': this platform has no config directory; set {ENV}");
        }
        return Ok(Options::default());
    };
    let settings = read(&path, required)?;
    layered(profile_name, settings, &path)
}

/// The profile over the top level.
fn layered(
    profile_name: Option<String>,
    settings: Option<Settings>,
    path: &Path,
) -> anyhow::Result<Options> {
    let Some(mut top) = settings else {
        if let Some(name) = profile_name {
            bail!(
                "no profile '{name}': there is no config file {} (or set {ENV})",
                path.display()
            );
        }
        return Ok(Options::default());
    };
    let profile = match profile_name {
        None => None,
        Some(name) if name.is_empty() => {
            bail!("'@' names no profile: write @NAME for a [profiles.NAME] table");
        }
        Some(name) => match top.profiles.remove(&name) {
            Some(profile) => Some(profile),
            None => bail!(
                "no profile '{name}' in {} ({})",
                path.display(),
                known(&top)
            ),
        },
    };
    top.profiles.clear();
    Ok(match profile {
        Some(profile) => profile.or(top),
        None => top,
    })
}

/// The profiles a file has, for an error message.
fn known(settings: &Settings) -> String {
    if settings.profiles.is_empty() {
        return "it has no [profiles.NAME] table".into();
    }
    let names: Vec<String> = settings.profiles.keys().map(|n| format!("@{n}")).collect();
    format!("it has {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};
    use smtpcli::config::{ColorChoice, Mode};
    use smtpcli::settings::TlsMode;

    const FILE: &str = r#"
ehlo = "top.example.org"
color = "never"
timeout = 7
history_size = 42
tls_min = "1.2"

[profiles.work]
host = "mail.example.com"
port = 587
tls = "starttls"
user = "alice"
ehlo = "work.example.org"
timeout = 3

[profiles.plain]
host = "10.0.0.1"
tls = "none"
verify = false
"#;

    /// The options of a run with these flags over `FILE`.
    fn options(args: &[&str]) -> (Cli, Options) {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("smtpcli").chain(args.iter().copied()))
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let name = cli
            .options
            .host
            .as_deref()
            .and_then(|h| h.strip_prefix('@'))
            .map(str::to_string);
        let file = layered(name, Some(settings::parse(FILE).unwrap()), Path::new("c")).unwrap();
        let merged = crate::cli::flag_layer(&cli).or(file);
        (cli, merged)
    }

    #[test]
    fn the_profile_fills_what_the_command_line_left_out() {
        let (_, o) = options(&["@work"]);
        assert_eq!(o.host.as_deref(), Some("mail.example.com"));
        assert_eq!(o.port.as_deref(), Some("587"));
        assert_eq!(o.tls, Some(TlsMode::Starttls));
        assert_eq!(o.user.as_deref(), Some("alice"));
        assert_eq!(o.ehlo.as_deref(), Some("work.example.org"));
        assert_eq!(o.timeout, Some(3.0));
        assert_eq!(o.color, Some(ColorChoice::Never));
        assert_eq!(o.history_size, Some(42));
        assert_eq!(o.tls_min.map(|v| v.to_string()).as_deref(), Some("TLSv1.2"));
    }

    #[test]
    fn the_command_line_wins_over_the_profile() {
        let (_, o) = options(&[
            "@work",
            "2525",
            "--tls",
            "--ehlo",
            "cli.example.org",
            "--timeout",
            "9",
            "--color",
            "always",
            "--user",
            "bob",
        ]);
        assert_eq!(o.host.as_deref(), Some("mail.example.com"));
        assert_eq!(o.port.as_deref(), Some("2525"));
        assert_eq!(o.tls, Some(TlsMode::Implicit));
        assert_eq!(o.ehlo.as_deref(), Some("cli.example.org"));
        assert_eq!(o.timeout, Some(9.0));
        assert_eq!(o.color, Some(ColorChoice::Always));
        assert_eq!(o.user.as_deref(), Some("bob"));
    }

    #[test]
    fn the_top_level_applies_without_a_profile() {
        let (_, o) = options(&["mx.example.net"]);
        assert_eq!(o.host.as_deref(), Some("mx.example.net"));
        assert_eq!(o.ehlo.as_deref(), Some("top.example.org"));
        assert_eq!(o.timeout, Some(7.0));
        assert_eq!(o.tls, None);
        // --color auto on the command line beats the file's never.
        let (_, o) = options(&["--color", "auto"]);
        assert_eq!(o.color, Some(ColorChoice::Auto));
    }

    #[test]
    fn helo_keeps_the_files_ehlo_name_out_of_the_config() {
        let (cli, o) = options(&["--helo", "old.example.org"]);
        assert_eq!(o.ehlo.as_deref(), Some("top.example.org"));
        let config = crate::cli::resolve(cli, o).unwrap();
        let Mode::Connect(connect) = config.mode else {
            panic!("not a connection");
        };
        assert_eq!(connect.helpers.ehlo, None);
        assert_eq!(connect.helpers.helo.as_deref(), Some("old.example.org"));
    }

    #[test]
    fn a_profile_overrides_the_top_level_and_none_means_plaintext() {
        let (_, o) = options(&["@plain", "--verify"]);
        assert_eq!(o.host.as_deref(), Some("10.0.0.1"));
        assert_eq!(o.tls, Some(TlsMode::Plain));
        assert_eq!(
            o.verify,
            Some(true),
            "the flag wins over the profile's false"
        );
        assert_eq!(o.ehlo.as_deref(), Some("top.example.org"));
        let (_, o) = options(&["@plain"]);
        assert_eq!(o.verify, Some(false));
    }

    #[test]
    fn a_layer_with_a_certificate_brings_its_own_key() {
        let upper = Options {
            cert: Some("a.pem".into()),
            ..Options::default()
        };
        let lower = Options {
            cert: Some("b.pem".into()),
            key: Some("b.key".into()),
            ..Options::default()
        };
        let o = upper.or(lower);
        assert_eq!(o.cert, Some("a.pem".into()));
        assert_eq!(o.key, None);
    }
}
