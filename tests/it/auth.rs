//! Request checks on every endpoint: bearer token, allow list, basic auth from the web config
//! file, the web config's TLS client-auth policies and security headers. Nothing secret may
//! appear in a response or a log line.

use crate::support;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use exporter_exporter::security::{BearerFlag, Secret, Security, WebSettings};
use exporter_exporter::settings::Options;
use exporter_exporter::settings::Settings;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use support::{FakeExporter, Issued, LogCapture, Pki, Reply, TestProxy, get};

/// The flags' defaults, listening on a free loopback port.
fn settings() -> WebSettings {
    WebSettings { plain_address: Some("127.0.0.1:0".into()), tls_address: None, ..Settings::default().web }
}

async fn start(yaml: &str, s: &WebSettings) -> TestProxy {
    TestProxy::start_secure(yaml, Options::default(), s).await
}

#[tokio::test]
async fn bearer_token_like_the_original_and_never_logged_or_forwarded() {
    let (logs, _guard) = LogCapture::start();
    let up = FakeExporter::serving(Reply::text("a 1\n")).await;
    let yaml =
        format!("modules:\n  m:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n", up.port());
    let s = WebSettings { bearer: BearerFlag::Token(Secret("T0PS3CRET".into())), ..settings() };
    let proxy = start(&yaml, &s).await;
    let url = proxy.url("/proxy?module=m");
    let cases = [
        (None, 401, "Authorization header is missing"),
        (Some("Basic abc"), 401, "Authorization header not of Bearer type"),
        (Some("Bearer W40NGTOKEN"), 401, "Invalid Bearer Token"),
        (Some("Bearer T0PS3CRET"), 200, "a 1\n"),
    ];
    for (header, status, body) in cases {
        let headers: Vec<(&str, &str)> = header.map(|h| ("Authorization", h)).into_iter().collect();
        let got = get(&url, &headers).await;
        assert_eq!((got.status, got.text().as_str()), (status, body), "{header:?}");
    }
    assert_eq!(proxy.get("/metrics").await.status, 401, "every endpoint is protected");
    assert_eq!(proxy.get("/").await.status, 401);
    assert!(!up.last().headers.contains_key("authorization"), "our token is not forwarded upstream");
    assert!(!logs.text().contains("T0PS3CRET") && !logs.text().contains("W40NGTOKEN"), "{}", logs.text());
}

#[tokio::test]
async fn bearer_token_file_is_trimmed_and_must_not_be_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("token");
    std::fs::write(&file, "  filetoken\n").expect("write");
    let proxy =
        start("modules: {}\n", &WebSettings { bearer: BearerFlag::File(file.clone()), ..settings() }).await;
    assert_eq!(get(&proxy.url("/"), &[("Authorization", "Bearer filetoken")]).await.status, 200);
    std::fs::write(&file, " \n").expect("write");
    let e = Security::load(&WebSettings { bearer: BearerFlag::File(file), ..settings() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("should not be empty"), "{e}");
    let e = Security::load(&WebSettings { bearer: BearerFlag::File(dir.path().join("nope")), ..settings() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("failed reading bearer file"), "{e}");
}

#[test]
fn token_and_token_file_are_mutually_exclusive() {
    let cli =
        exporter_exporter::cli::parse(["x", "-web.bearer.token=a", "-web.bearer.token-file=b"]).expect("cli");
    let e = cli.settings().unwrap_err().to_string();
    assert!(e.contains("mutually exclusive"), "{e}");
}

#[tokio::test]
async fn allow_list_in_and_out() {
    let inside = start(
        "modules: {}\n",
        &WebSettings { allow: vec!["127.0.0.0/8".parse().expect("net")], ..settings() },
    )
    .await;
    assert_eq!(inside.get("/").await.status, 200);
    let outside = start(
        "modules: {}\n",
        &WebSettings { allow: vec!["10.0.0.0/8".parse().expect("net")], ..settings() },
    )
    .await;
    let got = outside.get("/metrics").await;
    assert_eq!((got.status, got.text().as_str()), (403, "Forbidden"));
}

#[tokio::test]
async fn allow_list_matches_ipv4_clients_of_a_dual_stack_listener() {
    if std::net::TcpListener::bind("[::]:0").is_err() {
        crate::support::skipped("no IPv6 on this host");
        return;
    }
    let s = WebSettings {
        plain_address: Some(":0".into()),
        allow: vec!["127.0.0.0/8".parse().expect("net")],
        ..settings()
    };
    let proxy = TestProxy::start_secure("modules: {}\n", Options::default(), &s).await;
    // An IPv4 client of the [::] listener arrives as ::ffff:127.0.0.1.
    let got = get(&format!("http://127.0.0.1:{}/", proxy.addr.port()), &[]).await;
    assert_eq!(got.status, 200);
}

fn web_config(dir: &std::path::Path, text: &str) -> PathBuf {
    let path = dir.join("web.yml");
    std::fs::write(&path, text).expect("write");
    path
}

#[tokio::test]
async fn basic_auth_from_the_web_config() {
    let (logs, _guard) = LogCapture::start();
    let dir = tempfile::tempdir().expect("tmp");
    let hash = bcrypt::hash("Pa55word", 4).expect("hash");
    let web = web_config(dir.path(), &format!("basic_auth_users:\n  prometheus: {hash}\n"));
    let proxy = start("modules: {}\n", &WebSettings { web_config_file: Some(web), ..settings() }).await;
    let basic = |u: &str, p: &str| {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
    };
    let right = basic("prometheus", "Pa55word");
    let wrong = basic("prometheus", "guess");
    assert_eq!(get(&proxy.url("/"), &[("Authorization", &right)]).await.status, 200);
    for header in [Some(wrong.as_str()), None] {
        let headers: Vec<(&str, &str)> = header.map(|h| ("Authorization", h)).into_iter().collect();
        let got = get(&proxy.url("/"), &headers).await;
        assert_eq!(got.status, 401);
        assert_eq!(got.header("www-authenticate"), Some("Basic"));
    }
    assert!(!logs.text().contains("Pa55word") && !logs.text().contains("guess"), "{}", logs.text());
}

#[tokio::test]
async fn security_headers_from_the_web_config_on_every_response() {
    let dir = tempfile::tempdir().expect("tmp");
    let web = web_config(
        dir.path(),
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n    \
         Strict-Transport-Security: max-age=31536000\n",
    );
    let proxy = start("modules: {}\n", &WebSettings { web_config_file: Some(web), ..settings() }).await;
    for path in ["/", "/metrics", "/proxy?module=nope", "/elsewhere"] {
        let got = proxy.get(path).await;
        assert_eq!(got.header("x-frame-options"), Some("deny"), "{path}");
        assert_eq!(got.header("strict-transport-security"), Some("max-age=31536000"), "{path}");
    }
}

fn client(ca: &Issued, identity: Option<&Issued>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).expect("ca")).expect("add");
    let builder =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots);
    Arc::new(match identity {
        None => builder.with_no_client_auth(),
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).expect("cert")],
                PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).expect("key"),
            )
            .expect("identity"),
    })
}

