//! The dialog's state machine, case by case: each test plays a short
//! dialog (commands sent, replies received) into a [`Dialog`] and checks
//! the phase, the knowledge, the decision, the events and the exit code.
//! No socket, no process.

use super::*;
use crate::proto::command::LintContext;
use crate::session::input::TypedLine;

/// A dialog under test and the events it emitted.
struct Play {
    dialog: Dialog,
    events: Vec<Event>,
}

fn reply(text: &str) -> Reply {
    let wire = text.replace('\n', "\r\n") + "\r\n";
    Reply::parse_all(wire.as_bytes()).remove(0)
}

impl Play {
    fn new() -> Self {
        Play::with(None, false)
    }

    fn with(quit_after: Option<Stage>, lmtp: bool) -> Self {
        Play {
            dialog: Dialog::new(quit_after, lmtp),
            events: Vec::new(),
        }
    }

    /// The banner: accounted, no command pending.
    fn banner(mut self, text: &str) -> Self {
        self.dialog.account(&reply(text), &mut self.events);
        self
    }

    /// Gates and sends a typed command line; returns the gate's decision.
    fn gate(&mut self, line: &str) -> Gate {
        let typed = TypedLine::new(line.as_bytes(), &LintContext::default());
        let gate = self.dialog.gate(typed.verb(), false);
        if gate == Gate::Send {
            self.dialog
                .sent(typed.verb(), typed.command().cloned(), false);
        }
        gate
    }

    /// Sends a command and applies its reply.
    fn says(mut self, line: &str, answer: &str) -> Self {
        assert_eq!(self.gate(line), Gate::Send, "{line} was not let through");
        self.dialog.reply(&reply(answer), &mut self.events);
        self
    }

    /// Sends a SASL response and applies its reply.
    fn responds(mut self, answer: &str) -> Self {
        assert_eq!(self.dialog.gate(None, true), Gate::Send);
        self.dialog.sent(None, None, true);
        self.dialog.reply(&reply(answer), &mut self.events);
        self
    }

    fn after(&mut self, line: &str, answer: &str) -> After {
        assert_eq!(self.gate(line), Gate::Send);
        self.dialog.reply(&reply(answer), &mut self.events)
    }

    fn warnings(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Warning(w) => Some(w.clone()),
                _ => None,
            })
            .collect()
    }

    fn exit(&self) -> Exit {
        self.dialog.outcome().exit
    }

    fn why(&self) -> Option<String> {
        self.dialog.outcome().why
    }
}

fn greeted() -> Play {
    Play::new().banner("220 mx.example.org ESMTP").says(
        "EHLO pc0815.example.com",
        "250-mx.example.org\n250-PIPELINING\n250-AUTH PLAIN LOGIN\n250 STARTTLS",
    )
}

fn in_transaction() -> Play {
    greeted()
        .says("MAIL FROM:<a@example.org>", "250 2.1.0 Ok")
        .says("RCPT TO:<b@example.org>", "250 2.1.5 Ok")
}

fn expectation(text: &str) -> Expectation {
    Expectation::parse(text).unwrap()
}

// Exit accounting by reply class.

#[test]
fn a_220_banner_is_success() {
    assert_eq!(Play::new().banner("220 ready").exit(), Exit::Success);
}

#[test]
fn an_unexpected_5xx_exits_1() {
    let play = greeted().says("MAIL FROM:<a@example.org>", "550 5.7.1 no");
    assert_eq!(play.exit(), Exit::Permanent);
}

#[test]
fn only_4xx_exits_75() {
    let play = greeted().says("MAIL FROM:<a@example.org>", "451 4.7.1 greylisted");
    assert_eq!(play.exit(), Exit::Temporary);
}

#[test]
fn a_5xx_outranks_a_4xx() {
    let play = greeted()
        .says("MAIL FROM:<a@example.org>", "550 no")
        .says("RSET", "250 ok")
        .says("MAIL FROM:<a@example.org>", "451 later");
    assert_eq!(play.exit(), Exit::Permanent);
}

