//! A module as the rest of the program sees it: one enum variant per method, every field
//! checked and defaulted, nothing left to interpret at request time.

use std::collections::BTreeMap;
use std::num::{NonZeroU16, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use serde::Serialize;

use super::docker::{AddressMode, ContainerTarget};
use super::duration::parse_timeout;
use super::invalid::{Invalid, invalid};
use super::raw;

/// Largest exec output or file read by default (64 MiB).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 64 << 20;
/// Concurrent runs of one exec module by default.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;
/// Connections open at once to one http module's upstream by default: enough for a blackbox
/// module probing a hundred targets at once, few enough that a burst of clients never floods
/// a fragile exporter with connects.
pub const DEFAULT_MAX_CONNECTIONS: usize = 128;

/// One configured module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Its name, the `module` query parameter that selects it.
    pub name: String,
    /// The file it was defined in.
    pub origin: PathBuf,
    /// The module's own timeout, if any.
    pub timeout: Option<Duration>,
    /// Extra target labels for service discovery.
    pub labels: BTreeMap<String, String>,
    /// Whether identical scrapes in flight share one upstream fetch (`coalesce`, on by default).
    pub coalesce: bool,
    /// Whether `&debug=true` gives a debug report (`debug`, on by default); off, the parameter
    /// goes upstream like any other.
    pub debug: bool,
    /// Where its metrics come from.
    pub source: Source,
}

/// Where a module's metrics come from: the `method` and its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Proxy to an HTTP(S) exporter.
    Http(Box<HttpSource>),
    /// Run a command and serve its standard output.
    Exec(ExecSource),
    /// Serve a file.
    File(FileSource),
}

impl Module {
    /// Whether the module reaches its exporter through a container's address.
    pub fn names_a_container(&self) -> bool {
        matches!(&self.source, Source::Http(h) if matches!(h.endpoint, Endpoint::Container(_)))
    }
}

impl Source {
    /// The method's name as written in the YAML.
    pub fn method(&self) -> &'static str {
        match self {
            Source::Http(_) => "http",
            Source::Exec(_) => "exec",
            Source::File(_) => "file",
        }
    }
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
pub struct HttpSource {
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

/// TLS settings for connections to an `https` upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamTls {
    /// Skip certificate verification altogether.
    pub insecure_skip_verify: bool,
    /// Client certificate and key presented to the upstream.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// CA certificates trusted instead of the system roots (`tls_ca_cert_file`).
    pub ca_file: Option<PathBuf>,
    /// CA certificates trusted in addition to the system roots (`tls_root_ca_file`).
    pub root_ca_file: Option<PathBuf>,
    /// Name expected in, and sent as SNI for, the upstream's certificate.
    pub server_name: Option<String>,
}

/// An `exec` module's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSource {
    /// The program, run directly (never through a shell).
    pub command: String,
    /// Arguments given before any from the query.
    pub args: Vec<String>,
    /// Variables set on top of the daemon's environment.
    pub env: Vec<(String, String)>,
    /// Whether `args` query parameters are appended (otherwise they are a 400).
    pub allow_args: bool,
    /// Most runs of this module at once; more wait for a slot.
    pub max_concurrency: NonZeroUsize,
    /// Largest standard output accepted.
    pub max_output_bytes: u64,
}

/// A `file` module's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    /// The file, read on every scrape.
    pub path: PathBuf,
    /// Largest file accepted.
    pub max_bytes: u64,
}

