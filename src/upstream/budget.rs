//! The memory budget for upstream bodies held in memory (for verification, or to be shared by
//! coalesced scrapes): one count of bytes for the whole process, so that what the proxy holds
//! does not grow with the number of clients. A scrape reserves room before it holds a body's
//! bytes (all of a declared Content-Length at once, else step by step as the body arrives).
//! Once the body is whole the room goes with its pieces, each piece giving its share back when
//! the last response that sends it has sent it (or is dropped), so what the budget counts is
//! what is still in memory. Beyond the budget, a scrape waits. A fetch may also wait, for a
//! short bounded time, until an earlier answer's pieces are all freed ([`Freed`]), so that a
//! module under constant load holds one large body, not one per generation of slow readers.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

use crate::telemetry::BudgetMetrics;

/// How long a body waits for room when its scrape has no deadline of its own.
pub const ROOM_WAIT_WITHOUT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// How much more room a body growing without a declared length reserves at a time, so that a
/// large body does not take the budget's lock for every piece.
const GROW_STEP: u64 = 256 << 10;

/// Why room could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoom {
    /// The body alone is larger than the whole budget.
    Never,
    /// The budget stayed full until the scrape's deadline.
    Deadline,
}

/// The process-wide budget.
#[derive(Debug)]
pub struct MemoryBudget {
    room: Arc<Semaphore>,
    total: u64,
    metrics: Arc<BudgetMetrics>,
}

/// Room reserved in the budget, given back when dropped.
#[derive(Debug)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
    bytes: u64,
    metrics: Arc<BudgetMetrics>,
}

impl MemoryBudget {
    /// A budget of `total` bytes, reported in `metrics`.
    pub fn new(total: u64, metrics: Arc<BudgetMetrics>) -> MemoryBudget {
        let total = total.min(Semaphore::MAX_PERMITS as u64);
        MemoryBudget { room: Arc::new(Semaphore::new(total as usize)), total, metrics }
    }

    /// No room yet.
    pub fn nothing(&self) -> Held {
        Held { permit: None, bytes: 0, metrics: self.metrics.clone() }
    }

    /// Makes `held` cover at least `bytes`, waiting for room until `deadline`. `step` allows
    /// reserving a little more than asked (up to `limit`), for a body that keeps growing.
    pub async fn grow(
        &self,
        held: &mut Held,
        bytes: u64,
        step: bool,
        limit: u64,
        deadline: Instant,
    ) -> Result<(), NoRoom> {
        if bytes <= held.bytes {
            return Ok(());
        }
        if bytes > self.total {
            return Err(NoRoom::Never);
        }
        let target = if step { (bytes + GROW_STEP).min(limit.max(bytes)).min(self.total) } else { bytes };
        let more = u32::try_from(target - held.bytes).map_err(|_| NoRoom::Never)?;
        let permit = match self.room.clone().try_acquire_many_owned(more) {
            Ok(p) => p,
            Err(_) => {
                let _waiting = self.metrics.waiting.hold();
                tokio::time::timeout_at(deadline, self.room.clone().acquire_many_owned(more))
                    .await
                    .map_err(|_| NoRoom::Deadline)?
                    .map_err(|_| NoRoom::Never)?
            }
        };
        match &mut held.permit {
            Some(p) => p.merge(permit),
            None => held.permit = Some(permit),
        }
        held.bytes = target;
        self.metrics.held_bytes.add(u64::from(more));
        Ok(())
    }

    /// Waits until every piece `freed` watches is gone, or until `until`; counted meanwhile
    /// as a scrape waiting for memory. Whether the pieces were freed in time.
    pub async fn after(&self, freed: &Freed, until: Instant) -> bool {
        if freed.is_done() {
            return true;
        }
        let _waiting = self.metrics.waiting.hold();
        tokio::time::timeout_at(until, freed.0.closed()).await.is_ok()
    }
}

/// Tells when the last of some pieces is freed: each watched piece keeps a share of one
/// receiver alive, so the sender here sees it closed once no piece is left.
#[derive(Debug)]
pub struct Freed(watch::Sender<()>);

impl Freed {
    /// Watches `pieces` (the same bytes, each now also keeping the watch alive).
    pub fn watch(pieces: Vec<Bytes>) -> (Vec<Bytes>, Freed) {
        let (tx, rx) = watch::channel(());
        let alive = Arc::new(rx);
        let pieces = pieces
            .into_iter()
            .map(|data| Bytes::from_owner(Watched { data, _alive: alive.clone() }))
            .collect();
        (pieces, Freed(tx))
    }

    /// Whether every watched piece is gone.
    pub fn is_done(&self) -> bool {
        self.0.is_closed()
    }
}

/// A piece that keeps its [`Freed`] watch open.
#[derive(Debug)]
struct Watched {
    data: Bytes,
    _alive: Arc<watch::Receiver<()>>,
}

