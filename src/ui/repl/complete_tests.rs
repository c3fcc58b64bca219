//! Completion, hints and masking, table-driven.

use super::*;

const POSTFIX_EHLO: &[&str] = &[
    "mailserver.example.com",
    "PIPELINING",
    "SIZE 10240000",
    "VRFY",
    "ETRN",
    "STARTTLS",
    "AUTH PLAIN LOGIN",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "DSN",
    "SMTPUTF8",
    "CHUNKING",
];

fn status() -> Status {
    Status {
        host: "mailserver.example.com".into(),
        port: 25,
        tls: false,
        tls_trusted: false,
        authenticated: None,
        phase: Phase::Command,
        message_lines: 0,
        greeted: true,
        in_transaction: false,
        secret_next: false,
    }
}

fn helper(status: Status) -> ReplHelper {
    let mut helper = ReplHelper::new(true);
    helper.set_situation(Situation {
        status: Some(status),
        capabilities: Some(Capabilities::from_lines(POSTFIX_EHLO.iter().copied())),
        demo: false,
    });
    helper.remember_address("absender@example.org".into());
    helper.remember_address("empfaenger@example.org".into());
    helper
}

fn complete(helper: &ReplHelper, before: &str) -> (usize, Vec<String>) {
    let (start, pairs) = helper.candidates(before);
    (start, pairs.into_iter().map(|p| p.replacement).collect())
}

#[test]
fn verbs_follow_the_state() {
    let mut s = status();
    s.greeted = false;
    let (_, before_ehlo) = complete(&helper(s), "");
    assert!(
        before_ehlo.contains(&"EHLO ".to_string()),
        "{before_ehlo:?}"
    );
    assert!(!before_ehlo.contains(&"MAIL FROM:<".to_string()));

    let (_, greeted) = complete(&helper(status()), "");
    for verb in ["MAIL FROM:<", "STARTTLS", "AUTH ", "QUIT"] {
        assert!(greeted.contains(&verb.to_string()), "{verb}: {greeted:?}");
    }
    assert!(!greeted.contains(&"RCPT TO:<".to_string()));

    let mut s = status();
    s.in_transaction = true;
    s.tls = true;
    let (_, in_mail) = complete(&helper(s), "");
    assert!(in_mail.contains(&"RCPT TO:<".to_string()), "{in_mail:?}");
    assert!(in_mail.contains(&"BDAT ".to_string()), "{in_mail:?}");
    assert!(!in_mail.contains(&"MAIL FROM:<".to_string()));
    assert!(!in_mail.contains(&"STARTTLS".to_string()));
}

#[test]
fn completion_table() {
    let h = helper(status());
    let table: &[(&str, usize, &[&str])] = &[
        ("ma", 0, &["mail from:<"]),
        ("MA", 0, &["MAIL FROM:<"]),
        ("st", 0, &["starttls"]),
        ("mail ", 5, &["from:<"]),
        ("MAIL F", 5, &["FROM:<"]),
        ("mail from:<ab", 10, &["<absender@example.org>"]),
        (
            "rcpt to:",
            8,
            &["<empfaenger@example.org>", "<absender@example.org>"],
        ),
        ("MAIL FROM:<a@b> SI", 16, &["SIZE="]),
        ("MAIL FROM:<a@b> BO", 16, &["BODY=8BITMIME"]),
        ("MAIL FROM:<a@b> SMTP", 16, &["SMTPUTF8"]),
        ("MAIL FROM:<a@b> RET", 16, &["RET=FULL", "RET=HDRS"]),
        ("MAIL FROM:<a@b> SIZE=10 S", 24, &["SMTPUTF8"]),
        ("RCPT TO:<a@b> N", 14, &["NOTIFY="]),
        ("RCPT TO:<a@b> NOTIFY=SUCCESS,F", 29, &["FAILURE"]),
        ("RCPT TO:<a@b> o", 14, &["ORCPT=rfc822;"]),
        ("auth ", 5, &["PLAIN", "LOGIN"]),
        ("AUTH P", 5, &["PLAIN"]),
        ("AUTH PLAIN x", 11, &[]),
        (":ti", 0, &[":timing "]),
        (":c", 0, &[":caps"]),
        (":hex o", 5, &["on", "off"]),
        (":help rec", 6, &["reconnect"]),
        ("::", 0, &[]),
    ];
    for (before, start, want) in table {
        let (got_start, got) = complete(&h, before);
        let want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
        assert_eq!((got_start, &got), (*start, &want), "{before:?}");
    }
}

#[test]
fn a_closed_connection_offers_only_meta_commands() {
    let mut s = status();
    s.phase = Phase::Closed;
    let h = helper(s);
    assert!(complete(&h, "").1.is_empty());
    assert_eq!(complete(&h, ":rec").1, [":reconnect"]);
}

#[test]
fn nothing_advertised_nothing_offered() {
    let mut h = ReplHelper::new(true);
    h.set_situation(Situation {
        status: Some(status()),
        capabilities: None,
        demo: false,
    });
    assert!(complete(&h, "MAIL FROM:<a@b> ").1.is_empty());
    assert!(complete(&h, "AUTH ").1.is_empty());
}