impl Module {
    pub(super) fn from_raw(name: &str, origin: PathBuf, raw: raw::Module) -> Result<Module, Invalid> {
        let raw::Module { method, timeout, labels, coalesce, debug, http, exec, file } = raw;
        let Some(method) = method else {
            return Err(invalid("method", "missing: must be http, exec or file"));
        };
        let timeout = match timeout {
            None => None,
            Some(raw::Timeout::Nanos(0)) => None,
            Some(raw::Timeout::Nanos(n)) => {
                return Err(invalid(
                    "timeout",
                    format!("{n} is a bare number (Go reads it as {n} nanoseconds); write a unit, e.g. {n}s"),
                ));
            }
            Some(raw::Timeout::Text(t)) => parse_timeout(&t).map_err(|p| invalid("timeout", p))?,
        };
        let labels = labels.unwrap_or_default();
        for name in labels.keys() {
            if name == "module" {
                return Err(invalid("labels", "\"module\" is set by the proxy and cannot be overridden"));
            }
            if !is_label_name(name) || name.starts_with("__") {
                return Err(invalid(
                    "labels",
                    format!(
                        "{name:?} is not a valid target label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
                    ),
                ));
            }
        }
        let blocks = [("http", http.is_some()), ("exec", exec.is_some()), ("file", file.is_some())];
        let wanted = match method {
            raw::Method::Http => "http",
            raw::Method::Exec => "exec",
            raw::Method::File => "file",
        };
        if let Some((other, _)) = blocks.iter().find(|(b, present)| *present && *b != wanted) {
            return Err(Invalid {
                key: other,
                problem: format!("block not allowed with method {wanted} (only an {wanted} block is)"),
            });
        }
        let source = match (method, http, exec, file) {
            (raw::Method::Http, Some(h), _, _) => Source::Http(Box::new(http_source(h)?)),
            (raw::Method::Exec, _, Some(e), _) => Source::Exec(exec_source(e)?),
            (raw::Method::File, _, _, Some(f)) => Source::File(file_source(f)?),
            (raw::Method::Http, None, ..) => {
                return Err(invalid("http", "missing: method http needs an http block"));
            }
            (raw::Method::Exec, _, None, _) => {
                return Err(invalid("exec", "missing: method exec needs an exec block"));
            }
            (raw::Method::File, .., None) => {
                return Err(invalid("file", "missing: method file needs a file block"));
            }
        };
        Ok(Module {
            name: name.to_owned(),
            origin,
            timeout,
            labels,
            coalesce: coalesce.unwrap_or(true),
            debug: debug.unwrap_or(true),
            source,
        })
    }
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

fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn http_source(h: raw::Http) -> Result<HttpSource, Invalid> {
    let raw::Http {
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
    let container = container.filter(|c| !c.is_empty());
    if container.is_none() {
        if address_mode.is_some() {
            return Err(invalid("http.address_mode", "only with http.container"));
        }
        if network.is_some() {
            return Err(invalid("http.network", "only with http.container"));
        }
    }
    let endpoint = match (socket.filter(|s| !s.is_empty()), port, address) {
        (socket, port, address) if let Some(name) = container => container_endpoint(
            name,
            port,
            address_mode.as_deref(),
            network,
            socket.as_ref(),
            address.as_ref(),
        )?,
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
    };
    let scheme = match scheme.as_deref() {
        None | Some("") | Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        Some(other) => return Err(invalid("http.scheme", format!("{other:?} is not http or https"))),
    };
    if scheme == Scheme::Https && matches!(endpoint, Endpoint::Unix(_)) {
        return Err(invalid("http.scheme", "https is not available over a unix socket"));
    }
    let (path, query) = split_path(path.as_deref().unwrap_or(""))?;
    let mut host = None;
    let mut header_list = Vec::new();
    for (k, v) in headers.unwrap_or_default() {
        let value = HeaderValue::from_str(&v).map_err(|_| {
            invalid("http.headers", format!("the value of {k:?} is not a valid header value"))
        })?;
        if k.eq_ignore_ascii_case("host") {
            host = Some(value);
            continue;
        }
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| invalid("http.headers", format!("{k:?} is not a valid header name")))?;
        header_list.push((name, value));
    }
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
    Ok(HttpSource {
        scheme,
        endpoint,
        path,
        query,
        headers: header_list,
        host,
        verify: verify.unwrap_or(true),
        basic_auth,
        tls,
        max_connections: positive_count("http.max_connections", max_connections, DEFAULT_MAX_CONNECTIONS)?,
    })
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

fn exec_source(e: raw::Exec) -> Result<ExecSource, Invalid> {
    let raw::Exec { command, args, env, allow_args, max_concurrency, max_output_bytes } = e;
    let command = command.filter(|c| !c.is_empty()).ok_or_else(|| invalid("exec.command", "missing"))?;
    let env = env.unwrap_or_default();
    for key in env.keys() {
        if key.is_empty() || key.contains(['=', '\0']) {
            return Err(invalid("exec.env", format!("{key:?} is not an environment variable name")));
        }
    }
    let args = args.unwrap_or_default();
    if command.contains('\0') || args.iter().chain(env.values()).any(|a| a.contains('\0')) {
        return Err(invalid("exec", "a NUL byte cannot be passed to a command"));
    }
    let max_concurrency = positive_count("exec.max_concurrency", max_concurrency, DEFAULT_MAX_CONCURRENCY)?;
    Ok(ExecSource {
        command,
        args,
        env: env.into_iter().collect(),
        allow_args: allow_args.unwrap_or(true),
        max_concurrency,
        max_output_bytes: positive_bytes("exec.max_output_bytes", max_output_bytes)?,
    })
}

fn file_source(f: raw::FileBlock) -> Result<FileSource, Invalid> {
    let raw::FileBlock { path, max_bytes } = f;
    let path = path.filter(|p| !p.is_empty()).ok_or_else(|| invalid("file.path", "missing"))?;
    Ok(FileSource { path: PathBuf::from(path), max_bytes: positive_bytes("file.max_bytes", max_bytes)? })
}

fn positive_count(key: &'static str, v: Option<i64>, default: usize) -> Result<NonZeroUsize, Invalid> {
    match v {
        None => Ok(NonZeroUsize::new(default).unwrap_or(NonZeroUsize::MIN)),
        Some(n) => usize::try_from(n)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| invalid(key, format!("{n} is not a positive number"))),
    }
}

fn positive_bytes(key: &'static str, v: Option<i64>) -> Result<u64, Invalid> {
    match v {
        None => Ok(DEFAULT_MAX_OUTPUT_BYTES),
        Some(n) if n > 0 => Ok(n as u64),
        Some(n) => Err(invalid(key, format!("{n} is not a positive number of bytes"))),
    }
}

/// What the JSON listing says about a module. Key names follow the original's output, so
/// scripts reading its non-secret fields keep working.
#[derive(Debug, Serialize)]
pub struct ModuleView<'a> {
    #[serde(rename = "Method")]
    method: &'static str,
    /// Nanoseconds, as Go marshals a duration; 0 for none.
    #[serde(rename = "Timeout")]
    timeout: u128,
    #[serde(rename = "HTTP", skip_serializing_if = "Option::is_none")]
    http: Option<HttpView<'a>>,
    #[serde(rename = "Exec", skip_serializing_if = "Option::is_none")]
    exec: Option<ExecView<'a>>,
    #[serde(rename = "File", skip_serializing_if = "Option::is_none")]
    file: Option<FileView>,
}

