//! `--json`: one JSON object per line per event, for CI and monitoring.
//!
//! Every object has `"v": 1`, `"event"` and `"t_ms"` (milliseconds since the
//! start). Codes are integers, enhanced codes strings. Server text is
//! sanitised as on screen; where that changed it (non-UTF-8 bytes, control
//! characters) the raw bytes are in `raw_b64`. Secrets are redacted as on
//! screen. The schema is `schema/events.v1.json`; new fields may be added,
//! renaming one bumps `v`.

use std::io::{self, Write};
use std::time::Instant;

use base64::Engine as _;
use serde_json::{Value, json};

use super::Output;
use super::render::explanation;
use crate::exit::Exit;
use crate::proto::reply::Reply;
use crate::session::{Awaited, Event, EventSink, ReplyTo, Sent};
use crate::text::{escape, escape_str};

/// The version of the event format.
pub(crate) const VERSION: u32 = 1;

/// Writes events as JSON lines.
pub(crate) struct JsonOutput<W: Write> {
    out: W,
    started: Instant,
    error: Option<io::Error>,
    log: Option<Box<dyn Write + Send>>,
}

impl<W: Write> JsonOutput<W> {
    /// JSON lines to `out`.
    pub(crate) fn new(out: W) -> Self {
        JsonOutput {
            out,
            started: Instant::now(),
            error: None,
            log: None,
        }
    }

    fn emit(&mut self, event: &str, fields: Value) {
        if self.error.is_some() {
            return;
        }
        let t_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let line = event_line(event, t_ms, fields);
        if let Some(log) = self.log.as_mut()
            && log.write_all(&line).is_err()
        {
            self.log = None;
        }
        let result = self.out.write_all(&line);
        if let Err(e) = result {
            self.error = Some(e);
        }
    }
}

impl<W: Write> JsonOutput<W> {
    /// One `--audit` verdict (fields already escaped by the caller).
    pub(crate) fn verdict(&mut self, fields: Value) {
        self.emit("verdict", fields);
    }

    /// `--check`: one MX address's policies and verdict.
    pub(crate) fn policy(&mut self, fields: Value) {
        self.emit("policy", fields);
    }

    /// `--check`: what the domain publishes, and the counts.
    pub(crate) fn check(&mut self, fields: Value) {
        self.emit("check", fields);
    }
}

/// One event as every JSON writer writes it: `v`, `event`, `t_ms`, then
/// the fields, with every invisible character as `\uXXXX`, and a newline.
pub(crate) fn event_line(event: &str, t_ms: u64, mut fields: Value) -> Vec<u8> {
    let mut object = serde_json::Map::new();
    object.insert("v".into(), json!(VERSION));
    object.insert("event".into(), json!(event));
    object.insert("t_ms".into(), json!(t_ms));
    if let Value::Object(rest) = &mut fields {
        object.append(rest);
    }
    let text = serde_json::to_string(&object).unwrap_or_default();
    let mut line = escape_invisible(&text).into_bytes();
    line.push(b'\n');
    line
}