impl AsRef<[u8]> for Watched {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Held {
    /// Hands the room over to the pieces it was reserved for: each piece keeps its own share,
    /// given back when the last reference to the piece is dropped; room reserved beyond them
    /// (a step not filled) goes back now.
    pub fn spread(mut self, pieces: Vec<Bytes>) -> Vec<Bytes> {
        pieces
            .into_iter()
            .map(|data| {
                let room = self.take(data.len() as u64);
                if room.bytes == 0 { data } else { Bytes::from_owner(Piece { data, _room: room }) }
            })
            .collect()
    }

    /// Up to `bytes` of this room, as room of its own.
    fn take(&mut self, bytes: u64) -> Held {
        let bytes = bytes.min(self.bytes);
        let permit = match (&mut self.permit, usize::try_from(bytes)) {
            (Some(p), Ok(n)) if n > 0 => p.split(n),
            _ => None,
        };
        let bytes = if permit.is_some() { bytes } else { 0 };
        self.bytes -= bytes;
        Held { permit, bytes, metrics: self.metrics.clone() }
    }
}

/// A piece of a body with its share of the room.
#[derive(Debug)]
struct Piece {
    data: Bytes,
    _room: Held,
}

impl AsRef<[u8]> for Piece {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.metrics.held_bytes.sub(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn budget(total: u64) -> MemoryBudget {
        MemoryBudget::new(total, Arc::default())
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(50)
    }

    #[tokio::test]
    async fn room_is_counted_and_given_back() {
        let b = budget(1000);
        let mut a = b.nothing();
        b.grow(&mut a, 600, false, 1000, soon()).await.expect("room");
        assert_eq!(b.metrics.held_bytes.get(), 600);
        let mut c = b.nothing();
        assert_eq!(b.grow(&mut c, 600, false, 1000, soon()).await, Err(NoRoom::Deadline));
        assert_eq!(b.metrics.held_bytes.get(), 600, "a failed wait holds nothing");
        drop(a);
        assert_eq!(b.metrics.held_bytes.get(), 0);
        b.grow(&mut c, 600, false, 1000, soon()).await.expect("room once the first is gone");
        assert_eq!(b.grow(&mut c, 1001, false, 1000, soon()).await, Err(NoRoom::Never));
    }

    #[tokio::test]
    async fn a_growing_body_reserves_in_steps_within_its_limit() {
        let b = budget(10 << 20);
        let mut h = b.nothing();
        b.grow(&mut h, 10, true, 1 << 20, soon()).await.expect("room");
        assert_eq!(b.metrics.held_bytes.get(), 10 + GROW_STEP);
        b.grow(&mut h, 20, true, 1 << 20, soon()).await.expect("covered already");
        assert_eq!(b.metrics.held_bytes.get(), 10 + GROW_STEP);
        b.grow(&mut h, (1 << 20) - 5, true, 1 << 20, soon()).await.expect("room");
        assert_eq!(b.metrics.held_bytes.get(), 1 << 20, "never more than the body limit");
    }

    #[tokio::test]
    async fn spread_room_goes_back_piece_by_piece() {
        let b = budget(1000);
        let mut h = b.nothing();
        b.grow(&mut h, 700, false, 1000, soon()).await.expect("room");
        let pieces = vec![Bytes::from(vec![b'a'; 200]), Bytes::from(vec![b'b'; 300])];
        let mut pieces = h.spread(pieces);
        assert_eq!(b.metrics.held_bytes.get(), 500, "the 200 bytes reserved beyond the pieces are back");
        assert_eq!(b.room.available_permits(), 500);
        assert_eq!(&pieces[1][..3], b"bbb", "the pieces are the same bytes");
        let shared = pieces[0].clone();
        pieces.remove(0);
        assert_eq!(b.metrics.held_bytes.get(), 500, "a piece still referenced keeps its room");
        drop(shared);
        assert_eq!(b.metrics.held_bytes.get(), 300);
        assert_eq!(b.room.available_permits(), 700);
        drop(pieces);
        assert_eq!(b.metrics.held_bytes.get(), 0);
        assert_eq!(b.room.available_permits(), 1000);
    }

    #[tokio::test]
    async fn a_waiter_gets_room_when_it_is_given_back() {
        let b = Arc::new(budget(1000));
        let mut first = b.nothing();
        b.grow(&mut first, 1000, false, 1000, soon()).await.expect("room");
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move {
                let mut h = b.nothing();
                let far = Instant::now() + Duration::from_secs(5);
                b.grow(&mut h, 500, false, 1000, far).await.map(|()| h.bytes)
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(b.metrics.waiting.get(), 1);
        drop(first);
        assert_eq!(waiter.await.expect("task"), Ok(500));
        assert_eq!(b.metrics.waiting.get(), 0);
    }
}
