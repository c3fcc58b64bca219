//! Shared test support: the fake server, running the binary, real-server
//! settings from the environment (the tests that read them are `#[ignore]`d
//! and run with `--include-ignored`, where a missing setting fails).

pub mod dns;
pub mod fake_server;
#[cfg(unix)]
pub mod pty;
pub mod scram;
#[cfg(feature = "openssl")]
pub mod starttls_fake;

use std::time::Duration;

use assert_cmd::Command;

/// The smtpcli binary with a clean environment: no colour, no config (the
/// config directory is one that does not exist; a test that wants a config
/// file sets `SMTPCLI_CONFIG`).
pub fn smtpcli() -> Command {
    let mut cmd = Command::cargo_bin("smtpcli").expect("the smtpcli binary");
    cmd.env_remove("NO_COLOR")
        .env_remove("SMTPCLI_CONFIG")
        .env("XDG_CONFIG_HOME", no_config_home())
        .env("TERM", "xterm-256color")
        .timeout(Duration::from_secs(60));
    cmd
}

/// A config directory with nothing in it, so the user's own config file
/// never changes what a test sees.
fn no_config_home() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-config-home")
}

/// Output as text, for assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// How to get the settings of `scripts/test-servers` into the environment.
pub const TEST_SERVERS: &str =
    "scripts/test-servers start and eval \"$(scripts/test-servers env)\"";

/// A setting of the real servers from the environment (set by `.ci/run` or
/// `scripts/test-servers env`). Only tests marked
/// `#[ignore = "needs …: scripts/test-servers start"]` call this: plain
/// `cargo test` shows them as ignored, and under `--include-ignored` a
/// missing setting is a failure, not a pass.
pub fn need(var: &str) -> String {
    need_from(var, TEST_SERVERS)
}

/// [`need`] for a `host:port` address, split into host and port.
pub fn need_server(var: &str) -> (String, String) {
    host_port(var, &need(var))
}

/// A setting that `setup` puts into the environment; panics saying so when
/// it is not set (or empty).
pub fn need_from(var: &str, setup: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!("{var} is not set: run {setup}"),
    }
}

/// `host:port` (the host may be `[::1]`) split at the last colon.
pub fn host_port(var: &str, addr: &str) -> (String, String) {
    let (host, port) = addr
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{var} is {addr:?}, not host:port"));
    (host.to_string(), port.to_string())
}

/// A token unique to this test run, to find a delivered message by.
pub fn token(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("smtpcli-{label}-{}-{nanos}", std::process::id())
}

/// Waits up to `limit` for a file under `maildir/new` that contains
/// `token`, and returns its contents. Delivery is asynchronous. Files over
/// 1 MiB are passed over (other tests' large messages, left from earlier
/// runs, would make every search take seconds); [`wait_for_large_mail`]
/// looks at them too.
pub fn wait_for_mail(maildir: &str, token: &str, limit: Duration) -> Option<Vec<u8>> {
    find_mail(maildir, token, limit, Some(1024 * 1024))
}

/// [`wait_for_mail`] for a message of any size.
pub fn wait_for_large_mail(maildir: &str, token: &str, limit: Duration) -> Option<Vec<u8>> {
    find_mail(maildir, token, limit, None)
}

fn find_mail(maildir: &str, token: &str, limit: Duration, max: Option<u64>) -> Option<Vec<u8>> {
    let deadline = std::time::Instant::now() + limit;
    let dir = std::path::Path::new(maildir).join("new");
    // A delivered file does not change: each is read once, newest first.
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|entry| !seen.contains(&entry.file_name()))
                    .filter_map(|entry| {
                        let meta = entry.metadata().ok()?;
                        let small = max.is_none_or(|max| meta.len() <= max);
                        let modified = meta.modified().ok()?;
                        small.then(|| (modified, entry.path()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in files {
            if let Some(name) = path.file_name() {
                seen.insert(name.to_os_string());
            }
            if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(token.len()).any(|w| w == token.as_bytes())
            {
                return Some(bytes);
            }
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Peak resident memory of a running process, from /proc (Linux), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
