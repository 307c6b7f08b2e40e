//! The Docker Engine API client: GET calls only, over a unix socket, plain TCP or TCP with TLS
//! client certificates, each bounded by a deadline and a size limit, at an API version
//! negotiated with the daemon (`/_ping`) and never pinned.
//!
//! Docker 20.10 (Debian 12) speaks API 1.41 at most; Docker 29.0 to 29.2 speak 1.52 and refuse
//! clients below 1.44 (29.3 went back to accepting 1.40, `DOCKER_MIN_API_VERSION` moves it);
//! Podman's compatible service says 1.41 (4.x, 5.x before 5.8) or 1.44 (5.8 on). So the
//! version is whatever the daemon offers, capped at [`OUR_API_VERSION`], the newest this code
//! was checked against.

mod error;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::config::docker::{DockerHost, DockerTls};
use crate::docker::model::{ContainerInspect, ContainerSummary, ErrorMessage, label_filter};
use crate::tls::TlsError;
use crate::upstream::pool::UpstreamIo;
use crate::upstream::tls::{SystemRoots, UpstreamTls, client_config};
use crate::upstream::unix::UnixConnector;
pub use error::{ApiVersion, DockerError, MIN_API_VERSION, OUR_API_VERSION};

/// The most bytes read of one answer. A list of a few thousand containers is a few MiB.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Most characters of a daemon's error message kept in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// How a connection is made.
#[derive(Debug)]
enum Transport {
    Unix(UnixConnector),
    Tcp { host: String, port: u16 },
    Tls { host: String, port: u16, config: Arc<rustls::ClientConfig>, server_name: ServerName<'static> },
}

/// A client of one Engine API. Each call opens its own connection (calls are rare: a resolve
/// per cache period, a list per refresh), so there is no pool to go stale across a daemon
/// restart. Share it in an `Arc`.
#[derive(Debug)]
pub struct DockerClient {
    host: String,
    transport: Transport,
    /// The version in use, once negotiated; forgotten when a connection fails.
    negotiated: Mutex<Option<ApiVersion>>,
}

/// One answer, read whole.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl DockerClient {
    /// A client for `host`. No I/O, except that the TLS files of a `tcp://` host with TLS are
    /// read now, so that a bad file is reported at startup or reload, not at the first call.
    pub fn new(host: &DockerHost, tls: Option<&DockerTls>) -> Result<DockerClient, DockerError> {
        let transport = match (host, tls) {
            (DockerHost::Unix(path), _) => Transport::Unix(UnixConnector::new(path.clone())),
            (DockerHost::Tcp { host, port }, None) => Transport::Tcp { host: host.clone(), port: *port },
            (DockerHost::Tcp { host, port }, Some(tls)) => {
                let mut config = client_config(&upstream_tls(tls), &SystemRoots::default())?;
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                let server_name = ServerName::try_from(host.clone()).map_err(|e| {
                    TlsError::Config(format!("{host:?} cannot be checked in a certificate: {e}"))
                })?;
                Transport::Tls { host: host.clone(), port: *port, config: Arc::new(config), server_name }
            }
        };
        Ok(DockerClient { host: host.to_string(), transport, negotiated: Mutex::new(None) })
    }

    /// The daemon's address as configured (`unix:///var/run/docker.sock`), for logs.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The API version to use: `min(ours, the daemon's)`, from `GET /_ping`'s `API-Version`
    /// header. Remembered after success; asked again after a connection error.
    pub async fn version(&self, deadline: Instant) -> Result<ApiVersion, DockerError> {
        if let Some(v) = *self.remembered() {
            return Ok(v);
        }
        self.negotiate(deadline).await
    }

    /// The running containers, only those carrying `label` if given (`key` or `key=value`).
    pub async fn containers(
        &self,
        label: Option<&str>,
        deadline: Instant,
    ) -> Result<Vec<ContainerSummary>, DockerError> {
        let query = match label {
            None => String::new(),
            Some(label) => {
                let encoded: String =
                    form_urlencoded::byte_serialize(label_filter(label).as_bytes()).collect();
                format!("?filters={encoded}")
            }
        };
        let (path, answer) = self.versioned_get(&format!("/containers/json{query}"), deadline).await?;
        let answer = self.success(&path, answer)?;
        self.decode(&path, &answer.body)
    }

