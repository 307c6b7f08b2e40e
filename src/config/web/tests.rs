//! The web configuration file's checks, case by case.

use super::*;

fn parse(yaml: &str) -> Result<WebConfig, String> {
    WebConfig::from_yaml(yaml, Path::new("/etc/web.yml")).map_err(|e| e.to_string())
}

#[test]
fn a_full_file() {
    let w = parse(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: /abs/server.key\n  client_ca_file: ca.crt\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_allowed_sans: [prometheus]\n  min_version: TLS13\n  \
         cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\nhttp_server_config:\n  http2: false\n  headers:\n    \
         X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000\nbasic_auth_users:\n  prom: $2y$10$abc\n",
    )
    .expect("parses");
    let tls = w.tls.expect("tls");
    assert_eq!(tls.cert, Pem::File(PathBuf::from("/etc/server.crt")), "relative to the file");
    assert_eq!(tls.key, Pem::File(PathBuf::from("/abs/server.key")));
    assert_eq!(tls.client_auth, ClientAuth::RequireAndVerifyClientCert);
    assert_eq!((tls.min_version, tls.max_version), (TlsVersion::Tls13, TlsVersion::Tls13));
    assert!(!w.http2);
    assert_eq!(w.headers.len(), 2);
    assert_eq!(w.basic_auth_users["prom"], "$2y$10$abc");
}

#[test]
fn errors_name_the_key() {
    let cases = [
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  bogus: 1\n", "unknown field `bogus`"),
        ("tls_server_config:\n  key_file: b\n", "tls_server_config: missing one of cert or cert_file"),
        ("tls_server_config:\n  cert: PEM\n", "tls_server_config: missing one of key or key_file"),
        ("tls_server_config:\n  cert: a\n  key: b\n  client_ca: c\n", "without a client auth policy"),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
            "without a client auth policy",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
            "client_ca_file",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
            "tls_server_config.client_auth_type: unknown client auth type \"Sometimes\"",
        ),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS11\n", "not supported"),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
            "tls_server_config.cipher_suites: cipher suite \"TLS_RSA_WITH_RC4_128_SHA\" is not supported",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP521]\n",
            "tls_server_config.curve_preferences: curve \"CurveP521\" is not supported: the TLS library",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
            "client_allowed_sans",
        ),
        ("http_server_config:\n  headers: {X-Powered-By: me}\n", "not one of the supported"),
        ("http_server_config:\n  headers: {X-Frame-Options: allow}\n", "invalid value"),
        (
            "tls_server_config:\n  cert: a\n  key: b\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n",
            "tls_server_config.cipher_suites: cipher suite \"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA\" is not supported: a CBC suite",
        ),
        ("rate_limit: {interval: 1s, bogus: 1}\n", "unknown field `bogus`"),
        (
            "rate_limit: {interval: 1000000000, burst: 1}\n",
            "rate_limit.interval: 1000000000 is a bare number",
        ),
        ("rate_limit: {interval: -1s, burst: 1}\n", "rate_limit.interval: negative"),
        ("rate_limit: {interval: 1x, burst: 1}\n", "rate_limit.interval: unknown unit"),
        ("rate_limit: {interval: 1s, burst: -1}\n", "rate_limit.burst: negative"),
    ];
    for (yaml, expected) in cases {
        let e = parse(yaml).unwrap_err();
        assert!(e.contains(expected) && e.contains("/etc/web.yml"), "{yaml}: {e}");
    }
}

#[test]
fn an_empty_file_is_no_tls_and_no_auth() {
    assert_eq!(parse("").expect("empty"), WebConfig { http2: true, ..WebConfig::default() });
}

#[test]
fn rate_limit_as_exporter_toolkit_reads_it() {
    let r = |yaml: &str| parse(yaml).expect("parses");
    assert_eq!(
        r("rate_limit: {interval: 100ms, burst: 5}\n").rate_limit,
        Some(RateLimit { interval: Duration::from_millis(100), burst: 5 })
    );
    // A zero or missing interval turns it off, as in the toolkit.
    for off in [
        "rate_limit: {interval: 0s, burst: 5}\n",
        "rate_limit: {interval: 0, burst: 5}\n",
        "rate_limit: {burst: 5}\n",
        "rate_limit: {}\n",
    ] {
        let w = r(off);
        assert_eq!((w.rate_limit, w.warnings.len()), (None, 0), "{off}");
    }
    // No burst with an interval refuses everything there; here too, said once at load.
    let w = r("rate_limit: {interval: 1s}\n");
    assert_eq!(w.rate_limit, Some(RateLimit { interval: Duration::from_secs(1), burst: 0 }));
    assert!(w.warnings[0].contains("every request gets a 429"), "{:?}", w.warnings);
}

#[test]
fn inline_pem_and_the_toolkits_tls_switch() {
    let w = parse("tls_server_config:\n  cert: CERT PEM\n  key: KEY PEM\n  client_ca: CA PEM\n  client_auth_type: RequireClientCert\n")
        .expect("parses");
    let tls = w.tls.expect("tls");
    assert_eq!(tls.cert, Pem::Inline { key: "tls_server_config.cert", text: "CERT PEM".into() });
    assert_eq!(tls.key, Pem::Inline { key: "tls_server_config.key", text: "KEY PEM".into() });
    assert_eq!(
        tls.client_ca,
        Some(Pem::Inline { key: "tls_server_config.client_ca", text: "CA PEM".into() })
    );
    assert_eq!(tls.client_auth, ClientAuth::RequireAnyClientCert, "the toolkit's old name");
    assert!(!format!("{tls:?}").contains("KEY PEM"), "the key stays out of Debug output");
    // Both forms: the file wins, as in the toolkit, with a warning.
    let w = parse("tls_server_config:\n  cert: CERT PEM\n  cert_file: c.pem\n  key_file: k.pem\n")
        .expect("parses");
    assert_eq!(w.tls.expect("tls").cert, Pem::File(PathBuf::from("/etc/c.pem")));
    assert!(w.warnings[0].contains("tls_server_config.cert_file and tls_server_config.cert are both given"));
    // No key that turns TLS on: plain HTTP, as the toolkit serves, with a warning.
    let w = parse("tls_server_config:\n  min_version: TLS13\n  client_auth_type: \"\"\n").expect("parses");
    assert_eq!(w.tls, None);
    assert!(w.warnings[0].contains("so TLS is off"), "{:?}", w.warnings);
    // TLS 1.3 suite names are accepted without effect, as Go ignores them.
    let w = parse("tls_server_config:\n  cert: a\n  key: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n")
        .expect("parses");
    assert_eq!(w.tls.expect("tls").cipher_suites, [CipherSuite::EcdheRsaAes128Gcm]);
    assert!(w.warnings[0].contains("TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite"), "{:?}", w.warnings);
}
