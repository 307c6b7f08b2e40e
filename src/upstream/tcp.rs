//! Connections to an exporter over TCP (`http` and `https` upstreams): name resolution, Go's
//! dual-stack fallback, and TLS with the module's rustls configuration for `https`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::pool::UpstreamIo;

/// How long the addresses of the first-listed family are tried alone before the other family's
/// are tried alongside (Go's `net.Dialer` fast fallback, RFC 8305's "connection attempt delay").
const FALLBACK_DELAY: Duration = Duration::from_millis(300);

/// Connects to one `host:port`, with TLS for an `https` upstream.
#[derive(Clone)]
pub struct TcpConnector {
    /// A DNS name or an IP address, without brackets.
    host: String,
    port: u16,
    /// The TLS client and the name the certificate must have (the host's where `None`).
    tls: Option<(TlsConnector, Option<ServerName<'static>>)>,
}

impl std::fmt::Debug for TcpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpConnector")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.as_ref().map(|(_, name)| name))
            .finish()
    }
}

impl TcpConnector {
    /// A plain-HTTP connector.
    pub fn plain(host: &str, port: u16) -> TcpConnector {
        TcpConnector { host: host.to_owned(), port, tls: None }
    }

    /// A TLS connector that checks the certificate for `server_name` (the host where `None`).
    pub fn tls(
        host: &str,
        port: u16,
        config: rustls::ClientConfig,
        server_name: Option<ServerName<'static>>,
    ) -> TcpConnector {
        let tls = (TlsConnector::from(Arc::new(config)), server_name);
        TcpConnector { host: host.to_owned(), port, tls: Some(tls) }
    }

    /// A new connection to `addr` instead of the host's addresses (a container's, found at
    /// connect time), TLS as for the host.
    pub async fn connect_to(&self, addr: SocketAddr) -> io::Result<Box<dyn UpstreamIo>> {
        let tls = self.tls_name()?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("tcp connect error: {e}")))?;
        tcp.set_nodelay(true)?;
        match tls {
            None => Ok(Box::new(TokioIo::new(tcp))),
            Some((connector, name)) => Ok(Box::new(TokioIo::new(connector.connect(name, tcp).await?))),
        }
    }

    /// The TLS client and the name to check, for an `https` upstream.
    fn tls_name(&self) -> io::Result<Option<(&TlsConnector, ServerName<'static>)>> {
        // A host that is no valid name fails each connection, not the whole configuration.
        Ok(match &self.tls {
            None => None,
            Some((connector, Some(name))) => Some((connector, name.clone())),
            Some((connector, None)) => Some((
                connector,
                ServerName::try_from(self.host.clone())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
            )),
        })
    }

    /// A new connection, TCP_NODELAY set (requests are written whole), the TLS handshake done.
    pub async fn connect(&self) -> io::Result<Box<dyn UpstreamIo>> {
        let tls = self.tls_name()?;
        let addrs = match self.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, self.port)],
            Err(_) => tokio::net::lookup_host((self.host.as_str(), self.port))
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("dns error: {e}")))?
                .collect(),
        };
        let tcp =
            dial(addrs).await.map_err(|e| io::Error::new(e.kind(), format!("tcp connect error: {e}")))?;
        tcp.set_nodelay(true)?;
        match tls {
            None => Ok(Box::new(TokioIo::new(tcp))),
            Some((connector, name)) => Ok(Box::new(TokioIo::new(connector.connect(name, tcp).await?))),
        }
    }
}

