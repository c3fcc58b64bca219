//! TLS diagnostics in depth, against real servers: the name table and the
//! TLSA lines compared with posttls-finger's for the same server, the
//! handshake line in Postfix's words, OCSP staples (good, revoked, none)
//! from HAProxy, session resumption (Postfix with a session cache and
//! tickets, and two Postfix backends behind an HAProxy round-robin), and
//! the knobs (`--tls-groups`, `--ciphers`, `--tls-max`).

use std::process::Command;

use crate::support::fake_server::{FakeServer, expect, send};
use crate::support::{need, need_server, smtpcli, text};

/// smtpcli over STARTTLS (or `--tls`) with `args`, its stdin `QUIT`:
/// stdout, and the exit code.
fn run(args: &[&str], host: &str, port: &str) -> (String, Option<i32>) {
    let out = smtpcli()
        .args(["--color", "never", "--script", "-"])
        .args(args)
        .args([host, port])
        .write_stdin("QUIT\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    (format!("{stdout}{}", text(&out.stderr)), out.status.code())
}

/// posttls-finger's lines (it logs to stderr) for `[host]:port`, checking
/// the certificate against `ca` and `names` at the secure level.
fn posttls_finger(host: &str, port: &str, ca: &str, names: &[&str]) -> String {
    let out = Command::new("posttls-finger")
        .args([
            "-c",
            "-l",
            "secure",
            "-L",
            "certmatch,summary",
            "-d",
            "sha256",
        ])
        .args(["-F", ca, "-C"])
        .arg(format!("[{host}]:{port}"))
        .args(names)
        .output()
        .expect("posttls-finger runs (Debian's postfix package)");
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// `AB:CD:…` as TLSA data: `abcd…`.
fn tlsa_data(colon_hex: &str) -> String {
    colon_hex.replace(':', "").to_ascii_lowercase()
}

/// The value after `key` up to the end of its line.
fn after<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once(key).map(|(_, rest)| rest.trim()))
        .collect()
}

#[test]
#[ignore = "needs Postfix and posttls-finger: scripts/test-servers start"]
fn names_tlsa_and_the_handshake_line_agree_with_posttls_finger() {
    let (host, port) = need_server("SMTPCLI_IT_TLS_CHAIN");
    let ca = need("SMTPCLI_IT_TEST_CA");
    let base = need("SMTPCLI_IT_STAPLE_HOST");
    let www = format!("www.{base}");
    for name in [base.as_str(), www.as_str()] {
        let finger = posttls_finger(&host, &port, &ca, &[name]);
        let (ours, code) = run(
            &["--starttls", "--ca-file", &ca, "--sni", name],
            &host,
            &port,
        );
        assert_eq!(code, Some(0), "{ours}");

        // Which certificate name matched.
        let matched = after(&finger, "matched peername:");
        assert_eq!(matched.len(), 1, "{finger}");
        let want = format!(
            "# name match: {name} (checked, SNI) matched DNS:{}",
            matched[0]
        );
        assert!(ours.contains(&want), "{want:?} missing:\n{ours}\n{finger}");

        // The handshake, word for word as Postfix logs it.
        let established = after(&finger, "Verified TLS connection established to ");
        let line = established[0].split_once(": ").unwrap().1;
        assert!(
            ours.contains(&format!("# handshake: {line}\n")),
            "{line:?} missing:\n{ours}"
        );

        // Each certificate's digests, and the TLSA record made of the SPKI's.
        let certs = after(&finger, "cert digest=");
        let keys = after(&finger, "pkey digest=");
        assert_eq!((certs.len(), keys.len()), (2, 2), "{finger}");
        let sha = after(&ours, "SHA-256 ");
        assert_eq!(sha, certs, "{ours}");
        let tlsa = after(&ours, "TLSA    ");
        assert_eq!(
            tlsa,
            [
                format!("3 1 1 {}", tlsa_data(keys[0])),
                format!("2 1 1 {}", tlsa_data(keys[1])),
            ],
            "{ours}"
        );
    }

    // A name the certificate is not for: both say so.
    let finger = posttls_finger(&host, &port, &ca, &["nomatch.example.org"]);
    assert!(finger.contains("hostname mismatch"), "{finger}");
    let (ours, _) = run(
        &[
            "--starttls",
            "--ca-file",
            &ca,
            "--sni",
            "nomatch.example.org",
        ],
        &host,
        &port,
    );
    assert!(
        ours.contains("# warning: name match: none of the names below"),
        "{ours}"
    );
    assert!(
        ours.contains("nomatch.example.org  checked, SNI  no match"),
        "{ours}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn a_name_given_with_name_settles_the_check_and_shows_in_the_table() {
    let (host, port) = need_server("SMTPCLI_IT_TLS_CHAIN");
    let ca = need("SMTPCLI_IT_TEST_CA");
    let base = need("SMTPCLI_IT_STAPLE_HOST");
    let mx = format!("mx1.{base}");
    // HOST is an address the certificate names too; the SNI is a name it
    // is not for; --name names one it is for (by its wildcard).
    let (out, code) = run(
        &[
            "--starttls",
            "--verify",
            "--ca-file",
            &ca,
            "--sni",
            "other.example.org",
            "--name",
            "nothing.example.org",
            "--name",
            &mx,
        ],
        &host,
        &port,
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("# certificate: trusted"), "{out}");
    for want in [
        format!("# name match: {mx} (--name) matched DNS:*.{base}"),
        format!(
            "#   certificate names: DNS:{base}, DNS:*.{base}, DNS:localhost, IP:127.0.0.1, CN:{base}"
        ),
    ] {
        assert!(out.contains(&want), "{want:?} missing:\n{out}");
    }
    // The table: a row per name, in columns.
    let row = |name: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("#   {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{out}"));
        line[4..]
            .split("  ")
            .filter(|c| !c.is_empty())
            .map(|c| c.trim().to_string())
            .collect()
    };
    assert_eq!(
        row("other.example.org"),
        ["other.example.org", "checked, SNI", "no match"]
    );
    assert_eq!(
        row("nothing.example.org"),
        ["nothing.example.org", "--name", "no match"]
    );
    assert_eq!(
        row(&mx),
        [mx.clone(), "--name".into(), format!("DNS:*.{base}")]
    );
}

