//! The config file: profiles used by `smtpcli @NAME` against the fake
//! server, flags winning over the file, and mistakes reported with the file
//! and line.

use std::path::{Path, PathBuf};

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{smtpcli, text};

/// A config file with `contents` in a fresh directory (kept alive by the
/// returned guard).
fn config(contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

/// A server that expects one `EHLO name`, then QUIT.
fn ehlo_server(name: &str) -> FakeServer {
    FakeServer::start(vec![
        send("220 fake.example.net ESMTP"),
        expect(&format!("EHLO {name}")),
        send("250 fake.example.net"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ])
}

fn profile_file(port: &str) -> String {
    format!(
        r#"ehlo = "top.example.org"

[profiles.fake]
host = "127.0.0.1"
port = {port}
tls = "none"
ehlo = "profile.example.org"
"#
    )
}

fn run(config: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    smtpcli()
        .env("SMTPCLI_CONFIG", config)
        .args(["--color", "never"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

#[test]
fn a_profile_names_the_server_and_its_ehlo_name() {
    let server = ehlo_server("profile.example.org");
    let port = server.port();
    let (_dir, path) = config(&profile_file(&port));
    let out = run(&path, &["@fake"], ":ehlo\n");
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let connected = format!("# connected to 127.0.0.1 port {port} ");
    assert!(stdout.contains(&connected), "{stdout}");
    assert!(stdout.contains(">> EHLO profile.example.org"), "{stdout}");
}

#[test]
fn ehlo_on_the_command_line_beats_the_profile() {
    let server = ehlo_server("cli.example.org");
    let (_dir, path) = config(&profile_file(&server.port()));
    let out = run(&path, &["--ehlo", "cli.example.org", "@fake"], ":ehlo\n");
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(">> EHLO cli.example.org"), "{stdout}");
}

#[test]
fn port_on_the_command_line_beats_the_profile() {
    let server = ehlo_server("profile.example.org");
    // The profile's port has nothing listening; the command line's has.
    let (_dir, path) = config(&profile_file("1"));
    let out = run(&path, &["@fake", &server.port()], ":ehlo\n");
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn the_top_level_applies_to_any_host() {
    let server = ehlo_server("top.example.org");
    let (_dir, path) = config(&profile_file("1"));
    let out = run(&path, &["127.0.0.1", &server.port()], ":ehlo\n");
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Exactly one line on stderr, exit 2, no output.
fn one_error_line(out: &std::process::Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    stderr
}

#[test]
fn a_malformed_file_names_itself_and_the_line() {
    let (_dir, path) = config("ehlo = \"me.example.org\"\n\n[profiles.work\nhost = \"x\"\n");
    let out = run(&path, &["@work"], "");
    let stderr = one_error_line(&out);
    let want = format!("smtpcli: config file {} line 3: ", path.display());
    assert!(stderr.starts_with(&want), "{stderr}");

    // The same for --explain: a broken file is never silently ignored.
    let out = run(&path, &["--explain", "250"], "");
    one_error_line(&out);
}

#[test]
fn an_unknown_key_is_named() {
    let (_dir, path) = config("ehlo = \"me.example.org\"\ntimout = 5\n");
    let out = run(&path, &["--explain", "250"], "");
    let stderr = one_error_line(&out);
    assert!(
        stderr.contains(" line 2: unknown field `timout`"),
        "{stderr}"
    );
    assert!(stderr.contains("`timeout`"), "the keys it takes: {stderr}");
}

#[test]
fn a_bad_value_is_named() {
    let (_dir, path) = config("[profiles.x]\nhost = \"h\"\ntls = \"ssl\"\n");
    let out = run(&path, &["@x"], "");
    let stderr = one_error_line(&out);
    assert!(
        stderr.contains(" line 3: unknown variant `ssl`"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_profile_is_one_clear_line() {
    let (_dir, path) = config(&profile_file("25"));
    let out = run(&path, &["@nope"], "");
    let stderr = one_error_line(&out);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "smtpcli: no profile 'nope' in {} (it has @fake)",
            path.display()
        )
    );
}

#[test]
fn a_missing_named_file_is_an_error_and_no_config_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let out = run(&missing, &["--explain", "250"], "");
    let stderr = one_error_line(&out);
    assert!(stderr.contains("missing.toml"), "{stderr}");

    let out = run(&missing, &["--no-config", "--explain", "250"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = run(&missing, &["--no-config", "@work"], "");
    let stderr = one_error_line(&out);
    assert!(stderr.contains("--no-config"), "{stderr}");
}

#[test]
fn colour_from_the_file_and_the_flag_that_beats_it() {
    let (_dir, path) = config("color = \"always\"\n");
    let colored = |args: &[&str]| {
        let out = smtpcli()
            .env("SMTPCLI_CONFIG", &path)
            .args(args)
            .args(["--explain", "550"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout).contains('\u{1b}')
    };
    assert!(colored(&[]), "color = always in the file");
    assert!(
        !colored(&["--color", "never"]),
        "--color never on the command line"
    );
}

/// Without SMTPCLI_CONFIG the file is looked for in the XDG config
/// directory (the platform's own elsewhere).
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
#[test]
fn the_default_location_is_the_xdg_config_directory() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("smtpcli")).unwrap();
    let path = home.path().join("smtpcli").join("config.toml");
    std::fs::write(&path, "[profiles.lab]\nhost = \"h\"\n").unwrap();
    let out = smtpcli()
        .env("XDG_CONFIG_HOME", home.path())
        .arg("@nope")
        .output()
        .unwrap();
    let stderr = one_error_line(&out);
    assert!(
        stderr.contains(&format!("no profile 'nope' in {}", path.display())),
        "{stderr}"
    );
}

#[test]
fn a_config_path_that_is_not_a_small_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, format!("# {}\n", "x".repeat(2 * 1024 * 1024))).unwrap();
    for (path, says) in [
        (dir.path().to_path_buf(), "is not a regular file"),
        (big, "is larger than 1 MiB"),
    ] {
        let out = smtpcli()
            .env("SMTPCLI_CONFIG", &path)
            .args(["127.0.0.1", "9"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
