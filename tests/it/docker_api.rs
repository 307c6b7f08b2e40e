//! The Docker Engine API client: against a fake daemon replaying answers recorded from Docker
//! 20.10, Podman 4.3 and written for Docker 29 (tests/docker/), on a unix socket and on TCP with
//! and without TLS client certificates; and against the real daemon, with a container of its own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exporter_exporter::config::docker::{DockerHost, DockerTls};
use exporter_exporter::docker::api::{
    ApiVersion, DockerClient, DockerError, MAX_ANSWER_BYTES, MIN_API_VERSION, OUR_API_VERSION,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::docker_support::{DaemonLink, Docker, LinkMode, METRICS, Podman};
use crate::support::{self, FakeExporter, FakeUnix, Pki, Reply, Seen};

/// A daemon as recorded in tests/docker/<dir>, with what the recording holds.
#[derive(Debug, Clone, Copy)]
struct Recorded {
    dir: &'static str,
    /// The oldest API version it accepts; `None`: it does not check (Podman 4.3).
    oldest: Option<(u32, u32)>,
    container: &'static str,
    network: &'static str,
    ip: &'static str,
    host_port: u16,
    network_mode: &'static str,
    health: Option<&'static str>,
}

const DOCKER_20_10: Recorded = Recorded {
    dir: "docker-20.10",
    oldest: Some((1, 12)),
    container: "bbpub",
    network: "bridge",
    ip: "172.17.0.3",
    host_port: 19187,
    network_mode: "default",
    health: None,
};
const DOCKER_29: Recorded = Recorded {
    dir: "docker-29",
    // Docker 29 refuses clients older than 1.44 (400, "client version 1.41 is too old").
    oldest: Some((1, 44)),
    container: "bbpub",
    network: "bridge",
    ip: "172.17.0.3",
    host_port: 19187,
    network_mode: "bridge",
    health: Some("healthy"),
};
const PODMAN_4_3: Recorded = Recorded {
    dir: "podman-4.3",
    oldest: None,
    container: "pmpub",
    network: "podman",
    // Recorded from a created container, which has no address yet.
    ip: "",
    host_port: 19188,
    // Podman leaves HostConfig out of the list.
    network_mode: "",
    health: None,
};

fn recorded(daemon: Recorded, file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker").join(daemon.dir).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The headers of the recorded `/_ping` answer that a client may read.
fn ping_headers(daemon: Recorded) -> Vec<(&'static str, String)> {
    const KEPT: &[&str] = &["api-version", "server", "ostype", "docker-experimental", "libpod-api-version"];
    let text = recorded(daemon, "ping.headers");
    let mut headers = Vec::new();
    for line in text.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else { continue };
        if let Some(kept) = KEPT.iter().find(|k| k.eq_ignore_ascii_case(name.trim())) {
            headers.push((*kept, value.trim().to_owned()));
        }
    }
    headers
}

fn newest(daemon: Recorded) -> (u32, u32) {
    let (_, v) = ping_headers(daemon).into_iter().find(|(k, _)| *k == "api-version").expect("API-Version");
    let (major, minor) = v.split_once('.').expect("major.minor");
    (major.parse().expect("major"), minor.parse().expect("minor"))
}

fn json(status: u16, body: String) -> Reply {
    Reply::ok("application/json", body).status(status)
}

/// A fake Engine API replaying a recording; the recording can be swapped (a daemon upgrade).
#[derive(Debug, Clone)]
struct Engine(Arc<Mutex<Recorded>>);

impl Engine {
    fn new(daemon: Recorded) -> Engine {
        Engine(Arc::new(Mutex::new(daemon)))
    }

    fn upgrade(&self, daemon: Recorded) {
        *self.0.lock().expect("lock") = daemon;
    }

    fn handler(&self) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
        let engine = self.clone();
        move |seen| engine.answer(seen)
    }

    fn answer(&self, seen: &Seen) -> Reply {
        let daemon = *self.0.lock().expect("lock");
        if seen.path == "/_ping" {
            return ping_headers(daemon)
                .into_iter()
                .fold(Reply::ok("text/plain; charset=utf-8", "OK"), |r, (k, v)| r.header(k, &v));
        }
        let not_found = || json(404, r#"{"message":"page not found"}"#.to_owned());
        let Some((version, rest)) = seen.path.strip_prefix("/v").and_then(|p| p.split_once('/')) else {
            return not_found();
        };
        let (major, minor) = version.split_once('.').expect("a version");
        let asked: (u32, u32) = (major.parse().expect("major"), minor.parse().expect("minor"));
        if let Some(oldest) = daemon.oldest {
            let newest = newest(daemon);
            if asked < oldest {
                return json(
                    400,
                    format!(
                        r#"{{"message":"client version {version} is too old. Minimum supported API version is {}.{}, please upgrade your client to a newer version"}}"#,
                        oldest.0, oldest.1
                    ),
                );
            }
            if asked > newest {
                return json(
                    400,
                    format!(
                        r#"{{"message":"client version {version} is too new. Maximum supported API version is {}.{}"}}"#,
                        newest.0, newest.1
                    ),
                );
            }
        }
        if rest == "containers/json" {
            return json(200, containers(daemon, &seen.query));
        }
        let Some(name) = rest.strip_prefix("containers/").and_then(|r| r.strip_suffix("/json")) else {
            return not_found();
        };
        let inspect: serde_json::Value =
            serde_json::from_str(&recorded(daemon, "inspect.json")).expect("json");
        let id = inspect["Id"].as_str().expect("Id");
        if inspect["Name"].as_str() == Some(&format!("/{name}")) || id.starts_with(name) {
            json(200, inspect.to_string())
        } else {
            json(404, recorded(daemon, "not_found.json"))
        }
    }
}

/// The recorded list, filtered by the `label` filter as the daemon does (`key` or `key=value`).
fn containers(daemon: Recorded, query: &str) -> String {
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&recorded(daemon, "containers.json")).expect("json");
    let filters = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "filters").map(|(_, v)| v);
    let labels: Vec<String> = match filters {
        None => Vec::new(),
        Some(f) => {
            let f: serde_json::Value = serde_json::from_str(&f).expect("filters are JSON");
            f["label"]
                .as_array()
                .expect("a label filter")
                .iter()
                .map(|l| l.as_str().expect("s").to_owned())
                .collect()
        }
    };
    let kept: Vec<&serde_json::Value> = list
        .iter()
        .filter(|c| {
            labels.iter().all(|l| match l.split_once('=') {
                Some((k, v)) => c["Labels"][k].as_str() == Some(v),
                None => c["Labels"].get(l).is_some(),
            })
        })
        .collect();
    serde_json::to_string(&kept).expect("json")
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn unix_client(path: &Path) -> DockerClient {
    DockerClient::new(&DockerHost::Unix(path.to_owned()), None).expect("client")
}

