//! The `http` block: as written ([`HttpBlock`]), checked into an [`HttpConfig`] that cannot be
//! wrong, and what the JSON listing shows of it ([`HttpView`]).

use std::collections::BTreeMap;
use std::num::{NonZeroU16, NonZeroUsize};
use std::path::PathBuf;

use http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::config::block::{Invalid, invalid, positive_count};
use crate::config::docker::{AddressMode, ContainerTarget};
use crate::upstream::tls::UpstreamTls;

/// Connections open at once to one http module's upstream by default: enough for a blackbox
/// module probing a hundred targets at once, few enough that a burst of clients never floods
/// a fragile exporter with connects.
pub const DEFAULT_MAX_CONNECTIONS: usize = 128;

/// The `http` block, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBlock {
    port: Option<i64>,
    address: Option<String>,
    socket: Option<String>,
    scheme: Option<String>,
    path: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    verify: Option<bool>,
    basic_auth_username: Option<String>,
    basic_auth_password: Option<String>,
    tls_insecure_skip_verify: Option<bool>,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
    tls_ca_cert_file: Option<String>,
    tls_root_ca_file: Option<String>,
    server_name: Option<String>,
    container: Option<String>,
    address_mode: Option<String>,
    network: Option<String>,
    max_connections: Option<i64>,
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The scheme as it appears in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// An `http` module's upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// URL scheme of the upstream.
    pub scheme: Scheme,
    /// Where the upstream listens.
    pub endpoint: Endpoint,
    /// Path part of the upstream URL, starting with `/`.
    pub path: String,
    /// Query parameters from the configured path, merged into every upstream request.
    pub query: Vec<(String, String)>,
    /// Headers added to every upstream request (`host` excluded, see `host`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A `host` entry of `headers`: replaces the Host header.
    pub host: Option<HeaderValue>,
    /// Whether 200 responses are verified before they are served.
    pub verify: bool,
    /// Credentials sent to the upstream.
    pub basic_auth: Option<BasicAuth>,
    /// TLS settings for an `https` upstream.
    pub tls: UpstreamTls,
    /// Most connections open to the upstream at once, idle or in use.
    pub max_connections: NonZeroUsize,
    /// The Host header sent when the client sent none: `host[:port]`, the port left out where
    /// it is the scheme's default (as Go and hyper write it); checked here, with the URL the
    /// address makes, so that nothing downstream checks the address again.
    pub default_host: HeaderValue,
}

impl HttpConfig {
    /// The Host header for `endpoint` over `scheme` when the client sends none, once the
    /// address is known to make a URL and a header value.
    pub fn default_host(scheme: Scheme, endpoint: &Endpoint) -> Result<HeaderValue, Invalid> {
        let (key, authority, host_header) = match endpoint {
            Endpoint::Unix(_) => return Ok(HeaderValue::from_static("localhost")),
            Endpoint::Tcp { address, port } => {
                let host = bracketed(address);
                let authority = format!("{host}:{port}");
                let default_port = match scheme {
                    Scheme::Http => 80,
                    Scheme::Https => 443,
                };
                let header = if port.get() == default_port { host } else { authority.clone() };
                ("http.address", authority, header)
            }
            Endpoint::Container(t) => {
                let authority = format!("{}:{}", t.name, t.port);
                ("http.container", authority.clone(), authority)
            }
        };
        format!("{}://{authority}", scheme.as_str())
            .parse::<http::Uri>()
            .map_err(|e| invalid(key, format!("{authority:?} does not make a URL: {e}")))?;
        HeaderValue::from_str(&host_header)
            .map_err(|e| invalid(key, format!("{host_header:?} is not a Host header: {e}")))
    }
}

/// An address as a URL writes it: an IPv6 address in brackets.
pub fn bracketed(address: &str) -> String {
    if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]")
    } else {
        address.to_owned()
    }
}

/// Where an http module's upstream listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP host (default `localhost`) and port.
    Tcp {
        /// Host name or address.
        address: String,
        /// Port.
        port: NonZeroU16,
    },
    /// A unix socket (`http.socket`).
    Unix(PathBuf),
    /// A container, found through the Docker Engine API (`http.container`).
    Container(ContainerTarget),
}