#[test]
#[ignore = "needs HAProxy with OCSP staples: scripts/test-servers start"]
fn ocsp_staples_good_revoked_and_missing() {
    let ca = need("SMTPCLI_IT_TEST_CA");
    let name = need("SMTPCLI_IT_STAPLE_HOST");
    let tls = |var: &str, verify: bool| {
        let (host, port) = need_server(var);
        let mut args = vec!["--tls", "--ca-file", &ca, "--sni", &name];
        if verify {
            args.push("--verify");
        }
        run(&args, &host, &port)
    };

    let (out, code) = tls("SMTPCLI_IT_OCSP_GOOD", true);
    assert_eq!(code, Some(0), "{out}");
    let good = after(&out, "# OCSP staple: ");
    assert_eq!(good.len(), 1, "{out}");
    assert!(good[0].starts_with("good, thisUpdate "), "{out}");
    assert!(good[0].contains(", nextUpdate "), "{out}");
    assert!(
        good[0].ends_with("signature verified against the issuer"),
        "{out}"
    );
    assert!(out.contains("# certificate: trusted"), "{out}");

    let (out, code) = tls("SMTPCLI_IT_OCSP_REVOKED", false);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("# warning: OCSP staple: REVOKED (on "),
        "{out}"
    );
    assert!(out.contains("key compromise), thisUpdate "), "{out}");
    assert!(out.contains("# warning: certificate: NOT TRUSTED"), "{out}");
    assert!(
        out.contains("revoked: the server's own OCSP staple says so"),
        "{out}"
    );
    // Under --verify a revoked certificate ends the session.
    let (out, code) = tls("SMTPCLI_IT_OCSP_REVOKED", true);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("rejected (--verify): revoked"), "{out}");

    let (out, code) = tls("SMTPCLI_IT_OCSP_NONE", true);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("# OCSP staple: absent: the server stapled no OCSP response"),
        "{out}"
    );
}

#[test]
#[ignore = "needs openssl s_server stapling: scripts/test-servers start"]
fn an_unknown_staple_is_said_loudly() {
    let ca = need("SMTPCLI_IT_TEST_CA");
    let name = need("SMTPCLI_IT_STAPLE_HOST");
    let (host, port) = need_server("SMTPCLI_IT_OCSP_UNKNOWN");
    // openssl s_server staples, then sends no banner (it closes, or says
    // nothing): the report, then exit 2.
    let (out, code) = run(
        &["--tls", "--timeout", "1", "--ca-file", &ca, "--sni", &name],
        &host,
        &port,
    );
    assert_eq!(code, Some(2), "{out}");
    let staple = after(&out, "# warning: OCSP staple: ");
    assert_eq!(staple.len(), 1, "{out}");
    assert!(staple[0].starts_with("unknown, thisUpdate "), "{out}");
    assert!(
        staple[0].ends_with("signature verified against the issuer"),
        "{out}"
    );
    assert!(out.contains("# certificate: trusted"), "{out}");
    assert!(
        out.contains("the server closed the connection") || out.contains("no reply within 1 s"),
        "{out}"
    );
}

