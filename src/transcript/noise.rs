//! What a terminal session adds around an SMTP dialog: the shell prompt
//! and the command that opened the connection (`telnet`, `nc`, `ncat`,
//! `socat`, `openssl s_client`, `gnutls-cli`, `swaks`), and what those
//! tools print themselves (`Trying 10.0.0.1...`, `Escape character is
//! '^]'.`, `CONNECTED(00000003)`, a certificate chain, `DONE`). People
//! paste it marked as either side (`<< Trying …`, `>> user@host:~$`) or
//! unmarked; none of it is SMTP. A reply line (three digits) is never
//! noise, and the reader does not ask inside a message's text.

/// Host and port of the command that opened the connection.
pub(super) type Target = (String, Option<String>);

/// Tells noise from dialog, line by line; remembers whether it is inside a
/// PEM block that `openssl s_client` printed.
#[derive(Debug, Default)]
pub(super) struct Filter {
    in_pem: bool,
    /// The first connection command seen.
    pub(super) target: Option<Target>,
}

impl Filter {
    /// Whether `text` (a line without its transcript marker) is noise.
    /// `client` says the line was marked as typed by the client: then only
    /// a shell line counts, since a person marks their own lines.
    pub(super) fn is_noise(&mut self, text: &str, client: bool) -> bool {
        let t = text.trim_end();
        if self.in_pem {
            if t.starts_with("-----END ") {
                self.in_pem = false;
            }
            return true;
        }
        if is_reply_line(t) {
            return false;
        }
        if let Some(command) = shell_command(t) {
            if self.target.is_none() {
                self.target = connection_target(command);
            }
            return true;
        }
        if client {
            return false;
        }
        if t.starts_with("-----BEGIN ") {
            self.in_pem = true;
            return true;
        }
        is_tool_output(t)
    }
}

fn is_reply_line(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && matches!(b.get(3), None | Some(b' ' | b'-'))
}

/// The command after a shell prompt (empty for a bare prompt), if `text`
/// is a shell line: `user@host:~$ telnet mx 25`, `[root@mx ~]# nc mx 25`,
/// `host:~ user$`, `$ openssl s_client …`, `% swaks …`, `PS C:\> …`,
/// `C:\Users\me> telnet mx 25`.
fn shell_command(text: &str) -> Option<&str> {
    let text = text.trim_start();
    for (at, c) in text.char_indices() {
        let after = &text[at + c.len_utf8()..];
        if !(after.is_empty() || after.starts_with(' ')) {
            continue;
        }
        let prefix = &text[..at];
        let is_prompt = match c {
            '$' | '#' | '%' => is_prompt_prefix(prefix),
            '>' => {
                prefix == "telnet"
                    || prefix.starts_with("PS ")
                    || prefix.as_bytes().get(1..3) == Some(b":\\")
            }
            _ => continue,
        };
        if is_prompt {
            return Some(after.trim());
        }
    }
    None
}

/// What can stand before `$`, `#` or `%`: nothing, one word (`bash-5.2`,
/// `user@host:~/dir`), a bracketed `[user@host dir]`, or a macOS
/// `host:~ user`. Never text holding `<`, as in `RCPT TO:<a@b>`.
fn is_prompt_prefix(prefix: &str) -> bool {
    if prefix.contains(['<', '>', '"']) {
        return false;
    }
    let spaces = prefix.matches(' ').count();
    spaces == 0
        || (prefix.starts_with('[') && prefix.ends_with(']'))
        || (spaces == 1 && prefix.contains(['@', ':', '~']))
}

/// Host and port of a command that opens an SMTP connection.
fn connection_target(command: &str) -> Option<Target> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let (tool, args) = words.split_first()?;
    let tool = tool.rsplit('/').next().unwrap_or(tool);
    let plain: Vec<&str> = args
        .iter()
        .copied()
        .filter(|w| !w.starts_with('-'))
        .collect();
    let option = |name: &str| {
        args.iter().enumerate().find_map(|(i, w)| {
            w.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .or_else(|| (*w == name).then(|| args.get(i + 1).copied()).flatten())
        })
    };
    match tool {
        "telnet" => Some((
            plain.first()?.to_string(),
            plain.get(1).map(|p| p.to_string()),
        )),
        "nc" | "ncat" | "netcat" => match plain.as_slice() {
            [.., host, port] => Some((host.to_string(), Some(port.to_string()))),
            [host] => Some((host.to_string(), None)),
            [] => None,
        },
        "openssl" => split_host_port(option("-connect")?),
        "gnutls-cli" => Some((
            plain.last()?.to_string(),
            option("-p").or(option("--port")).map(str::to_string),
        )),
        "swaks" => split_host_port(option("--server").or(option("-s"))?),
        "socat" => {
            let address = args
                .iter()
                .find(|w| w.contains(':') && !w.starts_with('-'))?;
            let (_, rest) = address.split_once(':')?;
            split_host_port(rest.split(',').next()?)
        }
        _ => None,
    }
}

/// `host:port`, `[v6]:port`, or a bare host.
fn split_host_port(text: &str) -> Option<Target> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return Some((
            host.to_string(),
            after.strip_prefix(':').map(str::to_string),
        ));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Some((host.to_string(), Some(port.to_string())))
        }
        _ => Some((text.to_string(), None)),
    }
}

