//! The REPL's power features in a real pty, against the demo's real SMTP
//! server (and the fake server where a reply must be slow on purpose):
//! `:watch` (stopped with Ctrl-C), `:edit` with a scripted `$EDITOR` (and
//! Ctrl-C while it runs), `:history` and `:again N`, `:set`, `:timing` in
//! the prompt, `:help VERB`, `:export`.

use std::path::{Path, PathBuf};

use crate::support::fake_server::{FakeServer, Step, expect, hold, send};
use crate::support::pty::{self, Pty, find_row, row_text};

/// `smtpcli --demo` in a pty with `env`, at its first prompt; the prompt.
fn demo(env: &[(&str, &str)]) -> (Pty, String) {
    let pty = pty::spawn(&["--demo", "--ehlo", "pc0815.example.com"], env);
    pty.wait_text("credentials: user demo, password demo-");
    let port = pty
        .text()
        .split("inside this process on 127.0.0.1:")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("the demo's port")
        .to_string();
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    (pty, prompt)
}

/// Types `line` at `prompt` and waits for `shown`.
fn type_line(pty: &mut Pty, prompt: &str, line: &str, shown: &str) {
    pty.wait_prompt(prompt);
    pty.send(&format!("{line}\r"));
    pty.wait_text(shown);
}

/// How many rows of the screen contain `text`.
fn rows_with(pty: &Pty, text: &str) -> usize {
    pty.text().lines().filter(|l| l.contains(text)).count()
}