fn reply_fields(reply: &Reply) -> Value {
    let lines: Vec<String> = reply.lines.iter().map(|l| escape(&l.raw)).collect();
    let altered = reply
        .lines
        .iter()
        .zip(&lines)
        .any(|(l, shown)| l.raw != shown.as_bytes());
    let mut fields = json!({
        "code": reply.code().map(|c| c.value()),
        "enhanced": reply.enhanced_code().map(|e| e.to_string()),
        "lines": lines,
        "explanation": explanation(reply),
        "anomalies": reply.anomalies.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    if altered {
        let raw: Vec<String> = reply
            .lines
            .iter()
            .map(|l| base64::engine::general_purpose::STANDARD.encode(&l.raw))
            .collect();
        fields["raw_b64"] = json!(raw);
    }
    fields
}

/// Writes every character the sanitiser escapes on a terminal (DEL, C1
/// controls, format characters such as bidirectional controls, separators,
/// tags) as a JSON `\uXXXX` escape: serde escapes only C0, and a consumer
/// that prints a field must not get them raw. Outside strings, JSON text is
/// ASCII, so every such character is inside one.
fn escape_invisible(json: &str) -> String {
    if json.is_ascii() && !json.contains('\u{7f}') {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if crate::text::is_invisible(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl<W: Write> EventSink for JsonOutput<W> {
    fn flush(&mut self) {
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert(e);
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            // A status for a person at a terminal; nothing happened.
            Event::Waiting { .. } => {}
            Event::Connected(facts) => {
                let mut fields = json!({
                    "host": facts.target.host,
                    "port": facts.target.port,
                    "addresses": facts.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "failed": facts.failed.iter().map(|a| json!({"address": a.addr.map(|a| a.to_string()), "error": a.error})).collect::<Vec<_>>(),
                    "mx": facts.mx.iter().map(|c| json!({
                        "preference": c.preference,
                        "host": c.name,
                        "addresses": c.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "error": c.error,
                    })).collect::<Vec<_>>(),
                    "via": facts.via,
                    "peer": facts.peer.to_string(),
                    "local": facts.local.to_string(),
                    "connect_ms": facts.connect_time.as_secs_f64() * 1000.0,
                });
                // Only through a proxy: the key is absent otherwise.
                if let Some(tunnel) = &facts.socks5 {
                    fields["socks5"] = json!({
                        "proxy": facts.peer.to_string(),
                        "target": tunnel.target,
                        "method": tunnel.method.to_string(),
                        "user": tunnel.user.as_deref().map(escape_str),
                        "bound": tunnel.bound,
                    });
                }
                self.emit("connected", fields);
            }
            Event::Sent { what, tls } => {
                let fields = match what {
                    Sent::Command(text) => {
                        json!({"kind": "command", "text": escape_str(&text), "tls": tls})
                    }
                    Sent::Text(text) => {
                        json!({"kind": "text", "text": escape_str(&text), "tls": tls})
                    }
                    Sent::EndOfMessage => {
                        json!({"kind": "end_of_message", "text": ".", "tls": tls})
                    }
                    Sent::Secret { len } => json!({"kind": "secret", "bytes": len, "tls": tls}),
                    Sent::Raw(bytes) => json!({
                        "kind": "raw",
                        "text": escape(&bytes),
                        "raw_b64": base64::engine::general_purpose::STANDARD.encode(&bytes),
                        "tls": tls,
                    }),
                };
                self.emit("sent", fields);
            }
            Event::Reply {
                reply,
                to,
                tls,
                latency,
            } => {
                let mut fields = reply_fields(&reply);
                let (to, verb) = match to {
                    ReplyTo::Banner => ("banner", None),
                    ReplyTo::Command(verb) => ("command", verb.map(|v| v.name())),
                    ReplyTo::Message => ("message", None),
                    ReplyTo::Unsolicited => ("unsolicited", None),
                    ReplyTo::Late(Awaited::Command(verb)) => ("late", verb.map(|v| v.name())),
                    ReplyTo::Late(Awaited::Message) => ("late", Some("DATA")),
                    ReplyTo::Late(Awaited::Banner) => ("late", None),
                };
                fields["to"] = json!(to);
                fields["verb"] = json!(verb);
                fields["tls"] = json!(tls);
                fields["latency_ms"] = json!(latency.as_secs_f64() * 1000.0);
                self.emit("reply", fields);
            }
            Event::Note(text) => self.emit("note", json!({"text": escape_str(&text)})),
            Event::Warning(text) => self.emit("warning", json!({"text": escape_str(&text)})),
            Event::ConnectedUnix { path, connect_time } => self.emit(
                "connected",
                json!({
                    "unix": path.display().to_string(),
                    "connect_ms": connect_time.as_secs_f64() * 1000.0,
                }),
            ),
            Event::PerRecipient(results) => {
                let rows: Vec<Value> = results
                    .iter()
                    .map(|(to, r)| {
                        json!({
                            "recipient": escape_str(to),
                            "code": r.code().map(|c| c.value()),
                            "enhanced": r.enhanced_code().map(|e| e.to_string()),
                        })
                    })
                    .collect();
                self.emit("per_recipient", json!({"results": rows}));
            }
            Event::Tls(report) => self.emit("tls", super::tls::report_json(&report)),
            Event::Resumption(attempt) => self.emit("resume", super::tls::resume_json(&attempt)),
            Event::Progress { sent, total } => {
                self.emit("progress", json!({"sent": sent, "total": total}));
            }
            Event::Delivery(d) => {
                let one = |r: &Reply| json!({"code": r.code().map(|c| c.value()), "enhanced": r.enhanced_code().map(|e| e.to_string()), "text": escape(&r.lines.last().map(|l| l.raw.clone()).unwrap_or_default())});
                self.emit(
                    "delivery",
                    json!({
                        "token": d.token,
                        "accepted": d.is_accepted(),
                        "mail": one(&d.mail),
                        // Each recipient with the reply that decided it.
                        "recipients": d.outcomes().iter().map(|outcome| {
                            let mut o = one(outcome.reply);
                            o["recipient"] = json!(escape_str(outcome.recipient));
                            o["status"] = json!(outcome.status.name());
                            o["step"] = json!(outcome.step);
                            o
                        }).collect::<Vec<_>>(),
                        "data": d.data.as_ref().map(one),
                        "message": d.message.as_ref().map(one),
                    }),
                );
            }
            Event::Expect { expected, got, met } => {
                let (code, enhanced) = got.unwrap_or((None, None));
                self.emit(
                    "expect",
                    json!({
                        "expected": expected.to_string(),
                        "met": met,
                        "code": code.map(|c| c.value()),
                        "enhanced": enhanced.map(|e| e.to_string()),
                    }),
                );
            }
            Event::Closed {
                by_server,
                reset,
                partial,
            } => {
                let mut fields = json!({"by_server": by_server, "reset": reset});
                if let Some(partial) = partial {
                    fields["partial"] = reply_fields(&partial);
                }
                self.emit("closed", fields);
            }
        }
    }
}

impl<W: Write> Output for JsonOutput<W> {
    fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    fn error(&mut self, message: &str) {
        crate::text::print_error(message);
        self.emit("error", json!({"text": escape_str(message)}));
    }

    fn info(&mut self, lines: &[String]) {
        let lines: Vec<String> = lines.iter().map(|l| escape_str(l)).collect();
        self.emit("info", json!({"lines": lines}));
    }

    fn set_timing(&mut self, _on: bool) {
        // Every reply event carries its latency already.
    }

    fn end(&mut self, exit: Exit, why: Option<&str>) {
        let mut fields = json!({"exit": exit.code()});
        if exit != Exit::Success {
            fields["why"] = json!(why.map(escape_str));
        }
        self.emit("end", fields);
    }

    fn set_log(&mut self, log: Option<Box<dyn Write + Send>>) {
        if let Some(old) = self.log.as_mut() {
            let _ = old.flush();
        }
        self.log = log;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped_for_json_readers() {
        let json = serde_json::to_string(&serde_json::json!({
            "text": "del\u{7f} c1\u{9b} bidi\u{202e} zw\u{200b} tag\u{e0041} ok Grüße"
        }))
        .unwrap();
        let escaped = escape_invisible(&json);
        assert_eq!(
            escaped,
            r#"{"text":"del\u007f c1\u009b bidi\u202e zw\u200b tag\udb40\udc41 ok Grüße"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(
            back["text"],
            "del\u{7f} c1\u{9b} bidi\u{202e} zw\u{200b} tag\u{e0041} ok Grüße"
        );
    }
}