#[test]
#[ignore = "needs HAProxy and Postfix: scripts/test-servers start"]
fn resumption_behind_a_round_robin_names_the_other_backend() {
    let (host, port) = need_server("SMTPCLI_IT_TLS_LB");
    let ca = need("SMTPCLI_IT_CA");
    for max in ["1.2", "1.3"] {
        let (out, code) = run(
            &[
                "--starttls",
                "--resume-test",
                "--tls-max",
                max,
                "--ca-file",
                &ca,
                "--sni",
                "mailserver.example.com",
            ],
            &host,
            &port,
        );
        assert_eq!(code, Some(0), "{out}");
        let kind = if max == "1.3" {
            "TLS 1.3 PSK from a session ticket"
        } else {
            "TLS 1.2 session ticket (RFC 5077)"
        };
        // Round-robin: the test's connection meets the other backend. Both
        // get their ticket keys from one Postfix, so it resumes.
        let line = after(&out, "# resumption test 1/3: ");
        assert_eq!(line.len(), 1, "{out}");
        assert!(
            line[0].starts_with(&format!("resumed: yes ({kind}); EHLO name backend-")),
            "{out}"
        );
        assert!(
            line[0].contains(".example.com (was backend-")
                && line[0].ends_with("another backend answered, as behind a load balancer)"),
            "{out}"
        );
        // The session itself goes on: QUIT on the first connection.
        assert!(out.contains("~> QUIT\n<~ 221"), "{out}");
    }
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn resumption_refused_is_retried_and_said() {
    let (host, port) = need_server("SMTPCLI_IT_TLS_NORESUME");
    let ca = need("SMTPCLI_IT_CA");
    let (out, code) = run(
        &[
            "--starttls",
            "--resume-test",
            "--json",
            "--ca-file",
            &ca,
            "--sni",
            "mailserver.example.com",
        ],
        &host,
        &port,
    );
    assert_eq!(code, Some(0), "{out}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let attempts: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "resume").collect();
    assert_eq!(attempts.len(), 3, "{out}");
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a["attempt"], i + 1);
        assert_eq!(a["of"], 3);
        assert_eq!(a["resumed"], false);
        assert_eq!(a["ehlo_changed"], false);
        assert_eq!(a["trusted"], true);
    }
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/events.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{event}: {errors:?}");
    }
    let tls = events.iter().find(|e| e["event"] == "tls").unwrap();
    assert_eq!(tls["resumed"], false);
    assert!(
        tls["chain"][0]["tlsa"]
            .as_str()
            .unwrap()
            .starts_with("3 1 1 ")
    );
    assert_eq!(
        tls["names"]["candidates"][0]["matched"],
        "DNS:mailserver.example.com"
    );
    assert_eq!(tls["ocsp"]["status"], "absent");
    assert_eq!(tls["key_exchange"]["digest"], "SHA256");
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn tls_resume_at_the_prompt_of_a_script() {
    let (host, port) = need_server("SMTPCLI_IT_TLS_RESUME");
    let ca = need("SMTPCLI_IT_CA");
    let out = smtpcli()
        .args(["--color", "never", "--script", "-", "--ca-file", &ca])
        .args(["--sni", "mailserver.example.com", &host, &port])
        .write_stdin(":tls resume\n:starttls\n:tls resume\nQUIT\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // Before TLS there is nothing to resume: a mistake that ends a script.
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("no TLS session to resume: start one first"),
        "{stderr}"
    );
    let out = smtpcli()
        .args(["--color", "never", "--script", "-", "--ca-file", &ca])
        .args(["--sni", "mailserver.example.com", &host, &port])
        .write_stdin(":starttls\n:tls resume\nQUIT\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "# resumption test 1/3: resumed: yes (TLS 1.3 PSK from a session ticket); \
             EHLO name backend-a.example.com (unchanged)"
        ),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn knobs_reproduce_a_clients_offer() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let ca = need("SMTPCLI_IT_CA");
    let common = [
        "--starttls",
        "--ca-file",
        &ca,
        "--sni",
        "mailserver.example.com",
    ];
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--tls-groups",
                "secp384r1",
                "--ciphers",
                "TLS_AES_128_GCM_SHA256",
            ],
            "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange secp384r1 \
             server-signature RSA-PSS (2048 bits) server-digest SHA256",
        ),
        (
            &[
                "--tls-max",
                "1.2",
                "--ciphers",
                "ECDHE-RSA-AES128-SHA",
                "--tls-groups",
                "P-521",
            ],
            "TLSv1.2 with cipher ECDHE-RSA-AES128-SHA (128/128 bits) key-exchange secp521r1 \
             server-signature RSA-PSS (2048 bits) server-digest SHA256",
        ),
        (
            &["--tls-max", "1.2", "--ciphers", "DHE-RSA-AES256-GCM-SHA384"],
            "TLSv1.2 with cipher DHE-RSA-AES256-GCM-SHA384 (256/256 bits) key-exchange DHE \
             (2048 bits) server-signature RSA-PSS (2048 bits) server-digest SHA256",
        ),
        (
            &["--tls-groups", "X25519,prime256v1"],
            "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 \
             server-signature RSA-PSS (2048 bits) server-digest SHA256",
        ),
    ];
    for (knobs, want) in cases {
        let args: Vec<&str> = common.iter().chain(knobs).copied().collect();
        let (out, code) = run(&args, &host, &port);
        assert_eq!(code, Some(0), "{knobs:?}: {out}");
        assert!(
            out.contains(&format!("# handshake: {want}\n")),
            "{knobs:?}: {want:?} missing:\n{out}"
        );
    }
}

