//! The top-level `docker:` block: how to reach the Docker (or Podman) Engine API, how often to
//! look for labelled containers, how long a container's address is trusted, and whether to
//! turn labelled containers into modules. Defaults follow Docker's own client: `$DOCKER_HOST`,
//! `$DOCKER_TLS_VERIFY` and `$DOCKER_CERT_PATH`, else the local socket.

use std::path::PathBuf;
use std::time::Duration;

/// The socket Docker listens on by default.
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// How often labelled containers are listed, by default.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(15);
/// How long a resolved container address is used before it is asked for again, by default.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Where the Engine API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerHost {
    /// `unix:///path/to/socket`.
    Unix(PathBuf),
    /// `tcp://host:port`.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
}

impl std::fmt::Display for DockerHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DockerHost::Unix(path) => write!(f, "unix://{}", path.display()),
            DockerHost::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            DockerHost::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
    }
}

impl DockerHost {
    /// Reads `unix:///path` or `tcp://host:port` (Docker's `DOCKER_HOST` syntax).
    pub fn parse(s: &str) -> Result<DockerHost, String> {
        if let Some(path) = s.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "{s:?}: a unix socket path must be absolute (unix:///var/run/docker.sock)"
                ));
            }
            return Ok(DockerHost::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = s.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() => (h, p),
                _ => return Err(format!("{s:?}: tcp:// needs host:port (tcp://127.0.0.1:2376)")),
            };
            let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
            let port =
                port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("{s:?}: bad port"))?;
            return Ok(DockerHost::Tcp { host: host.to_owned(), port });
        }
        Err(format!("{s:?}: only unix:// and tcp:// hosts are supported"))
    }
}

/// TLS for a `tcp://` Engine API, as `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` define it: the
/// directory holds `ca.pem`, `cert.pem` and `key.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerTls {
    /// The CA that signed the daemon's certificate (`ca.pem`).
    pub ca_file: PathBuf,
    /// Our client certificate (`cert.pem`).
    pub cert_file: PathBuf,
    /// Its key (`key.pem`).
    pub key_file: PathBuf,
    /// Whether the daemon's certificate is verified (`DOCKER_TLS_VERIFY`, `tls_verify`); Docker's
    /// client uses the client certificate without verifying the daemon otherwise.
    pub verify: bool,
}

/// `docker.discover`: containers labelled for scraping become modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discover {
    /// The label prefix, `prometheus.io` for `prometheus.io/scrape`, `prometheus.io/port`, ...
    pub label_prefix: String,
}

/// The `docker:` block, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// Where the Engine API listens.
    pub host: DockerHost,
    /// TLS for a `tcp://` host.
    pub tls: Option<DockerTls>,
    /// How often labelled containers are listed.
    pub refresh_interval: Duration,
    /// How long a resolved container address is trusted.
    pub cache_ttl: Duration,
    /// Discovery from labels, if on.
    pub discover: Option<Discover>,
}