fn paths(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .map(|s| if s.query.is_empty() { s.path.clone() } else { format!("{}?{}", s.path, s.query) })
        .collect()
}

/// Lists, inspects and misses through `client`, and checks what the recording holds.
async fn exercise(client: &DockerClient, daemon: Recorded) {
    let list = client.containers(Some("prometheus.io/scrape=true"), soon()).await.expect("list");
    assert_eq!(list.len(), 1, "{}: {list:?}", daemon.dir);
    let c = &list[0];
    assert_eq!(c.name(), Some(daemon.container));
    assert_eq!(c.labels.get("prometheus.io/port").map(String::as_str), Some("9100"));
    assert_eq!(c.network_settings.networks[daemon.network].ip_address, daemon.ip);
    assert_eq!(c.host_config.network_mode, daemon.network_mode);
    let published = c.ports.iter().find(|p| p.private_port == 9100).expect("port 9100");
    assert_eq!(
        (published.ip.as_str(), published.public_port, published.protocol.as_str()),
        ("127.0.0.1", Some(daemon.host_port), "tcp")
    );
    let none = client.containers(Some("prometheus.io/scrape=false"), soon()).await.expect("list");
    assert!(none.is_empty(), "{none:?}");

    let inspected = client.inspect(daemon.container, soon()).await.expect("inspect").expect("found");
    assert_eq!(inspected.name(), daemon.container);
    assert_eq!(inspected.id, c.id);
    assert_eq!(inspected.config.labels.get("prometheus.io/scrape").map(String::as_str), Some("true"));
    assert_eq!(inspected.network_settings.networks[daemon.network].ip_address, daemon.ip);
    let bindings = inspected.network_settings.ports["9100/tcp"].as_ref().expect("published");
    assert_eq!(bindings[0].port(), Some(daemon.host_port));
    assert_eq!(inspected.state.health.as_ref().map(|h| h.status.as_str()), daemon.health);
    assert!(client.inspect("nosuch", soon()).await.expect("inspect").is_none());
}

