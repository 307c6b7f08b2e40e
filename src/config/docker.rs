//! The top-level `docker:` block: how to reach the Docker (or Podman) Engine API, how often to
//! look for labelled containers, how long a container's address is trusted, and whether to
//! turn labelled containers into modules. Defaults follow Docker's own client: `$DOCKER_HOST`,
//! `$DOCKER_TLS_VERIFY` and `$DOCKER_CERT_PATH`, else the local socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::block::{Invalid, invalid};
use super::duration::parse_timeout;
use serde::Deserialize;

/// The socket Docker listens on by default.
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// How often labelled containers are listed, by default.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(15);
/// How long a resolved container address is used before it is asked for again, by default.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);

/// The top-level `docker:` block, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DockerBlock {
    pub(super) host: Option<String>,
    pub(super) tls_verify: Option<bool>,
    pub(super) cert_path: Option<String>,
    pub(super) refresh_interval: Option<String>,
    pub(super) cache_ttl: Option<String>,
    pub(super) discover: Option<DiscoverBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscoverBlock {
    pub(super) label_prefix: Option<String>,
}

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
            crate::platform::unix_sockets().map_err(|why| format!("{s:?}: {why}; give a tcp:// host"))?;
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

/// How a container's address is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressMode {
    /// The container's IP on one of its networks (the default).
    Network,
    /// The host address and port Docker published for the port (rootless Docker, Podman).
    Published,
}

/// `http: {container: NAME, port: P}`: an exporter in a container, found through the Engine API
/// at connect time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerTarget {
    /// The container's name or ID.
    pub name: String,
    /// The port the exporter listens on inside the container.
    pub port: std::num::NonZeroU16,
    /// How its address is found.
    pub mode: AddressMode,
    /// With [`AddressMode::Network`], the network to use; else the first by name, as
    /// Prometheus's docker_sd does.
    pub network: Option<String>,
}

impl AddressMode {
    /// Reads `address_mode`.
    pub fn parse(s: &str) -> Result<AddressMode, String> {
        match s {
            "" | "network" => Ok(AddressMode::Network),
            "published" => Ok(AddressMode::Published),
            other => Err(format!("{other:?} is not network or published")),
        }
    }
}