/// Upstream basic-auth credentials. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What the JSON listing shows of an http module (the original's keys).
#[derive(Debug, Serialize)]
pub struct HttpView<'a> {
    #[serde(rename = "Verify")]
    verify: bool,
    #[serde(rename = "Port", skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(rename = "Socket", skip_serializing_if = "Option::is_none")]
    socket: Option<String>,
    #[serde(rename = "Path")]
    path: &'a str,
    #[serde(rename = "Scheme")]
    scheme: &'static str,
    #[serde(rename = "Address", skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    #[serde(rename = "Container", skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
}

/// `http: {container: NAME, port: P}`, which excludes `address` and `socket`.
fn container_endpoint(
    name: String,
    port: Option<i64>,
    address_mode: Option<&str>,
    network: Option<String>,
    socket: Option<&String>,
    address: Option<&String>,
) -> Result<Endpoint, Invalid> {
    if address.is_some_and(|a| !a.is_empty()) {
        return Err(invalid("http.container", "give either container or address, not both"));
    }
    if socket.is_some() {
        return Err(invalid("http.container", "give either container or socket, not both"));
    }
    if name.contains(|c: char| c == '/' || c.is_whitespace()) {
        return Err(invalid("http.container", format!("{name:?} is not a container name or ID")));
    }
    let port = port_number(port)?;
    let mode = AddressMode::parse(address_mode.unwrap_or("")).map_err(|p| invalid("http.address_mode", p))?;
    let network = network.filter(|n| !n.is_empty());
    if network.is_some() && mode == AddressMode::Published {
        return Err(invalid("http.network", "only with address_mode network"));
    }
    Ok(Endpoint::Container(ContainerTarget { name, port, mode, network }))
}

fn port_number(port: Option<i64>) -> Result<NonZeroU16, Invalid> {
    match port {
        None | Some(0) => Err(invalid("http.port", "missing: must be a non-zero port number")),
        Some(p) => u16::try_from(p)
            .ok()
            .and_then(NonZeroU16::new)
            .ok_or_else(|| invalid("http.port", format!("{p} is not a port number (1-65535)"))),
    }
}

/// The `http` block, checked.
pub(super) fn check(h: HttpBlock) -> Result<HttpConfig, Invalid> {
    let HttpBlock {
        port,
        address,
        socket,
        scheme,
        path,
        headers,
        verify,
        basic_auth_username,
        basic_auth_password,
        tls_insecure_skip_verify,
        tls_cert_file,
        tls_key_file,
        tls_ca_cert_file,
        tls_root_ca_file,
        server_name,
        container,
        address_mode,
        network,
        max_connections,
    } = h;
    let endpoint = endpoint(port, address, socket, container, address_mode.as_deref(), network)?;
    let scheme = match scheme.as_deref() {
        None | Some("") | Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        Some(other) => return Err(invalid("http.scheme", format!("{other:?} is not http or https"))),
    };
    if scheme == Scheme::Https && matches!(endpoint, Endpoint::Unix(_)) {
        return Err(invalid("http.scheme", "https is not available over a unix socket"));
    }
    let default_host = HttpConfig::default_host(scheme, &endpoint)?;
    let (path, query) = split_path(path.as_deref().unwrap_or(""))?;
    let (headers, host) = upstream_headers(headers.unwrap_or_default())?;
    // As in the original, credentials are sent only when both are given; one without the
    // other is a mistake worth stopping for.
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let basic_auth = match (non_empty(basic_auth_username), non_empty(basic_auth_password)) {
        (Some(username), Some(password)) => Some(BasicAuth { username, password }),
        (None, None) => None,
        _ => {
            return Err(invalid(
                "http.basic_auth_username",
                "basic_auth_username and basic_auth_password must be set together",
            ));
        }
    };
    let client_cert = match (tls_cert_file, tls_key_file) {
        (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
        (None, None) => None,
        _ => {
            return Err(invalid("http.tls_cert_file", "tls_cert_file and tls_key_file must be set together"));
        }
    };
    let tls = UpstreamTls {
        insecure_skip_verify: tls_insecure_skip_verify.unwrap_or(false),
        client_cert,
        ca_file: tls_ca_cert_file.map(PathBuf::from),
        root_ca_file: tls_root_ca_file.map(PathBuf::from),
        server_name: server_name.filter(|s| !s.is_empty()),
    };
    Ok(HttpConfig {
        scheme,
        endpoint,
        path,
        query,
        headers,
        host,
        verify: verify.unwrap_or(true),
        basic_auth,
        tls,
        max_connections: positive_count("http.max_connections", max_connections, DEFAULT_MAX_CONNECTIONS)?,
        default_host,
    })
}

/// Where the upstream listens: a container (`container`, with its `port`), a unix socket
/// (`socket`), or a TCP `address` (`localhost` by default) and `port`.
fn endpoint(
    port: Option<i64>,
    address: Option<String>,
    socket: Option<String>,
    container: Option<String>,
    address_mode: Option<&str>,
    network: Option<String>,
) -> Result<Endpoint, Invalid> {
    let container = container.filter(|c| !c.is_empty());
    if container.is_none() {
        if address_mode.is_some() {
            return Err(invalid("http.address_mode", "only with http.container"));
        }
        if network.is_some() {
            return Err(invalid("http.network", "only with http.container"));
        }
    }
    Ok(match (socket.filter(|s| !s.is_empty()), port, address) {
        (socket, port, address) if let Some(name) = container => {
            container_endpoint(name, port, address_mode, network, socket.as_ref(), address.as_ref())?
        }
        (Some(path), None, None) => {
            crate::platform::unix_sockets().map_err(|why| invalid("http.socket", why))?;
            Endpoint::Unix(PathBuf::from(path))
        }
        (Some(_), _, _) => {
            return Err(invalid("http.socket", "give either socket or port (and address), not both"));
        }
        (None, port, address) => {
            let port = port_number(port)?;
            let address = address.filter(|a| !a.is_empty()).unwrap_or_else(|| "localhost".to_owned());
            if address.contains(['/', '?', '#', '@', ' ']) {
                return Err(invalid("http.address", format!("{address:?} is not a host name or address")));
            }
            Endpoint::Tcp { address, port }
        }
    })
}

/// Headers added to every upstream request.
type Headers = Vec<(HeaderName, HeaderValue)>;

/// `headers`: added to every upstream request, except `host`, which replaces the Host header.
fn upstream_headers(configured: BTreeMap<String, String>) -> Result<(Headers, Option<HeaderValue>), Invalid> {
    let mut host = None;
    let mut headers = Vec::new();
    for (k, v) in configured {
        let value = HeaderValue::from_str(&v).map_err(|_| {
            invalid("http.headers", format!("the value of {k:?} is not a valid header value"))
        })?;
        if k.eq_ignore_ascii_case("host") {
            host = Some(value);
            continue;
        }
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| invalid("http.headers", format!("{k:?} is not a valid header name")))?;
        headers.push((name, value));
    }
    Ok((headers, host))
}

