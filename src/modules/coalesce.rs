//! Identical scrapes in flight share one fetch: the first starts it as a task of its own,
//! the others join it, and each waits for the one answer under its own deadline. Because the
//! fetch is not any waiter's future, a waiter that leaves (its client gone, its deadline
//! passed) takes nothing from the others; the fetch is cancelled only when every waiter has
//! left. The answer is held once: each waiter's body sends the same reference-counted pieces,
//! and the answer lets go of them as soon as every waiter has its body, so each piece is freed
//! when the slowest waiter has sent it.
//!
//! A large answer also holds back the next fetch of the same scrape: that fetch waits, for a
//! bounded time ([`super::deadline::FOLLOW_MAX_WAIT`]), until the last piece of the answer before it
//! is freed. Without that, under constant load each new fetch overlaps the clients still reading
//! the last answer, and memory grows with the number of generations in flight (one body per
//! ~16 clients on loopback); with it, a module holds one large body at a time. Scrapes that
//! arrive meanwhile join the waiting fetch. The wait is bounded because a client may read
//! slowly, or stop reading: then the next fetch goes ahead after the bound, as it did before.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use http::{HeaderValue, Method, Response, header};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::fetch::Whole;
use crate::body::Body;
use crate::scrape::deadline::{follow_wait, in_time};
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::upstream::budget::{Freed, MemoryBudget};

/// An answer at least this large makes the next fetch of the same scrape wait until it is
/// sent. A smaller one costs less memory than the wait would cost time.
pub(crate) const FOLLOW_MIN_BYTES: u64 = 1 << 20;

/// What makes two scrapes of one module the same: everything of the request that reaches the
/// upstream (or the command) and can change its answer. The client's address
/// (`X-Forwarded-For`) and Prometheus's scrape timeout header are not part of it: the fetch
/// carries the first scrape's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    head: bool,
    params: Vec<(String, String)>,
    /// Accept, Accept-Encoding, Host, and Authorization when it is forwarded.
    headers: [Option<HeaderValue>; 4],
}

impl Key {
    pub(crate) fn of(req: &ScrapeRequest<'_>) -> Key {
        let get = |name| req.headers.get(name).cloned();
        Key {
            head: req.method == Method::HEAD,
            params: req.params.to_vec(),
            headers: [
                get(header::ACCEPT),
                get(header::ACCEPT_ENCODING),
                req.host.cloned(),
                if req.forward_authorization { get(header::AUTHORIZATION) } else { None },
            ],
        }
    }
}

/// One fetch's answer, as every waiter gets it.
type Outcome = Result<Whole, Arc<ScrapeError>>;

/// One fetch in flight.
#[derive(Debug)]
struct Flight {
    outcome: watch::Receiver<Option<Arc<Outcome>>>,
    /// When the fetch gives up (the deadline of the scrape that started it).
    deadline: Option<Instant>,
    /// Scrapes waiting for it; counted under the [`Flights`] lock.
    waiters: AtomicUsize,
    task: Mutex<Option<AbortHandle>>,
}

/// The fetches in flight of one module, and the large answers still being sent.
#[derive(Debug)]
pub(crate) struct Flights {
    table: Mutex<Table>,
    /// Where a fetch waits for an earlier answer to be freed.
    budget: Arc<MemoryBudget>,
}

#[derive(Debug, Default)]
struct Table {
    flights: HashMap<Key, Arc<Flight>>,
    /// The last large answer of each scrape whose pieces may still be held (those freed are
    /// dropped at the next join, so this stays as small as the answers in memory).
    sending: HashMap<Key, Freed>,
}

/// A scrape's place among the waiters of one flight; leaving it (dropping it) cancels the
/// fetch only if no one else waits for it.
#[derive(Debug)]
pub(crate) struct Ticket {
    flights: Arc<Flights>,
    key: Key,
    flight: Arc<Flight>,
    /// Whether this scrape joined a fetch another one started.
    pub(crate) joined: bool,
}

