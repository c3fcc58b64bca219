//! The real binary in a pseudo-terminal, its screen read back through a
//! vt100 parser.
//!
//! The discipline of DESIGN §7: a fixed 100×30 window (set before the
//! binary starts, so it never sees another size),
//! `TERM=xterm-256color`, `LANG=C.UTF-8`, HOME and the XDG directories in a
//! temporary directory, one pty test at a time (a global lock), and no
//! fixed sleeps: every wait is for something to appear on the parsed
//! screen, with a deadline, and a failure prints the screen.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use expectrl::process::unix::WaitStatus;

pub const ROWS: u16 = 30;
pub const COLS: u16 = 100;

/// How long any one wait may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// One pty test at a time: they share the machine's two cores with the
/// rest of the suite, and a terminal test that is starved of time fails in
/// ways that say nothing.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What the terminal was asked to do besides drawing.
#[derive(Default)]
pub struct Requests {
    /// Window or icon titles set.
    pub titles: Vec<Vec<u8>>,
    /// Clipboard writes.
    pub clipboard: Vec<Vec<u8>>,
}

impl vt100::Callbacks for Requests {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(title.to_vec());
    }

    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.titles.push(name.to_vec());
    }

    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8], data: &[u8]) {
        self.clipboard.push(data.to_vec());
    }
}

struct Terminal {
    parser: vt100::Parser<Requests>,
    /// Every byte the program wrote.
    raw: Vec<u8>,
    /// The program closed the terminal.
    closed: bool,
}

type Shared = Arc<(Mutex<Terminal>, Condvar)>;

/// A running `smtpcli` in a pty.
pub struct Pty {
    session: expectrl::session::OsSession,
    writer: File,
    terminal: Shared,
    home: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// Starts `smtpcli ARGS` in a pty, with `env` on top of a clean
/// environment.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Pty {
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let home = tempfile::tempdir().expect("a temporary HOME");
    let bin = assert_cmd::cargo::cargo_bin("smtpcli");
    // The shell waits for a line before it becomes smtpcli: the pty library
    // sets its own default size after the fork, so the window is sized
    // after that, then the program is let go.
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("read -r go && exec \"$0\" \"$@\"")
        .arg(&bin)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CACHE_HOME", home.path().join("cache"));
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut session = expectrl::Session::spawn(cmd).expect("spawn smtpcli in a pty");
    session
        .get_process_mut()
        .set_window_size(COLS, ROWS)
        .expect("size the pty");
    let mut reader = session
        .get_process()
        .get_raw_handle()
        .expect("the pty's master side");
    let writer = session
        .get_process()
        .get_raw_handle()
        .expect("the pty's master side");
    let terminal: Shared = Arc::new((
        Mutex::new(Terminal {
            parser: vt100::Parser::new_with_callbacks(
                ROWS.try_into().unwrap(),
                COLS.try_into().unwrap(),
                0,
                Requests::default(),
            ),
            raw: Vec::new(),
            closed: false,
        }),
        Condvar::new(),
    ));
    let feed = terminal.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        loop {
            let n = loop {
                match reader.read(&mut buffer) {
                    // SIGCHLD from another test's child, not the end.
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // EIO once the program has exited.
                    other => break other.unwrap_or(0),
                }
            };
            let (lock, changed) = &*feed;
            let mut t = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if n == 0 {
                t.closed = true;
                changed.notify_all();
                return;
            }
            t.parser.process(&buffer[..n]);
            t.raw.extend_from_slice(&buffer[..n]);
            changed.notify_all();
        }
    });
    let mut pty = Pty {
        session,
        writer,
        terminal,
        home,
        _turn: turn,
    };
    pty.send("\n");
    pty
}

