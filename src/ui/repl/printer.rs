//! The one way out to the terminal while the REPL runs.
//!
//! Output comes from the engine's side (replies, notes, one block per event)
//! and from the readline thread (erasing a prompt line once it was sent).
//! All of it goes, in order, through one [`Screen`] queue to a printer
//! thread, which hands each block to rustyline's external printer: with a
//! prompt up, rustyline clears the prompt, prints the block above it and
//! redraws the half-typed line; with no prompt up, the block goes straight
//! to the terminal. The printer may block (rustyline holds external output
//! back while it lists completions or searches history); the queue never
//! blocks its producers, so the engine never waits on the UI. It is capped
//! in bytes: what would overflow it is counted and reported, not kept.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Output held for the printer at most.
const MAX_QUEUED: usize = 4 * 1024 * 1024;

/// A handle for putting text on the screen, in order. Cheap to clone.
#[derive(Clone)]
pub(super) struct Screen {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    blocks: VecDeque<String>,
    bytes: usize,
    /// Bytes that did not fit into the queue since the last report.
    dropped: usize,
    /// A block is being printed right now.
    printing: bool,
    /// No more blocks will come.
    closed: bool,
}

impl Screen {
    /// Queues `text` for the screen. Never waits for the terminal.
    pub(super) fn print(&self, text: String) {
        if text.is_empty() {
            return;
        }
        let mut queue = self.lock();
        if queue.closed {
            return;
        }
        if queue.bytes + text.len() > MAX_QUEUED {
            queue.dropped += text.len();
            return;
        }
        queue.bytes += text.len();
        queue.blocks.push_back(text);
        self.shared.changed.notify_all();
    }

    /// Waits until everything queued is on the screen, or until `limit`
    /// passed: a printer still busy by then is held by rustyline (a block
    /// handed over as the last prompt ended waits for the next prompt to
    /// show it), and waiting longer would wait for ever.
    pub(super) fn wait_idle(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut queue = self.lock();
        while !queue.blocks.is_empty() || queue.printing {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            queue = self
                .shared
                .changed
                .wait_timeout(queue, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        self.shared
            .changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The next block to print, or `None` once the queue is closed and
    /// empty.
    fn next_block(&self) -> Option<String> {
        let mut queue = self.lock();
        loop {
            if let Some(mut block) = queue.blocks.pop_front() {
                queue.bytes -= block.len();
                queue.printing = true;
                if queue.blocks.is_empty() && queue.dropped > 0 {
                    let dropped = std::mem::take(&mut queue.dropped);
                    block.push_str(&format!(
                        "# warning: {dropped} bytes of output were dropped while the prompt was busy\n"
                    ));
                }
                return Some(block);
            }
            if queue.closed {
                return None;
            }
            queue = self.wait(queue);
        }
    }

    fn printed(&self) {
        self.lock().printing = false;
        self.shared.changed.notify_all();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.shared.changed.notify_all();
    }
}

/// The printer thread.
pub(super) struct Printer {
    screen: Screen,
    thread: Option<JoinHandle<()>>,
}

impl Printer {
    /// Starts the thread; `print` puts one block on the terminal (and may
    /// block while rustyline is busy).
    pub(super) fn start(mut print: impl FnMut(String) + Send + 'static) -> Printer {
        let screen = Screen {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                changed: Condvar::new(),
            }),
        };
        let queue = screen.clone();
        let thread = std::thread::Builder::new()
            .name("smtpcli-printer".into())
            .spawn(move || {
                while let Some(block) = queue.next_block() {
                    print(block);
                    queue.printed();
                }
            })
            .ok();
        Printer { screen, thread }
    }

    /// A handle for queueing output.
    pub(super) fn screen(&self) -> Screen {
        self.screen.clone()
    }

    /// Prints what is queued, then stops the thread.
    pub(super) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.screen.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An [`io::Write`] for the renderer: collects what is written and queues
/// it on the screen as one block at each flush (the renderer flushes once
/// per event, so a whole reply is one block).
pub(super) struct ScreenWriter {
    screen: Screen,
    buffer: Vec<u8>,
}

impl ScreenWriter {
    /// A writer onto `screen`.
    pub(super) fn new(screen: Screen) -> Self {
        ScreenWriter {
            screen,
            buffer: Vec::new(),
        }
    }
}

impl io::Write for ScreenWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let bytes = std::mem::take(&mut self.buffer);
            self.screen
                .print(String::from_utf8_lossy(&bytes).into_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::mpsc;

    #[test]
    fn blocks_arrive_in_order_and_whole() {
        let (tx, rx) = mpsc::channel();
        let printer = Printer::start(move |block| {
            let _ = tx.send(block);
        });
        let mut writer = ScreenWriter::new(printer.screen());
        write!(writer, "<< 250-first\r\n").unwrap();
        write!(writer, "<< 250 second\r\n").unwrap();
        writer.flush().unwrap();
        printer.screen().print("third\n".into());
        printer.screen().wait_idle(Duration::from_secs(10));
        printer.finish();
        let got: Vec<String> = rx.iter().collect();
        assert_eq!(got, ["<< 250-first\r\n<< 250 second\r\n", "third\n"]);
    }

    #[test]
    fn waiting_for_a_stuck_printer_ends() {
        let (release, stuck) = mpsc::channel::<()>();
        let printer = Printer::start(move |_| {
            let _ = stuck.recv();
        });
        printer.screen().print("held\n".into());
        let started = Instant::now();
        printer.screen().wait_idle(Duration::from_millis(50));
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(release);
        printer.finish();
    }

    #[test]
    fn a_stuck_printer_never_blocks_the_producer() {
        let (release, stuck) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel();
        let printer = Printer::start(move |block| {
            let _ = stuck.recv();
            let _ = tx.send(block);
        });
        let screen = printer.screen();
        let big = "x".repeat(MAX_QUEUED / 2);
        for _ in 0..5 {
            screen.print(big.clone());
        }
        drop(release);
        printer.finish();
        let got: Vec<String> = rx.iter().collect();
        assert!(got.len() < 5, "{}", got.len());
        assert!(
            got.last().unwrap().contains("bytes of output were dropped"),
            "{:?}",
            got.last().map(|b| &b[b.len().saturating_sub(80)..])
        );
    }
}