#[test]
fn watch_repeats_a_command_one_line_a_round_until_ctrl_c() {
    let (mut pty, prompt) = demo(&[]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    pty.wait_prompt(&prompt);
    pty.send(":watch 1 NOOP\r");
    pty.wait_text("watching 'NOOP' every 1 s");
    // The first round shows the reply's text, the next ones what changed.
    pty.wait("two rounds", |s| {
        s.contents()
            .lines()
            .filter(|l| l.contains("  250 2.0.0"))
            .count()
            >= 2
    });
    assert!(pty.text().contains("no change"), "{}", pty.text());
    // Only the round lines: the NOOP's transcript is not shown.
    assert_eq!(rows_with(&pty, ">> NOOP"), 0, "{}", pty.text());
    pty.send("\x03");
    pty.wait_text("stopped watching after");
    // Back at the prompt, on the same connection.
    type_line(&mut pty, &prompt, "NOOP", "<< 250 2.0.0");
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn watch_with_reconnect_opens_a_connection_each_round_for_a_helper() {
    let (mut pty, prompt) = demo(&[]);
    pty.wait_prompt(&prompt);
    pty.send(":watch --reconnect 1 :starttls\r");
    pty.wait_text("each on a new connection");
    pty.wait("two rounds", |s| {
        s.contents()
            .lines()
            .filter(|l| l.contains("  250 "))
            .count()
            >= 2
    });
    pty.send("\x03");
    pty.wait_text("stopped watching after");
    // The prompt's own connection is still plaintext and open.
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn watch_shows_what_changed_as_greylisting_expires() {
    let server = FakeServer::start(vec![
        send("220 mail.example.org ESMTP"),
        expect("RCPT TO:<b@example.org>"),
        send("450 4.2.0 <b@example.org>: Recipient address rejected: Greylisted"),
        expect("RCPT TO:<b@example.org>"),
        send("250 2.1.5 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 2.1.5 Ok"),
        Step::Close,
    ]);
    let port = server.port();
    let mut pty = pty::spawn(&["127.0.0.1", &port], &[]);
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    pty.send(":watch 1 RCPT TO:<b@example.org>\r");
    pty.wait_text("450 4.2.0");
    pty.wait_text("changed from 450 4.2.0");
    pty.wait_text("no change");
    pty.send("\x03");
    pty.wait_text("stopped watching after");
    server.finish();
}

/// A scripted editor: `body` (a shell `printf` format) into the file it is
/// given; it notes the file's mode and path beside itself.
fn editor(dir: &Path, body: &str) -> PathBuf {
    let script = dir.join("editor.sh");
    let notes = dir.display();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nstat -c %a \"$1\" > {notes}/mode\nprintf '%s' \"$1\" > {notes}/path\n\
             printf '{body}' > \"$1\"\n"
        ),
    )
    .unwrap();
    set_executable(&script);
    script
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn edit_sends_what_the_editor_wrote_with_dot_stuffing_from_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = editor(
        dir.path(),
        "Subject: edited\\n\\n.a leading dot\\n.\\nlast line\\n",
    );
    let script = script.to_str().unwrap();
    let (mut pty, prompt) = demo(&[("EDITOR", script), ("VISUAL", "")]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    type_line(&mut pty, &prompt, "MAIL FROM:<a@example.org>", "<< 250");
    type_line(&mut pty, &prompt, "RCPT TO:<b@example.org>", "<< 250 2.1.5");
    type_line(&mut pty, &prompt, ":edit", "queued as demo-1");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mode"))
            .unwrap()
            .trim(),
        "600"
    );
    let path = std::fs::read_to_string(dir.path().join("path")).unwrap();
    assert!(!Path::new(&path).exists(), "{path} was left behind");
    type_line(&mut pty, &prompt, ":demo show 1", "# Subject: edited");
    pty.wait_text("# .a leading dot");
    // A lone '.' inside the text is text, not the end of the message.
    pty.wait_text("# last line");
    pty.with_screen(|s| {
        let row = find_row(s, "# .a leading dot").unwrap();
        assert_eq!(row_text(s, row + 1), "# .");
    });
    // The same with BDAT: exact counts, no dot-stuffing on the wire.
    type_line(&mut pty, &prompt, "MAIL FROM:<a@example.org>", "<< 250");
    type_line(&mut pty, &prompt, "RCPT TO:<b@example.org>", "<< 250 2.1.5");
    type_line(&mut pty, &prompt, ":edit bdat", "queued as demo-2");
    assert!(pty.text().contains("BDAT"), "{}", pty.text());
    type_line(&mut pty, &prompt, ":demo show 2", "# Subject: edited");
    pty.wait_text("# last line");
    pty.with_screen(|s| {
        let row = find_row(s, "# .a leading dot").unwrap();
        assert_eq!(row_text(s, row + 1), "# .");
    });
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn edit_inside_data_takes_over_the_rest_of_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let script = editor(dir.path(), "written in the editor\\n");
    let script = script.to_str().unwrap();
    let (mut pty, prompt) = demo(&[("VISUAL", script)]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    type_line(&mut pty, &prompt, "MAIL FROM:<a@example.org>", "<< 250");
    type_line(&mut pty, &prompt, "RCPT TO:<b@example.org>", "<< 250 2.1.5");
    type_line(&mut pty, &prompt, "DATA", "<< 354");
    let data = format!("{} DATA 0> ", prompt.trim_end_matches("> "));
    type_line(&mut pty, &data, "Subject: typed", ">> Subject: typed");
    let data = format!("{} DATA 1> ", prompt.trim_end_matches("> "));
    type_line(&mut pty, &data, ":edit", "queued as demo-1");
    type_line(&mut pty, &prompt, ":demo show 1", "# written in the editor");
    pty.wait_text("# Subject: typed");
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn ctrl_c_while_the_editor_runs_sends_nothing_and_removes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("slow-editor.sh");
    let notes = dir.path().display();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf 'Subject: never\\n\\nnever\\n' > \"$1\"\n\
             printf '%s' \"$1\" > {notes}/path\nexec sleep 30\n"
        ),
    )
    .unwrap();
    set_executable(&script);
    let (mut pty, prompt) = demo(&[("EDITOR", script.to_str().unwrap())]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    // No transaction yet: the editor is not even opened.
    type_line(&mut pty, &prompt, ":edit", "MAIL FROM and RCPT TO first");
    assert!(!dir.path().join("path").exists());
    type_line(&mut pty, &prompt, "MAIL FROM:<a@example.org>", "<< 250");
    type_line(&mut pty, &prompt, "RCPT TO:<b@example.org>", "<< 250 2.1.5");
    pty.wait_prompt(&prompt);
    pty.send(":edit\r");
    let path_file = dir.path().join("path");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !path_file.exists() {
        assert!(std::time::Instant::now() < deadline, "the editor never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    pty.send("\x03");
    pty.wait_text("editing interrupted (Ctrl-C): nothing sent");
    let path = std::fs::read_to_string(&path_file).unwrap();
    assert!(!Path::new(&path).exists(), "{path} was left behind");
    assert_eq!(rows_with(&pty, ">> DATA"), 0, "{}", pty.text());
    type_line(&mut pty, &prompt, ":demo inbox", "the demo inbox is empty");
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn history_is_numbered_without_secrets_and_again_runs_an_entry() {
    let (mut pty, prompt) = demo(&[]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    type_line(&mut pty, &prompt, "NOOP", "<< 250 2.0.0");
    type_line(
        &mut pty,
        &prompt,
        "AUTH PLAIN AGRlbW8Ac2VjcmV0",
        "[initial response redacted]",
    );
    pty.wait_prompt(&prompt);
    pty.send(" HELP private\r");
    pty.wait_text("HELP private");
    type_line(&mut pty, &prompt, ":history", "# 2  NOOP");
    pty.wait_text("# 1  EHLO pc0815.example.com");
    let text = pty.text();
    assert!(!text.contains("AGRlbW8Ac2VjcmV0"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("# ") && l.contains("HELP private")),
        "{text}"
    );
    type_line(&mut pty, &prompt, ":history ehlo", "# 1  EHLO");
    pty.wait_prompt(&prompt);
    pty.send(":again 2\r");
    pty.wait_text("# again 2: NOOP");
    pty.wait("a second NOOP", |s| {
        s.contents().matches(">> NOOP").count() == 2
    });
    type_line(&mut pty, &prompt, ":again 99", "no history entry 99");
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn set_lists_and_changes_the_session_settings() {
    let (mut pty, prompt) = demo(&[]);
    type_line(&mut pty, &prompt, ":set", "# timeout  30");
    pty.wait_text("# colour   on");
    type_line(&mut pty, &prompt, ":set timeout 60", &prompt);
    type_line(&mut pty, &prompt, ":set timing on", &prompt);
    type_line(&mut pty, &prompt, ":set colour off", &prompt);
    type_line(&mut pty, &prompt, ":set", "# timeout  60");
    pty.wait_text("# timing   on");
    pty.wait_text("# colour   off");
    type_line(&mut pty, &prompt, ":set wrap sometimes", "takes on or off");
    type_line(&mut pty, &prompt, "NOOP", "<< 250 2.0.0");
    // With timing on, the reply's latency; without colour, a plain row.
    pty.wait("the latency note", |s| {
        s.contents()
            .lines()
            .any(|l| l.starts_with("# ") && l.trim_end().ends_with(" ms"))
    });
    pty.with_screen(|s| {
        let row = find_row(s, "<< 250 2.0.0").unwrap();
        assert_eq!(s.cell(row, 0).unwrap().fgcolor(), vt100::Color::Default);
    });
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn a_reply_slower_than_a_second_shows_its_latency_in_the_prompt() {
    let (held, go) = hold();
    let server = FakeServer::start(vec![
        send("220 mail.example.org ESMTP"),
        expect("NOOP"),
        held,
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let port = server.port();
    let mut pty = pty::spawn(&["--timing", "127.0.0.1", &port], &[]);
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    pty.send("NOOP\r");
    // The status line after a second: the reply is slower than that.
    pty.wait_text("waiting 1 s for the reply to NOOP");
    go.send(()).unwrap();
    pty.wait_text("<< 250 2.0.0 Ok");
    pty.wait("the latency in the prompt", |s| {
        let (r, _) = s.cursor_position();
        let row = row_text(s, r);
        row.starts_with(&format!("127.0.0.1:{port} 1.")) && row.ends_with(" s>")
    });
    pty.send("QUIT\r");
    pty.leave_after_quit();
    server.finish();
}

#[test]
fn help_verb_marks_what_the_server_advertised() {
    let (mut pty, prompt) = demo(&[]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    type_line(
        &mut pty,
        &prompt,
        ":help RCPT",
        "RCPT (command, RFC 5321 §4.1.1.3)",
    );
    // The demo offers DSN: NOTIFY= is usable here.
    pty.wait_text("#     * NOTIFY=NEVER|SUCCESS,FAILURE,DELAY");
    pty.wait_text("#       550  no such user, or relaying denied");
    type_line(
        &mut pty,
        &prompt,
        ":help requiretls",
        "# REQUIRETLS (EHLO keyword, RFC 8689",
    );
    pty.wait_text("#     not advertised by this server");
    type_line(
        &mut pty,
        &prompt,
        ":help frob",
        "unknown meta-command :frob",
    );
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn export_prints_a_command_to_copy_without_note_marks() {
    let (mut pty, prompt) = demo(&[]);
    type_line(&mut pty, &prompt, "EHLO pc0815.example.com", "250 STARTTLS");
    type_line(&mut pty, &prompt, ":export swaks", "--quit-after EHLO");
    pty.with_screen(|s| {
        let row = find_row(s, "swaks \\").unwrap_or_else(|| find_row(s, "swaks").unwrap());
        assert!(
            row_text(s, row).starts_with("swaks"),
            "{}",
            row_text(s, row)
        );
    });
    pty.wait_prompt(&prompt);
    pty.send(":quit\r");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
}

#[test]
fn watch_with_reconnect_says_when_the_server_stops_answering() {
    // The prompt's own connection, one round's, then nothing listens.
    let server = FakeServer::start_each(vec![
        vec![send("220 mail.example.org ESMTP"), Step::Close],
        vec![
            send("220 mail.example.org ESMTP"),
            expect("NOOP"),
            send("250 2.0.0 Ok"),
            expect("QUIT"),
            send("221 2.0.0 Bye"),
            Step::Close,
        ],
    ]);
    let port = server.port();
    let mut pty = pty::spawn(&["127.0.0.1", &port], &[]);
    pty.wait_text("the connection is closed");
    pty.send(":watch --reconnect 1 NOOP\r");
    pty.wait_text("  250 2.0.0");
    pty.wait_text("failed: ");
    pty.send("\x03");
    pty.wait_text("stopped watching after");
    pty.wait_prompt(&format!("127.0.0.1:{port} closed> "));
    pty.send("\x04");
    server.finish();
}
