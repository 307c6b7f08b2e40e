//! The web configuration's `rate_limit`, as exporter-toolkit applies it: one bucket over every
//! request and every endpoint, 429 `Too Many Requests` when it is empty (before the
//! Authorization checks, without the configured headers), refilled one token per interval, and
//! kept across a reload that leaves it unchanged.

use crate::support;

use std::path::Path;
use std::time::Duration;

use exporter_exporter::config::ConfigFiles;
use exporter_exporter::daemon;
use exporter_exporter::security::WebSettings;
use exporter_exporter::settings::Options;
use exporter_exporter::settings::Settings;
use exporter_exporter::telemetry::BuildInfo;
use support::{TestProxy, get};

/// Long enough that the requests of one step all land inside it on a loaded machine.
const INTERVAL: Duration = Duration::from_millis(1500);

fn web_settings(web: &Path) -> WebSettings {
    WebSettings {
        plain_address: Some("127.0.0.1:0".into()),
        web_config_file: Some(web.to_owned()),
        ..Settings::default().web
    }
}

fn rate_limit(burst: u64, extra: &str) -> String {
    format!("rate_limit:\n  interval: {}ms\n  burst: {burst}\n{extra}", INTERVAL.as_millis())
}

#[tokio::test]
async fn a_burst_is_served_then_429_until_the_interval_refills_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let web = dir.path().join("web.yml");
    std::fs::write(&web, rate_limit(3, "http_server_config:\n  headers: {X-Frame-Options: deny}\n"))
        .expect("write");
    let proxy = TestProxy::start_secure("modules: {}\n", Options::default(), &web_settings(&web)).await;
    // Every endpoint takes from the same bucket.
    for path in ["/", "/metrics", "/-/healthy"] {
        let got = proxy.get(path).await;
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.header("x-frame-options"), Some("deny"));
    }
    let refused = proxy.get("/-/ready").await;
    assert_eq!((refused.status, refused.text().as_str()), (429, "Too Many Requests\n"));
    assert_eq!(refused.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(refused.header("x-frame-options"), None, "as the toolkit, a 429 has no configured headers");
    assert_eq!(proxy.get("/proxy?module=x").await.status, 429);
    tokio::time::sleep(INTERVAL + Duration::from_millis(100)).await;
    assert_eq!(proxy.get("/").await.status, 200, "one token came back");
    assert_eq!(proxy.get("/").await.status, 429, "only one");
}

#[tokio::test]
async fn the_bucket_is_spent_before_authorization_and_kept_across_an_unchanged_reload() {
    let dir = tempfile::tempdir().expect("tmp");
    let web = dir.path().join("web.yml");
    let hash = bcrypt::hash("Pa55word", 4).expect("hash");
    let users = format!("basic_auth_users:\n  prom: {hash}\n");
    std::fs::write(&web, rate_limit(2, &users)).expect("write");
    let proxy = TestProxy::start_secure("modules: {}\n", Options::default(), &web_settings(&web)).await;
    let authorized = [("Authorization", "Basic cHJvbTpQYTU1d29yZA==")];
    assert_eq!(proxy.get("/").await.status, 401);
    assert_eq!(get(&proxy.url("/"), &authorized).await.status, 200);
    assert_eq!(
        get(&proxy.url("/"), &authorized).await.status,
        429,
        "the 401 took a token, as in the toolkit"
    );
    // A reload that keeps rate_limit keeps the empty bucket.
    proxy.reload("modules: {}\n").await.expect("reload");
    assert_eq!(get(&proxy.url("/"), &authorized).await.status, 429, "not refilled by a reload");
    // A changed rate_limit starts a full bucket on its terms.
    std::fs::write(&web, rate_limit(1, &users)).expect("write");
    proxy.reload("modules: {}\n").await.expect("reload");
    assert_eq!(get(&proxy.url("/"), &authorized).await.status, 200);
    assert_eq!(get(&proxy.url("/"), &authorized).await.status, 429);
    // Removed, there is no limit.
    std::fs::write(&web, &users).expect("write");
    proxy.reload("modules: {}\n").await.expect("reload");
    for _ in 0..5 {
        assert_eq!(get(&proxy.url("/"), &authorized).await.status, 200);
    }
}

#[tokio::test]
async fn a_client_outside_allow_net_is_refused_before_the_bucket() {
    let dir = tempfile::tempdir().expect("tmp");
    let web = dir.path().join("web.yml");
    std::fs::write(&web, rate_limit(1, "")).expect("write");
    let s = WebSettings { allow: vec!["10.0.0.0/8".parse().expect("cidr")], ..web_settings(&web) };
    let proxy = TestProxy::start_secure("modules: {}\n", Options::default(), &s).await;
    for _ in 0..3 {
        assert_eq!(proxy.get("/").await.status, 403, "a 403, never a 429: outsiders spend no tokens");
    }
}

#[test]
fn keys_that_cannot_be_honoured_are_refused_by_name_with_the_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let web = dir.path().join("web.yml");
    let cases = [
        ("rate_limit:\n  interval: 1s\n  burst: 1\n  per_client: true\n", "unknown field `per_client`"),
        ("rate_limit:\n  interval: 10\n  burst: 1\n", "rate_limit.interval: 10 is a bare number"),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP521]\n",
            "tls_server_config.curve_preferences: curve \"CurveP521\" is not supported: the TLS library",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n",
            "tls_server_config.min_version: TLS 1.0 and 1.1 are not supported",
        ),
        (
            "http_server_config:\n  headers: {Server: me}\n",
            "\"Server\" is not one of the supported security headers",
        ),
    ];
    for (yaml, expected) in cases {
        std::fs::write(&web, yaml).expect("write");
        let sources = ConfigFiles { file: None, dirs: Vec::new(), skip_missing_dirs: false };
        let settings = Settings { config_files: sources, web: web_settings(&web), ..Settings::default() };
        let e = daemon::check_config(&settings, BuildInfo::current()).unwrap_err().to_string();
        assert!(e.contains(expected) && e.contains("web.yml"), "{yaml}: {e}");
    }
}
