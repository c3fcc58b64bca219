//! The interactive REPL, driven through a real pty against the fake
//! server, checked on the vt100 screen: the reference dialog (a golden
//! screen with its colours), NO_COLOR, output arriving mid-typing,
//! completion, Ctrl-C, Ctrl-D, pastes, history and hostile server text.

use std::time::Duration;

use vt100::Color;

use crate::support::fake_server::{FakeServer, Step, expect, hold, send};
use crate::support::pty::{self, Pty, find_row, row_text, rows};

const GREEN: Color = Color::Idx(2);
const CYAN: Color = Color::Idx(6);
const YELLOW: Color = Color::Idx(3);

fn start(server: &FakeServer, env: &[(&str, &str)]) -> (Pty, String) {
    let port = server.port();
    let pty = pty::spawn(&["127.0.0.1", &port], env);
    (pty, format!("127.0.0.1:{port}> "))
}

/// Types a line at the prompt and waits for `reply` to show.
fn dialog(pty: &mut Pty, prompt: &str, line: &str, reply: &str) {
    pty.wait_prompt(prompt);
    pty.send(&format!("{line}\r"));
    pty.wait_text(reply);
}

fn reference_server() -> FakeServer {
    FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP Postfix (Debian/GNU)"),
        expect("helo pc0815.example.com"),
        send("250 mailserver.example.com"),
        expect("mail from:absender@example.org"),
        send("250 2.1.0 Ok"),
        expect("rcpt to:empfaenger@example.org"),
        send("250 2.1.5 Ok"),
        expect("data"),
        send("354 End data with <CR><LF>.<CR><LF>"),
        expect("Dies ist eine Testmail."),
        expect("."),
        send("250 2.0.0 Ok: queued as 708D72C80BE"),
        expect("quit"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ])
}

/// Types the reference dialog of DESIGN.md verbatim.
fn type_reference_dialog(pty: &mut Pty, prompt: &str) {
    dialog(pty, prompt, "helo pc0815.example.com", "<< 250 mailserver");
    dialog(
        pty,
        prompt,
        "mail from:absender@example.org",
        "<< 250 2.1.0 Ok",
    );
    dialog(
        pty,
        prompt,
        "rcpt to:empfaenger@example.org",
        "<< 250 2.1.5 Ok",
    );
    dialog(pty, prompt, "data", "<< 354 End data");
    let data_prompt = format!("{} DATA 0> ", prompt.trim_end_matches("> "));
    dialog(pty, &data_prompt, "Dies ist eine Testmail.", ">> Dies ist");
    let data_prompt = format!("{} DATA 1> ", prompt.trim_end_matches("> "));
    dialog(
        pty,
        &data_prompt,
        ".",
        "<< 250 2.0.0 Ok: queued as 708D72C80BE",
    );
    pty.wait_prompt(prompt);
    pty.send("quit\r");
    pty.leave_after_quit();
}