#[tokio::test]
async fn each_daemon_is_asked_at_the_version_it_speaks_and_its_answers_read() {
    for (daemon, expected) in [(DOCKER_20_10, "1.41"), (DOCKER_29, "1.52"), (PODMAN_4_3, "1.41")] {
        let dir = tempfile::tempdir().expect("tmp");
        let fake = FakeUnix::start(&dir.path().join("docker.sock"), Engine::new(daemon).handler()).await;
        let client = unix_client(&fake.path);
        let version = client.version(soon()).await.expect("version");
        assert_eq!(version.to_string(), expected, "{}", daemon.dir);
        exercise(&client, daemon).await;

        let seen = paths(&fake.requests());
        assert_eq!(seen[0], "/_ping");
        assert!(seen[1..].iter().all(|p| p.starts_with(&format!("/v{expected}/"))), "{seen:?}");
        assert_eq!(
            seen[1],
            format!(
                "/v{expected}/containers/json?filters=%7B%22label%22%3A%5B%22prometheus.io%2Fscrape%3Dtrue%22%5D%7D"
            )
        );
        assert_eq!(seen.iter().filter(|p| *p == "/_ping").count(), 1, "negotiated once: {seen:?}");
    }
}

#[tokio::test]
async fn the_version_is_the_lower_of_ours_and_the_daemons() {
    assert!(OUR_API_VERSION >= ApiVersion { major: 1, minor: 44 }, "Docker 29 refuses anything older");
    assert_eq!(newest(DOCKER_29), (1, 52));
    // A daemon newer than us: we ask at ours (and it accepts it, being at least its oldest).
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeUnix::start(&dir.path().join("d.sock"), |s: &Seen| {
        if s.path == "/_ping" {
            Reply::text("OK").header("api-version", "1.99")
        } else {
            json(200, "[]".into())
        }
    })
    .await;
    let client = unix_client(&fake.path);
    assert_eq!(client.version(soon()).await.expect("version"), OUR_API_VERSION);
    assert!(client.containers(None, soon()).await.expect("list").is_empty());
    assert_eq!(paths(&fake.requests())[1], format!("/v{OUR_API_VERSION}/containers/json"));
}

#[tokio::test]
async fn a_daemon_upgraded_between_calls_is_asked_again_never_pinned() {
    let dir = tempfile::tempdir().expect("tmp");
    let engine = Engine::new(DOCKER_20_10);
    let fake = FakeUnix::start(&dir.path().join("docker.sock"), engine.handler()).await;
    let client = unix_client(&fake.path);
    assert_eq!(client.containers(None, soon()).await.expect("list").len(), 1);
    // Docker 29 now answers on the same socket, and refuses 1.41 as too old.
    engine.upgrade(DOCKER_29);
    assert_eq!(client.containers(None, soon()).await.expect("list after the upgrade").len(), 1);
    assert_eq!(client.version(soon()).await.expect("version").to_string(), "1.52");
    assert_eq!(
        paths(&fake.requests()),
        ["/_ping", "/v1.41/containers/json", "/v1.41/containers/json", "/_ping", "/v1.52/containers/json"]
    );
}

#[tokio::test]
async fn the_version_is_negotiated_again_after_a_connection_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let socket = dir.path().join("docker.sock");
    let fake = FakeUnix::start(&socket, Engine::new(DOCKER_20_10).handler()).await;
    let client = unix_client(&socket);
    assert_eq!(client.version(soon()).await.expect("version").to_string(), "1.41");
    drop(fake);
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while socket.exists() {
        assert!(std::time::Instant::now() < until, "the fake did not stop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let err = client.containers(None, soon()).await.expect_err("the daemon is gone");
    assert!(matches!(err, DockerError::Unreachable { .. }), "{err:?}");

    let fake = FakeUnix::start(&socket, Engine::new(DOCKER_29).handler()).await;
    assert_eq!(client.containers(None, soon()).await.expect("list").len(), 1);
    assert_eq!(paths(&fake.requests()), ["/_ping", "/v1.52/containers/json"]);
}

#[tokio::test]
async fn an_unreachable_daemon_is_a_typed_error_naming_the_host() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("missing.sock");
    let err = unix_client(&missing).version(soon()).await.expect_err("no socket");
    assert!(matches!(err, DockerError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("unix://{}", missing.display())), "{text}");

    let port = support::closed_port().await;
    let host = DockerHost::Tcp { host: "127.0.0.1".into(), port };
    let err = DockerClient::new(&host, None).expect("client").inspect("x", soon()).await.expect_err("closed");
    assert!(matches!(err, DockerError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("tcp://127.0.0.1:{port}")), "{err}");
}