/// Splits the configured `path` into the URL path and its query parameters. As in the
/// original, an empty path means `/metrics`; a path without its leading `/` gets one (Debian's
/// packaged config writes `path: probe`).
fn split_path(raw: &str) -> Result<(String, Vec<(String, String)>), Invalid> {
    let raw = if raw.is_empty() { "/metrics" } else { raw };
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    if path.contains(['#', ' ']) || path.chars().any(char::is_control) {
        return Err(invalid("http.path", format!("{raw:?} is not a URL path")));
    }
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    if path.parse::<http::uri::PathAndQuery>().is_err() {
        return Err(invalid("http.path", format!("{raw:?} is not a URL path")));
    }
    let query =
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    Ok((path, query))
}

/// What the JSON listing shows of `h`.
pub(super) fn view(h: &HttpConfig) -> HttpView<'_> {
    let (port, socket, address, container) = match &h.endpoint {
        Endpoint::Tcp { address, port } => (Some(port.get()), None, Some(address.as_str()), None),
        Endpoint::Unix(socket) => (None, Some(socket.display().to_string()), None, None),
        Endpoint::Container(t) => (Some(t.port.get()), None, None, Some(t.name.as_str())),
    };
    HttpView { verify: h.verify, port, socket, path: &h.path, scheme: h.scheme.as_str(), address, container }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_host_is_checked_with_the_address() {
        let tcp = |address: &str, port: u16| Endpoint::Tcp {
            address: address.to_owned(),
            port: NonZeroU16::new(port).expect("port"),
        };
        let host = |scheme, e: &Endpoint| {
            HttpConfig::default_host(scheme, e).map(|h| h.to_str().unwrap().to_owned())
        };
        assert_eq!(host(Scheme::Http, &tcp("localhost", 80)).as_deref(), Ok("localhost"));
        assert_eq!(host(Scheme::Https, &tcp("::1", 9100)).as_deref(), Ok("[::1]:9100"));
        let e = HttpConfig::default_host(Scheme::Http, &tcp("[::1", 9100)).unwrap_err();
        assert_eq!(e.key, "http.address");
        assert!(e.problem.contains("does not make a URL"), "{}", e.problem);
    }
}