#[test]
fn a_3xx_is_success() {
    let play = in_transaction().says("DATA", "354 go ahead");
    assert_eq!(play.exit(), Exit::Success);
}

fn undefined_class(code: &str) {
    let play = greeted().says("NOOP", &format!("{code} what"));
    assert_eq!(play.exit(), Exit::Local, "{code}");
    assert!(
        play.warnings()
            .iter()
            .any(|w| w.contains("outside the classes")),
        "{code}: {:?}",
        play.warnings()
    );
}

#[test]
fn reply_code_000_is_an_anomaly_exiting_2() {
    undefined_class("000");
}

#[test]
fn reply_code_100_is_an_anomaly_exiting_2() {
    undefined_class("100");
}

#[test]
fn reply_code_600_is_an_anomaly_exiting_2() {
    undefined_class("600");
}

#[test]
fn reply_code_999_is_an_anomaly_exiting_2() {
    undefined_class("999");
}

#[test]
fn an_undefined_class_banner_is_an_anomaly() {
    let play = Play::new().banner("000 hello");
    assert_eq!(play.exit(), Exit::Local);
}

// Greeting and capabilities.

#[test]
fn ehlo_250_greets_and_learns_the_capabilities() {
    let play = greeted();
    assert!(play.dialog.greeted);
    let caps = play.dialog.capabilities.as_ref().unwrap();
    assert!(caps.supports_starttls() && caps.supports_pipelining());
}

#[test]
fn helo_250_greets_without_capabilities() {
    let play = Play::new()
        .banner("220 x")
        .says("HELO pc0815.example.com", "250 x");
    assert!(play.dialog.greeted);
    assert!(play.dialog.capabilities.is_none());
}

#[test]
fn a_refused_ehlo_does_not_greet() {
    let play = Play::new()
        .banner("220 x")
        .says("EHLO localhost", "550 5.7.1 go away");
    assert!(!play.dialog.greeted);
    assert_eq!(play.exit(), Exit::Permanent);
}

#[test]
fn lhlo_greets_like_ehlo() {
    let play = Play::with(None, true)
        .banner("220 lmtp")
        .says("LHLO x.example", "250-lmtp\n250 PIPELINING");
    assert!(play.dialog.greeted);
    assert!(play.dialog.capabilities.is_some());
}

// The transaction.

#[test]
fn an_accepted_mail_opens_a_transaction() {
    let play = greeted().says("MAIL FROM:<a@example.org>", "250 2.1.0 Ok");
    assert!(play.dialog.in_transaction);
}

#[test]
fn a_refused_mail_opens_nothing() {
    let play = greeted().says("MAIL FROM:<a@example.org>", "553 5.1.8 bad sender");
    assert!(!play.dialog.in_transaction);
}

#[test]
fn rset_ends_the_transaction_and_forgets_the_recipients() {
    let mut play = in_transaction().says("RSET", "250 2.0.0 Ok");
    assert!(!play.dialog.in_transaction);
    assert!(play.dialog.take_recipients().is_empty());
}

#[test]
fn accepted_recipients_are_remembered_in_order() {
    let mut play = in_transaction()
        .says("RCPT TO:<c@example.org>", "550 5.1.1 unknown")
        .says("RCPT TO:<d@example.org>", "251 will forward");
    assert_eq!(
        play.dialog.take_recipients(),
        ["b@example.org", "d@example.org"]
    );
}

// DATA and message text.

#[test]
fn data_354_turns_lines_into_message_text() {
    let mut play = in_transaction().says("DATA", "354 End data with <CR><LF>.<CR><LF>");
    assert_eq!(play.dialog.phase, Phase::Data);
    // Before any text, an `:expect` may still check the 354.
    assert_eq!(play.dialog.role(true), LineRole::TextStart);
    assert_eq!(play.dialog.role(false), LineRole::TextStart);
    play.dialog.text_line(b"Subject: x");
    assert_eq!(play.dialog.role(true), LineRole::Text);
    assert_eq!(play.dialog.role(false), LineRole::Text);
}

