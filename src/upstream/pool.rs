//! The kept-alive upstream connections of one http module, and the response body that carries
//! its connection along. A connection is driven by the scrape that uses it: the scrape's own
//! task polls it while waiting for the response and while the body is read or streamed.
//!
//! Why not hyper-util's pooled client: it runs every connection as a task of its own and passes
//! each piece of a body to the scrape's task over a channel, so one proxied scrape wakes two
//! tasks per piece, mostly on two threads. Driving the connection in the scrape's task made a
//! 57 KB pass-through scrape cost about a quarter less CPU (bench/README.md, "Results").
//!
//! The pool also bounds the connections open to the upstream, idle or in use: each connection
//! holds one of the module's `max_open` permits for its whole life. A scrape that finds no idle
//! connection and no permit waits (under its caller's deadline) for whichever comes first: a
//! connection given back, or a permit freed by a connection that closed. So a burst of clients
//! never turns into a burst of connects, and a fragile exporter sees at most `max_open`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// What a connection runs over: TCP, TLS over TCP, or a unix socket.
pub trait UpstreamIo: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static {}
impl<T: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static> UpstreamIo for T {}

type Io = Box<dyn UpstreamIo>;

/// One HTTP/1.1 connection to the upstream.
pub(crate) struct Connection {
    sender: http1::SendRequest<Empty<Bytes>>,
    driver: http1::Connection<Io, Empty<Bytes>>,
    /// The driver has completed: the connection is closed and must not be polled again.
    ended: bool,
    /// Its place among the pool's open connections, given back when it is dropped.
    room: Room,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("ended", &self.ended).finish()
    }
}

impl Connection {
    /// Starts HTTP/1.1 on a connected stream, in the place `room` holds.
    pub(crate) async fn handshake(io: impl UpstreamIo, room: Room) -> Result<Connection, hyper::Error> {
        let (sender, driver) = http1::Builder::new().handshake(Box::new(io) as Io).await?;
        Ok(Connection { sender, driver, ended: false, room })
    }

    /// Closes the connection, keeping its place for a new one.
    pub(crate) fn close(self) -> Room {
        self.room
    }

    /// Does the connection's pending work: writes the request, reads what has arrived.
    fn drive(&mut self, cx: &mut Context<'_>) {
        if !self.ended && Pin::new(&mut self.driver).poll(cx).is_ready() {
            // Closed (by either side, or on an error the response or body reports).
            self.ended = true;
        }
    }

    /// Whether it can take a request now; polls with a waker that is never woken, so it
    /// never waits.
    fn ready_now(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.drive(&mut cx);
        !self.ended && matches!(self.sender.poll_ready(&mut cx), Poll::Ready(Ok(())))
    }

    /// Sends `req` and waits for the response head.
    pub(crate) async fn send(
        &mut self,
        req: Request<Empty<Bytes>>,
    ) -> Result<Response<Incoming>, hyper::Error> {
        let mut response = std::pin::pin!(self.sender.send_request(req));
        std::future::poll_fn(|cx| {
            self.drive(cx);
            // Once the connection has ended, the response future has its answer (hyper fails
            // every request still queued), so this never waits on a closed connection.
            response.as_mut().poll(cx)
        })
        .await
    }
}

/// How many connections a pool opens and keeps, and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    /// Most connections open at once, idle or in use.
    pub(crate) max_open: usize,
    /// Most idle connections kept.
    pub(crate) max_idle: usize,
    /// How long one may stay idle before it is closed instead of reused.
    pub(crate) idle_timeout: Duration,
}

/// A place among a pool's open connections: held by a connection (or by a scrape about to
/// open one) and freed when it is dropped.
#[derive(Debug)]
pub(crate) struct Room(#[expect(dead_code, reason = "held for its Drop")] OwnedSemaphorePermit);

/// What a scrape gets from [`Pool::checkout`].
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "moved once, to the caller; boxing would cost an allocation per scrape"
)]
pub(crate) enum Checkout {
    /// A kept-alive connection, ready for a request.
    Idle(Connection),
    /// Room to open a new connection.
    Room(Room),
}