/// Numbers that change from run to run (ports, milliseconds) as `N`.
fn normalise(row: &str) -> String {
    if !(row.starts_with("# connected")
        || row.starts_with("# banner")
        || row.starts_with("127.0.0.1:"))
    {
        return row.to_string();
    }
    let mut out = String::new();
    let mut in_number = false;
    for c in row.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

#[test]
fn reference_dialog_golden_screen_with_colours() {
    let server = reference_server();
    let (mut pty, prompt) = start(&server, &[]);
    type_reference_dialog(&mut pty, &prompt);
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();

    let screen: Vec<String> = pty.with_screen(rows).iter().map(|r| normalise(r)).collect();
    let golden = include_str!("golden/repl-reference.screen");
    let want: Vec<&str> = golden.lines().collect();
    assert_eq!(screen, want, "\n{}", screen.join("\n"));

    pty.with_screen(|s| {
        let fg = |text: &str| {
            let row = find_row(s, text).unwrap_or_else(|| panic!("{text} not on screen"));
            s.cell(row, 0).unwrap().fgcolor()
        };
        // Replies by class; what was sent in bold; notes dimmed.
        assert_eq!(fg("<< 220 mailserver"), GREEN);
        assert_eq!(fg("<< 250 2.1.5 Ok"), GREEN);
        assert_eq!(fg("<< 354 End data"), CYAN);
        assert_eq!(fg("<< 221 2.0.0 Bye"), GREEN);
        let sent = find_row(s, ">> helo").unwrap();
        assert!(s.cell(sent, 3).unwrap().bold());
        let note = find_row(s, "# RFC 5321 wants").unwrap();
        assert!(s.cell(note, 2).unwrap().dim());
        assert_eq!(s.cell(note, 2).unwrap().fgcolor(), Color::Default);
        // The end of a coloured row does not bleed into the next one.
        let last = find_row(s, "<< 221").unwrap();
        assert_eq!(s.cell(last + 1, 0).unwrap().fgcolor(), Color::Default);
    });
}

#[test]
fn no_color_means_no_colour_anywhere() {
    let server = reference_server();
    let (mut pty, prompt) = start(&server, &[("NO_COLOR", "1")]);
    type_reference_dialog(&mut pty, &prompt);
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
    pty.with_screen(|s| {
        for row in 0..pty::ROWS {
            for col in 0..pty::COLS {
                let cell = s.cell(row, col).unwrap();
                assert!(
                    cell.fgcolor() == Color::Default && !cell.bold() && !cell.dim(),
                    "styled cell at {row},{col}: {:?}",
                    row_text(s, row)
                );
            }
        }
    });
}

#[test]
fn a_421_arriving_mid_typing_leaves_the_typed_text_alone() {
    let (held, go) = hold();
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("EHLO client.example.org"),
        send("250 mailserver.example.com"),
        held,
        send("421 4.4.2 mailserver.example.com Error: timeout exceeded"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    dialog(
        &mut pty,
        &prompt,
        "EHLO client.example.org",
        "<< 250 mailserver",
    );
    pty.wait_prompt(&prompt);
    pty.send("MAIL FROM:<typed@exam");
    pty.wait_prompt(&format!("{prompt}MAIL FROM:<typed@exam"));
    go.send(()).unwrap();
    pty.wait_text("# Connection closed by foreign host.");
    // The reply above, the half-typed line redrawn below, still editable.
    pty.wait_prompt(&format!("{prompt}MAIL FROM:<typed@exam"));
    pty.send("ple.org>");
    pty.wait_prompt(&format!("{prompt}MAIL FROM:<typed@example.org>"));
    let text = pty.text();
    assert_eq!(text.matches("<< 421 4.4.2").count(), 1, "{text}");
    assert_eq!(
        text.matches("Connection closed by foreign host.").count(),
        1,
        "{text}"
    );
    pty.with_screen(|s| {
        let row = find_row(s, "<< 421").unwrap();
        assert_eq!(s.cell(row, 0).unwrap().fgcolor(), YELLOW);
    });
    // The line typed is not lost in silence, nor sent: the session stays,
    // closed, and says what to do.
    pty.send("\r");
    pty.wait_text(
        "# not sent: the connection is closed; :reconnect opens a new one (:quit or Ctrl-D leaves)",
    );
    pty.wait_prompt(&format!("{} closed> ", prompt.trim_end_matches("> ")));
    pty.send("\x04");
    assert_eq!(pty.exit_code(), 0);
    server.finish();
}

#[test]
fn tab_completes_an_advertised_extension_and_hints_are_grey() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("EHLO client.example.org"),
        send("250-mailserver.example.com\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 DSN"),
        expect("MAIL FROM:<a@example.org> BODY=8BITMIME"),
        send("250 2.1.0 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    dialog(&mut pty, &prompt, "EHLO client.example.org", "<< 250 DSN");
    pty.wait_prompt(&prompt);
    // After the address, the parameters this server advertised, greyed.
    pty.send("MAIL FROM:<a@example.org> ");
    pty.wait("the parameters hint", |s| {
        row_text(s, s.cursor_position().0)
            .ends_with("MAIL FROM:<a@example.org> [SIZE= BODY=8BITMIME RET=FULL|HDRS ENVID=]")
    });
    pty.with_screen(|s| {
        let (row, col) = s.cursor_position();
        assert!(s.cell(row, col + 1).unwrap().dim(), "the hint is dim");
    });
    pty.send("BO\t");
    pty.wait_prompt(&format!("{prompt}MAIL FROM:<a@example.org> BODY=8BITMIME"));
    pty.send("\r");
    pty.wait_text("<< 250 2.1.0 Ok");
    pty.wait_prompt(&prompt);
    // The expected argument, greyed, after a verb.
    pty.send("RCPT");
    pty.wait("the RCPT hint", |s| {
        row_text(s, s.cursor_position().0).ends_with("RCPT TO:<recipient> [params]")
    });
    pty.with_screen(|s| {
        let (row, col) = s.cursor_position();
        assert!(s.cell(row, col + 1).unwrap().dim(), "the hint is dim");
        assert!(!s.cell(row, col - 1).unwrap().dim(), "typed text is not");
    });
    // Ctrl-U clears it; the hint is never sent.
    pty.send("\x15QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}

#[test]
fn ctrl_c_clears_the_line_and_stops_waiting_without_ending_the_session() {
    let (held, go) = hold();
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("NOOP"),
        held,
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    pty.wait_prompt(&prompt);
    // At the prompt: the line is thrown away, nothing is sent.
    pty.send("MAIL FROM:<never@example.org>");
    pty.wait_prompt(&format!("{prompt}MAIL FROM:<never@example.org>"));
    pty.send("\x03");
    pty.wait_prompt(&prompt);
    // While a reply is awaited, a status line says what for and how long,
    // and how to stop; Ctrl-C stops waiting, the session stays.
    pty.send("NOOP\r");
    pty.wait_text(">> NOOP");
    pty.wait_text("# waiting 1 s for the reply to NOOP · Ctrl-C stops waiting");
    pty.wait_text("# waiting 2 s for the reply to NOOP · Ctrl-C stops waiting");
    pty.send("\x03");
    pty.wait_text("stopped waiting (Ctrl-C)");
    pty.wait_prompt(&prompt);
    // The status line was replaced, not left behind.
    assert!(!pty.text().contains("# waiting"), "{}", pty.text());
    // The reply that comes after all is the late reply to NOOP.
    go.send(()).unwrap();
    pty.wait_text("<< 250 2.0.0 Ok");
    pty.wait_text("late reply to NOOP (waiting had been stopped with Ctrl-C)");
    assert!(!pty.text().contains("unasked"), "{}", pty.text());
    pty.wait_prompt(&prompt);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
    assert!(!pty.text().contains(">> MAIL"), "{}", pty.text());
}

#[test]
fn ctrl_d_ends_a_message_then_sends_quit_and_exits_0() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("DATA"),
        send("354 go ahead"),
        expect("Hello"),
        expect("."),
        send("250 2.0.0 Ok: queued as 1234"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    dialog(&mut pty, &prompt, "DATA", "<< 354 go ahead");
    let data = format!("{} DATA 0> ", prompt.trim_end_matches("> "));
    dialog(&mut pty, &data, "Hello", ">> Hello");
    pty.wait_prompt(&format!("{} DATA 1> ", prompt.trim_end_matches("> ")));
    pty.send("\x04");
    pty.wait_text("<< 250 2.0.0 Ok: queued as 1234");
    pty.wait_prompt(&prompt);
    pty.send("\x04");
    pty.wait_text("<< 221 2.0.0 Bye");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}

#[test]
fn a_pasted_message_behind_a_refused_data_is_dropped_not_sent() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("DATA"),
        send("554 5.5.1 Error: no valid recipients"),
        // Not "RSET", "Subject: …" or ".": straight to QUIT.
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    pty.wait_prompt(&prompt);
    // A bracketed paste, as terminals send it, then Enter.
    pty.send("\x1b[200~MAIL FROM:<a@example.org>\rDATA\rSubject: hi\rRSET\r.\rQUIT\r\x1b[201~");
    pty.wait_text("QUIT");
    pty.send("\r");
    pty.wait_text("5 more lines queued");
    pty.wait_text("2 message lines dropped, not sent");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}

#[test]
fn lines_typed_ahead_while_waiting_go_out_after_the_reply() {
    let (held, go) = hold();
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("NOOP"),
        held,
        Step::Silence(Duration::from_millis(100)),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    dialog(&mut pty, &prompt, "NOOP", ">> NOOP");
    // No prompt is up: this waits in the terminal, unechoed.
    pty.send("QUIT\r");
    go.send(()).unwrap();
    pty.wait_text("<< 221 2.0.0 Bye");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
    let text = pty.text();
    let ok = text.find("<< 250 2.0.0 Ok").unwrap();
    assert!(text[ok..].contains(">> QUIT"), "{text}");
    assert_eq!(text.matches("QUIT").count(), 1, "{text}");
}

#[test]
fn history_after_auth_has_no_payload_and_no_password() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("EHLO client.example.org"),
        send("250-mailserver.example.com\r\n250 AUTH PLAIN LOGIN"),
        expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        send("535 5.7.8 Error: authentication failed"),
        expect("AUTH LOGIN"),
        send("334 VXNlcm5hbWU6"),
        expect("YWxpY2U="),
        send("334 UGFzc3dvcmQ6"),
        expect("c2VjcmV0"),
        send("235 2.7.0 Authentication successful"),
        expect(" NOOP private"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    dialog(
        &mut pty,
        &prompt,
        "EHLO client.example.org",
        "<< 250 AUTH PLAIN LOGIN",
    );
    dialog(
        &mut pty,
        &prompt,
        "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        "<< 535",
    );
    dialog(&mut pty, &prompt, "AUTH LOGIN", "challenge: \"Username:\"");
    let secret = format!("{} secret> ", prompt.trim_end_matches("> "));
    pty.wait_prompt(&secret);
    pty.send("YWxpY2U=");
    // Masked as it is typed.
    pty.wait_prompt(&format!("{secret}********"));
    pty.send("\r");
    pty.wait_text("challenge: \"Password:\"");
    dialog(&mut pty, &secret, "c2VjcmV0", "<< 235 2.7.0");
    let authenticated = format!("{} auth> ", prompt.trim_end_matches("> "));
    dialog(&mut pty, &authenticated, " NOOP private", "<< 250 2.0.0 Ok");
    pty.wait_prompt(&authenticated);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();

    // Neither the screen nor anything written to the terminal ever held a
    // credential, in base64 or decoded.
    let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
    for secret in ["AGFsaWNl", "YWxpY2U=", "c2VjcmV0", "alice"] {
        assert!(!raw.contains(secret), "{secret:?} reached the terminal");
    }
    let history = std::fs::read_to_string(pty.history_file()).expect("a history file");
    for kept in ["EHLO client.example.org", "AUTH LOGIN", "QUIT"] {
        assert!(
            history.lines().any(|l| l == kept),
            "{kept:?} missing:\n{history}"
        );
    }
    for never in [
        "AGFsaWNl",
        "YWxpY2U=",
        "c2VjcmV0",
        "alice",
        "secret",
        "private",
        "AUTH PLAIN",
    ] {
        assert!(
            !history.contains(never),
            "{never:?} in the history:\n{history}"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(pty.history_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn hostile_server_text_is_shown_escaped_and_the_terminal_is_untouched() {
    let server = FakeServer::start(vec![
        Step::Send(b"220-\x1b]0;pwned\x07 mailserver\r\n220 \x1b[2J ready\r\n".to_vec()),
        expect("NOOP"),
        Step::Send(b"250-\x1b]52;c;ZXZpbA==\x07\r\n250 \x1b[H\x1b[31mred \x9b2J\r\n".to_vec()),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    dialog(&mut pty, &prompt, "NOOP", "red");
    pty.wait_prompt(&prompt);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
    let text = pty.text();
    for shown in [
        "<< 220-\\e]0;pwned\\x07 mailserver",
        "<< 220 \\e[2J ready",
        "<< 250-\\e]52;c;ZXZpbA==\\x07",
        "<< 250 \\e[H\\e[31mred \\x9b2J",
    ] {
        assert!(text.contains(shown), "{shown:?} missing:\n{text}");
    }
    // Nothing cleared the screen or moved the output: the first line is
    // still the first line.
    assert!(text.starts_with(" 0|# connected to 127.0.0.1"), "{text}");
    assert_eq!(pty.requests(), (0, 0), "a title or clipboard was set");
    pty.with_screen(|s| {
        let row = find_row(s, "red").unwrap();
        assert_eq!(
            s.cell(row, 0).unwrap().fgcolor(),
            GREEN,
            "the 250 stays green"
        );
    });
}

#[test]
fn reconnect_after_a_close_and_from_an_open_session_and_no_history_file() {
    let server = FakeServer::start_each(vec![
        vec![
            send("220 first ESMTP"),
            expect("EHLO client.example.org"),
            send("250 first"),
            Step::Close,
        ],
        vec![
            send("220 second ESMTP"),
            expect("QUIT"),
            send("221 2.0.0 Bye"),
            Step::Close,
        ],
        vec![
            send("220 third ESMTP"),
            expect("QUIT"),
            send("221 2.0.0 Bye"),
            Step::Close,
        ],
    ]);
    let port = server.port();
    let mut pty = pty::spawn(&["--no-history", "127.0.0.1", &port], &[]);
    let prompt = format!("127.0.0.1:{port}> ");
    dialog(&mut pty, &prompt, "EHLO client.example.org", "<< 250 first");
    pty.wait_text("# Connection closed by foreign host.");
    pty.wait_text("# the connection is closed: :reconnect opens a new one; :quit or Ctrl-D leaves");
    pty.wait_prompt(&prompt);
    pty.send(":reconnect\r");
    pty.wait_text("<< 220 second ESMTP");
    dialog(&mut pty, &prompt, ":reconnect", "<< 220 third ESMTP");
    pty.wait_prompt(&prompt);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
    let text = pty.text();
    assert_eq!(
        text.matches("Connection closed by foreign host.").count(),
        3,
        "{text}"
    );
    assert!(
        !pty.history_file().exists(),
        "--no-history wrote a history file"
    );
}

/// `--starttls` against Postfix at a terminal, and the same through a
/// profile's `tls = "starttls"`: the TLS report comes before the first
/// prompt, the prompt says `tls` (`tls?` while the certificate is not
/// trusted, with the next step named), and `:tls` repeats the report.
fn postfix_starttls_at_the_prompt(args: &[&str], env: &[(&str, &str)], prompt: &str) {
    let mut pty = pty::spawn(args, env);
    pty.wait_prompt(prompt);
    // The report is longer than the screen: what was written.
    let before = pty.written();
    assert!(before.contains("~> EHLO"), "{before}");
    assert!(before.contains("# TLS: TLSv1."), "{before}");
    pty.send(":tls\r");
    pty.wait(":tls repeats the report", |screen| {
        let rows = rows(screen);
        rows.iter()
            .position(|row| row.ends_with("> :tls"))
            .is_some_and(|at| rows[at..].iter().any(|r| r.starts_with("# TLS: TLSv1.")))
    });
    pty.wait_prompt(prompt);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_starttls_flag_at_the_prompt() {
    let (host, port) = crate::support::need_server("SMTPCLI_IT_SMTP");
    // Postfix's test certificate is self-signed: encrypted, not trusted.
    postfix_starttls_at_the_prompt(
        &["--starttls", "--ehlo", "pc0815.example.com", &host, &port],
        &[],
        &format!("{host}:{port} tls?> "),
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn an_untrusted_certificate_shows_in_the_prompt_and_names_the_next_step() {
    let (host, port) = crate::support::need_server("SMTPCLI_IT_SMTP");
    let mut pty = pty::spawn(&["--starttls", &host, &port], &[]);
    pty.wait_prompt(&format!("{host}:{port} tls?> "));
    let text = pty.text();
    assert!(
        text.contains("# warning: certificate: NOT TRUSTED"),
        "{text}"
    );
    assert!(
        text.contains(
            "# next: --ca-file FILE trusts a private CA's certificates; --verify refuses"
        ),
        "{text}"
    );
    pty.send("\x04");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_profile_with_starttls_at_the_prompt() {
    let (host, port) = crate::support::need_server("SMTPCLI_IT_SMTP");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.mx]\nhost = \"{host}\"\nport = {port}\ntls = \"starttls\"\nehlo = \"pc0815.example.com\"\nca_file = \"{}\"\n",
            crate::support::need("SMTPCLI_IT_CA")
        ),
    )
    .unwrap();
    postfix_starttls_at_the_prompt(
        &["@mx"],
        &[("SMTPCLI_CONFIG", config.to_str().unwrap())],
        &format!("{host}:{port} tls> "),
    );
}

/// Over cleartext, `:auth` says why on a transcript line (wrapped at word
/// boundaries), then asks a short question on a line of its own; the
/// password prompt too starts its own line.
#[test]
fn the_plaintext_question_and_the_password_prompt_are_lines_of_their_own() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        send("235 2.7.0 Authentication successful"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    pty.wait_prompt(&prompt);
    pty.send(":auth plain alice\r");
    pty.wait_prompt("Send them anyway? [y/N] ");
    pty.with_screen(|s| {
        let rows = pty::rows(s);
        let at = rows.iter().position(|r| r.starts_with("Send them anyway?")).unwrap();
        // The reason, above it, reads whole once its wrapping is undone.
        let reason: Vec<&str> = rows[..at]
            .iter()
            .rev()
            .take_while(|r| r.starts_with("# "))
            .map(|r| r.trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert_eq!(
            reason.join(" "),
            "warning: this would send the credentials over a cleartext connection: anyone on the path can read them",
            "{rows:#?}"
        );
    });
    pty.send("y\r");
    pty.wait_prompt("password for alice: ");
    pty.wait_echo_off();
    pty.send("secret\r");
    pty.wait_text("<< 235 2.7.0 Authentication successful");
    pty.wait_prompt(&format!("{} alice> ", prompt.trim_end_matches("> ")));
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}

/// `:auth plain` without a user (and no `--user`) asks for one, then for
/// the password.
#[test]
fn auth_without_a_user_asks_for_one() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        send("235 2.7.0 Authentication successful"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let port = server.port();
    let mut pty = pty::spawn(&["--insecure", "127.0.0.1", &port], &[]);
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    pty.send(":auth plain\r");
    pty.wait_prompt("user for AUTH PLAIN: ");
    pty.send("alice\r");
    pty.wait_prompt("password for alice: ");
    pty.wait_echo_off();
    pty.send("secret\r");
    pty.wait_text("<< 235 2.7.0 Authentication successful");
    pty.wait_prompt(&format!("127.0.0.1:{port} alice> "));
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}

/// A line typed while a reply is awaited is shown, dimmed, as queued, and
/// goes out after the reply; a line that may answer a 334 is only counted.
#[test]
fn type_ahead_is_shown_as_queued_while_waiting() {
    let (held, go) = hold();
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("NOOP"),
        held,
        send("250 2.0.0 Ok"),
        expect("RSET"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    pty.wait_prompt(&prompt);
    pty.send("NOOP\r");
    pty.wait_text(">> NOOP");
    pty.send("RSET\r");
    pty.wait_text("# queued: RSET");
    pty.with_screen(|s| {
        let row = find_row(s, "# queued: RSET").unwrap();
        assert!(s.cell(row, 2).unwrap().dim(), "not dimmed");
    });
    go.send(()).unwrap();
    pty.wait_text(">> RSET");
    pty.wait_prompt(&prompt);
    let text = pty.text();
    let reply = text.find("<< 250 2.0.0 Ok").unwrap();
    assert!(reply < text.find(">> RSET").unwrap(), "{text}");
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}

/// Issue #20: a mistyped meta-command gets a suggestion; `:help NAME`
/// wraps its summary at the window's width without cutting a word; `:help`
/// is one entry per command (usage, then the summary indented under it),
/// every row of it within the window, and without `:demo` outside the demo.
#[test]
fn a_typo_gets_a_suggestion_and_help_fits_the_window() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (mut pty, prompt) = start(&server, &[]);
    pty.wait_prompt(&prompt);
    pty.send(":sned --to a@b\r");
    pty.wait_text("# unknown meta-command :sned; did you mean :send?");

    pty.wait_prompt(&prompt);
    pty.send(":help auth\r");
    pty.wait_text("#     works anywhere");
    let auth: Vec<String> = pty.with_screen(|s| {
        let first = find_row(s, "# :auth").expect(":help auth on screen");
        (first..first + 6).map(|r| row_text(s, r)).collect()
    });
    assert_eq!(
        auth,
        [
            "# :auth MECH [USER]",
            "#     authenticate with PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, SCRAM-SHA-1, XOAUTH2 or OAUTHBEARER;",
            "#     the user (without --user) and the password are asked for, the password never shown; tokens",
            "#     from --token-cmd or SMTPCLI_TOKEN",
            "#     example: :auth plain alice",
            "#     works anywhere: at the prompt, in a script, piped",
        ]
    );

    pty.wait_prompt(&prompt);
    pty.send(":help\r");
    pty.wait_text("# :help NAME gives the detail");
    pty.wait_prompt(&prompt);
    // All of it, as a window tall enough to hold it shows it (the pty's
    // own is 30 rows); the program saw 100 columns, as before.
    const TALL: u16 = 400;
    let mut tall = vt100::Parser::new(TALL.try_into().unwrap(), pty::COLS.try_into().unwrap(), 0);
    tall.process(&pty.raw());
    let all: Vec<String> = (0..TALL).map(|r| row_text(tall.screen(), r)).collect();
    let start = all
        .iter()
        .position(|r| r.ends_with("> :help"))
        .expect("the :help line");
    let end = all
        .iter()
        .position(|r| r.starts_with("# :help NAME gives the detail"))
        .expect("the last line of :help");
    let help = &all[start + 1..=end];
    let shown = help.join("\n");
    // Every row is an entry's usage, its summary (indented further than a
    // wrapped transcript line's `#   `), or the two closing lines: nothing
    // wrapped again by the transcript or by the terminal.
    for row in help {
        assert!(
            row.starts_with("# :") || row.starts_with("#     ") || row.starts_with("# Any other"),
            "{row:?} in\n{shown}"
        );
    }
    for name in ["help", "expect", "send", "auth", "reconnect", "quit"] {
        assert!(
            help.iter().any(|r| r.starts_with(&format!("# :{name}"))),
            ":{name} in\n{shown}"
        );
    }
    let quit = help.iter().position(|r| r == "# :quit").expect(":quit");
    assert_eq!(help[quit + 1], "#     send QUIT and end the session");
    assert!(!shown.contains("# :demo"), "{shown}");
    assert!(!shown.contains("interactive only"), "{shown}");

    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
}