#[test]
fn queued_lines_behind_a_refused_data_are_dropped() {
    let mut play = in_transaction().says("DATA", "554 5.5.1 no valid recipients");
    assert_eq!(play.dialog.phase, Phase::DroppingText);
    // The first may be an `:expect` that checks the reply to DATA.
    assert_eq!(play.dialog.role(true), LineRole::DroppedStart);
    play.dialog.drop_line(b"Subject: x", &mut play.events);
    assert_eq!(play.dialog.role(true), LineRole::Dropped);
}

#[test]
fn a_line_typed_after_a_refused_data_is_a_command() {
    let play = in_transaction().says("DATA", "554 5.5.1 no");
    assert_eq!(play.dialog.role(false), LineRole::Command);
}

#[test]
fn dropped_lines_are_counted_and_reported_at_the_dot() {
    let mut play = in_transaction().says("DATA", "554 no");
    for line in [&b"Subject: x"[..], b"", b"body"] {
        play.dialog.drop_line(line, &mut play.events);
    }
    assert!(play.warnings().is_empty());
    play.dialog.drop_line(b".", &mut play.events);
    assert_eq!(play.dialog.phase, Phase::Command);
    assert_eq!(
        play.warnings(),
        ["DATA was refused: 3 message lines dropped, not sent"]
    );
}

#[test]
fn message_text_is_dot_stuffed() {
    let mut play = in_transaction().says("DATA", "354 go");
    assert_eq!(play.dialog.text_line(b".hidden"), b"..hidden\r\n");
    assert_eq!(play.dialog.text_line(b"plain"), b"plain\r\n");
}

#[test]
fn a_cr_before_the_line_end_is_data_as_with_data_files() {
    let mut play = in_transaction().says("DATA", "354 go");
    let mut file = Vec::new();
    ContentEncoder::for_data().encode(b"text\r\r\n", &mut file);
    assert_eq!(play.dialog.text_line(b"text\r"), file);
}

#[test]
fn the_final_dot_ends_message_and_transaction() {
    let mut play = in_transaction().says("DATA", "354 go");
    play.dialog.text_line(b"hello");
    assert_eq!(play.dialog.message_lines(), 1);
    let (wire, recipients) = play.dialog.end_message();
    assert_eq!(wire, b".\r\n");
    assert_eq!(recipients, ["b@example.org"]);
    assert_eq!(play.dialog.phase, Phase::Command);
    assert!(!play.dialog.in_transaction);
}

// AUTH and secrets.

#[test]
fn a_334_to_auth_makes_the_next_line_secret() {
    let play = greeted().says("AUTH LOGIN", "334 VXNlcm5hbWU6");
    assert!(play.dialog.secret_next);
    assert_eq!(play.dialog.role(false), LineRole::SaslResponse);
}

#[test]
fn every_334_of_one_auth_exchange_makes_a_secret() {
    let play = greeted()
        .says("AUTH LOGIN", "334 VXNlcm5hbWU6")
        .responds("334 UGFzc3dvcmQ6");
    assert_eq!(play.dialog.role(false), LineRole::SaslResponse);
}

#[test]
fn a_334_to_mail_does_not_make_a_secret() {
    let play = greeted().says("MAIL FROM:<a@example.org>", "334 what?");
    assert!(!play.dialog.secret_next);
    assert_eq!(play.dialog.role(false), LineRole::Command);
    assert!(play.warnings()[0].contains("outside an AUTH exchange"));
}

#[test]
fn a_334_to_an_unknown_command_does_not_make_a_secret() {
    let play = greeted().says("XYZZY", "334 eA==");
    assert!(!play.dialog.secret_next);
}

#[test]
fn a_235_after_the_responses_authenticates() {
    let play = greeted()
        .says("AUTH LOGIN", "334 VXNlcm5hbWU6")
        .responds("334 UGFzc3dvcmQ6")
        .responds("235 2.7.0 Authentication successful");
    assert_eq!(play.dialog.authenticated, Some(None));
    assert!(!play.dialog.secret_next);
}