impl Flights {
    /// No fetch in flight yet; waits for earlier answers counted in `budget`.
    pub(crate) fn new(budget: Arc<MemoryBudget>) -> Flights {
        Flights { table: Mutex::default(), budget }
    }

    /// Joins the fetch in flight for `key`, or starts `fetch` as a new one; `deadline` is the
    /// new fetch's. A new fetch first waits (boundedly) for the last large answer of `key` to
    /// be sent.
    pub(crate) fn join<F>(
        self: &Arc<Self>,
        key: Key,
        deadline: Option<Instant>,
        fetch: impl FnOnce() -> F,
    ) -> Ticket
    where
        F: Future<Output = Result<Whole, ScrapeError>> + Send + 'static,
    {
        let mut table = self.lock();
        if let Some(flight) = table.flights.get(&key) {
            flight.waiters.fetch_add(1, Ordering::Relaxed);
            return Ticket { flights: self.clone(), key, flight: flight.clone(), joined: true };
        }
        let last = table.sending.remove(&key);
        table.sending.retain(|_, freed| !freed.is_done());
        let (tx, rx) = watch::channel(None);
        let flight =
            Arc::new(Flight { outcome: rx, deadline, waiters: AtomicUsize::new(1), task: Mutex::new(None) });
        table.flights.insert(key.clone(), flight.clone());
        let fetch = fetch();
        let (flights, done_key, done) = (self.clone(), key.clone(), flight.clone());
        let task = tokio::spawn(async move {
            if let Some(last) = last {
                let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                flights.budget.after(&last, Instant::now() + follow_wait(left)).await;
            }
            let (outcome, freed) = match fetch.await {
                Ok(whole) => {
                    let (whole, freed) = watched(whole);
                    (Ok(whole), freed)
                }
                Err(e) => (Err(Arc::new(e)), None),
            };
            // Gone from the table before the answer is out, so no scrape joins a finished fetch.
            flights.finish(&done_key, &done, freed);
            let _ = tx.send(Some(Arc::new(outcome)));
        });
        *flight.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task.abort_handle());
        drop(table);
        Ticket { flights: self.clone(), key, flight, joined: false }
    }

    /// Takes a finished fetch out of the table, leaving the watch on its answer's pieces (if
    /// large) for the next fetch of the same scrape.
    fn finish(&self, key: &Key, flight: &Arc<Flight>, freed: Option<Freed>) {
        let mut table = self.lock();
        if table.flights.get(key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            table.flights.remove(key);
        }
        if let Some(freed) = freed {
            table.sending.insert(key.clone(), freed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Ticket {
    /// Whether the fetch gives up before `deadline` (None: never) would.
    pub(crate) fn ends_before(&self, deadline: Option<Instant>) -> bool {
        match (self.flight.deadline, deadline) {
            (Some(fetch), Some(mine)) => fetch < mine,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Waits for the fetch's answer until `deadline`: the same status, headers and bytes as
    /// every other waiter gets.
    pub(crate) async fn wait(
        &self,
        deadline: Option<Instant>,
        timeout: Option<std::time::Duration>,
    ) -> Result<Response<Body>, ScrapeError> {
        let mut outcome = self.flight.outcome.clone();
        let answered = async { outcome.wait_for(Option::is_some).await.ok().and_then(|o| o.clone()) };
        // A fetch that gives up no later than this scrape answers in time: its own failure
        // (counted and logged once, by the fetch) is this scrape's answer. Only a scrape that
        // joined a fetch with more time than it has keeps a timer of its own.
        let fetch_ends_first = match (self.flight.deadline, deadline) {
            (Some(fetch), Some(mine)) => fetch <= mine,
            (Some(_) | None, None) => true,
            (None, Some(_)) => false,
        };
        let own_deadline = deadline.filter(|_| !fetch_ends_first);
        let outcome = in_time(own_deadline, timeout, || async { Ok(answered.await) }).await?;
        match outcome.as_deref() {
            Some(Ok(whole)) => Ok(whole.share()),
            Some(Err(e)) => Err(ScrapeError::Shared(e.clone())),
            None => Err(ScrapeError::Lost),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut table = self.flights.lock();
        if self.flight.waiters.fetch_sub(1, Ordering::Relaxed) == 1 {
            // The last waiter left: no one wants the answer any more.
            if let Some(task) = self.flight.task.lock().unwrap_or_else(PoisonError::into_inner).take() {
                task.abort();
            }
            if table.flights.get(&self.key).is_some_and(|f| Arc::ptr_eq(f, &self.flight)) {
                table.flights.remove(&self.key);
            }
        }
    }
}

/// The answer as every waiter will get it; if it is large, its pieces watched, so that the next
/// fetch of the same scrape can wait until they are all freed.
fn watched(whole: Whole) -> (Whole, Option<Freed>) {
    if whole.len < FOLLOW_MIN_BYTES {
        return (whole, None);
    }
    let (pieces, freed) = Freed::watch(whole.pieces);
    (Whole { pieces, ..whole }, Some(freed))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};
    use http_body_util::BodyExt as _;

    use super::*;
    use crate::scrape::deadline::FOLLOW_MAX_WAIT;
    use crate::telemetry::BudgetMetrics;

    fn whole(pieces: Vec<Bytes>) -> Whole {
        let len = pieces.iter().map(|p| p.len() as u64).sum();
        Whole { status: StatusCode::OK, headers: HeaderMap::new(), pieces, len }
    }

    fn key() -> Key {
        Key { head: false, params: Vec::new(), headers: [None, None, None, None] }
    }

    fn flights() -> (Arc<Flights>, Arc<BudgetMetrics>) {
        let metrics = Arc::new(BudgetMetrics::default());
        (Arc::new(Flights::new(Arc::new(MemoryBudget::new(64 << 20, metrics.clone())))), metrics)
    }

    /// An answer of `len` bytes in two pieces, fetched through `flights`; the response is the
    /// one its only waiter got (not sent yet: its pieces are held).
    async fn answered(flights: &Arc<Flights>, len: usize) -> Response<Body> {
        let half = Bytes::from(vec![b'x'; len / 2]);
        let ticket = flights.join(key(), None, move || async move { Ok(whole(vec![half.clone(), half])) });
        ticket.wait(None, None).await.expect("answered")
    }

    /// Starts a fetch of the same scrape, giving up at `deadline`, that says when it started.
    fn next_fetch(
        flights: &Arc<Flights>,
        deadline: Option<Instant>,
    ) -> (Ticket, tokio::sync::oneshot::Receiver<std::time::Instant>) {
        let (started, when) = tokio::sync::oneshot::channel();
        let ticket = flights.join(key(), deadline, move || async move {
            let _ = started.send(std::time::Instant::now());
            Ok(whole(vec![Bytes::from_static(b"next")]))
        });
        (ticket, when)
    }

    #[tokio::test]
    async fn the_next_fetch_of_a_large_answer_waits_until_it_is_sent() {
        let (flights, metrics) = flights();
        let held = answered(&flights, FOLLOW_MIN_BYTES as usize).await;
        let (ticket, mut started) = next_fetch(&flights, None);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(started.try_recv().is_err(), "the fetch started while the last answer was held");
        assert_eq!(metrics.waiting.get(), 1, "counted as waiting for memory");
        let joiner = flights.join(key(), None, || async { Err(ScrapeError::Lost) });
        assert!(joiner.joined, "a scrape arriving meanwhile joins the waiting fetch");
        drop(held);
        let (a, b) = tokio::join!(ticket.wait(None, None), joiner.wait(None, None));
        assert_eq!(a.expect("answered").status(), 200);
        assert_eq!(b.expect("answered").status(), 200);
        assert!(started.try_recv().is_ok());
        assert_eq!(metrics.waiting.get(), 0);
    }

    #[tokio::test]
    async fn a_reader_that_never_finishes_delays_the_next_fetch_by_the_bound_only() {
        let (flights, _) = flights();
        let _held = answered(&flights, 2 * FOLLOW_MIN_BYTES as usize).await;
        let asked = std::time::Instant::now();
        let (ticket, started) = next_fetch(&flights, None);
        assert_eq!(ticket.wait(None, None).await.expect("answered").status(), 200);
        let waited = started.await.expect("started") - asked;
        assert!(waited >= FOLLOW_MAX_WAIT, "started after {waited:?}");
        assert!(waited < FOLLOW_MAX_WAIT * 5, "started after {waited:?}");
    }

    #[tokio::test]
    async fn a_fetch_waits_at_most_half_the_time_it_has() {
        let (flights, _) = flights();
        let _held = answered(&flights, 2 * FOLLOW_MIN_BYTES as usize).await;
        let asked = std::time::Instant::now();
        let deadline = Instant::now() + Duration::from_millis(400);
        let (ticket, when) = next_fetch(&flights, Some(deadline));
        assert_eq!(ticket.wait(Some(deadline), None).await.expect("in time").status(), 200);
        let waited = when.await.expect("started") - asked;
        assert!(waited >= Duration::from_millis(200) && waited < FOLLOW_MAX_WAIT, "started after {waited:?}");
    }

    #[tokio::test]
    async fn a_small_answer_or_one_already_sent_holds_back_nothing() {
        let (flights, metrics) = flights();
        let _small = answered(&flights, 1000).await;
        let (ticket, started) = next_fetch(&flights, None);
        drop(ticket.wait(None, None).await);
        assert!(started.await.is_ok());
        assert!(flights.lock().sending.is_empty(), "a small answer is not watched");

        drop(answered(&flights, FOLLOW_MIN_BYTES as usize).await);
        assert_eq!(flights.lock().sending.len(), 1);
        let (ticket, started) = next_fetch(&flights, None);
        drop(ticket.wait(None, None).await);
        assert!(started.await.is_ok());
        assert_eq!(metrics.waiting.get(), 0, "an answer already freed is not waited for");
        assert!(flights.lock().sending.is_empty(), "its watch is gone");
    }

    async fn first_piece(response: &mut Response<Body>) -> Bytes {
        let frame = response.body_mut().frame().await.expect("a piece").expect("no error");
        frame.into_data().expect("data")
    }

    /// Memory under many clients of one large page: a piece must go back once the slowest
    /// waiter has sent it, not when that waiter has sent the whole body.
    #[tokio::test]
    async fn each_piece_is_freed_once_every_waiter_has_sent_it() {
        let pieces: Vec<Bytes> = (0..3u8).map(|i| Bytes::from(vec![i; 1000])).collect();
        let kept = pieces.clone();
        let flights = flights().0;
        let (go, started) = tokio::sync::oneshot::channel::<()>();
        let leader = flights.join(key(), None, move || async move {
            let _ = started.await;
            Ok(whole(pieces))
        });
        let joiner = flights.join(key(), None, || async { Err(ScrapeError::Lost) });
        assert!(joiner.joined);
        go.send(()).expect("the fetch waits");
        let (a, b) = tokio::join!(leader.wait(None, None), joiner.wait(None, None));
        drop((leader, joiner));
        let (mut a, mut b) = (a.expect("answered"), b.expect("answered"));

        drop(first_piece(&mut a).await);
        assert!(!kept[0].is_unique(), "the other waiter has not sent the first piece yet");
        assert_eq!(first_piece(&mut b).await, kept[0]);
        assert!(kept[0].is_unique(), "sent by both waiters, the first piece is still held");
        assert!(!kept[1].is_unique() && !kept[2].is_unique());
        drop((a, b));
        assert!(kept.iter().all(Bytes::is_unique));
    }
}
