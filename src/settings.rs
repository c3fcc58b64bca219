//! The config file: what people set once, and named profiles for the hosts
//! they test often.
//!
//! `config.toml` lives in the platform's config directory
//! ([`default_path`]: `$XDG_CONFIG_HOME/smtpcli/config.toml`, usually
//! `~/.config/smtpcli/config.toml`). Top-level keys are defaults for every
//! run; a `[profiles.NAME]` table describes one server, used by
//! `smtpcli @NAME`.
//!
//! This module only reads: [`parse`] turns TOML text into [`Settings`]
//! (pure), [`load`] reads a file and makes its paths absolute. It knows
//! nothing of the command line; the binary layers these values under the
//! flags (a flag wins over a profile, a profile over the top level). Every
//! key is checked here, so a typo is an error naming the key and its line,
//! not a setting silently ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use thiserror::Error;

use crate::config::ColorChoice;
use crate::net::target::parse_port;
use crate::net::tls::{Backend, TlsVersion};

/// The longest `timeout` accepted, as for `--timeout`: a day.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// Every option the command line, the config file's top level and its
/// `[profiles.NAME]` tables share, declared once: clap reads it from the
/// flags (flattened into the binary's `Cli`), serde from the file (every
/// key checked, so a typo is an error with its line). Each layer is an
/// `Options`; [`Options::or`] puts one over another (flags over the
/// profile, the profile over the top level), and the binary resolves the
/// result into a `Config`. Flags that only make sense on the command line
/// (`--tls`, `--starttls`, `--helo`, `--no-sni`…) stay in `Cli`, and the
/// keys only a file has (`tls`, `history_size`, `profiles`) are skipped by
/// clap.
#[derive(Clone, Debug, Default, PartialEq, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// The server: a name, an address, host:port or [IPv6]:port (default:
    /// localhost, or the host of a replayed telnet recording); @NAME uses the
    /// config file's [profiles.NAME].
    #[arg(value_name = "HOST")]
    pub host: Option<String>,

    /// The port: a number or smtp, submission, smtps, lmtp.
    #[arg(value_name = "PORT")]
    #[serde(default, deserialize_with = "port")]
    pub port: Option<String>,

    /// `tls = "starttls" | "implicit" | "none"` (on the command line:
    /// `--starttls`, `--tls`).
    #[arg(skip)]
    pub tls: Option<TlsMode>,

    /// HOST is a mail domain: look up its MX records and try them by
    /// preference (its own address without MX; a null MX exits 1).
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub mx: Option<bool>,

    /// Seconds to wait for the connection and for each reply, the reply
    /// after a message's final '.' included (defaults: 10 and 30, and 10
    /// minutes after the final '.').
    #[arg(long, value_name = "SECS")]
    #[serde(default, deserialize_with = "timeout")]
    pub timeout: Option<f64>,

    /// Abort on any certificate problem (by default the handshake goes on
    /// and the verdict is printed loudly).
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub verify: Option<bool>,

    /// The name to send as SNI and check the certificate against (default:
    /// HOST).
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub sni: Option<String>,

    /// Also trust the CA certificates in FILE (PEM).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Present this client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// The key of --cert (PEM; default: in the --cert file).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// The lowest TLS version to offer: 1.0, 1.1, 1.2, 1.3 (1.0 and 1.1 also
    /// lower OpenSSL's security level, for legacy servers).
    #[arg(long, value_name = "VERSION")]
    #[serde(default, deserialize_with = "parsed")]
    pub tls_min: Option<TlsVersion>,

    /// The highest TLS version to offer.
    #[arg(long, value_name = "VERSION")]
    #[serde(default, deserialize_with = "parsed")]
    pub tls_max: Option<TlsVersion>,

    /// The key exchange groups to offer, in order (OpenSSL's names, like
    /// X25519:prime256v1), to reproduce a client's offer.
    #[arg(long, value_name = "LIST")]
    #[serde(default)]
    pub tls_groups: Option<String>,

    /// The cipher suites to offer: TLS_... names set the TLS 1.3 suites, the
    /// others OpenSSL's TLS 1.2 cipher list (ECDHE-RSA-AES128-GCM-SHA256:...).
    #[arg(long, value_name = "LIST")]
    #[serde(default)]
    pub ciphers: Option<String>,

    /// The TLS implementation: openssl (full report) or native (the
    /// platform's; leaf certificate only). Only those built in are accepted.
    #[arg(long, value_name = "BACKEND")]
    #[serde(default, deserialize_with = "parsed")]
    pub tls_backend: Option<Backend>,

    /// The name to greet with in :ehlo and :send (default: this machine's
    /// fully qualified name, found without DNS, or its address literal).
    #[arg(long, value_name = "NAME")]
    pub ehlo: Option<String>,

    /// LMTP (RFC 2033): LHLO in the helpers, and after a message one reply
    /// per accepted recipient, each matched to it (default port 24).
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub lmtp: Option<bool>,

    /// The user for :auth.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Read the password (or OAuth2 token) for :auth from the first line of
    /// FILE; SMTPCLI_PASSWORD works too. Otherwise it is asked for, with
    /// echo off.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// For :auth xoauth2 and oauthbearer: run CMD through the shell and take
    /// its output (trimmed) as the OAuth 2.0 token; SMTPCLI_TOKEN holds a
    /// token too. A token is never taken from the command line itself.
    #[arg(long, value_name = "CMD")]
    pub token_cmd: Option<String>,

    /// Send a PROXY protocol header first, as a load balancer would: v1, v2,
    /// or v2-local (the proxy's own connection, a health check).
    #[arg(long, value_name = "VERSION", help_heading = "PROXY protocol")]
    #[serde(default, deserialize_with = "parsed")]
    pub proxy: Option<crate::proto::proxy::Version>,

    /// The client address the PROXY header claims: IP:PORT, [IPv6]:PORT or
    /// unknown (default: this end of the connection).
    #[arg(long, value_name = "IP:PORT", help_heading = "PROXY protocol")]
    #[serde(default, deserialize_with = "parsed")]
    pub proxy_source: Option<crate::proto::proxy::Claim>,

    /// The server address the PROXY header claims (default: the address
    /// connected to).
    #[arg(long, value_name = "IP:PORT", help_heading = "PROXY protocol")]
    #[serde(default, deserialize_with = "parsed")]
    pub proxy_dest: Option<crate::proto::proxy::Claim>,

    /// A PROXY v2 TLV, repeatable: authority=NAME, alpn=, unique-id=,
    /// netns=, noop=N, ssl=VERSION[,cipher=NAME][,cn=NAME], 0xNN=HEX.
    #[arg(long, value_name = "NAME=VALUE", help_heading = "PROXY protocol")]
    #[serde(default)]
    pub proxy_tlv: Vec<String>,

    /// Send these bytes first instead of a header (hex, or @FILE): a
    /// malformed PROXY header on purpose.
    #[arg(
        long,
        value_name = "HEX|@FILE",
        conflicts_with = "proxy",
        help_heading = "PROXY protocol"
    )]
    pub proxy_raw: Option<String>,

    /// Send XCLIENT with ATTRIBUTES, NAME=VALUE words ("NAME=host ADDR=ip"),
    /// before any input (after --starttls), as a trusted proxy tells Postfix
    /// who the client is; then EHLO again.
    #[arg(long, value_name = "ATTRIBUTES", help_heading = "PROXY protocol")]
    pub xclient: Option<String>,

    /// With --starttls: send --xclient before STARTTLS, not after.
    #[arg(
        long,
        num_args = 0,
        default_missing_value = "true",
        requires = "xclient",
        help_heading = "PROXY protocol"
    )]
    pub xclient_before_starttls: Option<bool>,
    /// Connect through this SOCKS5 proxy (RFC 1928); it resolves the
    /// server's name (default port 1080).
    #[arg(long, value_name = "HOST:PORT", help_heading = "SOCKS5 proxy")]
    #[serde(default, deserialize_with = "socks5")]
    pub socks5: Option<String>,

    /// The user name for the SOCKS5 proxy (RFC 1929).
    #[arg(long, value_name = "USER", help_heading = "SOCKS5 proxy")]
    pub socks5_user: Option<String>,

    /// Read the SOCKS5 password from the first line of FILE;
    /// SMTPCLI_SOCKS5_PASSWORD works too.
    #[arg(long, value_name = "FILE", help_heading = "SOCKS5 proxy")]
    pub socks5_password_file: Option<PathBuf>,

    /// When to colour the output (NO_COLOR and TERM=dumb also turn it off;
    /// default: auto).
    #[arg(long, value_enum, value_name = "WHEN")]
    #[serde(default, deserialize_with = "color")]
    pub color: Option<ColorChoice>,

    /// `history_size = 1000`: how many lines the interactive history keeps.
    #[arg(skip)]
    #[serde(default, deserialize_with = "history_size")]
    pub history_size: Option<usize>,

    /// `[profiles.NAME]` tables, by name (top level only).
    #[arg(skip)]
    #[serde(default)]
    pub profiles: BTreeMap<String, Options>,
}

