//! The demo server over real connections on 127.0.0.1: what a client sees
//! on the wire (pipelining, STARTTLS, exact BDAT counts, limits, timeouts).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use openssl::ssl::{SslConnector, SslStream};

use super::*;
use crate::demo::{MESSAGE_LIMIT, Received, certificates};

const PASSWORD: &str = "demo-654321";

/// A server of its own (its own inbox), and the CA its certificate is from.
struct TestServer {
    addr: SocketAddr,
    ca: String,
    inbox: Arc<Inbox>,
}

impl TestServer {
    fn start(idle: Duration) -> TestServer {
        let (ca, cert, key) = certificates().unwrap();
        let inbox = Arc::new(Inbox::default());
        let server = Server {
            acceptor: acceptor(&cert, &key, &ca).unwrap(),
            password: Arc::from(PASSWORD),
            inbox: Arc::clone(&inbox),
            idle,
        };
        let addr = server.spawn("127.0.0.1:0").unwrap();
        TestServer { addr, ca, inbox }
    }

    fn client(&self) -> Client<TcpStream> {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut client = Client {
            io: BufReader::new(stream),
        };
        assert_eq!(
            client.reply(),
            "220 demo.smtpcli.invalid ESMTP smtpcli demo\r\n"
        );
        client
    }

    fn messages(&self) -> Vec<Received> {
        self.inbox.messages()
    }
}

fn server() -> TestServer {
    TestServer::start(Duration::from_secs(30))
}

struct Client<S> {
    io: BufReader<S>,
}

impl<S: Read + Write> Client<S> {
    fn send(&mut self, bytes: impl AsRef<[u8]>) {
        let stream = self.io.get_mut();
        stream.write_all(bytes.as_ref()).unwrap();
        stream.flush().unwrap();
    }

    /// One whole reply, as on the wire.
    fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            assert_ne!(
                self.io.read_line(&mut line).unwrap(),
                0,
                "closed after {reply:?}"
            );
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    /// Sends one command line and reads its reply.
    fn say(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n"));
        self.reply()
    }

    /// Everything until the server closes.
    fn rest(&mut self) -> String {
        let mut rest = String::new();
        self.io.read_to_string(&mut rest).unwrap();
        rest
    }
}

impl Client<TcpStream> {
    /// STARTTLS is done (its `220` read): the handshake, trusting the CA.
    fn tls(self, ca: &str) -> Client<SslStream<TcpStream>> {
        assert!(self.io.buffer().is_empty(), "{:?}", self.io.buffer());
        let mut connector = SslConnector::builder(openssl::ssl::SslMethod::tls_client()).unwrap();
        connector
            .cert_store_mut()
            .add_cert(X509::from_pem(ca.as_bytes()).unwrap())
            .unwrap();
        let tls = connector
            .build()
            .connect("localhost", self.io.into_inner())
            .unwrap();
        Client {
            io: BufReader::new(tls),
        }
    }
}

fn auth_plain() -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("\0demo\0{PASSWORD}"));
    format!("AUTH PLAIN {token}")
}

#[test]
fn commands_in_one_packet_are_answered_in_order() {
    let server = server();
    let mut client = server.client();
    client.send(
        "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<nosuchuser@example.org>\r\n\
         RCPT TO:<b@example.org>\r\nDATA\r\n",
    );
    let ehlo = client.reply();
    assert!(
        ehlo.starts_with(
            "250-demo.smtpcli.invalid Hello client.example [127.0.0.1]\r\n250-PIPELINING\r\n"
        ),
        "{ehlo}"
    );
    assert!(ehlo.ends_with("250 STARTTLS\r\n"), "{ehlo}");
    assert_eq!(client.reply(), "250 2.1.0 Ok\r\n");
    assert_eq!(
        client.reply(),
        "550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown\r\n"
    );
    assert_eq!(client.reply(), "250 2.1.5 Ok\r\n");
    assert_eq!(client.reply(), "354 End data with <CR><LF>.<CR><LF>\r\n");
    // The message, its end and the next commands in one packet too.
    client.send("Subject: pipelined\r\n\r\nhello\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n");
    assert_eq!(client.reply(), "250 2.0.0 Ok: queued as demo-1\r\n");
    assert_eq!(
        client.rest(),
        "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"
    );
    let stored = server.messages();
    assert_eq!(stored[0].to, ["b@example.org"]);
    assert_eq!(stored[0].subject().as_deref(), Some("pipelined"));
}