#[derive(Debug, Serialize)]
struct HttpView<'a> {
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

#[derive(Debug, Serialize)]
struct ExecView<'a> {
    #[serde(rename = "Command")]
    command: &'a str,
}

#[derive(Debug, Serialize)]
struct FileView {
    #[serde(rename = "Path")]
    path: String,
}

impl Module {
    /// What the JSON listing (`GET /` with `Accept: application/json`) says about the module:
    /// the original's key names, and never a password, header, environment or argument.
    pub fn view(&self) -> ModuleView<'_> {
        let m = self;
        let (http, exec, file) = match &m.source {
            Source::Http(h) => (
                Some(match &h.endpoint {
                    Endpoint::Tcp { address, port } => HttpView {
                        verify: h.verify,
                        port: Some(port.get()),
                        socket: None,
                        path: &h.path,
                        scheme: h.scheme.as_str(),
                        address: Some(address),
                        container: None,
                    },
                    Endpoint::Unix(socket) => HttpView {
                        verify: h.verify,
                        port: None,
                        socket: Some(socket.display().to_string()),
                        path: &h.path,
                        scheme: h.scheme.as_str(),
                        address: None,
                        container: None,
                    },
                    Endpoint::Container(t) => HttpView {
                        verify: h.verify,
                        port: Some(t.port.get()),
                        socket: None,
                        path: &h.path,
                        scheme: h.scheme.as_str(),
                        address: None,
                        container: Some(&t.name),
                    },
                }),
                None,
                None,
            ),
            Source::Exec(e) => (None, Some(ExecView { command: &e.command }), None),
            Source::File(f) => (None, None, Some(FileView { path: f.path.display().to_string() })),
        };
        ModuleView {
            method: m.source.method(),
            timeout: m.timeout.map_or(0, |t| t.as_nanos()),
            http,
            exec,
            file,
        }
    }
}