/// The config file: the top level, with its profiles.
pub type Settings = Options;

/// A `[profiles.NAME]` table: the same keys, for one server.
pub type Profile = Options;

/// The keys the config file takes, from the one declaration of
/// [`Options`] (what serde reads), for help texts and the README.
pub fn keys() -> &'static [&'static str] {
    struct Fields;
    impl<'de> Deserializer<'de> for Fields {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            // The fields are all this wanted: stop here, carrying them out.
            FIELDS.with(|f| f.set(fields));
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            enum identifier ignored_any
        }
    }
    thread_local! {
        static FIELDS: std::cell::Cell<&'static [&'static str]> = const { std::cell::Cell::new(&[]) };
    }
    let _ = Options::deserialize(Fields);
    FIELDS.with(std::cell::Cell::get)
}

impl Options {
    /// These options over `lower`: each one set here wins, the rest come
    /// from `lower`. A key belongs to its certificate, so a layer that sets
    /// `cert` brings its own `key` (or none), never the lower layer's; a
    /// layer that sets `socks5` brings its own login the same way.
    #[must_use]
    pub fn or(self, lower: Options) -> Options {
        let (cert, key) = if self.cert.is_some() {
            (self.cert, self.key)
        } else {
            (lower.cert, lower.key)
        };
        // Likewise a proxy brings its own login.
        let (socks5, socks5_user, socks5_password_file) = if self.socks5.is_some() {
            (self.socks5, self.socks5_user, self.socks5_password_file)
        } else {
            let file = self.socks5_password_file.or(lower.socks5_password_file);
            (lower.socks5, self.socks5_user.or(lower.socks5_user), file)
        };
        Options {
            host: self.host.or(lower.host),
            port: self.port.or(lower.port),
            tls: self.tls.or(lower.tls),
            mx: self.mx.or(lower.mx),
            timeout: self.timeout.or(lower.timeout),
            verify: self.verify.or(lower.verify),
            sni: self.sni.or(lower.sni),
            ca_file: self.ca_file.or(lower.ca_file),
            cert,
            key,
            tls_min: self.tls_min.or(lower.tls_min),
            tls_max: self.tls_max.or(lower.tls_max),
            tls_backend: self.tls_backend.or(lower.tls_backend),
            tls_groups: self.tls_groups.or(lower.tls_groups),
            ciphers: self.ciphers.or(lower.ciphers),
            ehlo: self.ehlo.or(lower.ehlo),
            lmtp: self.lmtp.or(lower.lmtp),
            user: self.user.or(lower.user),
            password_file: self.password_file.or(lower.password_file),
            token_cmd: self.token_cmd.or(lower.token_cmd),
            proxy: self.proxy.or(lower.proxy),
            proxy_source: self.proxy_source.or(lower.proxy_source),
            proxy_dest: self.proxy_dest.or(lower.proxy_dest),
            proxy_tlv: if self.proxy_tlv.is_empty() {
                lower.proxy_tlv
            } else {
                self.proxy_tlv
            },
            proxy_raw: self.proxy_raw.or(lower.proxy_raw),
            xclient: self.xclient.or(lower.xclient),
            xclient_before_starttls: self
                .xclient_before_starttls
                .or(lower.xclient_before_starttls),
            socks5,
            socks5_user,
            socks5_password_file,
            color: self.color.or(lower.color),
            history_size: self.history_size.or(lower.history_size),
            profiles: BTreeMap::new(),
        }
    }
}

