//! From a container's name to the address its exporter listens on: asked of the Engine API
//! (`GET /containers/{name}/json`) when a connection is needed, remembered for `cache_ttl`,
//! and forgotten at once after a connection error so that a container restarted with a new
//! IP is reached on the next try.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::api::{DockerClient, DockerError};
use super::model::ContainerInspect;
use crate::config::docker::{AddressMode, ContainerTarget};
use crate::telemetry::DockerMetrics;

/// How long an Engine API call may take when the scrape has no deadline of its own.
pub const API_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a container's address cannot be had. The messages are for the log; a client gets a
/// short fixed 502 body.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// No container has that name or ID.
    #[error("container {0:?} does not exist")]
    Missing(String),
    /// It exists but does not run.
    #[error("container {name:?} is not running ({state})")]
    NotRunning {
        /// The container.
        name: String,
        /// `exited (code 2) 2 minutes ago`, `created`, `paused`, ...
        state: String,
    },
    /// Its health check says it is unhealthy.
    #[error("container {0:?} is unhealthy")]
    Unhealthy(String),
    /// It has no address on the network asked for (or on any network).
    #[error("container {name:?} has no address on {wanted} (its networks: {networks})")]
    NoNetwork {
        /// The container.
        name: String,
        /// `network "x"`, or `any network`.
        wanted: String,
        /// The networks it is on.
        networks: String,
    },
    /// `address_mode: published` and the port is not published.
    #[error("container {name:?} does not publish port {port}/tcp")]
    NotPublished {
        /// The container.
        name: String,
        /// The port inside the container.
        port: u16,
    },
    /// The Engine API failed.
    #[error(transparent)]
    Api(#[from] DockerError),
}

/// Resolves containers through one Engine API, with a short-lived cache.
#[derive(Debug)]
pub struct Resolver {
    client: Arc<DockerClient>,
    ttl: Duration,
    cache: Mutex<HashMap<ContainerTarget, (SocketAddr, Instant)>>,
    metrics: Arc<DockerMetrics>,
}

impl Resolver {
    /// A resolver over `client` that trusts an answer for `ttl`.
    pub fn new(client: Arc<DockerClient>, ttl: Duration, metrics: Arc<DockerMetrics>) -> Resolver {
        Resolver { client, ttl, cache: Mutex::default(), metrics }
    }

