//! A scripted SMTP server for faults real servers will not produce on demand.
//!
//! It listens on 127.0.0.1 port 0, serves one connection on a thread of its
//! own, and follows a script: send these bytes, expect that line, expect
//! silence for a moment, close. [`FakeServer::finish`] joins the thread and
//! fails the test if the client did not follow the script.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server waits for an expected line before failing the test.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What an [`Step::Answer`] does with the line it read.
pub type Answerer = Box<dyn FnOnce(&[u8]) -> Result<Vec<u8>, String> + Send>;

/// One step of a script.
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read one line (up to LF) and compare it with this one, CRLF included.
    Expect(Vec<u8>),
    /// Read exactly as many bytes as these and compare: a binary message
    /// (SOCKS5), which has no line end.
    ExpectBytes(Vec<u8>),
    /// Check that nothing arrives for this long: the client must wait.
    Silence(Duration),
    /// Write each byte separately with this pause in between.
    Drip(Vec<u8>, Duration),
    /// Read everything until the client closes; keep it in the transcript.
    ReadToEnd,
    /// Read one line and send what the function makes of it (an `Err`
    /// fails the script): for an exchange that depends on what the client
    /// sent, such as SCRAM's nonces.
    Answer(Answerer),
    /// Read lines (kept in the transcript) up to and including this one: a
    /// message whose lines vary from run to run.
    SkipUntil(Vec<u8>),
    /// Read message text up to and including the lone `.` line (after a
    /// `354`), whatever it holds.
    ReadMessage,
    /// Run a check in the server thread (e.g. measure the client).
    Call(Box<dyn FnOnce() + Send>),
    /// Keep the connection open without reading or writing, so the
    /// client's writes fill the socket buffers and block.
    Hold(Duration),
    /// Close the connection.
    Close,
    /// Close with a TCP reset (SO_LINGER 0) instead of an orderly close.
    Reset,
}

/// Sends `text` (CRLF added).
pub fn send(text: &str) -> Step {
    Step::Send(format!("{text}\r\n").into_bytes())
}

/// Expects the line `text` followed by CRLF.
pub fn expect(text: &str) -> Step {
    Step::Expect(format!("{text}\r\n").into_bytes())
}

/// Answers one line with what `f` makes of it (CRLF stripped before, added
/// after).
pub fn answer(f: impl FnOnce(&str) -> Result<String, String> + Send + 'static) -> Step {
    Step::Answer(Box::new(move |line: &[u8]| {
        let text = String::from_utf8_lossy(line);
        f(text.trim_end_matches(['\r', '\n'])).map(|reply| format!("{reply}\r\n").into_bytes())
    }))
}

/// A step that holds the server until the test says go (or 30 s pass):
/// for what must happen while the client waits for a reply, or while it
/// sits at its prompt.
pub fn hold() -> (Step, std::sync::mpsc::Sender<()>) {
    let (go, wait) = std::sync::mpsc::channel();
    let step = Step::Call(Box::new(move || {
        let _ = wait.recv_timeout(Duration::from_secs(30));
    }));
    (step, go)
}

/// A running fake server.
pub struct FakeServer {
    addr: SocketAddr,
    thread: Option<JoinHandle<Result<Vec<u8>, String>>>,
}

impl FakeServer {
    /// Starts a server that will follow `script` for one connection.
    pub fn start(script: Vec<Step>) -> FakeServer {
        Self::start_on("127.0.0.1:0", vec![script]).expect("bind 127.0.0.1:0")
    }

    /// Starts a server that follows each script for one connection, in
    /// turn (a client that reconnects).
    pub fn start_each(scripts: Vec<Vec<Step>>) -> FakeServer {
        Self::start_on("127.0.0.1:0", scripts).expect("bind 127.0.0.1:0")
    }

    /// The same on a chosen address (`[::1]:0` for IPv6); `None` if that
    /// address cannot be bound here.
    pub fn start_on(bind: &str, scripts: Vec<Vec<Step>>) -> Option<FakeServer> {
        let listener = TcpListener::bind(bind).ok()?;
        let addr = listener.local_addr().expect("local addr");
        let thread = std::thread::spawn(move || {
            let mut received = Vec::new();
            for (n, script) in scripts.into_iter().enumerate() {
                let (stream, _) = listener
                    .accept()
                    .map_err(|e| format!("connection {n}: accept: {e}"))?;
                let bytes = run(stream, script).map_err(|e| format!("connection {n}: {e}"))?;
                received.extend_from_slice(&bytes);
            }
            Ok(received)
        });
        Some(FakeServer {
            addr,
            thread: Some(thread),
        })
    }

    /// The port to give smtpcli.
    pub fn port(&self) -> String {
        self.addr.port().to_string()
    }