/// How a profile's connection starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// `starttls`: plaintext first, then STARTTLS (as `--starttls`).
    Starttls,
    /// `implicit`: TLS from the first byte (as `--tls`).
    Implicit,
    /// `none`: plaintext (typed `STARTTLS` still works).
    #[serde(rename = "none")]
    Plain,
}

/// The largest config file read: 1 MiB.
const MAX_FILE: u64 = 1024 * 1024;

/// A config file that could not be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read the config file {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why, from the system.
        reason: std::io::Error,
    },
    /// The path names something other than a regular file.
    #[error("the config file {} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    /// The file is larger than a config file can be.
    #[error("the config file {} is larger than 1 MiB", .0.display())]
    TooLarge(PathBuf),
    /// The file is not valid TOML or has a key or value smtpcli does not
    /// take.
    #[error("config file {}{}: {}", path.display(), at_line(error.line), error.message)]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where and what.
        error: ParseError,
    },
}

/// What is wrong in config text, and on which line.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ParseError {
    /// The 1-based line the problem is on, when known.
    pub line: Option<usize>,
    /// What is wrong, on one line.
    pub message: String,
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

/// Parses config text. Paths are kept as written. A profile needs a
/// `host`, and holds no profiles of its own.
pub fn parse(text: &str) -> Result<Settings, ParseError> {
    let settings: Settings = toml::from_str(text).map_err(|e| ParseError {
        line: e.span().map(|span| line_of(text, span.start)),
        message: one_line(e.message()),
    })?;
    for (name, profile) in &settings.profiles {
        let problem = if profile.host.is_none() {
            "missing field `host`: a profile names its server"
        } else if !profile.profiles.is_empty() {
            "a profile cannot hold profiles of its own"
        } else {
            continue;
        };
        return Err(ParseError {
            line: profile_line(text, name),
            message: format!("[profiles.{name}]: {problem}"),
        });
    }
    Ok(settings)
}

