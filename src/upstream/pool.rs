//! The kept-alive upstream connections of one http module, and the response body that carries
//! its connection along. A connection is driven by the scrape that uses it: the scrape's own
//! task polls it while waiting for the response and while the body is read or streamed.
//!
//! Why not hyper-util's pooled client: it runs every connection as a task of its own and passes
//! each piece of a body to the scrape's task over a channel, so one proxied scrape wakes two
//! tasks per piece, mostly on two threads. Driving the connection in the scrape's task made a
//! 57 KB pass-through scrape cost about a quarter less CPU (bench/README.md, "Results").

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
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("ended", &self.ended).finish()
    }
}

impl Connection {
    /// Starts HTTP/1.1 on a connected stream.
    pub(crate) async fn handshake(io: impl UpstreamIo) -> Result<Connection, hyper::Error> {
        let (sender, driver) = http1::Builder::new().handshake(Box::new(io) as Io).await?;
        Ok(Connection { sender, driver, ended: false })
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

/// How many connections a pool keeps and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    /// Most idle connections kept.
    pub(crate) max_idle: usize,
    /// How long one may stay idle before it is closed instead of reused.
    pub(crate) idle_timeout: Duration,
}

/// The idle connections of one module, most recently used last.
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Mutex<Vec<(Connection, Instant)>>,
    limits: PoolLimits,
}

impl Pool {
    pub(crate) fn new(limits: PoolLimits) -> Pool {
        Pool { idle: Mutex::new(Vec::with_capacity(limits.max_idle)), limits }
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