#[test]
fn secrets_and_message_text_get_no_help_and_secrets_are_masked() {
    let mut s = status();
    s.secret_next = true;
    let h = helper(s);
    assert!(complete(&h, "").1.is_empty());
    assert_eq!(h.hint_for("MAIL"), None);
    assert_eq!(h.highlight("hunter2", 7), "*******");
    assert_eq!(h.highlight("€ü漢", 3), "****");
    assert!(h.highlight_char("x", 1, CmdKind::Other));

    let mut s = status();
    s.phase = Phase::Data;
    let h = helper(s);
    assert!(complete(&h, "ma").1.is_empty());
    assert_eq!(h.highlight("Subject: x", 0), "Subject: x");
    assert!(!h.highlight_char("x", 1, CmdKind::Other));
}

#[test]
fn auth_initial_responses_are_masked_as_typed() {
    let h = helper(status());
    let table = [
        ("AUTH PLAIN AGFsaWNl", "AUTH PLAIN ********"),
        ("auth  plain  AGF", "auth  plain  ***"),
        ("AUTH PLAIN ", "AUTH PLAIN "),
        ("AUTH LOGIN", "AUTH LOGIN"),
        ("MAIL FROM:<a@b>", "MAIL FROM:<a@b>"),
    ];
    for (line, shown) in table {
        assert_eq!(h.highlight(line, line.len()), shown, "{line:?}");
    }
    assert!(h.highlight_char("AUTH P", 6, CmdKind::Other));
    assert!(!h.highlight_char("MAIL", 4, CmdKind::Other));
}

#[test]
fn hints_show_the_expected_argument() {
    let h = helper(status());
    let table = [
        ("MAIL", Some(" FROM:<sender> [params]")),
        ("mail from:", Some("<sender> [params]")),
        ("rcpt to:<", Some("recipient> [params]")),
        ("MAIL FROM:<a@b>", None),
        (
            "MAIL FROM:<a@b> ",
            Some("[SIZE= BODY=8BITMIME SMTPUTF8 RET=FULL|HDRS ENVID=]"),
        ),
        (
            "mail from:<a@b> SIZE=10 ret=hdrs ",
            Some("[BODY=8BITMIME SMTPUTF8 ENVID=]"),
        ),
        ("RCPT TO:<c@d> ", Some("[NOTIFY= ORCPT=rfc822;]")),
        ("RCPT TO:<c@d> NOTIFY=NEVER ORCPT=rfc822;c@d ", None),
        ("RCPT TO:<c@d", None),
        ("MA", None),
        (":timing", Some(" on|off")),
        (":hex ", Some("on|off")),
        (":caps", None),
        (":tim", None),
    ];
    for (line, want) in table {
        assert_eq!(h.hint_for(line).as_deref(), want, "{line:?}");
    }
    let mut no_colour = helper(status());
    no_colour.color = false;
    assert_eq!(no_colour.hint_for("MAIL"), None);
}

#[test]
fn addresses_are_most_recent_first_without_duplicates() {
    let mut h = helper(status());
    h.remember_address("absender@example.org".into());
    let (_, got) = complete(&h, "mail from:");
    assert_eq!(got, ["<absender@example.org>", "<empfaenger@example.org>"]);
}

#[test]
fn meta_arguments_complete_by_their_kind() {
    let h = helper(status());
    // Mechanisms: those the server advertised (PLAIN LOGIN), as typed.
    assert_eq!(
        complete(&h, ":auth "),
        (6, vec!["plain".into(), "login".into()])
    );
    assert_eq!(complete(&h, ":auth l"), (6, vec!["login".into()]));
    // :send options, at any word.
    let (start, options) = complete(&h, ":send --to b@example.org --su");
    assert_eq!((start, options), (25, vec!["--subject".to_string()]));
    // Their values: files (the tests run in the crate's directory),
    // `@FILE` for a body, the words an option takes.
    let line = ":send --to b@x --attach Cargo.t";
    assert_eq!(complete(&h, line), (24, vec!["Cargo.toml".into()]));
    let line = ":send --to b@x --body @Cargo.t";
    assert_eq!(complete(&h, line), (23, vec!["Cargo.toml".into()]));
    assert_eq!(
        complete(&h, ":send --to b@x --auth "),
        (22, vec!["plain".into(), "login".into()])
    );
    let line = ":send --to b@x --body-type b";
    assert_eq!(complete(&h, line), (27, vec!["binarymime".into()]));
    assert_eq!(
        complete(&h, ":send --to b@x --ret h"),
        (21, vec!["HDRS".into()])
    );
    // After a plain --body, nothing is guessed.
    assert_eq!(
        complete(&h, ":send --to b@x --body Hel").1,
        Vec::<String>::new()
    );
    // Words from the table.
    assert_eq!(complete(&h, ":hex o"), (5, vec!["on".into(), "off".into()]));
    assert_eq!(complete(&demo(), ":demo i"), (6, vec!["inbox".into()]));
}