async fn tls_status(addr: std::net::SocketAddr, config: Arc<rustls::ClientConfig>) -> Option<u16> {
    let fut = async {
        let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
        let name = ServerName::try_from("localhost").ok()?;
        let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.ok()?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.ok()?;
        tokio::spawn(conn);
        let resp = send.send_request(http::Request::get("/").body(Empty::<Bytes>::new()).ok()?).await.ok()?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await.ok()?;
        Some(status)
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), fut).await.ok().flatten()
}

#[tokio::test]
async fn every_client_auth_type_of_the_web_config() {
    let pki = Pki::new();
    let (ca, issuer) = pki.ca("ca");
    let (_, other) = pki.ca("other");
    let server = pki.leaf("server", &["localhost"], &issuer);
    let trusted = pki.leaf("prometheus", &["prometheus"], &issuer);
    let stranger = pki.leaf("stranger", &["stranger"], &other);
    let dir = tempfile::tempdir().expect("tmp");
    // (policy, no certificate, trusted certificate, certificate of another CA)
    let table = [
        ("NoClientCert", Some(200), Some(200), Some(200)),
        ("RequestClientCert", Some(200), Some(200), Some(200)),
        ("RequireAnyClientCert", None, Some(200), Some(200)),
        ("VerifyClientCertIfGiven", Some(200), Some(200), None),
        ("RequireAndVerifyClientCert", None, Some(200), None),
    ];
    for (policy, none, good, foreign) in table {
        let ca_line = if policy.contains("Verify") {
            format!("  client_ca_file: {}\n", ca.cert.display())
        } else {
            String::new()
        };
        let web = web_config(
            dir.path(),
            &format!(
                "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: {policy}\n{ca_line}",
                server.cert.display(),
                server.key.display()
            ),
        );
        let proxy = start("modules: {}\n", &WebSettings { web_config_file: Some(web), ..settings() }).await;
        // No -web.tls.listen-address: the plain address speaks TLS, as the toolkit's do.
        assert_eq!(proxy.listening(), [(proxy.addr, true)]);
        assert_eq!(tls_status(proxy.addr, client(&ca, None)).await, none, "{policy}, no certificate");
        assert_eq!(tls_status(proxy.addr, client(&ca, Some(&trusted))).await, good, "{policy}, trusted");
        assert_eq!(tls_status(proxy.addr, client(&ca, Some(&stranger))).await, foreign, "{policy}, other CA");
    }
}

#[tokio::test]
async fn client_allowed_sans_are_exact() {
    let pki = Pki::new();
    let (ca, issuer) = pki.ca("ca");
    let server = pki.leaf("server", &["localhost"], &issuer);
    let prometheus = pki.leaf("prometheus", &["prometheus.example"], &issuer);
    let grafana = pki.leaf("grafana", &["grafana.example"], &issuer);
    let dir = tempfile::tempdir().expect("tmp");
    let web = web_config(
        dir.path(),
        &format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  \
             client_ca_file: {}\n  client_allowed_sans: [prometheus.example]\n",
            server.cert.display(),
            server.key.display(),
            ca.cert.display()
        ),
    );
    let proxy = start("modules: {}\n", &WebSettings { web_config_file: Some(web), ..settings() }).await;
    assert_eq!(tls_status(proxy.addr, client(&ca, Some(&prometheus))).await, Some(200));
    assert_eq!(tls_status(proxy.addr, client(&ca, Some(&grafana))).await, None);
}

#[test]
fn a_bad_web_config_is_a_startup_error_naming_the_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let web = web_config(dir.path(), "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth: x\n");
    let e = Security::load(&WebSettings { web_config_file: Some(web.clone()), ..settings() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("web.yml") && e.contains("client_auth"), "{e}");
    std::fs::write(&web, "basic_auth_users:\n  prom: notahash\n").expect("write");
    let e =
        Security::load(&WebSettings { web_config_file: Some(web), ..settings() }).unwrap_err().to_string();
    assert!(e.contains("basic_auth_users") && e.contains("prom") && !e.contains("notahash"), "{e}");
}