#[test]
fn a_235_outside_auth_does_not_authenticate() {
    let play = greeted().says("NOOP", "235 sure");
    assert_eq!(play.dialog.authenticated, None);
}

#[test]
fn a_refused_auth_ends_the_exchange() {
    let play = greeted()
        .says("AUTH LOGIN", "334 VXNlcm5hbWU6")
        .responds("535 5.7.8 bad credentials")
        .says("MAIL FROM:<a@example.org>", "334 odd");
    assert!(!play.dialog.secret_next);
}

// STARTTLS, QUIT, 421 and the close.

#[test]
fn a_220_to_starttls_asks_for_the_handshake() {
    let mut play = greeted();
    assert_eq!(play.after("STARTTLS", "220 2.0.0 Ready"), After::Handshake);
}

#[test]
fn a_refused_starttls_asks_for_nothing() {
    let mut play = greeted();
    assert_eq!(
        play.after("STARTTLS", "454 4.7.0 TLS not available"),
        After::Nothing
    );
}

#[test]
fn tls_forgets_what_was_said_before() {
    let mut play = greeted().says("MAIL FROM:<a@example.org>", "250 ok");
    play.dialog.tls_started();
    assert!(!play.dialog.greeted);
    assert!(play.dialog.capabilities.is_none());
    assert!(!play.dialog.in_transaction);
}

#[test]
fn a_221_to_quit_is_an_announced_close() {
    let mut play = greeted();
    assert_eq!(play.after("QUIT", "221 2.0.0 Bye"), After::PollClose);
    assert!(play.dialog.quit_acknowledged);
    assert!(play.dialog.close_was_announced());
}

#[test]
fn a_421_is_an_announced_close() {
    let mut play = greeted();
    assert_eq!(
        play.after("MAIL FROM:<a@example.org>", "421 4.4.2 timeout"),
        After::PollClose
    );
    assert!(play.dialog.close_was_announced());
    assert!(!play.dialog.quit_acknowledged);
}

#[test]
fn a_close_after_a_250_was_not_announced() {
    assert!(!greeted().dialog.close_was_announced());
}

#[test]
fn nothing_goes_out_after_the_close() {
    let mut play = greeted();
    play.dialog.closed();
    assert_eq!(play.dialog.role(false), LineRole::Closed);
    assert_eq!(play.gate("NOOP"), Gate::Closed);
}

// --quit-after.

#[test]
fn quit_after_ehlo_quits_at_mail() {
    let mut play = Play::with(Some(Stage::Ehlo), false).banner("220 x");
    assert_eq!(play.gate("EHLO a.example"), Gate::Send);
    assert_eq!(play.gate("MAIL FROM:<a@example.org>"), Gate::QuitInstead);
}

#[test]
fn quit_after_rcpt_lets_every_rcpt_through_then_quits() {
    let mut play = Play::with(Some(Stage::Rcpt), false).banner("220 x");
    for line in [
        "EHLO a.example",
        "MAIL FROM:<a@example.org>",
        "RCPT TO:<b@example.org>",
        "RCPT TO:<c@example.org>",
    ] {
        assert_eq!(play.gate(line), Gate::Send, "{line}");
    }
    assert_eq!(play.gate("DATA"), Gate::QuitInstead);
}

#[test]
fn quit_after_tls_stops_a_second_ehlo() {
    let mut play = Play::with(Some(Stage::Tls), false).banner("220 x");
    assert_eq!(play.gate("EHLO a.example"), Gate::Send);
    assert_eq!(play.gate("STARTTLS"), Gate::Send);
    assert_eq!(play.gate("EHLO a.example"), Gate::QuitInstead);
}

#[test]
fn quit_after_lets_commands_of_no_stage_through() {
    let mut play = Play::with(Some(Stage::Ehlo), false).banner("220 x");
    assert_eq!(play.gate("EHLO a.example"), Gate::Send);
    assert_eq!(play.gate("NOOP"), Gate::Send);
}

