//! Listening: binds the addresses the flags name, accepts connections, serves HTTP/1.1 (with
//! keep-alive) and HTTP/2 on them, logs each request, and drains in-flight requests on
//! shutdown. No routing or policy lives here.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use http::{Request, Response};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};

use crate::app::App;
use crate::body::Body;
use crate::routes::{Conn, ScrapedModule};
use crate::settings::Limits;

/// The smallest request-head buffer hyper accepts.
const MIN_HEADER_BYTES: usize = 8192;
/// How long a client may take to complete the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests may run on after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Pause after a failed accept (out of file descriptors, say) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Why an address cannot be listened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address:?}: {cause}")]
pub struct ListenError {
    /// The address as given.
    pub address: String,
    /// Why.
    pub cause: String,
}

/// Binds `address` as Go's `net.Listen("tcp", address)` reads it: `:port` is every interface
/// (IPv6 and IPv4), `host:port` or `[v6]:port` one address.
pub async fn bind(address: &str) -> Result<TcpListener, ListenError> {
    let err = |cause: String| ListenError { address: address.to_owned(), cause };
    if let Some(port) = address.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| err("not a port number".into()))?;
        return match dual_stack(port) {
            Ok(l) => Ok(l),
            // No IPv6 on this host: every IPv4 interface, as Go does.
            Err(_) => {
                TcpListener::bind(SocketAddr::from(([0u8; 4], port))).await.map_err(|e| err(e.to_string()))
            }
        };
    }
    let mut addrs = tokio::net::lookup_host(address).await.map_err(|e| err(e.to_string()))?;
    let addr = addrs.next().ok_or_else(|| err("the name has no address".into()))?;
    TcpListener::bind(addr).await.map_err(|e| err(e.to_string()))
}

/// The listen queue of a listener: tokio's and the standard library's own.
const LISTEN_BACKLOG: u32 = 128;

/// Every interface on `port`, IPv6 and IPv4 alike: an IPv6 socket that takes IPv4 too, with
/// `IPV6_V6ONLY` off, as Go sets it. Windows has the option on by default (so would a Linux
/// host with `net.ipv6.bindv6only=1`), and IPv4 clients would be refused.
fn dual_stack(port: u16) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v6()?;
    socket2::SockRef::from(&socket).set_only_v6(false)?;
    socket.set_reuseaddr(crate::platform::REUSE_ADDRESS)?;
    socket.bind(SocketAddr::from(([0u16; 8], port)))?;
    socket.listen(LISTEN_BACKLOG)
}

/// The running app, replaced whole on reload; each connection and request loads the current one.
pub type SharedApp = Arc<ArcSwap<App>>;

/// Whether a listener speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP.
    Plain,
    /// HTTPS, with the app's current TLS configuration.
    Tls,
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: SharedApp,
    transport: Transport,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let builder = Arc::new(http_builder(limits));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // At the connection limit, stop accepting: new clients wait in the kernel's queue.
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (app, builder, watcher) = (app.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, peer, app, &builder, transport, watcher).await;
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests still running after the shutdown grace period; closing them");
    }
}

/// HTTP/1.1 with keep-alive and HTTP/2, within the client bounds.
fn http_builder(limits: Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_header_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(limits.read_header_timeout)
        .keep_alive_timeout(limits.read_header_timeout);
    builder
}

/// Serves one client connection (after the TLS handshake, on a TLS listener) until it closes
/// or the shutdown's grace ends.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: SharedApp,
    builder: &auto::Builder<TokioExecutor>,
    transport: Transport,
    watcher: Watcher,
) {
    let local = stream.local_addr().unwrap_or(peer);
    let conn = Conn { peer, local, tls: transport == Transport::Tls };
    let service = {
        let app = app.clone();
        service_fn(move |req: Request<Incoming>| {
            let app = app.load_full();
            async move { Ok::<_, Infallible>(handle_logged(&app, req, conn).await) }
        })
    };
    let result = match transport {
        Transport::Plain => {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            watcher.watch(conn.into_owned()).await
        }
        Transport::Tls => {
            let Some(config) = app.load().tls().cloned() else {
                tracing::error!(client = %peer, "TLS listener without a TLS configuration");
                return;
            };
            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
            let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::warn!(client = %peer.ip(), error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::info!(client = %peer.ip(), "TLS handshake timed out");
                    return;
                }
            };
            let conn = builder.serve_connection(TokioIo::new(tls), service);
            watcher.watch(conn.into_owned()).await
        }
    };
    if let Err(e) = result {
        tracing::debug!(client = %peer, error = %e, "connection ended with an error");
    }
}

async fn handle_logged(app: &App, req: Request<Incoming>, conn: Conn) -> Response<Body> {
    let start = Instant::now();
    let (parts, _body) = req.into_parts();
    let mut response = app.handle(&parts, &conn).await;
    let module = response.extensions_mut().remove::<ScrapedModule>().map(|m| m.0).unwrap_or_default();
    tracing::info!(
        client = %conn.peer.ip(),
        method = %parts.method,
        path = parts.uri.path(),
        module = %module,
        status = response.status().as_u16(),
        bytes = response.body().size_hint().exact().unwrap_or(0),
        duration_ms = format!("{:.3}", start.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    response
}