impl Pty {
    /// Types `text` (`\r` is Enter, `\x03` Ctrl-C, `\x04` Ctrl-D).
    pub fn send(&mut self, text: &str) {
        self.writer
            .write_all(text.as_bytes())
            .expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Waits until `check` holds for the screen; fails the test with the
    /// screen after the deadline.
    pub fn wait(&self, what: &str, check: impl Fn(&vt100::Screen) -> bool) {
        let (lock, changed) = &*self.terminal;
        let deadline = Instant::now() + DEADLINE;
        let mut t = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if check(t.parser.screen()) {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "timed out waiting for {what}; the screen:\n{}",
                    show(t.parser.screen())
                );
            }
            t = changed
                .wait_timeout(t, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits until `text` is on the screen.
    pub fn wait_text(&self, text: &str) {
        self.wait(&format!("{text:?}"), |s| s.contents().contains(text));
    }

    /// Waits until the cursor's row reads `row` (trailing blanks aside)
    /// with the cursor at its end: a prompt with `row` typed.
    pub fn wait_prompt(&self, row: &str) {
        self.wait(&format!("the prompt {row:?}"), |s| {
            let (r, c) = s.cursor_position();
            let text = row_text(s, r);
            text == row.trim_end() && usize::from(c) == row.chars().count()
        });
    }

    /// Waits for the `closed` prompt (after a `QUIT`, the session stays)
    /// and leaves with Ctrl-D.
    pub fn leave_after_quit(&mut self) {
        self.wait("the closed prompt", |s| {
            let (r, c) = s.cursor_position();
            let text = row_text(s, r);
            text.ends_with(" closed>") && usize::from(c) == text.chars().count() + 1
        });
        self.send("\x04");
    }

    /// The screen as text, one line per row.
    pub fn text(&self) -> String {
        self.with_screen(show)
    }

    /// Everything written to the terminal so far as text, escape sequences
    /// left out: what scrolled off the screen too.
    pub fn written(&self) -> String {
        let raw = String::from_utf8_lossy(&self.raw()).into_owned();
        let mut out = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\x1b' {
                out.push(c);
                continue;
            }
            // CSI: ESC [ parameters, then a final byte in @..~.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        }
        out
    }

    /// Runs `f` on the screen as it is now.
    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        let (lock, _) = &*self.terminal;
        let t = lock.lock().unwrap_or_else(PoisonError::into_inner);
        f(t.parser.screen())
    }

    /// Everything written to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        let (lock, _) = &*self.terminal;
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .raw
            .clone()
    }

    /// Titles and clipboard writes the program asked for.
    pub fn requests(&self) -> (usize, usize) {
        let (lock, _) = &*self.terminal;
        let t = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let r = t.parser.callbacks();
        (r.titles.len(), r.clipboard.len())
    }

    /// Waits until the terminal does not echo what is typed (a password
    /// prompt has turned echo off), so typing a secret cannot race it. The
    /// master side of a pty reports the slave's settings.
    pub fn wait_echo_off(&self) {
        use nix::sys::termios::{LocalFlags, tcgetattr};
        let deadline = Instant::now() + DEADLINE;
        loop {
            let echo = tcgetattr(&self.writer)
                .map(|t| t.local_flags.contains(LocalFlags::ECHO))
                .unwrap_or(false);
            if !echo {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "echo stayed on:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The history file under the temporary XDG state directory.
    pub fn history_file(&self) -> PathBuf {
        self.home.path().join("state/smtpcli/history")
    }

    /// Waits for the program to exit; its exit code.
    pub fn exit_code(&mut self) -> i32 {
        self.wait_closed();
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.session.get_process().status() {
                Ok(WaitStatus::Exited(_, code)) => return code,
                Ok(WaitStatus::Signaled(_, signal, _)) => panic!("killed by {signal:?}"),
                _ if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => panic!("no exit: {other:?}\n{}", self.text()),
            }
        }
    }

    fn wait_closed(&self) {
        let (lock, changed) = &*self.terminal;
        let deadline = Instant::now() + DEADLINE;
        let mut t = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !t.closed {
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "the program did not exit; the screen:\n{}",
                    show(t.parser.screen())
                );
            }
            t = changed
                .wait_timeout(t, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// One row of the screen, trailing blanks removed.
pub fn row_text(screen: &vt100::Screen, row: u16) -> String {
    screen
        .rows(0, COLS)
        .nth(usize::from(row))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// The screen's rows, trailing blank rows removed.
pub fn rows(screen: &vt100::Screen) -> Vec<String> {
    let mut rows: Vec<String> = (0..ROWS).map(|r| row_text(screen, r)).collect();
    while rows.last().is_some_and(String::is_empty) {
        rows.pop();
    }
    rows
}

/// The row holding `text`, first from the top.
pub fn find_row(screen: &vt100::Screen, text: &str) -> Option<u16> {
    (0..ROWS).find(|&r| row_text(screen, r).contains(text))
}

fn show(screen: &vt100::Screen) -> String {
    rows(screen)
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{i:2}|{r}\n"))
        .collect()
}