/// A helper as `--demo` sets it up.
fn demo() -> ReplHelper {
    let mut h = helper(status());
    h.situation.demo = true;
    h
}

#[test]
fn demo_is_offered_only_in_the_demo() {
    // (what is typed, offered outside the demo, offered in it)
    let table: &[(&str, &[&str], &[&str])] = &[
        (":d", &[":data "], &[":data ", ":demo "]),
        (":de", &[], &[":demo "]),
        (":help dem", &[], &["demo"]),
        // `:help` also offers the SMTP commands and keywords it explains.
        (":help de", &["DELIVERBY"], &["demo", "DELIVERBY"]),
        (":help mai", &["MAIL"], &["MAIL"]),
        (":demo ", &[], &["inbox", "show"]),
        (":demo i", &[], &["inbox"]),
        // The interactive ones are offered: completion runs at the prompt.
        (":rec", &[":reconnect"], &[":reconnect"]),
    ];
    for (before, outside, inside) in table {
        let (_, got) = complete(&helper(status()), before);
        assert_eq!(got, *outside, "outside the demo: {before:?}");
        let (_, got) = complete(&demo(), before);
        assert_eq!(got, *inside, "in the demo: {before:?}");
    }
    let (_, all) = complete(&helper(status()), ":");
    assert!(!all.iter().any(|c| c.starts_with(":demo")), "{all:?}");
    assert_eq!(complete(&demo(), ":").1.len(), meta::COMMANDS.len());
}

#[test]
fn file_arguments_complete_from_the_file_system() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("message.eml"), "x").unwrap();
    std::fs::write(dir.path().join("other.txt"), "x").unwrap();
    std::fs::create_dir(dir.path().join("mails")).unwrap();
    std::fs::write(dir.path().join(".hidden"), "x").unwrap();
    let base = format!("{}/", dir.path().display());
    let h = helper(status());
    for command in [":data", ":bdat", ":log", ":save"] {
        let before = format!("{command} {base}m");
        let (start, found) = complete(&h, &before);
        assert_eq!(start, command.len() + 1, "{command}");
        assert_eq!(
            found,
            [format!("{base}mails/"), format!("{base}message.eml")],
            "{command}"
        );
    }
    let (_, all) = complete(&h, &format!(":data {base}"));
    assert_eq!(all.len(), 3, "hidden files only when asked for: {all:?}");
}

#[test]
fn only_mechanism_names_are_offered_from_the_servers_auth_line() {
    let mut h = ReplHelper::new(true);
    h.set_situation(Situation {
        status: Some(status()),
        capabilities: Some(Capabilities::from_lines([
            "mx",
            "AUTH PLAIN \u{1b}]0;pwned\u{7} X-EVIL\u{202e}GNIRTS LOGIN",
        ])),
        demo: false,
    });
    let (_, offered) = complete(&h, "AUTH ");
    assert_eq!(offered, ["PLAIN", "LOGIN"]);
}

#[test]
fn xclient_attributes_complete_from_what_the_server_advertised() {
    let mut h = ReplHelper::new(true);
    h.set_situation(Situation {
        status: Some(status()),
        capabilities: Some(Capabilities::from_lines([
            "mx",
            "XCLIENT NAME ADDR PORT \u{1b}[2JEVIL HELO",
            "XFORWARD NAME ADDR IDENT",
        ])),
        demo: false,
    });
    assert_eq!(
        complete(&h, ":xclient ").1,
        ["--lax", "NAME=", "ADDR=", "PORT=", "HELO="]
    );
    assert_eq!(complete(&h, ":xclient NAME=a A").1, ["ADDR="]);
    assert_eq!(complete(&h, ":xforward I").1, ["IDENT="]);
    // Inside a value nothing is offered.
    assert!(complete(&h, ":xclient NAME=").1.is_empty());
}

#[test]
fn scram_and_oauthbearer_are_offered_when_the_server_advertises_them() {
    let mut h = ReplHelper::new(true);
    h.set_situation(Situation {
        status: Some(status()),
        capabilities: Some(Capabilities::from_lines([
            "mx",
            "AUTH SCRAM-SHA-256 SCRAM-SHA-1 OAUTHBEARER XOAUTH2",
        ])),
        demo: false,
    });
    assert_eq!(
        complete(&h, ":auth ").1,
        ["scram-sha-256", "scram-sha-1", "xoauth2", "oauthbearer"]
    );
    assert_eq!(
        complete(&h, ":auth scram").1,
        ["scram-sha-256", "scram-sha-1"]
    );
    assert_eq!(complete(&h, ":auth o").1, ["oauthbearer"]);
    assert_eq!(
        complete(&h, "AUTH ").1,
        ["SCRAM-SHA-256", "SCRAM-SHA-1", "OAUTHBEARER", "XOAUTH2"]
    );
    // The server that offers only PLAIN and LOGIN gets only those.
    let plain = helper(status());
    assert_eq!(complete(&plain, ":auth s").1, Vec::<String>::new());
}