impl DockerConfig {
    /// The settings Docker's own client would use with no block: `$DOCKER_HOST`,
    /// `$DOCKER_TLS_VERIFY`, `$DOCKER_CERT_PATH`, else the local socket. `env` reads a variable.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<DockerConfig, String> {
        DockerConfig::from_raw(None, env).map_err(|e| format!("{}: {}", e.key, e.problem))
    }

    /// Checks the `docker:` block; what it leaves out comes from the environment as Docker's
    /// client takes it.
    pub(super) fn from_raw(
        raw: Option<DockerBlock>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<DockerConfig, Invalid> {
        let DockerBlock { host, tls_verify, cert_path, refresh_interval, cache_ttl, discover } = raw
            .unwrap_or(DockerBlock {
                host: None,
                tls_verify: None,
                cert_path: None,
                refresh_interval: None,
                cache_ttl: None,
                discover: None,
            });
        let set = |v: Option<String>| v.filter(|v| !v.is_empty());
        let (host, host_key) = match set(host) {
            Some(h) => (h, "docker.host"),
            None => match set(env("DOCKER_HOST")) {
                Some(h) => (h, "DOCKER_HOST"),
                None => (format!("unix://{DEFAULT_DOCKER_SOCKET}"), "docker.host"),
            },
        };
        let host = DockerHost::parse(&host).map_err(|p| invalid(host_key, p))?;
        let env_verify = set(env("DOCKER_TLS_VERIFY")).is_some();
        let yaml_cert_path = set(cert_path);
        let verify = tls_verify.unwrap_or(env_verify || yaml_cert_path.is_some());
        let wants_tls = verify || yaml_cert_path.is_some();
        let tls = if wants_tls {
            let dir = match (yaml_cert_path, set(env("DOCKER_CERT_PATH")), set(env("HOME"))) {
                (Some(d), _, _) | (None, Some(d), _) => PathBuf::from(d),
                (None, None, Some(home)) => Path::new(&home).join(".docker"),
                (None, None, None) => {
                    return Err(invalid(
                        "docker.cert_path",
                        "missing: TLS needs the directory of ca.pem, cert.pem, key.pem",
                    ));
                }
            };
            if matches!(host, DockerHost::Unix(_)) {
                return Err(invalid("docker.tls_verify", "TLS applies to tcp:// hosts, not a unix socket"));
            }
            Some(DockerTls {
                ca_file: dir.join("ca.pem"),
                cert_file: dir.join("cert.pem"),
                key_file: dir.join("key.pem"),
                verify,
            })
        } else {
            None
        };
        let duration = |key: &'static str, v: Option<String>, default: Duration| match v {
            None => Ok(default),
            Some(t) => match parse_timeout(&t) {
                Ok(Some(d)) => Ok(d),
                Ok(None) => Err(invalid(key, "must be more than 0")),
                Err(p) => Err(invalid(key, p)),
            },
        };
        let refresh_interval =
            duration("docker.refresh_interval", refresh_interval, DEFAULT_REFRESH_INTERVAL)?;
        let cache_ttl = duration("docker.cache_ttl", cache_ttl, DEFAULT_CACHE_TTL)?;
        let discover = match discover {
            None => None,
            Some(DiscoverBlock { label_prefix }) => {
                let prefix = set(label_prefix)
                    .ok_or_else(|| invalid("docker.discover.label_prefix", "missing: e.g. prometheus.io"))?;
                if prefix.contains(|c: char| c.is_whitespace() || c == '=' || c == ',') {
                    return Err(invalid(
                        "docker.discover.label_prefix",
                        format!("{prefix:?} is not a label prefix"),
                    ));
                }
                Some(Discover { label_prefix: prefix.trim_end_matches('/').to_owned() })
            }
        };
        Ok(DockerConfig { host, tls, refresh_interval, cache_ttl, discover })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn hosts_as_docker_writes_them() {
        if cfg!(windows) {
            let e = DockerHost::parse("unix:///run/docker.sock").unwrap_err();
            assert!(e.contains("unix sockets are not available on Windows; give a tcp:// host"), "{e}");
        } else {
            assert_eq!(
                DockerHost::parse("unix:///run/docker.sock"),
                Ok(DockerHost::Unix("/run/docker.sock".into()))
            );
            assert!(DockerHost::parse("unix://docker.sock").unwrap_err().contains("absolute"));
        }
        assert_eq!(
            DockerHost::parse("tcp://[::1]:2376"),
            Ok(DockerHost::Tcp { host: "::1".into(), port: 2376 })
        );
        assert_eq!(
            DockerHost::parse("tcp://[::1]:2376").map(|h| h.to_string()),
            Ok("tcp://[::1]:2376".into())
        );
        assert!(DockerHost::parse("tcp://host").unwrap_err().contains("host:port"));
        assert!(DockerHost::parse("ssh://me@host").unwrap_err().contains("only unix:// and tcp://"));
    }

    #[test]
    fn defaults_follow_the_docker_client_environment() {
        if cfg!(windows) {
            // The default is the unix socket, which Windows refuses: a host must be given.
            let e = DockerConfig::from_env(&env(&[])).unwrap_err();
            assert!(e.contains("docker.host") && e.contains("not available on Windows"), "{e}");
        } else {
            let d = DockerConfig::from_env(&env(&[])).expect("defaults");
            assert_eq!(d.host, DockerHost::Unix(DEFAULT_DOCKER_SOCKET.into()));
            assert_eq!(
                (d.tls, d.refresh_interval, d.cache_ttl),
                (None, DEFAULT_REFRESH_INTERVAL, DEFAULT_CACHE_TTL)
            );
            let e =
                DockerConfig::from_env(&env(&[("DOCKER_TLS_VERIFY", "1"), ("HOME", "/root")])).unwrap_err();
            assert!(e.contains("docker.tls_verify") && e.contains("unix socket"), "{e}");
        }
        let d = DockerConfig::from_env(&env(&[
            ("DOCKER_HOST", "tcp://10.0.0.1:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/certs"),
        ]))
        .expect("tls");
        let tls = d.tls.expect("tls on");
        assert!(
            tls.verify
                && tls.ca_file == Path::new("/certs/ca.pem")
                && tls.key_file == Path::new("/certs/key.pem")
        );
        assert!(
            DockerConfig::from_env(&env(&[("DOCKER_HOST", "npipe:////./pipe/docker")]))
                .unwrap_err()
                .contains("DOCKER_HOST")
        );
    }
}
