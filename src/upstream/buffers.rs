//! The buffers a held body's pieces are copied into, kept for the next body instead of freed.
//!
//! Why: hyper reads an upstream body into buffers of its own and hands out pieces of them. A
//! piece that is sent at once is dropped at once, and hyper reads into the same memory again;
//! a piece that is held (to verify the body first, or to share it) makes hyper take fresh
//! memory for the next read. Each of those is above glibc's mmap threshold (src/malloc.rs), so
//! every held piece was mapped, faulted in page by page (the kernel zeroing each page) and
//! unmapped again, on every scrape: about a fifth of a verified 9.6 MB scrape's CPU
//! (bench/README.md, "CPU per scrape"). Copying each piece into a buffer that is kept warm
//! costs one `memcpy` of memory already in the cache instead.
//!
//! Bounded: at most [`KEEP_MAX_BYTES`] (and never more than a quarter of the memory budget) of
//! buffers are kept, and a buffer unused for [`KEEP_IDLE`] is freed, so memory taken by a
//! burst goes back to the system once the burst is over. A kept buffer is not counted as held
//! (`expexp_held_body_bytes` counts bodies); what a body holds is counted as before.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

/// The size of one buffer: above glibc's mmap threshold, so that one freed is given back to the
/// system at once rather than left in an arena.
pub const BUFFER_BYTES: usize = 128 << 10;

/// The most bytes of buffers kept for reuse (at most a quarter of the memory budget).
pub const KEEP_MAX_BYTES: u64 = 16 << 20;

/// How long a kept buffer may go unused before it is freed.
pub const KEEP_IDLE: Duration = Duration::from_secs(5);

/// The kept buffers of the whole process.
#[derive(Debug)]
pub struct Buffers {
    kept: Arc<Mutex<Kept>>,
    /// The most buffers kept.
    max: usize,
    /// How long a kept buffer may go unused ([`KEEP_IDLE`]).
    idle: Duration,
}

#[derive(Debug, Default)]
struct Kept {
    /// Unused buffers (empty, at their full capacity), with when each was given back; the most
    /// recently given back last.
    free: Vec<(Vec<u8>, Instant)>,
    /// Whether a task is running that frees buffers unused for [`KEEP_IDLE`].
    sweeping: bool,
}

impl Buffers {
    /// Buffers for a process whose memory budget is `budget` bytes.
    pub fn new(budget: u64) -> Buffers {
        let max = KEEP_MAX_BYTES.min(budget / 4) / BUFFER_BYTES as u64;
        Buffers { kept: Arc::default(), max: usize::try_from(max).unwrap_or(usize::MAX), idle: KEEP_IDLE }
    }

    /// An empty buffer of [`BUFFER_BYTES`] capacity: a kept one if any.
    pub fn take(&self) -> Vec<u8> {
        let kept = lock(&self.kept).free.pop();
        kept.map_or_else(|| Vec::with_capacity(BUFFER_BYTES), |(buf, _)| buf)
    }

    /// `buf` (filled) as a piece of a body; its memory comes back here when the piece's last
    /// reference is dropped.
    pub fn piece(&self, buf: Vec<u8>) -> Bytes {
        if self.max == 0 {
            return Bytes::from(buf);
        }
        Bytes::from_owner(Pooled { buf, home: Arc::downgrade(&self.kept), max: self.max, idle: self.idle })
    }

    #[cfg(test)]
    fn kept(&self) -> usize {
        lock(&self.kept).free.len()
    }
}

fn lock(kept: &Mutex<Kept>) -> std::sync::MutexGuard<'_, Kept> {
    // Nothing that can panic runs under the lock.
    kept.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A filled buffer, given back to its [`Buffers`] when dropped.
#[derive(Debug)]
struct Pooled {
    buf: Vec<u8>,
    home: Weak<Mutex<Kept>>,
    max: usize,
    idle: Duration,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(home) = self.home.upgrade() else { return };
        let mut buf = std::mem::take(&mut self.buf);
        if buf.capacity() != BUFFER_BYTES {
            return;
        }
        buf.clear();
        let mut kept = lock(&home);
        if kept.free.len() >= self.max {
            return;
        }
        kept.free.push((buf, Instant::now()));
        if !kept.sweeping
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            kept.sweeping = true;
            runtime.spawn(sweep(Arc::downgrade(&home), self.idle));
        }
    }
}

/// Frees kept buffers unused for `idle`, until none is kept (or the buffers are gone).
async fn sweep(home: Weak<Mutex<Kept>>, idle: Duration) {
    loop {
        tokio::time::sleep(idle).await;
        let Some(home) = home.upgrade() else { return };
        let mut kept = lock(&home);
        let now = Instant::now();
        // The oldest first: those given back longest ago are at the front.
        let stale = kept.free.iter().take_while(|(_, since)| now.duration_since(*since) >= idle).count();
        let freed: Vec<_> = kept.free.drain(..stale).collect();
        if kept.free.is_empty() {
            kept.sweeping = false;
        }
        let done = !kept.sweeping;
        drop(kept);
        drop(freed);
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(buffers: &Buffers, byte: u8) -> Bytes {
        let mut buf = buffers.take();
        buf.resize(1000, byte);
        buffers.piece(buf)
    }

    #[tokio::test]
    async fn a_buffer_comes_back_when_its_last_piece_is_dropped_and_goes_when_unused() {
        let idle = Duration::from_millis(200);
        let buffers = Buffers { idle, ..Buffers::new(256 << 20) };
        let piece = filled(&buffers, b'a');
        let shared = piece.slice(10..20);
        drop(piece);
        assert_eq!(buffers.kept(), 0, "a slice of it is still alive");
        assert_eq!(&shared[..], &[b'a'; 10]);
        drop(shared);
        assert_eq!(buffers.kept(), 1);
        let again = buffers.take();
        assert!(again.is_empty() && again.capacity() == BUFFER_BYTES, "kept empty, at its full size");
        drop(buffers.piece(again));
        assert_eq!(buffers.kept(), 1);
        assert!(lock(&buffers.kept).sweeping, "a sweep is due");
        let mut waited = Duration::ZERO;
        while buffers.kept() > 0 && waited < idle * 50 {
            tokio::time::sleep(idle / 4).await;
            waited += idle / 4;
        }
        assert_eq!(buffers.kept(), 0, "unused for longer than the idle time, freed");
        assert!(waited >= idle, "not before it was unused for the idle time");
        assert!(!lock(&buffers.kept).sweeping, "the sweep ends once nothing is kept");
    }

    #[tokio::test]
    async fn no_more_than_the_bound_is_kept() {
        let buffers = Buffers::new(8 * BUFFER_BYTES as u64);
        assert_eq!(buffers.max, 2, "a quarter of the budget");
        let pieces: Vec<Bytes> = (0..5).map(|i| filled(&buffers, i)).collect();
        drop(pieces);
        assert_eq!(buffers.kept(), 2);
        let none = Buffers::new(BUFFER_BYTES as u64);
        drop(filled(&none, 1));
        assert_eq!(none.kept(), 0, "a budget too small to keep a buffer keeps none");
        assert_eq!(Buffers::new(u64::MAX).max, (KEEP_MAX_BYTES / BUFFER_BYTES as u64) as usize);
    }
}