#[test]
fn a_group_or_cipher_openssl_does_not_know_is_one_clear_error() {
    for (flag, value, want) in [
        (
            "--tls-groups",
            "X25519:bogus",
            "--tls-groups X25519:bogus: OpenSSL does not know",
        ),
        (
            "--ciphers",
            "NOT-A-CIPHER",
            "--ciphers NOT-A-CIPHER: OpenSSL accepts none of the TLS 1.2 ciphers",
        ),
        (
            "--ciphers",
            "TLS_NOPE",
            "--ciphers TLS_NOPE: OpenSSL accepts none of the TLS 1.3 suites",
        ),
    ] {
        let server = FakeServer::start(vec![
            send("220 fake ESMTP"),
            expect("EHLO client.example.org"),
            send("250-fake\r\n250 STARTTLS"),
            expect("STARTTLS"),
            send("220 go ahead"),
        ]);
        let out = smtpcli()
            .args(["--starttls", "--ehlo", "client.example.org", flag, value])
            .args(["127.0.0.1", &server.port()])
            .write_stdin("")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(want), "{want:?} missing: {stderr}");
        assert!(
            !stderr.contains("error:0A"),
            "OpenSSL's raw stack leaks: {stderr}"
        );
        server.finish();
    }
}

#[test]
fn resume_test_without_tls_is_refused_before_connecting() {
    let out = smtpcli()
        .args(["--resume-test", "127.0.0.1", "9"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("--resume-test needs a TLS session to resume: add --starttls or --tls"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn with_mx_the_table_has_the_mx_host_and_the_next_hop_domain() {
    let (_, port) = need_server("SMTPCLI_IT_TLS_CHAIN");
    let ca = need("SMTPCLI_IT_TEST_CA");
    let dns_port = crate::support::dns::start();
    // example.test: mx1 (127.0.0.2, nothing listens), then mx2 (127.0.0.1).
    let out = smtpcli()
        .args([
            "--color",
            "never",
            "--script",
            "-",
            "--starttls",
            "--ca-file",
            &ca,
        ])
        .args(["--name", "localhost", "--mx", "example.test", &port])
        .arg("--resolver")
        .arg(format!("127.0.0.1:{dns_port}"))
        .write_stdin("QUIT\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        "# name match: localhost (--name) matched DNS:localhost\n",
        "#   candidate         from                    certificate name\n",
        "#   example.test      checked, SNI, next-hop  no match\n",
        "#   mx2.example.test  MX host                 no match\n",
        "#   localhost         --name                  DNS:localhost\n",
        "# certificate: trusted\n",
    ] {
        assert!(stdout.contains(want), "{want:?} missing:\n{stdout}");
    }
}