#[test]
fn quit_after_auth_lets_the_sasl_responses_through() {
    let mut play = Play::with(Some(Stage::Auth), false).banner("220 x");
    assert_eq!(play.gate("AUTH LOGIN"), Gate::Send);
    assert_eq!(play.dialog.gate(None, true), Gate::Send);
    assert_eq!(play.gate("MAIL FROM:<a@example.org>"), Gate::QuitInstead);
}

#[test]
fn quit_after_data_quits_after_the_message() {
    assert!(
        Play::with(Some(Stage::Data), false)
            .dialog
            .quits_after_message()
    );
    assert!(!Play::new().dialog.quits_after_message());
}

// :expect and replay judgements.

#[test]
fn an_expected_550_counts_as_success() {
    let mut play = greeted().says("RCPT TO:<x@example.org>", "550 5.1.1 unknown");
    assert!(
        play.dialog
            .expect(expectation("550 5.1.1"), &mut play.events)
    );
    assert_eq!(play.exit(), Exit::Success);
}

#[test]
fn an_unexpected_250_counts_as_permanent() {
    let mut play = greeted().says("RCPT TO:<x@example.org>", "250 ok");
    assert!(!play.dialog.expect(expectation("550"), &mut play.events));
    assert_eq!(play.exit(), Exit::Permanent);
}

#[test]
fn a_failed_expect_on_a_4xx_is_temporary() {
    let mut play = greeted().says("MAIL FROM:<a@example.org>", "451 4.7.1 later");
    assert!(!play.dialog.expect(expectation("250"), &mut play.events));
    assert_eq!(play.exit(), Exit::Temporary);
}

#[test]
fn an_expect_before_any_reply_fails() {
    let mut play = Play::new();
    assert!(!play.dialog.expect(expectation("220"), &mut play.events));
    assert_eq!(play.exit(), Exit::Permanent);
    assert!(matches!(
        play.events.last(),
        Some(Event::Expect {
            got: None,
            met: false,
            ..
        })
    ));
}

#[test]
fn lmtp_expect_for_a_recipient_judges_that_reply() {
    let mut play = Play::with(None, true)
        .banner("220 lmtp")
        .says("LHLO x.example", "250 lmtp");
    play.dialog.message_sent();
    for (rcpt, text) in [
        ("b@example.org", "250 2.1.5 ok"),
        ("c@example.org", "552 5.2.2 full"),
    ] {
        let r = reply(text);
        if rcpt == "b@example.org" {
            play.dialog.account(&r, &mut play.events);
        } else {
            play.dialog.account_more(&r, &mut play.events);
        }
        play.dialog.per_recipient_reply(rcpt.into(), r);
    }
    assert_eq!(play.exit(), Exit::Permanent);
    assert!(
        play.dialog
            .expect(expectation("552 5.2.2 for c@example.org"), &mut play.events)
    );
    assert_eq!(play.exit(), Exit::Success);
}

#[test]
fn a_replay_mismatch_on_a_250_is_permanent() {
    let mut play = greeted().says("NOOP", "250 ok");
    play.dialog
        .judge_last(false, "the reply differs from the recording");
    assert_eq!(play.exit(), Exit::Permanent);
    assert_eq!(
        play.why().as_deref(),
        Some("NOOP: the reply differs from the recording")
    );
}

#[test]
fn a_local_failure_outranks_everything() {
    let mut play = greeted().says("MAIL FROM:<a@example.org>", "550 no");
    play.dialog.fail_locally("the script could not be read");
    assert_eq!(play.exit(), Exit::Local);
    assert_eq!(play.why().as_deref(), Some("the script could not be read"));
}

#[test]
fn a_failing_exit_names_the_step_that_decided_it() {
    let play = greeted().says("MAIL FROM:<a@example.org>", "250 2.1.0 Ok");
    assert_eq!(play.why(), None);
    let play = play
        .says("RCPT TO:<x@example.org>", "450 4.2.0 greylisted")
        .says("RCPT TO:<b@example.org>", "550 5.1.1 unknown")
        .says("RCPT TO:<c@example.org>", "550 5.7.1 denied");
    assert_eq!(play.exit(), Exit::Permanent);
    // The worse outcome wins; of two as bad, the first.
    assert_eq!(
        play.why().as_deref(),
        Some("RCPT TO:<b@example.org>: 550 5.1.1 unknown")
    );
}