    /// Waits for the script to end; panics if the client strayed from it.
    /// Returns every byte the client sent.
    pub fn finish(mut self) -> Vec<u8> {
        let thread = self.thread.take().expect("finish once");
        match thread.join() {
            Ok(Ok(received)) => received,
            Ok(Err(e)) => panic!("fake server: {e}"),
            Err(_) => panic!("fake server thread panicked"),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if self.thread.is_some() && !std::thread::panicking() {
            panic!("FakeServer dropped without finish(): the script was not checked");
        }
    }
}

fn run(mut stream: TcpStream, script: Vec<Step>) -> Result<Vec<u8>, String> {
    let mut received = Vec::new();
    let mut pending = Vec::new();
    for (i, step) in script.into_iter().enumerate() {
        match step {
            Step::Send(bytes) => stream
                .write_all(&bytes)
                .map_err(|e| format!("step {i}: send: {e}"))?,
            Step::Drip(bytes, pause) => {
                for b in bytes {
                    if stream.write_all(&[b]).is_err() {
                        break; // the client gave up: that is what drip tests want
                    }
                    std::thread::sleep(pause);
                }
            }
            Step::Expect(want) => {
                let line = read_line(&mut stream, &mut pending, &mut received)
                    .map_err(|e| format!("step {i}: expected {:?}: {e}", show(&want)))?;
                if line != want {
                    return Err(format!(
                        "step {i}: expected {:?}, got {:?}",
                        show(&want),
                        show(&line)
                    ));
                }
            }
            Step::Answer(f) => {
                let line = read_line(&mut stream, &mut pending, &mut received)
                    .map_err(|e| format!("step {i}: expected a line to answer: {e}"))?;
                let reply = f(&line).map_err(|e| format!("step {i}: {e}"))?;
                stream
                    .write_all(&reply)
                    .map_err(|e| format!("step {i}: send: {e}"))?;
            }
            Step::SkipUntil(want) => loop {
                let line = read_line(&mut stream, &mut pending, &mut received)
                    .map_err(|e| format!("step {i}: waiting for {:?}: {e}", show(&want)))?;
                if line == want {
                    break;
                }
            },
            Step::ExpectBytes(want) => {
                let got = read_bytes(&mut stream, &mut pending, &mut received, want.len())
                    .map_err(|e| format!("step {i}: expected {want:?}: {e}"))?;
                if got != want {
                    return Err(format!("step {i}: expected {want:?}, got {got:?}"));
                }
            }
            Step::Silence(window) => {
                if !pending.is_empty() {
                    return Err(format!(
                        "step {i}: the client sent {:?} before it was answered",
                        show(&pending)
                    ));
                }
                let end = Instant::now() + window;
                let mut buf = [0u8; 4096];
                loop {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    stream
                        .set_read_timeout(Some(left))
                        .map_err(|e| e.to_string())?;
                    match stream.read(&mut buf) {
                        Ok(0) => return Err(format!("step {i}: the client closed early")),
                        Ok(n) => {
                            return Err(format!(
                                "step {i}: the client sent {:?} before it was answered",
                                show(&buf[..n])
                            ));
                        }
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            break;
                        }
                        // A signal for the test process (SIGCHLD, when another
                        // test's child exits) interrupts a read with a timeout.
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(format!("step {i}: {e}")),
                    }
                }
            }
            Step::ReadToEnd => {
                stream
                    .set_read_timeout(Some(EXPECT_TIMEOUT))
                    .map_err(|e| e.to_string())?;
                received.append(&mut pending);
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest);
                received.extend_from_slice(&rest);
            }
            Step::ReadMessage => loop {
                let line = read_line(&mut stream, &mut pending, &mut received)
                    .map_err(|e| format!("step {i}: reading the message: {e}"))?;
                if line == b".\r\n" {
                    break;
                }
            },
            Step::Call(f) => f(),
            Step::Hold(time) => std::thread::sleep(time),
            Step::Reset => {
                // Unread input makes close() send a reset on Linux.
                let mut buf = [0u8; 1];
                let _ = stream.set_nonblocking(true);
                let _ = stream.read(&mut buf);
                drop(stream);
                return Ok(received);
            }
            Step::Close => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return Ok(received);
            }
        }
    }
    Ok(received)
}

/// Reads one line, keeping what came after it in `pending`.
fn read_line(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    received: &mut Vec<u8>,
) -> Result<Vec<u8>, String> {
    stream
        .set_read_timeout(Some(EXPECT_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    // Only bytes not searched yet are searched: a long line stays linear.
    let mut from = 0;
    loop {
        if let Some(at) = pending[from..].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=from + at).collect();
            received.extend_from_slice(&line);
            return Ok(line);
        }
        from = pending.len();
        if Instant::now() > deadline {
            return Err(format!("timed out; had {:?}", show(pending)));
        }
        let mut buf = [0u8; 65536];
        match stream.read(&mut buf) {
            Ok(0) => return Err(format!("the client closed; had {:?}", show(pending))),
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            // See Step::Silence: a signal for another test, not an error.
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{e}; had {:?}", show(pending))),
        }
    }
}

/// Reads exactly `n` bytes, keeping what came after them in `pending`.
fn read_bytes(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    received: &mut Vec<u8>,
    n: usize,
) -> Result<Vec<u8>, String> {
    stream
        .set_read_timeout(Some(EXPECT_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while pending.len() < n {
        if Instant::now() > deadline {
            return Err(format!("timed out; had {pending:?}"));
        }
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => return Err(format!("the client closed; had {pending:?}")),
            Ok(got) => pending.extend_from_slice(&buf[..got]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{e}; had {pending:?}")),
        }
    }
    let bytes: Vec<u8> = pending.drain(..n).collect();
    received.extend_from_slice(&bytes);
    Ok(bytes)
}

fn show(bytes: &[u8]) -> String {
    // A failure message stays readable when a line is megabytes long.
    const SHOWN: usize = 300;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]).into_owned();
    match bytes.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{text}… ({more} more bytes)"),
        _ => text,
    }
}