    /// The address to connect to for `target`, asking the Engine API unless a fresh answer is
    /// remembered. `deadline` bounds the API call.
    pub async fn resolve(
        &self,
        target: &ContainerTarget,
        deadline: Option<Instant>,
    ) -> Result<SocketAddr, ContainerError> {
        let now = Instant::now();
        if let Some((addr, until)) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(target)
            && *until > now
        {
            return Ok(*addr);
        }
        let deadline = deadline.map_or(now + API_TIMEOUT, |d| d.min(now + API_TIMEOUT));
        let inspect = match self.client.inspect(&target.name, deadline).await {
            Ok(Some(i)) => i,
            Ok(None) => return Err(ContainerError::Missing(target.name.clone())),
            Err(e) => {
                self.metrics.api_errors.inc();
                return Err(e.into());
            }
        };
        let addr = address_of(&inspect, target, SystemTime::now())?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Expired answers go as new ones come, so containers that come and go (each with a
        // new ID) never pile up: the cache holds at most the targets asked for within a TTL.
        cache.retain(|_, (_, until)| *until > now);
        cache.insert(target.clone(), (addr, now + self.ttl));
        Ok(addr)
    }

    /// How many answers are remembered.
    pub fn remembered(&self) -> usize {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Forgets what is remembered of `target` (after a connection to it failed).
    pub fn forget(&self, target: &ContainerTarget) {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).remove(target);
    }
}

/// Where `target`'s exporter listens, by what the Engine API says of the container. Pure.
pub fn address_of(
    c: &ContainerInspect,
    target: &ContainerTarget,
    now: SystemTime,
) -> Result<SocketAddr, ContainerError> {
    let name = &target.name;
    if !c.state.running {
        return Err(ContainerError::NotRunning { name: name.clone(), state: describe_state(c, now) });
    }
    if c.state.health.as_ref().is_some_and(|h| h.status == "unhealthy") {
        return Err(ContainerError::Unhealthy(name.clone()));
    }
    let port = target.port.get();
    if c.host_config.network_mode == "host" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    match target.mode {
        AddressMode::Network => {
            let networks = &c.network_settings.networks;
            let chosen = match &target.network {
                Some(wanted) => networks.get(wanted).map(|n| (wanted, n)),
                // Sorted by name, as Prometheus's docker_sd walks them.
                None => networks.iter().find(|(_, n)| !n.ip_address.is_empty()),
            };
            let ip = chosen.and_then(|(_, n)| n.ip_address.parse::<IpAddr>().ok()).ok_or_else(|| {
                ContainerError::NoNetwork {
                    name: name.clone(),
                    wanted: target
                        .network
                        .as_ref()
                        .map_or("any network".into(), |n| format!("network {n:?}")),
                    networks: if networks.is_empty() {
                        format!("none; network mode {:?}", c.host_config.network_mode)
                    } else {
                        networks.keys().cloned().collect::<Vec<_>>().join(", ")
                    },
                }
            })?;
            Ok(SocketAddr::new(ip, port))
        }
        AddressMode::Published => {
            let bindings = c.network_settings.ports.get(&format!("{port}/tcp")).and_then(Option::as_ref);
            let (binding, host_port) = bindings
                .and_then(|b| b.iter().find_map(|b| b.port().map(|p| (b, p))))
                .ok_or_else(|| ContainerError::NotPublished { name: name.clone(), port })?;
            // Published on every address: connect over loopback, of the family it was bound on.
            let ip = match binding.host_ip.as_str() {
                "" | "0.0.0.0" => IpAddr::V4(Ipv4Addr::LOCALHOST),
                "::" => IpAddr::V6(Ipv6Addr::LOCALHOST),
                other => other.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            };
            Ok(SocketAddr::new(ip, host_port))
        }
    }
}

/// `exited (code 2) 2 minutes ago`, `created`, `paused`: what `docker ps -a` would show.
fn describe_state(c: &ContainerInspect, now: SystemTime) -> String {
    let status = c.state.status.as_str();
    match status {
        "exited" | "dead" => {
            let ago = c
                .state
                .finished()
                .and_then(|t| now.duration_since(t).ok())
                .map(|d| format!(" {} ago", human(d.as_secs())))
                .unwrap_or_default();
            format!("{status} (code {}){ago}", c.state.exit_code)
        }
        "" => "not running".into(),
        other => other.into(),
    }
}

fn human(secs: u64) -> String {
    match secs {
        0..=1 => "a second".into(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "a minute".into(),
        120..=3599 => format!("{} minutes", secs / 60),
        3600..=7199 => "an hour".into(),
        7200..=172_799 => format!("{} hours", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU16;

    use super::*;
    use crate::docker::model::{ContainerState, Endpoint, Health, PortBinding};

    fn target(mode: AddressMode, network: Option<&str>) -> ContainerTarget {
        ContainerTarget {
            name: "pg".into(),
            port: NonZeroU16::new(9187).expect("port"),
            mode,
            network: network.map(str::to_owned),
        }
    }

    fn running() -> ContainerInspect {
        let mut c = ContainerInspect {
            state: ContainerState { status: "running".into(), running: true, ..ContainerState::default() },
            ..ContainerInspect::default()
        };
        for (net, ip) in [("zeta", "172.18.0.5"), ("alpha", "172.17.0.3")] {
            c.network_settings
                .networks
                .insert(net.into(), Endpoint { ip_address: ip.into(), ..Endpoint::default() });
        }
        c
    }

    #[test]
    fn the_network_address_is_the_first_network_by_name_or_the_one_asked_for() {
        let now = SystemTime::now();
        let c = running();
        let at = |t| address_of(&c, &t, now).map(|a| a.to_string()).map_err(|e| e.to_string());
        assert_eq!(at(target(AddressMode::Network, None)), Ok("172.17.0.3:9187".into()));
        assert_eq!(at(target(AddressMode::Network, Some("zeta"))), Ok("172.18.0.5:9187".into()));
        let e = at(target(AddressMode::Network, Some("other"))).unwrap_err();
        assert!(e.contains("network \"other\"") && e.contains("alpha, zeta"), "{e}");
        let mut host = running();
        host.host_config.network_mode = "host".into();
        assert_eq!(
            address_of(&host, &target(AddressMode::Network, None), now).expect("host").to_string(),
            "127.0.0.1:9187"
        );
    }

    #[test]
    fn the_published_address_is_on_loopback_for_every_interface() {
        let now = SystemTime::now();
        let mut c = running();
        let e = address_of(&c, &target(AddressMode::Published, None), now).unwrap_err().to_string();
        assert!(e.contains("does not publish port 9187/tcp"), "{e}");
        c.network_settings.ports.insert(
            "9187/tcp".into(),
            Some(vec![PortBinding { host_ip: "0.0.0.0".into(), host_port: "19187".into() }]),
        );
        assert_eq!(
            address_of(&c, &target(AddressMode::Published, None), now).expect("published").to_string(),
            "127.0.0.1:19187"
        );
    }

    #[test]
    fn stopped_and_unhealthy_containers_say_why() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_180_766); // 2026-12-02T03:06:06Z
        let mut c = running();
        c.state = ContainerState {
            status: "exited".into(),
            running: false,
            exit_code: 2,
            finished_at: "2026-12-02T03:04:05.5Z".into(),
            ..ContainerState::default()
        };
        let e = address_of(&c, &target(AddressMode::Network, None), now).unwrap_err().to_string();
        assert_eq!(e, "container \"pg\" is not running (exited (code 2) 2 minutes ago)");
        let mut sick = running();
        sick.state.health = Some(Health { status: "unhealthy".into() });
        assert_eq!(
            address_of(&sick, &target(AddressMode::Network, None), now).unwrap_err().to_string(),
            "container \"pg\" is unhealthy"
        );
    }

    /// A container that comes and goes under a new name each time leaves no answer behind
    /// once its TTL has passed: the cache holds only what was asked for within one TTL.
    #[cfg(unix)] // a fake Engine API on a unix socket
    #[tokio::test]
    async fn expired_answers_do_not_pile_up() {
        use crate::config::docker::DockerHost;
        let dir = tempfile::tempdir().expect("tmp");
        let socket = dir.path().join("d.sock");
        let listener = tokio::net::UnixListener::bind(&socket).expect("bind");
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |req: hyper::Request<hyper::body::Incoming>| async move {
                            let body = if req.uri().path() == "/_ping" {
                                String::new()
                            } else {
                                r#"{"State":{"Status":"running","Running":true},"NetworkSettings":{"Networks":{"b":{"IPAddress":"127.0.0.1"}}}}"#.to_owned()
                            };
                            let mut r =
                                hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
                            r.headers_mut().insert("api-version", http::HeaderValue::from_static("1.45"));
                            Ok::<_, std::convert::Infallible>(r)
                        },
                    );
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        let client = Arc::new(DockerClient::new(&DockerHost::Unix(socket), None).expect("client"));
        let resolver = Resolver::new(client, Duration::from_millis(50), Arc::default());
        for i in 0..20 {
            let t = ContainerTarget { name: format!("c{i}"), ..target(AddressMode::Network, None) };
            resolver.resolve(&t, None).await.expect("resolved");
        }
        assert_eq!(resolver.remembered(), 20, "all within one TTL");
        tokio::time::sleep(Duration::from_millis(80)).await;
        resolver.resolve(&target(AddressMode::Network, None), None).await.expect("resolved");
        assert_eq!(resolver.remembered(), 1, "the expired ones went");
        server.abort();
    }

    #[test]
    fn ages_as_docker_ps_words_them() {
        assert_eq!(human(1), "a second");
        assert_eq!(human(150), "2 minutes");
        assert_eq!(human(7300), "2 hours");
    }
}