/// The line of the `[profiles.NAME]` header, when it is written so.
fn profile_line(text: &str, name: &str) -> Option<usize> {
    let header = format!("[profiles.{name}]");
    text.lines()
        .position(|line| line.trim() == header)
        .map(|i| i + 1)
}

/// Reads and parses `path`. Relative paths in it are taken from the file's
/// directory, and `~/` from the home directory.
pub fn load(path: &Path) -> Result<Settings, SettingsError> {
    let read = |reason| SettingsError::Read {
        path: path.to_path_buf(),
        reason,
    };
    // A config file is a small regular file: not a FIFO, a device or
    // /dev/zero, whose reading would never end.
    let meta = std::fs::metadata(path).map_err(read)?;
    if !meta.is_file() {
        return Err(SettingsError::NotAFile(path.to_path_buf()));
    }
    if meta.len() > MAX_FILE {
        return Err(SettingsError::TooLarge(path.to_path_buf()));
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    let mut settings = parse(&text).map_err(|error| SettingsError::Invalid {
        path: path.to_path_buf(),
        error,
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let home = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf());
    settings.resolve_paths(base, home.as_deref());
    Ok(settings)
}

/// Where the config file is looked for when `SMTPCLI_CONFIG` does not say:
/// `config.toml` in the platform's config directory for smtpcli.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "smtpcli")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

impl Settings {
    /// Makes every path absolute: `~/x` from `home`, `x` from `base` (the
    /// config file's directory), so a profile works from any directory.
    pub fn resolve_paths(&mut self, base: &Path, home: Option<&Path>) {
        resolve(&mut self.ca_file, base, home);
        resolve(&mut self.socks5_password_file, base, home);
        for profile in self.profiles.values_mut() {
            for path in [
                &mut profile.password_file,
                &mut profile.ca_file,
                &mut profile.cert,
                &mut profile.key,
                &mut profile.socks5_password_file,
            ] {
                resolve(path, base, home);
            }
        }
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }
}

fn resolve(path: &mut Option<PathBuf>, base: &Path, home: Option<&Path>) {
    let Some(p) = path.as_mut() else { return };
    if let (Ok(rest), Some(home)) = (p.strip_prefix("~"), home) {
        *p = home.join(rest);
    } else if p.is_relative() {
        *p = base.join(&*p);
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A scalar as text: TOML strings, integers and floats alike, so
/// `port = 587` and `port = "submission"`, `tls_min = 1.2` and
/// `tls_min = "1.2"` all work.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A value read through its `FromStr`, whose error becomes the message.
fn parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let Text(text) = Text::deserialize(deserializer)?;
    text.parse().map(Some).map_err(de::Error::custom)
}

/// A port as written (a number or a service name), once it is known to be
/// one.
fn port<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let Text(text) = Text::deserialize(deserializer)?;
    parse_port(&text)
        .map(|_| Some(text))
        .map_err(de::Error::custom)
}

/// A SOCKS5 proxy's `HOST:PORT`, once it is known to be one.
fn socks5<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let Text(text) = Text::deserialize(deserializer)?;
    crate::net::target::parse_target(&text, None, crate::net::socks5::DEFAULT_PORT)
        .map(|_| Some(text))
        .map_err(de::Error::custom)
}

fn color<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ColorChoice>, D::Error> {
    let Text(text) = Text::deserialize(deserializer)?;
    <ColorChoice as clap::ValueEnum>::from_str(&text, true)
        .map(Some)
        .map_err(|_| {
            de::Error::custom(format!(
                "'{text}' is not a colour choice: use auto, always or never"
            ))
        })
}

fn history_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    let Text(text) = Text::deserialize(deserializer)?;
    text.parse()
        .map(Some)
        .map_err(|_| de::Error::custom(format!("history_size wants a number of lines, not {text}")))
}

