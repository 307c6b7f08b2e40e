//! What a debug scrape (`&debug=true`) records as it goes: the request sent upstream, when the
//! connection and the first byte came, the answer's head and body, a command's exit and
//! standard error, a file's path. Only recorded when a scrape carries a trace; the report is
//! worded by `routes/debug.rs`. Secrets are removed there, from what is recorded here.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use tokio::time::Instant;

/// The body bytes a trace keeps for the verdict, at most (the body limit bounds them anyway).
pub const MAX_TRACED_BODY_BYTES: usize = 64 << 20;

/// What was seen of one debug scrape.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// What the module reached: a URL, a socket, a container's address, a command, a file.
    pub upstream: Option<String>,
    /// The request sent upstream: method, path with query, headers.
    pub request: Option<(Method, String, HeaderMap)>,
    /// Whether a kept-alive connection was reused.
    pub reused: Option<bool>,
    /// Since the start: connected, first byte of the answer, answer complete.
    pub connected: Option<Duration>,
    /// Since the start: the answer's head arrived.
    pub first_byte: Option<Duration>,
    /// Since the start: the whole answer was read.
    pub complete: Option<Duration>,
    /// The answer's status and headers.
    pub response: Option<(u16, HeaderMap)>,
    /// The body as it arrived (pieces are reference-counted, not copied).
    pub body: Vec<Bytes>,
    /// Body bytes seen, kept or not.
    pub body_len: u64,
    /// How a command ended, the start of its standard error, and whether it succeeded.
    pub exit: Option<(String, String, bool)>,
}

/// A debug scrape's record, filled by the module's runner.
#[derive(Debug)]
pub struct Trace {
    start: Instant,
    seen: Mutex<Seen>,
}

impl Default for Trace {
    fn default() -> Trace {
        Trace { start: Instant::now(), seen: Mutex::default() }
    }
}

impl Trace {
    fn with(&self, f: impl FnOnce(&mut Seen, Duration)) {
        let elapsed = self.start.elapsed();
        f(&mut self.seen.lock().unwrap_or_else(PoisonError::into_inner), elapsed);
    }

    /// What the module reached.
    pub fn upstream(&self, what: String) {
        self.with(|s, _| s.upstream = Some(what));
    }

    /// The request sent upstream.
    pub fn request(&self, method: &Method, uri: String, headers: &HeaderMap) {
        self.with(|s, _| s.request = Some((method.clone(), uri, headers.clone())));
    }

    /// A connection is ready (`reused`: a kept-alive one).
    pub fn connected(&self, reused: bool) {
        self.with(|s, t| {
            s.reused = Some(reused);
            s.connected = Some(t);
        });
    }

    /// The answer's head arrived.
    pub fn response(&self, status: u16, headers: &HeaderMap) {
        self.with(|s, t| {
            s.first_byte = Some(t);
            s.response = Some((status, headers.clone()));
        });
    }

    /// A piece of the answer's body.
    pub fn piece(&self, data: &Bytes) {
        self.with(|s, _| {
            s.body_len += data.len() as u64;
            let kept: usize = s.body.iter().map(Bytes::len).sum();
            if kept + data.len() <= MAX_TRACED_BODY_BYTES {
                s.body.push(data.clone());
            }
        });
    }

    /// The answer has been read whole.
    pub fn complete(&self) {
        self.with(|s, t| s.complete = Some(t));
    }

    /// A command ran: how it ended, the start of its standard error, whether it succeeded.
    pub fn exited(&self, status: String, stderr: String, success: bool) {
        self.with(|s, t| {
            s.complete = Some(t);
            s.exit = Some((status, stderr, success));
        });
    }

    /// What was seen so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
