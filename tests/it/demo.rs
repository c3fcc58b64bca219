//! `smtpcli --demo` at the interactive prompt, in a real pty: the tour a
//! newcomer takes (EHLO, STARTTLS trusted, AUTH with the printed
//! credentials, :send, :demo inbox).

use crate::support::pty::{self, Pty};

/// `smtpcli --demo ARGS` in a pty, once the tour is shown; and the port of
/// the embedded server.
fn demo(args: &[&str]) -> (Pty, String) {
    let args: Vec<&str> = std::iter::once("--demo")
        .chain(args.iter().copied())
        .collect();
    let pty = pty::spawn(&args, &[]);
    pty.wait_text("credentials: user demo, password demo-");
    let port = pty
        .text()
        .split("inside this process on 127.0.0.1:")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("the demo's address")
        .to_string();
    (pty, port)
}

#[test]
fn the_demo_tour_in_a_terminal() {
    let (mut pty, port) = demo(&["--ehlo", "pc0815.example.com"]);
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    pty.send("EHLO demo.example.org\r");
    pty.wait_text("250-demo.smtpcli.invalid Hello demo.example.org [127.0.0.1]");
    pty.wait_text("250 STARTTLS");
    pty.wait_prompt(&prompt);
    pty.send(":starttls\r");
    pty.wait_text("capabilities after TLS: + REQUIRETLS  + AUTH PLAIN LOGIN");
    assert!(
        pty.text().contains("# certificate: trusted"),
        "{}",
        pty.text()
    );
    let tls = format!("127.0.0.1:{port} tls> ");
    pty.wait_prompt(&tls);
    // The password is asked, with the demo's offered: Enter takes it.
    // Nothing is confirmed: the connection is TLS with a trusted certificate.
    pty.send(":auth plain demo\r");
    pty.wait_text("password for demo (Enter for demo-");
    pty.wait_echo_off();
    pty.send("\r");
    pty.wait_text("235 2.7.0 Authentication successful");
    let authenticated = format!("127.0.0.1:{port} tls demo> ");
    pty.wait_prompt(&authenticated);
    pty.send(":send --to friend@example.org --subject Hello\r");
    pty.wait_text("queued as demo-1");
    pty.wait_prompt(&authenticated);
    pty.send(":demo inbox\r");
    pty.wait_text("friend@example.org");
    pty.wait_text("Hello");
    pty.wait_prompt(&authenticated);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

/// `--starttls` at a terminal: EHLO, STARTTLS, the handshake and its report
/// come before the first prompt, the prompt says `tls`, and `:tls` repeats
/// the report. (The regression: only the script driver read the flag, so
/// the prompt stayed in plaintext.)
#[test]
fn starttls_at_the_prompt_shows_the_report_before_the_first_prompt() {
    let (mut pty, port) = demo(&["--starttls", "--ehlo", "pc0815.example.com"]);
    let tls = format!("127.0.0.1:{port} tls> ");
    pty.wait_prompt(&tls);
    // The report is longer than the screen: what was written.
    let before = pty.written();
    assert_eq!(
        before.matches("# certificate: trusted").count(),
        1,
        "{before}"
    );
    assert!(before.contains("capabilities after TLS"), "{before}");
    pty.send(":tls\r");
    pty.wait(":tls repeats the report", |screen| {
        let rows = pty::rows(screen);
        rows.iter()
            .position(|row| row.ends_with("tls> :tls"))
            .is_some_and(|at| rows[at..].iter().any(|r| r == "# certificate: trusted"))
    });
    pty.wait_prompt(&tls);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}