/// Dials the addresses as Go's dialer and hyper's connector do: those of the first address's
/// family in order; after [`FALLBACK_DELAY`], or as soon as they have all failed, the others
/// too. The first connection made wins; if none is, the error is the first family's.
async fn dial(addrs: Vec<SocketAddr>) -> io::Result<TcpStream> {
    let first_is_v6 = addrs.first().map(SocketAddr::is_ipv6);
    let (preferred, fallback): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| Some(a.is_ipv6()) == first_is_v6);
    let preferred = in_order(preferred);
    tokio::pin!(preferred);
    if fallback.is_empty() {
        return preferred.await;
    }
    tokio::select! {
        first = &mut preferred => return match first {
            Ok(tcp) => Ok(tcp),
            Err(e) => in_order(fallback).await.map_err(|_| e),
        },
        () = tokio::time::sleep(FALLBACK_DELAY) => {}
    }
    let fallback = in_order(fallback);
    tokio::pin!(fallback);
    tokio::select! {
        first = &mut preferred => match first {
            Ok(tcp) => Ok(tcp),
            Err(e) => fallback.await.map_err(|_| e),
        },
        other = &mut fallback => match other {
            Ok(tcp) => Ok(tcp),
            Err(_) => preferred.await,
        },
    }
}

/// Tries each address in turn; the first error is returned if all fail.
async fn in_order(addrs: Vec<SocketAddr>) -> io::Result<TcpStream> {
    let mut first_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An address where nothing listens: a listener's, after it is closed.
    async fn closed(ip: &str) -> SocketAddr {
        let l = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
        l.local_addr().expect("addr")
    }

    /// A listener whose accept queue is full (backlog 0, filled until a connection waits), so
    /// that connecting to it hangs as to a host that drops packets; with the connections that
    /// fill it, which must stay open.
    async fn hanging(ip: &str) -> (tokio::net::TcpListener, Vec<TcpStream>, SocketAddr) {
        let ip: IpAddr = ip.parse().expect("ip");
        let socket =
            if ip.is_ipv6() { tokio::net::TcpSocket::new_v6() } else { tokio::net::TcpSocket::new_v4() };
        let socket = socket.expect("socket");
        socket.bind(SocketAddr::new(ip, 0)).expect("bind");
        let listener = socket.listen(0).expect("listen");
        let addr = listener.local_addr().expect("addr");
        let mut queued = Vec::new();
        for _ in 0..16 {
            match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
                Ok(tcp) => queued.push(tcp.expect("connect while the queue has room")),
                Err(_) => return (listener, queued, addr),
            }
        }
        panic!("the accept queue of {addr} never filled");
    }

    /// Dials `first` then a listening 127.0.0.1; checks that the listener was reached, and
    /// returns how long it took.
    async fn time_to_reach_open(first: SocketAddr) -> Duration {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = listener.local_addr().expect("addr");
        let started = tokio::time::Instant::now();
        let tcp = dial(vec![first, open]).await.expect("the open address");
        assert_eq!(tcp.peer_addr().expect("peer"), open);
        started.elapsed()
    }

    #[tokio::test]
    async fn the_other_family_starts_at_once_when_the_first_fails() {
        let waited = time_to_reach_open(closed("::1").await).await;
        assert!(waited < FALLBACK_DELAY, "no wait once the first family has failed: {waited:?}");
    }

    #[tokio::test]
    async fn the_other_family_starts_after_the_delay_when_the_first_hangs() {
        let (_full, _queued, stuck) = hanging("::1").await;
        let waited = time_to_reach_open(stuck).await;
        assert!(waited >= FALLBACK_DELAY && waited < Duration::from_secs(2), "{waited:?}");
    }

    #[tokio::test]
    async fn addresses_of_one_family_are_tried_in_order() {
        let waited = time_to_reach_open(closed("127.0.0.1").await).await;
        assert!(waited < FALLBACK_DELAY, "no delay within one family: {waited:?}");
    }

    #[tokio::test]
    async fn the_first_error_is_reported() {
        let refused = closed("127.0.0.1").await;
        let e = dial(vec![refused]).await.expect_err("refused");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        let e = TcpConnector::plain("127.0.0.1", refused.port()).connect().await.err().expect("refused");
        assert!(e.to_string().starts_with("tcp connect error: "), "{e}");
    }
}
