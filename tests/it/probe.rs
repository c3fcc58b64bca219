//! `--probe`: many servers at once. Each error class against a fake server
//! that produces it, domains through the in-process DNS server, the NDJSON
//! schema, `--resume`, `--shard`, Ctrl-C in a pty, and Postfix for the
//! real STARTTLS verdict.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::support::fake_server::{FakeServer, Step, expect, hold, send};
use crate::support::{dns, need, smtpcli, text};

/// A port where nothing listens (bound, then let go).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn list(lines: &[String]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), lines.join("\n") + "\n").unwrap();
    file
}

fn probe(args: &[&str]) -> Output {
    smtpcli()
        .args(["--probe"])
        .args(args)
        .write_stdin("")
        .output()
        .unwrap()
}

fn records(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/events.v1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn assert_valid(records: &[Value]) {
    let validator = validator();
    for record in records {
        let errors: Vec<String> = validator
            .iter_errors(record)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{record}\n{errors:?}");
    }
}

/// The error class of each target (`"passed"` for none).
fn classes(records: &[Value]) -> BTreeMap<String, String> {
    records
        .iter()
        .map(|r| {
            let class = r["error"]["class"].as_str().unwrap_or("passed").to_string();
            (r["target"].as_str().unwrap().to_string(), class)
        })
        .collect()
}

#[test]
fn each_error_class_is_named_with_its_stage() {
    let no_banner = FakeServer::start(vec![Step::Close]);
    let refusing = FakeServer::start(vec![
        send("554 5.7.1 no service for you"),
        expect("QUIT"),
        send("221 bye"),
        Step::Close,
    ]);
    let garbage = FakeServer::start(vec![send("hello, this is not SMTP"), Step::ReadToEnd]);
    let no_starttls = FakeServer::start(vec![
        send("220 plain.example ESMTP"),
        expect("EHLO probe.example"),
        send("250-plain.example\r\n250 PIPELINING"),
        expect("QUIT"),
        send("221 bye"),
        Step::Close,
    ]);
    let broken_tls = FakeServer::start(vec![
        send("220 tls.example ESMTP"),
        expect("EHLO probe.example"),
        send("250-tls.example\r\n250 STARTTLS"),
        expect("STARTTLS"),
        send("220 go ahead"),
        Step::Send(b"this is not a TLS record at all\r\n".to_vec()),
        Step::ReadToEnd,
    ]);
    let tarpit = FakeServer::start(vec![Step::Hold(Duration::from_secs(4)), Step::Close]);
    let chatty = FakeServer::start(vec![
        send("220 chatty.example ESMTP"),
        expect("EHLO probe.example"),
        send(&format!(
            "{}250 STARTTLS",
            "250-X-PADDING 0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
                .repeat(30)
        )),
        Step::ReadToEnd,
    ]);
    let refused = closed_port();
    let targets: Vec<(String, &str, &str)> = vec![
        (format!("127.0.0.1:{refused}"), "refused", "connect"),
        (
            format!("127.0.0.1:{}", no_banner.port()),
            "no_banner",
            "banner",
        ),
        (format!("127.0.0.1:{}", refusing.port()), "policy", "banner"),
        (
            format!("127.0.0.1:{}", garbage.port()),
            "protocol",
            "banner",
        ),
        (
            format!("127.0.0.1:{}", no_starttls.port()),
            "policy",
            "starttls",
        ),
        (format!("127.0.0.1:{}", broken_tls.port()), "tls", "tls"),
        (format!("127.0.0.1:{}", tarpit.port()), "timeout", "banner"),
        (format!("127.0.0.1:{}", chatty.port()), "protocol", "ehlo"),
    ];
    let file = list(&targets.iter().map(|t| t.0.clone()).collect::<Vec<_>>());
    let out = probe(&[
        file.path().to_str().unwrap(),
        "--json",
        "--timeout",
        "1",
        "--ehlo",
        "probe.example",
        "--max-bytes",
        "1024",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let records = records(&out);
    assert_valid(&records);
    assert_eq!(records.len(), targets.len(), "{records:?}");
    for (target, class, stage) in &targets {
        let record = records
            .iter()
            .find(|r| r["target"] == target.as_str())
            .unwrap_or_else(|| panic!("no record for {target}"));
        assert_eq!(record["error"]["class"], *class, "{record}");
        assert_eq!(record["error"]["stage"], *stage, "{record}");
        assert_eq!(record["passed"], false);
    }
    let by_target = classes(&records);
    let timed_out = records
        .iter()
        .find(|r| r["error"]["class"] == "timeout")
        .unwrap();
    // Bounded by --timeout: 1 s, plus a little.
    assert!(
        timed_out["ms"]["total"].as_f64().unwrap() < 2000.0,
        "{timed_out}"
    );
    assert!(
        by_target.values().filter(|c| *c == "policy").count() == 2,
        "{by_target:?}"
    );
    let chatty_record = records
        .iter()
        .find(|r| r["target"] == format!("127.0.0.1:{}", chatty.port()))
        .unwrap();
    assert!(
        chatty_record["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 1024 bytes"),
        "{chatty_record}"
    );
    // The summary goes to stderr, counted by class.
    for want in [
        "probed 8 target(s), 8 address(es)",
        "passed: 0 of 8",
        "refused 1",
        "timeout 1",
        "no_banner 1",
        "tls 1",
        "policy 2",
        "protocol 2",
        "slowest:",
    ] {
        assert!(stderr.contains(want), "{want:?} missing:\n{stderr}");
    }
    for server in [
        no_banner,
        refusing,
        garbage,
        no_starttls,
        broken_tls,
        tarpit,
        chatty,
    ] {
        server.finish();
    }
}

#[test]
fn a_tarpit_is_set_aside_and_does_not_hold_up_the_rest() {
    let (wait, go) = hold();
    let tarpit = FakeServer::start(vec![wait, Step::Close]);
    let quick: Vec<FakeServer> = (0..3)
        .map(|_| FakeServer::start(vec![send("554 5.3.2 not now"), Step::ReadToEnd]))
        .collect();
    let mut lines = vec![format!("127.0.0.1:{}", tarpit.port())];
    lines.extend(quick.iter().map(|q| format!("127.0.0.1:{}", q.port())));
    let file = list(&lines);
    let out = probe(&[
        file.path().to_str().unwrap(),
        "--json",
        "--concurrency",
        "1",
        "--timeout",
        "8",
    ]);
    let _ = go.send(());
    tarpit.finish();
    for q in quick {
        q.finish();
    }
    let records = records(&out);
    assert_eq!(records.len(), 4, "{}", text(&out.stderr));
    // With one place, the three quick servers were probed while the tarpit
    // waited out its timeout aside: they are done long before it.
    let (last, rest) = records.split_last().unwrap();
    assert_eq!(last["target"], lines[0].as_str());
    assert_eq!(last["error"]["class"], "timeout");
    for record in rest {
        assert_eq!(record["error"]["class"], "policy", "{record}");
        assert!(record["t_ms"].as_u64().unwrap() < 7000, "{record}");
    }
}

#[test]
fn a_server_that_never_stops_talking_is_cut_off_at_the_byte_cap() {
    let (wait, go) = hold();
    let endless = "250-0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        .repeat(2000);
    let server = FakeServer::start(vec![
        send("220 chatty.example ESMTP"),
        expect("EHLO probe.example"),
        // A reply that never ends (no last line), then silence: without a
        // cap the probe would wait for its whole --timeout.
        Step::Send(endless.into_bytes()),
        wait,
        Step::Close,
    ]);
    let file = list(&[format!("127.0.0.1:{}", server.port())]);
    let out = probe(&[
        file.path().to_str().unwrap(),
        "--json",
        "--timeout",
        "30",
        "--ehlo",
        "probe.example",
        "--max-bytes",
        "8192",
    ]);
    let _ = go.send(());
    server.finish();
    let records = records(&out);
    assert_eq!(records.len(), 1, "{}", text(&out.stderr));
    let record = &records[0];
    assert_eq!(record["error"]["class"], "protocol", "{record}");
    assert_eq!(record["error"]["stage"], "ehlo", "{record}");
    assert!(
        record["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 8192 bytes"),
        "{record}"
    );
    assert!(
        record["ms"]["total"].as_f64().unwrap() < 10_000.0,
        "{record}"
    );
}

#[test]
fn domains_are_probed_through_their_mx_hosts_in_preference_order() {
    let dns_port = dns::start();
    let server = FakeServer::start_each(vec![
        vec![
            send("220 mx2.example.test ESMTP"),
            expect("EHLO probe.example"),
            send("250-mx2.example.test\r\n250 SIZE 1000"),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        vec![
            send("220 nomx.test ESMTP"),
            expect("EHLO probe.example"),
            send("250 nomx.test"),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
    ]);
    let file = list(&[
        "example.test".into(),
        "nosuch.test".into(),
        "null.test".into(),
    ]);
    let out = probe(&[
        file.path().to_str().unwrap(),
        &server.port(),
        "--json",
        "--resolver",
        &format!("127.0.0.1:{dns_port}"),
        "--ehlo",
        "probe.example",
        "--concurrency",
        "1",
    ]);
    let first = records(&out);
    // nomx.test: no MX, so its own address (RFC 5321 §5.1), on its own so
    // the fake server's connections come in order.
    let file = list(&["nomx.test".into()]);
    let nomx = probe(&[
        file.path().to_str().unwrap(),
        &server.port(),
        "--json",
        "--resolver",
        &format!("127.0.0.1:{dns_port}"),
        "--ehlo",
        "probe.example",
    ]);
    server.finish();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_valid(&first);
    let example: Vec<&Value> = first
        .iter()
        .filter(|r| r["target"] == "example.test")
        .collect();
    assert_eq!(example.len(), 2, "{first:?}");
    assert_eq!(example[0]["mx"], "mx1.example.test");
    assert_eq!(example[0]["preference"], 10);
    assert_eq!(example[0]["address"], "127.0.0.2");
    assert_eq!(example[0]["error"]["class"], "refused");
    assert_eq!(example[1]["mx"], "mx2.example.test");
    assert_eq!(example[1]["preference"], 20);
    assert_eq!(example[1]["name"], "mx2.example.test");
    assert_eq!(example[1]["error"]["class"], "policy");
    assert_eq!(example[1]["error"]["message"], "STARTTLS is not offered");
    assert!(
        example
            .iter()
            .all(|r| r["of"] == 2 && r["kind"] == "domain")
    );
    assert!(example[1]["ms"]["dns"].as_f64().is_some(), "{}", example[1]);
    let classes = classes(&first);
    assert_eq!(classes["nosuch.test"], "dns");
    assert_eq!(classes["null.test"], "policy");
    let nomx = records(&nomx);
    assert_valid(&nomx);
    assert_eq!(nomx.len(), 1);
    assert_eq!(nomx[0]["mx"], Value::Null);
    assert_eq!(nomx[0]["address"], "127.0.0.1");
    assert_eq!(nomx[0]["name"], "nomx.test");
}

#[test]
fn piped_output_is_one_line_per_address_and_the_summary_goes_to_stderr() {
    let refused = closed_port();
    let file = list(&[format!("127.0.0.1:{refused}"), format!("[::1]:{refused}")]);
    let out = probe(&[file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "FAIL  127.0.0.1:{refused}  -  127.0.0.1:{refused}  refused at connect"
        ))),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}'),
        "no colour or progress into a pipe"
    );
    assert!(text(&out.stderr).contains("# probed 2 target(s)"));
}

#[test]
fn bad_input_is_refused_before_anything_is_probed() {
    let file = list(&["good.example".into(), "bad host".into(), "x:99999".into()]);
    let out = probe(&[file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2: one target per line, with no spaces"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: '99999' is not a port number"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let missing = probe(&["/nonexistent/targets.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read the target list /nonexistent/targets.txt"));

    for args in [
        &["-", "--shard", "2/2"][..],
        &["-", "--concurrency", "0"],
        &["-", "mx.example", "25"],
    ] {
        let out = probe(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = smtpcli().args(["--shard", "0/2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--shard needs --probe");
}

#[test]
fn shards_split_the_list_and_resume_skips_what_is_done() {
    let refused = closed_port();
    let targets: Vec<String> = (1..=5).map(|i| format!("127.0.0.{i}:{refused}")).collect();
    let file = list(&targets);
    let path = file.path().to_str().unwrap();
    let mut union = Vec::new();
    for shard in ["0/2", "1/2"] {
        let out = probe(&[path, "--json", "--shard", shard]);
        let part: Vec<String> = records(&out)
            .iter()
            .map(|r| r["target"].as_str().unwrap().to_string())
            .collect();
        union.extend(part);
    }
    union.sort();
    assert_eq!(union, targets);

    // An earlier run finished the first two (and was cut in the third's
    // line): only the rest are probed.
    let first = probe(&[path, "--json", "--shard", "0/2"]);
    let done: Vec<String> = text(&first.stdout)
        .lines()
        .take(2)
        .map(str::to_string)
        .collect();
    let finished: Vec<String> = done
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["target"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let earlier = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        earlier.path(),
        format!("{}\n{{\"v\":1,\"event\":\"probe\",\"tar", done.join("\n")),
    )
    .unwrap();
    let out = probe(&[path, "--json", "--resume", earlier.path().to_str().unwrap()]);
    let stderr = text(&out.stderr);
    let probed: Vec<String> = records(&out)
        .iter()
        .map(|r| r["target"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(probed.len(), 3, "{probed:?}");
    assert!(probed.iter().all(|t| !finished.contains(t)));
    assert!(
        stderr.contains("2 target(s) already done, 3 to go"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 unfinished or unreadable line(s)"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_says_what_was_not_done() {
    use crate::support::pty;
    let (tarpits, release): (Vec<FakeServer>, Vec<_>) = (0..2)
        .map(|_| {
            let (wait, go) = hold();
            (FakeServer::start(vec![wait, Step::Close]), go)
        })
        .unzip();
    let refused = closed_port();
    let mut lines = vec![format!("127.0.0.1:{refused}")];
    lines.extend(tarpits.iter().map(|t| format!("127.0.0.1:{}", t.port())));
    let file = list(&lines);
    let mut session = pty::spawn(
        &["--probe", file.path().to_str().unwrap(), "--timeout", "60"],
        &[],
    );
    // The refused one is shown as it comes, above the live display.
    session.wait_text(&format!("FAIL  127.0.0.1:{refused}"));
    session.wait_text("in flight");
    session.send("\x03");
    session.wait_text("stopped by Ctrl-C: 2 target(s) not probed or not finished");
    let screen = session.text();
    assert!(
        screen.contains("probed 1 target(s), 1 address(es)"),
        "{screen}"
    );
    assert_eq!(session.exit_code(), 130);
    for (tarpit, go) in tarpits.into_iter().zip(release) {
        let _ = go.send(());
        tarpit.finish();
    }
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_starttls_passes_and_the_sink_without_tls_fails() {
    let smtp = need("SMTPCLI_IT_SMTP");
    let smtps = need("SMTPCLI_IT_SMTPS");
    let sink = need("SMTPCLI_IT_SINK");
    let ca = need("SMTPCLI_IT_CA");
    let host = need("SMTPCLI_IT_HOSTNAME");
    let file = list(&[format!("{smtp},{host}"), sink.clone()]);
    let out = probe(&[file.path().to_str().unwrap(), "--json", "--ca-file", &ca]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let found = records(&out);
    assert_valid(&found);
    let postfix = found
        .iter()
        .find(|r| r["target"] == format!("{smtp},{host}"))
        .unwrap();
    assert_eq!(postfix["passed"], true, "{postfix}");
    assert_eq!(postfix["verdict"], "trusted");
    assert_eq!(postfix["tls_mode"], "starttls");
    assert_eq!(postfix["name"], host.as_str());
    assert!(
        postfix["tls"]["protocol"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1.")
    );
    assert!(postfix["tls"]["days_left"].as_i64().unwrap() > 0);
    let before: Vec<&str> = postfix["capabilities"]["before_tls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(before.contains(&"STARTTLS"), "{before:?}");
    // smtpd_tls_auth_only: AUTH only inside TLS.
    assert_eq!(postfix["auth"]["before_tls"], serde_json::json!([]));
    assert!(
        postfix["auth"]["after_tls"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PLAIN"))
    );
    for stage in ["connect", "banner", "ehlo", "starttls", "tls", "ehlo_tls"] {
        assert!(
            postfix["ms"][stage].as_f64().is_some(),
            "{stage}: {postfix}"
        );
    }
    let sink_record = found.iter().find(|r| r["target"] == sink.as_str()).unwrap();
    assert_eq!(sink_record["error"]["class"], "policy");

    // The same Postfix's implicit-TLS port, with --tls.
    let file = list(&[format!("{smtps},{host}")]);
    let out = probe(&[
        file.path().to_str().unwrap(),
        "--json",
        "--tls",
        "--ca-file",
        &ca,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let implicit = records(&out);
    assert_eq!(implicit[0]["tls_mode"], "implicit");
    assert_eq!(implicit[0]["passed"], true, "{}", implicit[0]);

    // Without the test CA, the certificate is not trusted: a failed check.
    let file = list(&[format!("{smtp},{host}")]);
    let out = probe(&[file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("NOT trusted (self-signed"),
        "{}",
        text(&out.stdout)
    );
}