/// The connections of one module: the idle ones (most recently used last) and the permits
/// that bound how many are open.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Mutex<Vec<(Connection, Instant)>>,
    open: Arc<Semaphore>,
    /// Woken when a connection is given back to `idle`.
    returned: Notify,
    limits: PoolLimits,
}

impl Pool {
    pub(crate) fn new(limits: PoolLimits) -> Pool {
        Pool {
            idle: Mutex::new(Vec::with_capacity(limits.max_idle.min(limits.max_open))),
            open: Arc::new(Semaphore::new(limits.max_open)),
            returned: Notify::new(),
            limits,
        }
    }

    /// An idle connection, or room to open one; waits (without limit: the caller bounds it
    /// with the scrape's deadline) until one of them is free. `on_wait` is called once, if
    /// the scrape has to wait, with a guard that lasts as long as the wait.
    pub(crate) async fn checkout<G>(&self, on_wait: impl FnOnce() -> G) -> Checkout {
        let mut on_wait = Some(on_wait);
        let mut _waiting = None;
        loop {
            // Registered before looking, so a connection given back in between is not missed.
            let returned = self.returned.notified();
            let mut returned = std::pin::pin!(returned);
            returned.as_mut().enable();
            if let Some(conn) = self.take() {
                return Checkout::Idle(conn);
            }
            if let Ok(permit) = self.open.clone().try_acquire_owned() {
                return Checkout::Room(Room(permit));
            }
            if let Some(f) = on_wait.take() {
                _waiting = Some(f());
            }
            tokio::select! {
                permit = self.open.clone().acquire_owned() => match permit {
                    Ok(permit) => return Checkout::Room(Room(permit)),
                    // Never closed; were it, waiting for a connection given back still works.
                    Err(_) => returned.await,
                },
                () = &mut returned => {}
            }
        }
    }

    /// The most recently used idle connection that is still open and ready for a request.
    /// Expired and closed ones met on the way are closed.
    pub(crate) fn take(&self) -> Option<Connection> {
        let now = Instant::now();
        loop {
            let (mut conn, since) = self.lock().pop()?;
            if now.saturating_duration_since(since) <= self.limits.idle_timeout && conn.ready_now() {
                return Some(conn);
            }
        }
    }

    /// Keeps a connection whose last response was read to the end, if it can take another
    /// request; otherwise (or when the pool is full) closes it.
    fn put(&self, mut conn: Connection) {
        if !conn.ready_now() {
            return;
        }
        let now = Instant::now();
        let mut idle = self.lock();
        // Expired connections go here, so a module scraped rarely holds no stale sockets long.
        idle.retain(|(_, since)| now.saturating_duration_since(*since) <= self.limits.idle_timeout);
        if idle.len() >= self.limits.max_idle {
            idle.remove(0);
        }
        idle.push((conn, now));
        drop(idle);
        self.returned.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Connection, Instant)>> {
        // The lock is never held across anything that can panic halfway through a change.
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An upstream response body with the connection it arrives on: reading the body drives the
/// connection, and reading it to the end returns the connection to its pool. Dropped before the
/// end, it closes the connection.
#[derive(Debug)]
pub struct UpstreamBody {
    body: Incoming,
    conn: Option<(Connection, Arc<Pool>)>,
}

impl UpstreamBody {
    pub(crate) fn new(body: Incoming, conn: Connection, pool: Arc<Pool>) -> UpstreamBody {
        let mut body = UpstreamBody { body, conn: Some((conn, pool)) };
        // A body that is empty from the start (an answer to HEAD, a length of 0) is never
        // polled by the server sending it, so its end is noticed here.
        if http_body::Body::is_end_stream(&body.body) {
            body.release();
        }
        body
    }

    /// The body has been read to the end: the connection may take another request.
    fn release(&mut self) {
        if let Some((conn, pool)) = self.conn.take() {
            pool.put(conn);
        }
    }
}

impl http_body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if let Some((conn, _)) = &mut this.conn {
            conn.drive(cx);
        }
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        match &frame {
            // Where the length is known, the server sending this body stops polling after the
            // last piece, so the end is noticed there too.
            Poll::Ready(None) => this.release(),
            Poll::Ready(Some(Ok(_))) if this.body.is_end_stream() => this.release(),
            Poll::Ready(Some(Err(_))) => this.conn = None,
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