#[test]
fn a_failed_expect_names_the_command_and_what_came() {
    let mut play = greeted().says("DATA", "554 5.5.1 no valid recipients");
    assert!(!play.dialog.expect(expectation("354"), &mut play.events));
    assert_eq!(
        play.why().as_deref(),
        Some(":expect 354 failed at DATA: 554 5.5.1 no valid recipients")
    );
}

// Input left when the server closed.

#[test]
fn lines_not_sent_after_a_close_exit_2() {
    let mut play = greeted();
    play.dialog.closed();
    play.dialog.not_sent(3, false, &mut play.events);
    assert_eq!(
        play.warnings(),
        ["the server closed the connection; 3 lines not sent"]
    );
    assert_eq!(play.exit(), Exit::Local);
}

#[test]
fn lines_not_sent_after_a_421_exit_75() {
    let mut play = greeted().says("MAIL FROM:<a@example.org>", "421 4.4.2 bye");
    play.dialog.closed();
    play.dialog.not_sent(1, false, &mut play.events);
    assert_eq!(
        play.warnings(),
        ["the server closed the connection; 1 line not sent"]
    );
    assert_eq!(play.exit(), Exit::Temporary);
}

#[test]
fn lines_not_sent_after_a_554_banner_exit_1() {
    let mut play = Play::new().banner("554 5.7.1 go away");
    play.dialog.closed();
    play.dialog.not_sent(2, false, &mut play.events);
    assert_eq!(play.warnings().len(), 1);
    assert_eq!(play.exit(), Exit::Permanent);
}

#[test]
fn lines_after_our_own_quit_are_not_owed() {
    let mut play = greeted().says("QUIT", "221 2.0.0 Bye");
    play.dialog.closed();
    play.dialog.not_sent(2, false, &mut play.events);
    assert!(play.events.is_empty());
    assert_eq!(play.exit(), Exit::Success);
}

#[test]
fn a_close_before_the_input_ended_fails_even_with_nothing_read() {
    let mut play = greeted();
    play.dialog.closed();
    play.dialog.not_sent(0, true, &mut play.events);
    assert_eq!(
        play.warnings(),
        ["the server closed the connection; 0 lines not sent, and the input had not ended"]
    );
    assert_eq!(play.exit(), Exit::Local);
}

#[test]
fn nothing_left_unsent_says_nothing() {
    let mut play = greeted();
    play.dialog.not_sent(0, false, &mut play.events);
    assert!(play.events.is_empty());
    assert_eq!(play.exit(), Exit::Success);
}

// Replies nobody asked for.

#[test]
fn an_unsolicited_354_does_not_start_a_message() {
    let mut play = in_transaction();
    play.dialog
        .unsolicited(&reply("354 go ahead"), &mut play.events);
    assert_eq!(play.dialog.phase, Phase::Command);
    assert_eq!(play.dialog.role(true), LineRole::Command);
}

#[test]
fn an_unsolicited_421_counts_as_temporary() {
    let mut play = greeted();
    play.dialog
        .unsolicited(&reply("421 4.4.2 idle timeout"), &mut play.events);
    assert_eq!(play.exit(), Exit::Temporary);
    assert!(play.dialog.close_was_announced());
}

#[test]
fn the_reply_goes_to_what_was_sent_last() {
    // A duplicated 250 shown as unsolicited leaves the RCPT's own 550 to
    // be judged: :expect 250 fails.
    let mut play = greeted().says("MAIL FROM:<a@example.org>", "250 ok");
    play.dialog.unsolicited(&reply("250 ok"), &mut play.events);
    let mut play = play.says("RCPT TO:<x@example.org>", "550 5.1.1 unknown");
    assert!(!play.dialog.expect(expectation("250"), &mut play.events));
    assert_eq!(play.exit(), Exit::Permanent);
}