fn timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let Text(text) = Text::deserialize(deserializer)?;
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS => Ok(Some(secs)),
        _ => Err(de::Error::custom(format!(
            "timeout wants a number of seconds from 0 to 86400, not {text}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
# what I set once
ehlo = "laptop.example.org"
color = "never"
timeout = 20
history_size = 5000
verify = true
ca_file = "ca.pem"
tls_min = 1.2
tls_backend = "openssl"

[profiles.work]
host = "mail.example.com"
port = "submission"
tls = "starttls"
user = "alice"
ehlo = "work-laptop.example.com"
ca_file = "~/certs/work.pem"

[profiles.lab]
host = "[::1]:2525"
tls = "none"
timeout = 2.5
"#;

    #[test]
    fn a_full_file_parses() {
        let s = parse(FULL).unwrap();
        assert_eq!(s.ehlo.as_deref(), Some("laptop.example.org"));
        assert_eq!(s.color, Some(ColorChoice::Never));
        assert_eq!(s.timeout, Some(20.0));
        assert_eq!(s.history_size, Some(5000));
        assert_eq!(s.verify, Some(true));
        assert_eq!(s.tls_min, Some(TlsVersion::V1_2));
        assert_eq!(s.tls_backend, Some(Backend::OpenSsl));
        let work = s.profile("work").unwrap();
        assert_eq!(work.host.as_deref(), Some("mail.example.com"));
        assert_eq!(work.port.as_deref(), Some("submission"));
        assert_eq!(work.tls, Some(TlsMode::Starttls));
        assert_eq!(work.user.as_deref(), Some("alice"));
        let lab = s.profile("lab").unwrap();
        assert_eq!(lab.tls, Some(TlsMode::Plain));
        assert_eq!(lab.timeout, Some(2.5));
        assert_eq!(lab.port, None);
        assert!(s.profile("home").is_none());
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap(), Settings::default());
        assert_eq!(parse("# nothing yet\n").unwrap(), Settings::default());
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "ehlo = \"a\"\ncolour = \"never\"\n",
                2,
                "unknown field `colour`",
            ),
            (
                "ehlo = \"a\"\n\n[profiles.x]\nhost = \"h\"\nhots = \"h\"\n",
                5,
                "unknown field `hots`",
            ),
            (
                "ehlo = \"a\"\ncolor = \"sometimes\"\n",
                2,
                "'sometimes' is not a colour choice",
            ),
            ("timeout = 0\n", 1, "timeout wants a number of seconds"),
            ("\n\ntimeout = -3\n", 3, "timeout wants a number of seconds"),
            ("tls_min = \"1.4\"\n", 1, "'1.4' is not a TLS version"),
            (
                "tls_backend = \"gnutls\"\n",
                1,
                "'gnutls' is not a TLS backend",
            ),
            (
                "[profiles.x]\nhost = \"h\"\nport = \"http\"\n",
                3,
                "'http' is not a port",
            ),
            (
                "[profiles.x]\nhost = \"h\"\ntls = \"ssl\"\n",
                3,
                "unknown variant `ssl`",
            ),
            (
                "history_size = -1\n",
                1,
                "history_size wants a number of lines",
            ),
            (
                "history_size = \"many\"\n",
                1,
                "history_size wants a number of lines",
            ),
            ("socks5 = \"[::1\"\n", 1, "is not a host"),
            ("\nsocks5 = \"proxy:http\"\n", 2, "'http' is not a port"),
            ("ehlo = \"a\"\nverify = yes\n", 2, ""),
            ("ehlo = \"unterminated\n", 1, ""),
        ];
        for &(text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, Some(line), "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
            assert!(!e.message.contains('\n'), "{text:?}: {e}");
        }
    }

    /// The key list the help texts use is the one the parser takes: the
    /// unknown-key message lists them all, at the top and in a profile.
    #[test]
    fn the_key_list_is_the_parsers() {
        assert!(keys().contains(&"timeout") && keys().contains(&"profiles"));
        for text in ["nope = 1\n", "[profiles.x]\nhost = \"h\"\nnope = 1\n"] {
            let message = parse(text).unwrap_err().message;
            let (_, expected) = message.split_once("expected one of ").unwrap();
            let listed: Vec<&str> = expected.split(", ").map(|k| k.trim_matches('`')).collect();
            assert_eq!(listed, keys(), "{message}");
        }
    }

    #[test]
    fn a_proxy_brings_its_own_login() {
        let file = parse(
            "socks5 = \"127.0.0.1:1081\"\nsocks5_user = \"me\"\nsocks5_password_file = \"pw\"\n\
             [profiles.lab]\nhost = \"h\"\nsocks5 = \"proxy.example.org\"\n",
        )
        .unwrap();
        let lab = file.profile("lab").unwrap().clone().or(file.clone());
        assert_eq!(lab.socks5.as_deref(), Some("proxy.example.org"));
        assert_eq!((lab.socks5_user, lab.socks5_password_file), (None, None));
        // A layer without a proxy of its own keeps the lower one, and may
        // name another user for it.
        let flags = Options {
            socks5_user: Some("other".into()),
            ..Options::default()
        };
        let run = flags.or(file);
        assert_eq!(run.socks5.as_deref(), Some("127.0.0.1:1081"));
        assert_eq!(run.socks5_user.as_deref(), Some("other"));
        assert_eq!(run.socks5_password_file, Some(PathBuf::from("pw")));
    }

    #[test]
    fn profiles_do_not_nest() {
        let e = parse("[profiles.x]\nhost = \"h\"\n[profiles.x.profiles.y]\nhost = \"i\"\n")
            .unwrap_err();
        assert!(e.message.contains("cannot hold profiles"), "{e}");
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn a_profile_needs_a_host() {
        let e = parse("[profiles.x]\nport = 25\n").unwrap_err();
        assert!(e.message.contains("host"), "{e}");
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn paths_are_taken_from_the_file_and_home() {
        let mut s = parse(FULL).unwrap();
        s.resolve_paths(Path::new("/etc/smtpcli"), Some(Path::new("/home/alice")));
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/smtpcli/ca.pem")));
        assert_eq!(
            s.profile("work").unwrap().ca_file,
            Some(PathBuf::from("/home/alice/certs/work.pem"))
        );
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "ehlo = \"a\"\nnope = 1\n").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("config file {} line 2: ", path.display())),
            "{e}"
        );
        let missing = dir.path().join("missing.toml");
        let e = load(&missing).unwrap_err();
        assert!(
            matches!(&e, SettingsError::Read { reason, .. } if reason.kind() == std::io::ErrorKind::NotFound)
        );
        assert!(e.to_string().contains("missing.toml"), "{e}");
    }
}
