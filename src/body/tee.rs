//! A body still arriving, shared by the coalesced scrapes of a pass-through module: the fetch
//! pushes each piece as it is read, and each scrape's response sends the pieces in order,
//! waiting for the next when it has sent them all. A scrape that joins late starts from the
//! first piece. Once the fetch has ended and no scrape can join any more ([`Tee::close`]), each
//! reader takes its own references to the pieces it has not sent yet, and the tee lets go of
//! them, so each piece is freed once the slowest reader has sent it (as a held body's are).

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

/// The shared pieces.
#[derive(Debug, Default)]
pub struct Tee {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    pieces: Vec<Bytes>,
    /// How the body ended: `Err` with the failure's message.
    end: Option<Result<(), String>>,
    /// No reader can be added any more.
    closed: bool,
    /// Readers still reading from `pieces` (not yet on references of their own).
    readers: usize,
    wakers: Vec<Waker>,
}

impl Tee {
    /// An empty tee.
    pub fn new() -> Arc<Tee> {
        Arc::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing that can panic runs under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next piece, for every reader.
    pub fn push(&self, piece: Bytes) {
        let mut state = self.lock();
        state.pieces.push(piece);
        wake(&mut state);
    }

    /// The body is complete, or failed with `Err(message)`.
    pub fn end(&self, result: Result<(), String>) {
        let mut state = self.lock();
        state.end.get_or_insert(result);
        wake(&mut state);
    }

    /// No more readers: once the body has ended, each reader moves to references of its own.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        if state.readers == 0 {
            state.pieces = Vec::new();
        }
        wake(&mut state);
    }

    /// Counts a reader to come: until it has read (or [`Tee::leave`] says it never will),
    /// the pieces are kept for it.
    pub fn enroll(&self) {
        self.lock().readers += 1;
    }

    /// An enrolled reader that will not read.
    pub fn leave(&self) {
        let mut state = self.lock();
        state.readers -= 1;
        if state.readers == 0 && state.closed {
            state.pieces = Vec::new();
        }
    }

    /// The reader [`Tee::enroll`] counted, from the first piece.
    pub fn reader(self: &Arc<Self>) -> TeeReader {
        TeeReader { tee: Some(self.clone()), next: 0, own: Vec::new() }
    }
}

fn wake(state: &mut State) {
    for waker in state.wakers.drain(..) {
        waker.wake();
    }
}

/// One response's place in a [`Tee`].
#[derive(Debug)]
pub struct TeeReader {
    tee: Option<Arc<Tee>>,
    /// The index of the next piece to send from the tee.
    next: usize,
    /// The pieces left to send once on references of its own, the next last.
    own: Vec<Bytes>,
}

impl TeeReader {
    /// The next piece, the end (`None`), the body's failure, or `Pending` until the fetch has
    /// read more.
    pub fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, String>>> {
        if let Some(piece) = self.own.pop() {
            return Poll::Ready(Some(Ok(piece)));
        }
        let Some(tee) = &self.tee else { return Poll::Ready(None) };
        let mut state = tee.lock();
        if state.closed && matches!(state.end, Some(Ok(()))) {
            // Nothing more will come and no one else will start: keep what is left to send.
            self.own = state.pieces[self.next..].iter().rev().cloned().collect();
            state.readers -= 1;
            if state.readers == 0 {
                state.pieces = Vec::new();
            }
            drop(state);
            self.tee = None;
            return Poll::Ready(self.own.pop().map(Ok));
        }
        if let Some(piece) = state.pieces.get(self.next) {
            self.next += 1;
            return Poll::Ready(Some(Ok(piece.clone())));
        }
        match &state.end {
            Some(Ok(())) => {
                // All sent: nothing here is kept for this reader any more.
                drop(state);
                if let Some(tee) = self.tee.take() {
                    tee.leave();
                }
                Poll::Ready(None)
            }
            Some(Err(message)) => Poll::Ready(Some(Err(message.clone()))),
            None => {
                state.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Whether everything has been sent.
    pub fn is_end(&self) -> bool {
        self.own.is_empty() && self.tee.is_none()
    }
}

impl Drop for TeeReader {
    fn drop(&mut self) {
        if let Some(tee) = self.tee.take() {
            tee.leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(reader: &mut TeeReader) -> Poll<Option<Result<Bytes, String>>> {
        reader.poll_piece(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_late_reader_starts_from_the_first_piece_and_pieces_go_with_the_slowest() {
        let tee = Tee::new();
        tee.enroll();
        let mut early = tee.reader();
        assert!(poll(&mut early).is_pending());
        let (a, b) = (Bytes::from(vec![1; 10]), Bytes::from(vec![2; 10]));
        tee.push(a.clone());
        assert_eq!(poll(&mut early), Poll::Ready(Some(Ok(a.clone()))));
        tee.enroll();
        let mut late = tee.reader();
        tee.push(b.clone());
        tee.end(Ok(()));
        assert_eq!(poll(&mut early), Poll::Ready(Some(Ok(b.clone()))));
        assert_eq!(poll(&mut early), Poll::Ready(None), "the end, before the tee is closed");
        tee.close();
        assert!(!a.is_unique(), "the late reader has not sent the first piece");
        assert_eq!(poll(&mut late), Poll::Ready(Some(Ok(a.clone()))));
        assert!(a.is_unique(), "sent by both, the tee lets go of it");
        assert!(!b.is_unique());
        assert_eq!(poll(&mut late), Poll::Ready(Some(Ok(b.clone()))));
        assert_eq!(poll(&mut late), Poll::Ready(None));
        assert!(late.is_end());
        drop(early);
        assert!(b.is_unique());
    }

    #[test]
    fn a_failure_reaches_every_reader_and_a_dropped_reader_holds_nothing() {
        let tee = Tee::new();
        tee.enroll();
        tee.enroll();
        tee.enroll();
        let mut reader = tee.reader();
        let gone = tee.reader();
        tee.leave();
        let piece = Bytes::from(vec![3; 10]);
        tee.push(piece.clone());
        drop(gone);
        tee.end(Err("cut".into()));
        assert_eq!(poll(&mut reader), Poll::Ready(Some(Ok(piece.clone()))));
        assert_eq!(poll(&mut reader), Poll::Ready(Some(Err("cut".into()))));
        tee.close();
        assert!(!piece.is_unique(), "one reader left");
        drop(reader);
        assert!(piece.is_unique(), "no reader left, the tee holds nothing");
    }
}