#[test]
fn starttls_drops_what_was_pipelined_after_it_and_wants_ehlo_again() {
    let server = server();
    let mut client = server.client();
    assert!(
        client
            .say("AUTH PLAIN AGRlbW8AeA==")
            .starts_with("538 5.7.11 ")
    );
    client.send("EHLO a.example\r\nSTARTTLS\r\nMAIL FROM:<injected@example.org>\r\n");
    client.reply();
    assert_eq!(client.reply(), "220 2.0.0 Ready to start TLS\r\n");
    let mut client = client.tls(&server.ca);
    // Had the injected MAIL run under TLS, its reply would come first.
    assert_eq!(
        client.say("RCPT TO:<b@example.org>"),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(
        client.say("MAIL FROM:<a@example.org>"),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    let ehlo = client.say("EHLO a.example");
    assert!(
        ehlo.ends_with("250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n"),
        "{ehlo}"
    );
    assert_eq!(
        client.say(&auth_plain()),
        "235 2.7.0 Authentication successful\r\n"
    );
    client.say("MAIL FROM:<a@example.org>");
    client.say("RCPT TO:<b@example.org>");
    client.say("DATA");
    assert_eq!(
        client.say("Subject: over TLS\r\n."),
        "250 2.0.0 Ok: queued as demo-1\r\n"
    );
    assert_eq!(
        client.say("STARTTLS"),
        "554 5.5.1 Error: TLS already active\r\n"
    );
    assert_eq!(client.say("QUIT"), "221 2.0.0 Bye\r\n");
    let stored = server.messages();
    assert!(stored[0].authenticated);
    let text = String::from_utf8_lossy(&stored[0].data);
    assert!(
        text.contains("with ESMTPSA id demo-1\r\n\tfor <b@example.org>; "),
        "{text}"
    );
}

#[test]
fn auth_login_works_over_tls() {
    let server = server();
    let mut client = server.client();
    client.say("EHLO a.example");
    client.say("STARTTLS");
    let mut client = client.tls(&server.ca);
    client.say("EHLO a.example");
    assert_eq!(client.say("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(client.say("ZGVtbw=="), "334 UGFzc3dvcmQ6\r\n");
    assert_eq!(client.say("*"), "501 5.7.0 Authentication aborted\r\n");
    client.say("AUTH LOGIN");
    client.say("ZGVtbw==");
    use base64::Engine as _;
    let password = base64::engine::general_purpose::STANDARD.encode(PASSWORD);
    assert_eq!(
        client.say(&password),
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[test]
fn message_text_is_dot_unstuffed_and_ends_only_after_a_crlf() {
    let server = server();
    let mut client = server.client();
    client.say("EHLO a.example");
    client.say("MAIL FROM:<a@example.org>");
    client.say("RCPT TO:<b@example.org>");
    client.say("DATA");
    // A dot after a bare LF is not the end (no smuggling); a long line comes
    // through whole.
    let long = "y".repeat(200_000);
    client.send(format!(
        "Subject: dots\r\n\r\n..one dot\r\n.\n.QUIT\r\nbare\n.\r\n{long}\r\n.\r\n"
    ));
    assert_eq!(client.reply(), "250 2.0.0 Ok: queued as demo-1\r\n");
    let stored = server.messages();
    let text = String::from_utf8_lossy(&stored[0].data);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or("");
    assert_eq!(
        body,
        format!(".one dot\r\n\n.QUIT\r\nbare\n.\r\n{long}\r\n")
    );
}

#[test]
fn bdat_reads_exactly_the_bytes_it_counts() {
    let server = server();
    let mut client = server.client();
    client.say("EHLO a.example");
    client.say("MAIL FROM:<a@example.org> BODY=BINARYMIME");
    client.say("RCPT TO:<b@example.org>");
    // Bytes that look like commands are message bytes in a chunk.
    let chunk = "Subject: x\r\n\r\nQUIT\r\n.\r\n";
    client.send(format!("BDAT {}\r\n{chunk}", chunk.len()));
    assert_eq!(
        client.reply(),
        format!("250 2.0.0 {} bytes received\r\n", chunk.len())
    );
    client.send("BDAT 3 LAST\r\n\0\r\nNOOP\r\n");
    assert_eq!(client.reply(), "250 2.0.0 Ok: queued as demo-1\r\n");
    assert_eq!(client.reply(), "250 2.0.0 Ok\r\n");
    // Without a transaction the chunk is still read, then refused.
    client.send("BDAT 6 LAST\r\nRSET\r\nNOOP\r\n");
    assert_eq!(client.reply(), "503 5.5.1 Error: need MAIL command\r\n");
    assert_eq!(client.reply(), "250 2.0.0 Ok\r\n");
    let stored = server.messages();
    assert!(
        stored[0]
            .data
            .ends_with(b"\r\nSubject: x\r\n\r\nQUIT\r\n.\r\n\0\r\n")
    );
}

#[test]
fn messages_over_the_size_limit_are_read_then_refused() {
    let server = server();
    let mut client = server.client();
    client.say("EHLO a.example");
    assert_eq!(
        client.say("MAIL FROM:<a@example.org> SIZE=20000000"),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    client.say("MAIL FROM:<a@example.org>");
    client.say("RCPT TO:<b@example.org>");
    client.say("DATA");
    let line = format!("{}\r\n", "x".repeat(998));
    let lines = MESSAGE_LIMIT / line.len() + 1;
    client.send(line.repeat(lines));
    client.send(".\r\n");
    assert_eq!(
        client.reply(),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    assert_eq!(client.say("NOOP"), "250 2.0.0 Ok\r\n");
    client.say("MAIL FROM:<a@example.org>");
    client.say("RCPT TO:<b@example.org>");
    let size = MESSAGE_LIMIT + 1;
    client.send(format!("BDAT {size} LAST\r\n"));
    client.send(vec![b'z'; size]);
    assert_eq!(
        client.reply(),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    assert_eq!(client.say("NOOP"), "250 2.0.0 Ok\r\n");
    assert!(server.messages().is_empty());
}

#[test]
fn a_line_too_long_is_refused_and_the_session_goes_on() {
    let server = server();
    let mut client = server.client();
    client.send(format!("NOOP {}\r\nNOOP\r\n", "x".repeat(5000)));
    assert_eq!(client.reply(), "500 5.5.0 Line too long\r\n");
    assert_eq!(client.reply(), "250 2.0.0 Ok\r\n");
}

#[test]
fn a_silent_client_is_told_and_disconnected() {
    let server = TestServer::start(Duration::from_millis(300));
    let mut client = server.client();
    client.say("EHLO a.example");
    assert_eq!(
        client.rest(),
        "421 4.4.2 demo.smtpcli.invalid Error: timeout exceeded\r\n"
    );
}

#[test]
fn connections_over_the_limit_are_turned_away() {
    let server = server();
    let clients: Vec<_> = (0..CONNECTION_LIMIT).map(|_| server.client()).collect();
    let stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut one_more = Client {
        io: BufReader::new(stream),
    };
    assert_eq!(
        one_more.rest(),
        "421 4.7.0 demo.smtpcli.invalid Error: too many connections\r\n"
    );
    drop(clients);
}
