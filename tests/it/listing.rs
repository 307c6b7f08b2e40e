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