    /// The container named (or with the ID) `name`; `None` if there is none.
    pub async fn inspect(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<ContainerInspect>, DockerError> {
        let name = name.trim_start_matches('/');
        if !is_container_name(name) {
            // No container can have it; and it cannot be sent as one path segment as it is.
            return Ok(None);
        }
        let (path, answer) = self.versioned_get(&format!("/containers/{name}/json"), deadline).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let answer = self.success(&path, answer)?;
        self.decode(&path, &answer.body).map(Some)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Option<ApiVersion>> {
        // Only a Copy value is stored under the lock, so a poisoned lock holds a whole value.
        self.negotiated.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn negotiate(&self, deadline: Instant) -> Result<ApiVersion, DockerError> {
        const PING: &str = "/_ping";
        let answer = self.success(PING, self.get(PING, deadline).await?)?;
        let bad = |problem: String| self.bad_answer(PING, problem);
        let header = answer
            .headers
            .get("api-version")
            .ok_or_else(|| bad("no API-Version header".into()))?
            .to_str()
            .map_err(|_| bad("API-Version header is not text".into()))?;
        let daemon: ApiVersion = header.parse().map_err(|e| bad(format!("API-Version: {e}")))?;
        if daemon < MIN_API_VERSION {
            return Err(DockerError::TooOld { host: self.host.clone(), version: daemon });
        }
        let version = daemon.min(OUR_API_VERSION);
        *self.remembered() = Some(version);
        Ok(version)
    }

    /// GETs `/v{version}{rest}`. A 400 to a remembered version is retried once after a new
    /// negotiation: the daemon may have been upgraded between two calls (each call has its own
    /// connection, so no connection error tells) and now refuse that version as too old.
    async fn versioned_get(&self, rest: &str, deadline: Instant) -> Result<(String, Answer), DockerError> {
        // Copied out, so that the lock is not held across the negotiation.
        let remembered = *self.remembered();
        let version = match remembered {
            Some(v) => v,
            None => self.negotiate(deadline).await?,
        };
        let path = format!("/v{version}{rest}");
        let answer = self.get(&path, deadline).await?;
        let Some(stale) = remembered.filter(|_| answer.status == StatusCode::BAD_REQUEST) else {
            return Ok((path, answer));
        };
        *self.remembered() = None;
        let version = self.negotiate(deadline).await?;
        if version == stale {
            return Ok((path, answer));
        }
        let path = format!("/v{version}{rest}");
        let answer = self.get(&path, deadline).await?;
        Ok((path, answer))
    }

    /// One GET on a new connection, read whole within `deadline`.
    async fn get(&self, path: &str, deadline: Instant) -> Result<Answer, DockerError> {
        let budget = deadline.saturating_duration_since(Instant::now());
        let result = match tokio::time::timeout_at(deadline, self.exchange(path)).await {
            Ok(result) => result,
            Err(_) => Err(DockerError::TimedOut { host: self.host.clone(), path: path.to_owned(), budget }),
        };
        if result.as_ref().is_err_and(DockerError::lost_connection) {
            *self.remembered() = None;
        }
        result
    }

    async fn exchange(&self, path: &str) -> Result<Answer, DockerError> {
        let io = self.connect(path).await?;
        let lost = |e: &dyn std::error::Error| DockerError::Connection {
            host: self.host.clone(),
            path: path.to_owned(),
            cause: causes(e),
        };
        let (mut sender, mut driver) = http1::handshake::<_, Empty<Bytes>>(io).await.map_err(|e| lost(&e))?;
        let request = Request::get(path)
            .header(http::header::HOST, self.host_header())
            .header(http::header::USER_AGENT, concat!("exporter_exporter/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|e| self.bad_answer(path, format!("cannot form the request: {e}")))?;
        let call = async {
            let response = sender.send_request(request).await.map_err(|e| lost(&e))?;
            let (parts, body) = response.into_parts();
            let announced = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if announced.is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
                return Err(self.too_large(path));
            }
            let body = match Limited::new(body, MAX_ANSWER_BYTES).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) if e.is::<LengthLimitError>() => return Err(self.too_large(path)),
                Err(e) => return Err(lost(&*e)),
            };
            Ok(Answer { status: parts.status, headers: parts.headers, body })
        };
        // The connection is driven here, in the caller's task, so that nothing outlives the
        // call when the deadline drops it.
        let mut call = std::pin::pin!(call);
        let mut driver_done = false;
        std::future::poll_fn(|cx| {
            if !driver_done && Pin::new(&mut driver).poll(cx).is_ready() {
                // Closed; an error reaches the call through the response or the body.
                driver_done = true;
            }
            call.as_mut().poll(cx)
        })
        .await
    }

    async fn connect(&self, path: &str) -> Result<Box<dyn UpstreamIo>, DockerError> {
        let unreachable = |e: &dyn std::error::Error| DockerError::Unreachable {
            host: self.host.clone(),
            cause: causes(e),
        };
        match &self.transport {
            Transport::Unix(connector) => match connector.connect().await {
                Ok(io) => Ok(Box::new(io)),
                Err(e) => Err(unreachable(&e)),
            },
            Transport::Tcp { host, port } => match TcpStream::connect((host.as_str(), *port)).await {
                Ok(tcp) => Ok(Box::new(TokioIo::new(tcp))),
                Err(e) => Err(unreachable(&e)),
            },
            Transport::Tls { host, port, config, server_name } => {
                let tcp = TcpStream::connect((host.as_str(), *port)).await.map_err(|e| unreachable(&e))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(server_name.clone(), tcp)
                    .await
                    .map_err(|e| DockerError::Connection {
                        host: self.host.clone(),
                        path: path.to_owned(),
                        cause: format!("TLS handshake: {}", causes(&e)),
                    })?;
                Ok(Box::new(TokioIo::new(tls)))
            }
        }
    }

    /// The `Host` header: the daemon ignores it on a socket, so any valid name does.
    fn host_header(&self) -> String {
        match &self.transport {
            Transport::Unix(_) => "docker".to_owned(),
            Transport::Tcp { host, port } | Transport::Tls { host, port, .. } if host.contains(':') => {
                format!("[{host}]:{port}")
            }
            Transport::Tcp { host, port } | Transport::Tls { host, port, .. } => format!("{host}:{port}"),
        }
    }

    /// The answer if its status is a success, else the error with the daemon's message.
    fn success(&self, path: &str, answer: Answer) -> Result<Answer, DockerError> {
        if answer.status.is_success() {
            return Ok(answer);
        }
        let message = match serde_json::from_slice::<ErrorMessage>(&answer.body) {
            Ok(m) if !m.message.is_empty() => m.message,
            _ => String::from_utf8_lossy(&answer.body).trim().to_owned(),
        };
        Err(DockerError::Status {
            host: self.host.clone(),
            path: path.to_owned(),
            status: answer.status,
            message: message.chars().take(MAX_MESSAGE_CHARS).collect(),
        })
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T, DockerError> {
        serde_json::from_slice(body).map_err(|e| self.bad_answer(path, e.to_string()))
    }

    fn bad_answer(&self, path: &str, problem: String) -> DockerError {
        DockerError::BadAnswer { host: self.host.clone(), path: path.to_owned(), problem }
    }

    fn too_large(&self, path: &str) -> DockerError {
        DockerError::TooLarge { host: self.host.clone(), path: path.to_owned(), limit: MAX_ANSWER_BYTES }
    }
}

/// The TLS of a `tcp://` daemon as the upstream TLS settings that mean the same: `ca.pem` as
/// the only root, `cert.pem`/`key.pem` presented. Without `verify`, the client certificate is
/// still presented but the daemon's is not checked, as Docker's client does with `--tls` (or
/// `DOCKER_CERT_PATH` without `DOCKER_TLS_VERIFY`): the daemon may well require the client
/// certificate while its own is self-made, and that is the setup those users have.
fn upstream_tls(tls: &DockerTls) -> UpstreamTls {
    UpstreamTls {
        insecure_skip_verify: !tls.verify,
        client_cert: Some((tls.cert_file.clone(), tls.key_file.clone())),
        ca_file: Some(tls.ca_file.clone()),
        root_ca_file: None,
        server_name: None,
    }
}

/// Whether `name` can be a container's name or ID: Docker and Podman allow
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*` only, so such a name is also one URL path segment as it is.
fn is_container_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// An error with its causes, `a: b: c`, without repeats.
fn causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v = |s: &str| s.parse::<ApiVersion>();
        assert_eq!(v("1.41"), Ok(ApiVersion { major: 1, minor: 41 }));
        assert_eq!(v("1.44.0"), Ok(ApiVersion { major: 1, minor: 44 }));
        assert!(v("1").is_err() && v("1.x").is_err() && v("").is_err() && v("1.2.3.4").is_err());
        assert!(v("1.9").expect("ok") < v("1.41").expect("ok"));
        assert_eq!(OUR_API_VERSION.to_string(), "1.52");
    }

    #[test]
    fn calls_can_be_spawned_and_the_client_shared() {
        fn send<T: Send>(_: &T) {}
        fn shared<T: Send + Sync>() {}
        shared::<DockerClient>();
        let client = DockerClient::new(&DockerHost::Unix("/nonexistent".into()), None).expect("client");
        let deadline = Instant::now();
        send(&client.version(deadline));
        send(&client.containers(None, deadline));
        send(&client.inspect("x", deadline));
    }

    #[test]
    fn only_container_names_are_sent() {
        assert!(is_container_name("pg-exporter_1.x") && is_container_name("0a1b2c"));
        for bad in ["", "..", ".hidden", "a/../../_ping", "a?x=1", "a b", "a%2F"] {
            assert!(!is_container_name(bad), "{bad:?}");
        }
    }
}