/// A line that telnet, nc, ncat or `openssl s_client` printed.
fn is_tool_output(t: &str) -> bool {
    const STARTS: &[&str] = &[
        // telnet
        "Trying ",
        "Connected to ",
        "Escape character is",
        "Connection closed by foreign host",
        "Connection closed.",
        "Connection to ",
        "telnet: ",
        "^]",
        // nc, ncat
        "Ncat: ",
        "nc: ",
        "netcat: ",
        // openssl s_client
        "CONNECTED(",
        "depth=",
        "verify return:",
        "verify error:",
        "Certificate chain",
        "Server certificate",
        "subject=",
        "issuer=",
        "No client certificate CA names sent",
        "Acceptable client certificate CA names",
        "Client Certificate Types",
        "Requested Signature Algorithms",
        "Shared Requested Signature Algorithms",
        "Peer signing digest",
        "Peer signature type",
        "Peer Temp Key",
        "Server Temp Key",
        "Negotiated TLS",
        "SSL handshake has read",
        "New, ",
        "Reused, ",
        "Server public key is",
        "Secure Renegotiation",
        "This TLS version forbids renegotiation",
        "Compression: ",
        "Expansion: ",
        "No ALPN negotiated",
        "ALPN protocol",
        "Early data was not sent",
        "Verify return code",
        "Verification: ",
        "Verification error",
        "SSL-Session:",
        "Post-Handshake New Session Ticket arrived",
        "read R BLOCK",
        "read:errno=",
        "Protocol version:",
        "Ciphersuite:",
        "Peer certificate:",
        "Hash used:",
        "Signature type:",
        "Can't use SSL_get_servername",
        "- Handshake was completed",
        "- Certificate type:",
        "- Got a certificate list",
        "- Description:",
        "- Session ID:",
        "- Options:",
        "- Simple Client Mode:",
        "- Status: ",
        "- Successfully sent",
        "- Peer has closed",
        "Processed ",
        "Resolving '",
        "Connecting to '",
    ];
    const EXACT: &[&str] = &["---", "DONE", "RENEGOTIATING", "KEYUPDATE", "closed"];
    // s_client's chain (` 0 s:CN = mx`, `   i:…`) and session block
    // (`    Protocol  : TLSv1.3`, `    0000 - 2f 3a …`) are indented; a
    // reply line never is.
    t.starts_with([' ', '\t']) || EXACT.contains(&t) || STARTS.iter().any(|s| t.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lines_and_their_targets() {
        type Want<'a> = Option<(&'a str, Option<&'a str>)>;
        let cases: &[(&str, Want)] = &[
            (
                "user@host:~$ telnet mailserver.example.com 25",
                Some(("mailserver.example.com", Some("25"))),
            ),
            (
                "[root@mx ~]# nc -v 10.0.0.1 25",
                Some(("10.0.0.1", Some("25"))),
            ),
            (
                "mac:~ admin$ ncat mx.example.org 587",
                Some(("mx.example.org", Some("587"))),
            ),
            (
                "$ openssl s_client -connect mx.example.org:25 -starttls smtp",
                Some(("mx.example.org", Some("25"))),
            ),
            (
                "% openssl s_client -starttls smtp -connect [2001:db8::1]:25",
                Some(("2001:db8::1", Some("25"))),
            ),
            (
                "$ gnutls-cli --starttls-proto=smtp -p 25 mx.example.org",
                Some(("mx.example.org", Some("25"))),
            ),
            (
                "$ socat - TCP:mx.example.org:25,crlf",
                Some(("mx.example.org", Some("25"))),
            ),
            (
                "$ swaks --server mx.example.org:2525 --to a@b",
                Some(("mx.example.org", Some("2525"))),
            ),
            (
                "C:\\Users\\admin> telnet mx.example.org 25",
                Some(("mx.example.org", Some("25"))),
            ),
            ("user@host:~$", None),
            ("$", None),
            ("bash-5.2$ exit", None),
        ];
        for (line, want) in cases {
            let mut filter = Filter::default();
            assert!(filter.is_noise(line, true), "{line}");
            let want = want.map(|(h, p)| (h.to_string(), p.map(str::to_string)));
            assert_eq!(filter.target, want, "{line}");
        }
    }

    #[test]
    fn smtp_lines_are_never_noise() {
        for line in [
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<b@example.org> NOTIFY=SUCCESS",
            "EHLO pc0815.example.com",
            "AUTH PLAIN AGFkbWluAHNlY3JldA==",
            "220 mx.example.org ESMTP",
            "250-mx.example.org",
            "554 5.7.1 <x@y>: Relay access denied",
            "QUIT",
            "data",
        ] {
            let mut filter = Filter::default();
            assert!(!filter.is_noise(line, true), "{line} as client");
            assert!(!filter.is_noise(line, false), "{line} as server");
        }
    }

    #[test]
    fn tool_output_including_a_certificate() {
        let mut filter = Filter::default();
        let noise = "\
Trying 10.23.45.10...
Connected to mailserver.example.com.
Escape character is '^]'.
Connection to 127.0.0.1 25 port [tcp/smtp] succeeded!
Ncat: Connected to 127.0.0.1:25.
CONNECTED(00000003)
depth=0 CN = mx.example.org
verify return:1
---
Certificate chain
 0 s:CN = mx.example.org
   i:CN = Example CA
Server certificate
-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUQ2
250 this is inside the PEM block
-----END CERTIFICATE-----
SSL handshake has read 1473 bytes and written 427 bytes
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
SSL-Session:
    Protocol  : TLSv1.3
DONE
Connection closed by foreign host.";
        for line in noise.lines() {
            assert!(filter.is_noise(line, false), "{line}");
        }
        assert!(!filter.is_noise("250 2.0.0 Ok", false));
    }
}
