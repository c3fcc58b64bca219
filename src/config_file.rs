//! The config file, layered under the command line.
//!
//! Finds `config.toml` (`SMTPCLI_CONFIG`, else the platform's config
//! directory; `--no-config` skips it), loads it with
//! [`smtpcli::settings`], and fills in the raw flags the user did not give:
//! a flag on the command line wins over the profile named by `@NAME`, the
//! profile over the file's top level, and that over the built-in defaults.
//! What comes out is still a [`Cli`]: checking and resolving stay in
//! `TryFrom<Cli> for Config`, one path for flags and file alike.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::ArgMatches;
use clap::parser::ValueSource;
use smtpcli::settings::{self, Profile, Settings, SettingsError, TlsMode};

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

/// `cli` with the config file's settings filled in where the command line
/// said nothing. `matches` tells a flag given from a default.
pub(crate) fn layer(mut cli: Cli, matches: &ArgMatches) -> anyhow::Result<Cli> {
    let profile_name = cli
        .host
        .as_deref()
        .and_then(|host| host.strip_prefix('@'))
        .map(str::to_string);
    if cli.no_config {
        if let Some(name) = profile_name {
            bail!("@{name} names a profile in the config file, which --no-config skips");
        }
        return Ok(cli);
    }
    let Some((path, required)) = location() else {
        if let Some(name) = profile_name {
            bail!("no profile '{name}': this platform has no config directory; set {ENV}");
        }
        return Ok(cli);
    };
    let settings = read(&path, required)?;
    let profile = match (profile_name, &settings) {
        (None, _) => None,
        (Some(name), _) if name.is_empty() => {
            bail!("'@' names no profile: write @NAME for a [profiles.NAME] table");
        }
        (Some(name), None) => bail!(
            "no profile '{name}': there is no config file {} (or set {ENV})",
            path.display()
        ),
        (Some(name), Some(settings)) => match settings.profile(&name) {
            Some(profile) => Some(profile),
            None => bail!(
                "no profile '{name}' in {} ({})",
                path.display(),
                known(settings)
            ),
        },
    };
    if let Some(settings) = &settings {
        apply(&mut cli, matches, settings, profile);
    }
    Ok(cli)
}

/// The profiles a file has, for an error message.
fn known(settings: &Settings) -> String {
    if settings.profiles.is_empty() {
        return "it has no [profiles.NAME] table".into();
    }
    let names: Vec<String> = settings.profiles.keys().map(|n| format!("@{n}")).collect();
    format!("it has {}", names.join(", "))
}

/// Fills each unset flag from the profile, then the top level.
fn apply(cli: &mut Cli, matches: &ArgMatches, top: &Settings, profile: Option<&Profile>) {
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    if let Some(p) = profile {
        cli.host = Some(p.host.clone());
        if cli.port.is_none() {
            cli.port = p.port.map(|port| port.to_string());
        }
        if !cli.tls && !cli.starttls {
            cli.tls = p.tls == Some(TlsMode::Implicit);
            cli.starttls = p.tls == Some(TlsMode::Starttls);
        }
        fill(&mut cli.user, &p.user);
        fill(&mut cli.password_file, &p.password_file);
        if !cli.no_sni {
            fill(&mut cli.sni, &p.sni);
        }
        // A key belongs to its certificate: never mix the two layers.
        if cli.cert.is_none() {
            cli.cert.clone_from(&p.cert);
            cli.key.clone_from(&p.key);
        }
        cli.lmtp |= p.lmtp.unwrap_or(false);
        cli.mx |= p.mx.unwrap_or(false);
    }
    let p = profile.cloned().unwrap_or_default();
    if cli.helo.is_none() {
        fill(&mut cli.ehlo, &p.ehlo.or_else(|| top.ehlo.clone()));
    }
    fill(&mut cli.timeout, &p.timeout.or(top.timeout));
    fill(&mut cli.ca_file, &p.ca_file.or_else(|| top.ca_file.clone()));
    fill(&mut cli.tls_min, &p.tls_min.or(top.tls_min));
    fill(&mut cli.tls_max, &p.tls_max.or(top.tls_max));
    fill(&mut cli.tls_backend, &p.tls_backend.or(top.tls_backend));
    cli.verify |= p.verify.or(top.verify).unwrap_or(false);
    if !given("color")
        && let Some(color) = top.color
    {
        cli.color = color;
    }
    cli.history_size = top.history_size;
}

/// Sets `flag` from `layer` unless the command line set it.
fn fill<T: Clone>(flag: &mut Option<T>, layer: &Option<T>) {
    if flag.is_none() {
        flag.clone_from(layer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};
    use smtpcli::config::ColorChoice;

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

    fn layered(args: &[&str]) -> Cli {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("smtpcli").chain(args.iter().copied()))
            .unwrap();
        let mut cli = Cli::from_arg_matches(&matches).unwrap();
        let settings = settings::parse(FILE).unwrap();
        let profile = cli
            .host
            .as_deref()
            .and_then(|h| h.strip_prefix('@'))
            .and_then(|name| settings.profile(name))
            .cloned();
        apply(&mut cli, &matches, &settings, profile.as_ref());
        cli
    }

    #[test]
    fn the_profile_fills_what_the_command_line_left_out() {
        let cli = layered(&["@work"]);
        assert_eq!(cli.host.as_deref(), Some("mail.example.com"));
        assert_eq!(cli.port.as_deref(), Some("587"));
        assert!(cli.starttls && !cli.tls);
        assert_eq!(cli.user.as_deref(), Some("alice"));
        assert_eq!(cli.ehlo.as_deref(), Some("work.example.org"));
        assert_eq!(cli.timeout, Some(3.0));
        assert_eq!(cli.color, ColorChoice::Never);
        assert_eq!(cli.history_size, Some(42));
        assert_eq!(
            cli.tls_min.map(|v| v.to_string()).as_deref(),
            Some("TLSv1.2")
        );
    }

    #[test]
    fn the_command_line_wins_over_the_profile() {
        let cli = layered(&[
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
        assert_eq!(cli.port.as_deref(), Some("2525"));
        assert!(cli.tls && !cli.starttls);
        assert_eq!(cli.ehlo.as_deref(), Some("cli.example.org"));
        assert_eq!(cli.timeout, Some(9.0));
        assert_eq!(cli.color, ColorChoice::Always);
        assert_eq!(cli.user.as_deref(), Some("bob"));
    }

    #[test]
    fn the_top_level_applies_without_a_profile() {
        let cli = layered(&["mx.example.net"]);
        assert_eq!(cli.host.as_deref(), Some("mx.example.net"));
        assert_eq!(cli.ehlo.as_deref(), Some("top.example.org"));
        assert_eq!(cli.timeout, Some(7.0));
        assert!(!cli.starttls && !cli.tls);
        // --helo is a choice of greeting: the file's EHLO name stays out.
        let cli = layered(&["--helo", "old.example.org"]);
        assert_eq!(cli.ehlo, None);
        // --color auto on the command line beats the file's never.
        let cli = layered(&["--color", "auto"]);
        assert_eq!(cli.color, ColorChoice::Auto);
    }

    #[test]
    fn a_profile_overrides_the_top_level_and_none_means_plaintext() {
        let cli = layered(&["@plain", "--verify"]);
        assert_eq!(cli.host.as_deref(), Some("10.0.0.1"));
        assert!(!cli.tls && !cli.starttls);
        assert!(cli.verify, "a flag can only turn verification on");
        assert_eq!(cli.ehlo.as_deref(), Some("top.example.org"));
    }
}
