//! `GET /`: HTML links and a JSON view that never carries a secret.

use crate::support;

use support::{TestProxy, get};

const YAML: &str = "modules:
  node:
    method: http
    timeout: 5s
    http:
      port: 9100
      path: '/metrics?api_key=QUERYSECRET'
      headers: {authorization: HEADERSECRET}
      basic_auth_username: user
      basic_auth_password: PASSWORDSECRET
  script:
    method: exec
    exec:
      command: /usr/local/bin/collect
      args: [ARGSECRET]
      env: {TOKEN: ENVSECRET}
  'we<ird&name':
    method: file
    file: {path: /var/lib/x.prom}
";

#[tokio::test]
async fn html_lists_every_module_with_an_escaped_link() {
    let proxy = TestProxy::start(YAML).await;
    let got = proxy.get("/").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
    let html = got.text();
    assert!(html.contains("<a href=\"/proxy?module=node\">node</a>"), "{html}");
    assert!(html.contains("<a href=\"/proxy?module=script\">script</a>"));
    assert!(html.contains("<a href=\"/proxy?module=we%3Cird%26name\">we&lt;ird&amp;name</a>"), "{html}");
}

#[tokio::test]
async fn json_is_a_view_without_secrets() {
    let proxy = TestProxy::start(YAML).await;
    let got = get(&proxy.url("/"), &[("Accept", "application/json")]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    let text = got.text();
    for secret in ["QUERYSECRET", "HEADERSECRET", "PASSWORDSECRET", "ARGSECRET", "ENVSECRET", "user"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["node"]["Method"], "http");
    assert_eq!(v["node"]["Timeout"], 5_000_000_000u64);
    assert_eq!(v["node"]["HTTP"]["Port"], 9100);
    assert_eq!(v["node"]["HTTP"]["Path"], "/metrics");
    assert_eq!(v["script"]["Exec"]["Command"], "/usr/local/bin/collect");
    assert_eq!(v["we<ird&name"]["File"]["Path"], "/var/lib/x.prom");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
/// The last failed scrapes of each module, on the page and in the JSON: when, status, the cause
/// as logged, how long; bounded; and no configured secret in them, whatever failed.
#[tokio::test]
async fn recent_failures_are_listed_with_their_cause_and_no_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = support::script(dir.path(), "fail.sh", "echo 'bad output {' ; exit 3");
    let closed = support::closed_port().await;
    let yaml = format!(
        "modules:\n  down:\n    method: http\n    http:\n      port: {closed}\n      address: 127.0.0.1\n      \
         path: '/metrics?api_key=QUERYSECRET'\n      headers: {{authorization: HEADERSECRET}}\n      \
         basic_auth_username: user\n      basic_auth_password: PASSWORDSECRET\n  \
         script:\n    method: exec\n    exec: {{command: {}, args: [ARGSECRET], env: {{TOKEN: ENVSECRET}}}}\n  \
         fine:\n    method: exec\n    exec: {{command: /bin/echo, args: ['ok 1']}}\n",
        script.display()
    );
    let proxy = TestProxy::start(&yaml).await;
    for _ in 0..12 {
        assert_eq!(proxy.get("/proxy?module=down").await.status, 502);
    }
    assert_eq!(proxy.get("/proxy?module=script").await.status, 500);
    assert_eq!(proxy.get("/proxy?module=fine").await.status, 200);
    let page = proxy.get("/").await.text();
    assert!(page.contains("Recent failures"), "{page}");
    assert!(page.contains("cannot connect to 127.0.0.1"), "{page}");
    assert!(page.contains("command exited with exit status: 3"), "{page}");
    assert!(
        page.contains("<a href=\"/proxy?module=script&amp;debug=true\">debug scrape</a>"),
        "one click: {page}"
    );
    let listing = get(&proxy.url("/"), &[("Accept", "application/json")]).await.text();
    let v: serde_json::Value = serde_json::from_str(&listing).expect("json");
    let down = v["down"]["RecentFailures"].as_array().expect("failures");
    assert_eq!(down.len(), exporter_exporter::telemetry::RECENT_FAILURES, "bounded");
    assert_eq!(down[0]["Status"], 502);
    assert!(
        down[0]["Time"].as_str().is_some_and(|t| t.ends_with('Z')) && down[0]["DurationSeconds"].is_number()
    );
    assert!(down[0]["Cause"].as_str().is_some_and(|c| c.contains("cannot connect")), "{listing}");
    assert_eq!(v["fine"]["RecentFailures"], serde_json::json!([]));
    for secret in ["QUERYSECRET", "HEADERSECRET", "PASSWORDSECRET", "ARGSECRET", "ENVSECRET"] {
        assert!(!page.contains(secret) && !listing.contains(secret), "{secret} leaked:\n{page}\n{listing}");
    }
}