#[tokio::test]
async fn a_daemon_that_never_answers_fails_at_the_deadline() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeUnix::start(&dir.path().join("d.sock"), |_: &Seen| {
        Reply::text("OK").header("api-version", "1.41").delay(Duration::from_secs(3600))
    })
    .await;
    let client = unix_client(&fake.path);
    let budget = Duration::from_millis(300);
    let started = Instant::now();
    let err = client.version(started + budget).await.expect_err("no answer");
    let took = started.elapsed();
    assert!(matches!(err, DockerError::TimedOut { .. }), "{err:?}");
    assert!(took >= budget && took < budget + Duration::from_secs(1), "{took:?}");
    assert!(err.to_string().contains("GET /_ping"), "{err}");
}

/// A daemon that sends `head` to every request, then `then` forever (or nothing), never ending.
async fn raw_daemon(
    path: &Path,
    head: &'static str,
    then: Option<&'static [u8]>,
) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::UnixListener::bind(path).expect("bind");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    match then {
                        Some(bytes) => {
                            if stream.write_all(bytes).await.is_err() {
                                return;
                            }
                        }
                        None => tokio::time::sleep(Duration::from_secs(3600)).await,
                    }
                }
            });
        }
    })
}

#[tokio::test]
async fn a_body_that_never_ends_fails_at_the_deadline() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("d.sock");
    let task =
        raw_daemon(&path, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 100\r\n\r\nO", None).await;
    let started = Instant::now();
    let err = unix_client(&path).version(started + Duration::from_millis(300)).await.expect_err("no end");
    assert!(matches!(err, DockerError::TimedOut { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1300));
    task.abort();
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    // Announced by Content-Length: refused before reading it.
    let dir = tempfile::tempdir().expect("tmp");
    let big = Arc::new(vec![b' '; MAX_ANSWER_BYTES + 1]);
    let fake = FakeUnix::start(&dir.path().join("d.sock"), move |s: &Seen| {
        if s.path == "/_ping" {
            Reply::text("OK").header("api-version", "1.41")
        } else {
            Reply::ok("application/json", big.as_ref().clone())
        }
    })
    .await;
    let err = unix_client(&fake.path).containers(None, soon()).await.expect_err("too large");
    assert!(matches!(err, DockerError::TooLarge { limit: MAX_ANSWER_BYTES, .. }), "{err:?}");
    assert!(err.to_string().contains("/v1.41/containers/json"), "{err}");

    // Chunked without end: refused once the limit is read, long before the deadline.
    const CHUNK: &[u8] = b"100000\r\n";
    let path = dir.path().join("chunked.sock");
    let head = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n";
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let chunk = BODY.get_or_init(|| [CHUNK, &vec![b'x'; 0x100000], b"\r\n"].concat());
    let task = raw_daemon(&path, head, Some(chunk.as_slice())).await;
    let started = Instant::now();
    let err = unix_client(&path).version(started + Duration::from_secs(20)).await.expect_err("too large");
    assert!(matches!(err, DockerError::TooLarge { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    task.abort();
}

#[tokio::test]
async fn daemon_errors_and_unreadable_answers_are_typed() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeUnix::start(&dir.path().join("d.sock"), |s: &Seen| match s.path.as_str() {
        "/_ping" => Reply::text("OK").header("api-version", "1.41"),
        "/v1.41/containers/json" => json(500, r#"{"message":"Error response from daemon: boom"}"#.into()),
        _ => Reply::ok("application/json", "this is not JSON"),
    })
    .await;
    let client = unix_client(&fake.path);
    match client.containers(None, soon()).await.expect_err("500") {
        DockerError::Status { status, message, path, .. } => {
            assert_eq!((status.as_u16(), message.as_str()), (500, "Error response from daemon: boom"));
            assert_eq!(path, "/v1.41/containers/json");
        }
        other => panic!("{other:?}"),
    }
    let err = client.inspect("web", soon()).await.expect_err("not JSON");
    assert!(matches!(err, DockerError::BadAnswer { .. }), "{err:?}");
    assert!(err.to_string().contains("/v1.41/containers/web/json"), "{err}");

    for (header, want_too_old) in [(None, false), (Some("1.20"), true), (Some("one"), false)] {
        let path = dir.path().join(format!("ping-{}.sock", header.unwrap_or("none")));
        let fake = FakeUnix::start(&path, move |_: &Seen| match header {
            Some(v) => Reply::text("OK").header("api-version", v),
            None => Reply::text("OK"),
        })
        .await;
        let err = unix_client(&fake.path).version(soon()).await.expect_err("no usable version");
        if want_too_old {
            assert!(matches!(err, DockerError::TooOld { .. }), "{err:?}");
            assert!(err.to_string().contains(&MIN_API_VERSION.to_string()), "{err}");
        } else {
            assert!(matches!(err, DockerError::BadAnswer { .. }), "{err:?}");
            assert!(err.to_string().contains("/_ping"), "{err}");
        }
    }
}

#[tokio::test]
async fn names_that_no_container_can_have_are_not_sent() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeUnix::start(&dir.path().join("d.sock"), Engine::new(DOCKER_20_10).handler()).await;
    let client = unix_client(&fake.path);
    for name in ["../../_ping", "a/b", "", "a?all=1"] {
        assert!(client.inspect(name, soon()).await.expect("inspect").is_none(), "{name:?}");
    }
    assert!(client.inspect("/bbpub", soon()).await.expect("inspect").is_some(), "a leading / is the name's");
    assert_eq!(paths(&fake.requests()), ["/_ping", "/v1.41/containers/bbpub/json"]);
}

#[tokio::test]
async fn plain_tcp_works() {
    let fake = FakeExporter::start(Engine::new(DOCKER_29).handler(), None).await;
    let host = DockerHost::Tcp { host: "127.0.0.1".into(), port: fake.port() };
    let client = DockerClient::new(&host, None).expect("client");
    exercise(&client, DOCKER_29).await;
    assert_eq!(fake.requests()[0].headers["host"], format!("127.0.0.1:{}", fake.port()));
}

fn docker_tls(ca: &Path, client: &support::Issued, verify: bool) -> DockerTls {
    DockerTls { ca_file: ca.to_owned(), cert_file: client.cert.clone(), key_file: client.key.clone(), verify }
}

#[tokio::test]
async fn tcp_with_tls_presents_the_client_certificate_and_verifies_the_daemon() {
    let pki = Pki::new();
    let (daemon_ca, daemon_issuer) = pki.ca("daemon-ca");
    let (client_ca, client_issuer) = pki.ca("client-ca");
    let (other_ca, _) = pki.ca("other-ca");
    let leaf = pki.leaf("daemon", &["127.0.0.1"], &daemon_issuer);
    let client_cert = pki.leaf("client", &["client"], &client_issuer);
    // The daemon requires a client certificate from client-ca, as `dockerd --tlsverify` does.
    let fake = FakeExporter::start(
        Engine::new(DOCKER_20_10).handler(),
        Some(support::tls_server(&leaf, Some(&client_ca))),
    )
    .await;
    let host = DockerHost::Tcp { host: "127.0.0.1".into(), port: fake.port() };

    let client =
        DockerClient::new(&host, Some(&docker_tls(&daemon_ca.cert, &client_cert, true))).expect("client");
    exercise(&client, DOCKER_20_10).await;

    // A daemon certificate from another CA is refused when verifying...
    let strict =
        DockerClient::new(&host, Some(&docker_tls(&other_ca.cert, &client_cert, true))).expect("client");
    let err = strict.version(soon()).await.expect_err("unknown CA");
    assert!(matches!(err, DockerError::Connection { .. }), "{err:?}");
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    // ...and accepted without verification, the client certificate still presented (the fake
    // refuses connections without one).
    let lax =
        DockerClient::new(&host, Some(&docker_tls(&other_ca.cert, &client_cert, false))).expect("client");
    assert_eq!(lax.version(soon()).await.expect("version").to_string(), "1.41");
}

#[tokio::test]
async fn unusable_tls_files_are_reported_when_the_client_is_made() {
    let pki = Pki::new();
    let (ca, issuer) = pki.ca("ca");
    let client_cert = pki.leaf("client", &["client"], &issuer);
    let host = DockerHost::Tcp { host: "127.0.0.1".into(), port: 2376 };
    let missing = pki.dir.path().join("missing-key.pem");
    let tls = DockerTls { key_file: missing.clone(), ..docker_tls(&ca.cert, &client_cert, true) };
    let err = DockerClient::new(&host, Some(&tls)).expect_err("no key");
    assert!(matches!(err, DockerError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
    // A unix host ignores TLS settings, as Docker's client does.
    assert!(DockerClient::new(&DockerHost::Unix(PathBuf::from("/nonexistent")), Some(&tls)).is_ok());
}

#[tokio::test]
async fn the_real_daemon_lists_inspects_and_reaches_a_labelled_container() {
    let Some(docker) = Docker::available() else { return };
    let case = format!("api-{}", std::process::id());
    let container = docker.run("api", &[("prometheus.io/scrape", "true"), ("expexp.test.case", &case)], &[]);
    let client = unix_client(docker.socket());

    let version = client.version(soon()).await.expect("version");
    assert!(version >= MIN_API_VERSION && version <= OUR_API_VERSION, "{version}");

    let label = format!("expexp.test.case={case}");
    let list = client.containers(Some(&label), soon()).await.expect("list");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].name(), Some(container.name.as_str()));
    assert_eq!(list[0].id, container.id);
    assert_eq!(list[0].state, "running");
    assert_eq!(list[0].labels.get("prometheus.io/scrape").map(String::as_str), Some("true"));

    let inspected = client.inspect(&container.name, soon()).await.expect("inspect").expect("found");
    assert!(inspected.state.running, "{:?}", inspected.state);
    let started = inspected.state.started().expect("a start time");
    let age = std::time::SystemTime::now().duration_since(started).unwrap_or_default();
    assert!(age < Duration::from_secs(120), "started {age:?} ago");
    assert_eq!(inspected.state.finished(), None, "never stopped: {:?}", inspected.state);
    let ip = &inspected.network_settings.networks["bridge"].ip_address;
    assert_eq!(*ip, container.ip());
    let got = support::get(&container.metrics_url().await, &[]).await;
    assert_eq!((got.status, got.text().as_str()), (200, METRICS));

    let missing = format!("{}-missing", container.name);
    assert!(client.inspect(&missing, soon()).await.expect("inspect").is_none());
    let by_id = client.inspect(&container.id[..12], soon()).await.expect("inspect").expect("by short ID");
    assert_eq!(by_id.name(), container.name);
    // A label filter without a value keeps every container that has the label.
    let with_key = client.containers(Some("expexp.test.case"), soon()).await.expect("list");
    assert!(with_key.iter().any(|c| c.id == container.id), "{with_key:?}");

    // Stopped: no longer listed; inspect says so and since when.
    container.stop();
    assert!(client.containers(Some(&label), soon()).await.expect("list").is_empty());
    let stopped = client.inspect(&container.name, soon()).await.expect("inspect").expect("still there");
    assert!(!stopped.state.running && stopped.state.status == "exited", "{:?}", stopped.state);
    assert!(stopped.state.finished().is_some_and(|t| t >= started), "{:?}", stopped.state);
    assert!(stopped.network_settings.networks.values().all(|n| n.ip_address.is_empty()), "{stopped:?}");

    // Started again: listed, with an address, serving.
    container.restart();
    assert_eq!(client.containers(Some(&label), soon()).await.expect("list").len(), 1);
    let again = client.inspect(&container.name, soon()).await.expect("inspect").expect("found");
    assert!(again.state.running && !again.network_settings.networks["bridge"].ip_address.is_empty());
    let got = support::get(&container.metrics_url().await, &[]).await;
    assert_eq!(got.status, 200);
}

#[tokio::test]
async fn the_real_daemon_reports_a_user_network_and_a_published_port() {
    let Some(docker) = Docker::available() else { return };
    let network = docker.network("api-net");
    let container = docker.run_with(
        "api-pub",
        &[("expexp.test.case", &format!("pub-{}", std::process::id()))],
        &["--network", &network.name, "--publish", "127.0.0.1::9100"],
        &[],
    );
    let host_port = container.published_port(9100);
    let client = unix_client(docker.socket());

    let inspected = client.inspect(&container.name, soon()).await.expect("inspect").expect("found");
    assert_eq!(inspected.host_config.network_mode, network.name);
    assert_eq!(inspected.network_settings.networks.keys().collect::<Vec<_>>(), [&network.name]);
    assert_eq!(inspected.network_settings.networks[&network.name].ip_address, container.ip());
    let bindings = inspected.network_settings.ports["9100/tcp"].as_ref().expect("published");
    assert_eq!((bindings[0].host_ip.as_str(), bindings[0].port()), ("127.0.0.1", Some(host_port)));

    let label = format!("expexp.test.case=pub-{}", std::process::id());
    let listed = client.containers(Some(&label), soon()).await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].host_config.network_mode, network.name);
    let port = listed[0].ports.iter().find(|p| p.private_port == 9100).expect("port 9100");
    assert_eq!((port.ip.as_str(), port.public_port), ("127.0.0.1", Some(host_port)));

    // The published port is on loopback.
    let url = format!("http://127.0.0.1:{host_port}/metrics");
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", host_port)).await.is_err() {
        assert!(std::time::Instant::now() < until, "nothing on {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = support::get(&url, &[]).await;
    assert_eq!((got.status, got.text().as_str()), (200, METRICS));
}

#[tokio::test]
async fn the_real_daemon_gone_or_stuck_is_an_error_in_time_and_back_it_answers() {
    let Some(docker) = Docker::available() else { return };
    let link = DaemonLink::new(&docker).await;
    let client = unix_client(link.socket());
    let version = client.version(soon()).await.expect("version through the link");

    link.set(LinkMode::Down).await;
    let err = client.containers(None, soon()).await.expect_err("down");
    assert!(matches!(err, DockerError::Unreachable { .. }), "{err:?}");

    link.set(LinkMode::Hang).await;
    let started = Instant::now();
    let err = client.containers(None, started + Duration::from_millis(300)).await.expect_err("stuck");
    assert!(matches!(err, DockerError::TimedOut { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1300), "{:?}", started.elapsed());

    link.set(LinkMode::Up).await;
    client.containers(None, soon()).await.expect("back");
    assert_eq!(client.version(soon()).await.expect("version"), version);
}

#[tokio::test]
async fn the_real_podman_service_answers_the_same_calls() {
    let Some(podman) = Podman::start().await else { return };
    let case = format!("podman-{}", std::process::id());
    // Created, not started: the calls and shapes are the point, and not every machine lets
    // Podman's runtime start containers (rlimits in sandboxes).
    let container = podman.create("podman", &[("prometheus.io/scrape", "true"), ("expexp.test.case", &case)]);
    let client = unix_client(podman.socket());

    let version = client.version(soon()).await.expect("version");
    assert!(version >= MIN_API_VERSION && version <= OUR_API_VERSION, "{version}");
    let label = format!("expexp.test.case={case}");
    let running = client.containers(Some(&label), soon()).await.expect("list");
    assert!(running.is_empty(), "only running containers are listed: {running:?}");

    let inspected = client.inspect(&container.name, soon()).await.expect("inspect").expect("found");
    assert_eq!((inspected.name(), inspected.id.as_str()), (container.name.as_str(), container.id.as_str()));
    assert!(!inspected.state.running, "{:?}", inspected.state);
    assert_eq!(inspected.config.labels.get("expexp.test.case"), Some(&case));
    assert_eq!(inspected.state.health, None);
    assert!(client.inspect(&format!("{}-missing", container.name), soon()).await.expect("inspect").is_none());
}

#[test]
fn a_test_container_is_removed_even_when_its_test_fails() {
    let Some(docker) = Docker::available() else { return };
    let name = Arc::new(Mutex::new(String::new()));
    let seen = name.clone();
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let container = docker.run("unwind", &[], &["sleep", "600"]);
        *seen.lock().expect("lock") = container.name.clone();
        panic!("the test fails while its container runs");
    }));
    assert!(failed.is_err());
    let name = name.lock().expect("lock").clone();
    assert!(!name.is_empty());
    let left =
        docker.cli(&["ps", "--all", "--quiet", "--filter", &format!("name=^{name}$")]).expect("docker ps");
    assert_eq!(left, "", "{name} is still there");
}
