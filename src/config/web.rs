//! The exporter-toolkit web configuration file (`-web.config.file`), the format every
//! Prometheus exporter reads: TLS server settings (files or inline PEM), security headers,
//! basic-auth users and the rate limit. Parsed strictly, like the module configuration: an
//! unknown key is an error, and a known one we cannot honour is refused with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::ConfigError;
use super::parse_go_duration;
use super::raw::Timeout;
use super::tls::{CipherSuite, ClientAuth, Curve, Pem, ServerTls, TlsVersion};

/// The whole web configuration file, checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebConfig {
    /// TLS for the listener, if any (with no `certmatch`: that is a flag).
    pub tls: Option<ServerTls>,
    /// Whether HTTP/2 is offered over TLS (default true).
    pub http2: bool,
    /// Security headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Users and their bcrypt hashes.
    pub basic_auth_users: BTreeMap<String, String>,
    /// The request rate limit, if on.
    pub rate_limit: Option<RateLimit>,
    /// Things in the file worth a warning (accepted, as exporter-toolkit accepts them, but
    /// without effect).
    pub warnings: Vec<String>,
}

/// `rate_limit`: one token bucket over every request, refilled with a token each `interval`,
/// holding at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Time between two tokens; never zero (zero turns the limit off).
    pub interval: Duration,
    /// The bucket's size, and so the requests allowed at once after a quiet spell.
    pub burst: u64,
}

mod raw {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct File {
        pub(super) tls_server_config: Option<Tls>,
        pub(super) http_server_config: Option<Http>,
        pub(super) basic_auth_users: Option<BTreeMap<String, String>>,
        pub(super) rate_limit: Option<RateLimit>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Tls {
        pub(super) cert: Option<String>,
        pub(super) key: Option<String>,
        pub(super) client_ca: Option<String>,
        pub(super) cert_file: Option<String>,
        pub(super) key_file: Option<String>,
        pub(super) client_ca_file: Option<String>,
        pub(super) client_auth_type: Option<String>,
        pub(super) client_allowed_sans: Option<Vec<String>>,
        pub(super) min_version: Option<String>,
        pub(super) max_version: Option<String>,
        pub(super) cipher_suites: Option<Vec<String>>,
        pub(super) curve_preferences: Option<Vec<String>>,
        pub(super) prefer_server_cipher_suites: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Http {
        pub(super) http2: Option<bool>,
        pub(super) headers: Option<BTreeMap<String, String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct RateLimit {
        pub(super) interval: Option<super::Timeout>,
        pub(super) burst: Option<i64>,
    }
}

/// The security headers exporter-toolkit accepts, with the values it allows (`None`: any).
const HEADERS: [(&str, Option<&[&str]>); 5] = [
    ("Strict-Transport-Security", None),
    ("X-Content-Type-Options", Some(&["nosniff"])),
    ("X-Frame-Options", Some(&["deny", "sameorigin"])),
    ("X-XSS-Protection", None),
    ("Content-Security-Policy", None),
];

fn invalid(path: &Path, key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Yaml { path: path.to_owned(), location: None, message: format!("{key}: {}", problem.into()) }
}

fn version(path: &Path, key: &str, v: Option<&str>, default: TlsVersion) -> Result<TlsVersion, ConfigError> {
    match v {
        None | Some("") => Ok(default),
        Some("TLS12") => Ok(TlsVersion::Tls12),
        Some("TLS13") => Ok(TlsVersion::Tls13),
        Some("TLS10" | "TLS11") => {
            Err(invalid(path, key, "TLS 1.0 and 1.1 are not supported (rustls speaks TLS 1.2 and 1.3)"))
        }
        Some(other) => Err(invalid(path, key, format!("unknown TLS version {other:?} (TLS12 or TLS13)"))),
    }
}

impl WebConfig {
    /// Parses a web configuration file's text. Relative file names in it are taken relative
    /// to the file's directory, as exporter-toolkit does.
    pub fn from_yaml(text: &str, path: &Path) -> Result<WebConfig, ConfigError> {
        let raw: raw::File = super::parse_yaml(text, path)?;
        let mut warnings = Vec::new();
        let (http2, headers) = match raw.http_server_config {
            None => (true, Vec::new()),
            Some(h) => (h.http2.unwrap_or(true), security_headers(path, h.headers.unwrap_or_default())?),
        };
        let tls = match raw.tls_server_config {
            None => None,
            Some(t) => server_tls(path, t, &mut warnings)?.map(|t| ServerTls { http2, ..t }),
        };
        let rate_limit = match raw.rate_limit {
            None => None,
            Some(r) => rate_limit(path, r, &mut warnings)?,
        };
        Ok(WebConfig {
            tls,
            http2,
            headers,
            basic_auth_users: raw.basic_auth_users.unwrap_or_default(),
            rate_limit,
            warnings,
        })
    }
}

/// One of a PEM file and inline PEM text, as exporter-toolkit takes them: the file wins when
/// both are given (with a warning here, as its documentation says to give one).
fn pem(
    path: &Path,
    (file_key, file): (&'static str, Option<String>),
    (text_key, text): (&'static str, Option<String>),
    warnings: &mut Vec<String>,
) -> Option<Pem> {
    let file = file.filter(|s| !s.is_empty());
    let text = text.filter(|s| !s.is_empty());
    if file.is_some() && text.is_some() {
        warnings.push(format!(
            "{}: {file_key} and {text_key} are both given; {file_key} is used (as exporter-toolkit does)",
            path.display()
        ));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    match (file, text) {
        (Some(f), _) => {
            Some(Pem::File(if Path::new(&f).is_absolute() { PathBuf::from(f) } else { base.join(f) }))
        }
        (None, Some(text)) => Some(Pem::Inline { key: text_key, text }),
        (None, None) => None,
    }
}

/// `tls_server_config`: `None` when it sets none of the keys that turn TLS on (exporter-toolkit's
/// `TLSConfig.IsEnabled`), as the toolkit then serves plain HTTP.
fn server_tls(
    path: &Path,
    t: raw::Tls,
    warnings: &mut Vec<String>,
) -> Result<Option<ServerTls>, ConfigError> {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let enabled =
        [&t.cert, &t.key, &t.client_ca, &t.cert_file, &t.key_file, &t.client_ca_file, &t.client_auth_type]
            .into_iter()
            .any(set);
    if !enabled {
        warnings.push(format!(
            "{}: tls_server_config sets none of cert_file, cert, key_file, key, client_ca_file, client_ca, \
             client_auth_type, so TLS is off (as in exporter-toolkit) and its other keys have no effect",
            path.display()
        ));
        return Ok(None);
    }
    let cert =
        pem(path, ("tls_server_config.cert_file", t.cert_file), ("tls_server_config.cert", t.cert), warnings)
            .ok_or_else(|| invalid(path, "tls_server_config", "missing one of cert or cert_file"))?;
    let key =
        pem(path, ("tls_server_config.key_file", t.key_file), ("tls_server_config.key", t.key), warnings)
            .ok_or_else(|| invalid(path, "tls_server_config", "missing one of key or key_file"))?;
    let client_ca = pem(
        path,
        ("tls_server_config.client_ca_file", t.client_ca_file),
        ("tls_server_config.client_ca", t.client_ca),
        warnings,
    );
    let client_auth = ClientAuth::from_go_name(t.client_auth_type.as_deref().unwrap_or_default())
        .map_err(|e| invalid(path, "tls_server_config.client_auth_type", e))?;
    if client_ca.is_some() && client_auth == ClientAuth::NoClientCert {
        return Err(invalid(
            path,
            "tls_server_config.client_auth_type",
            "client CAs have been configured without a client auth policy",
        ));
    }
    if client_auth.verifies() && client_ca.is_none() {
        return Err(invalid(
            path,
            "tls_server_config.client_ca_file",
            "required to verify client certificates (or inline as client_ca)",
        ));
    }
    let allowed_sans = t.client_allowed_sans.unwrap_or_default();
    if !allowed_sans.is_empty() && !client_auth.verifies() {
        return Err(invalid(
            path,
            "tls_server_config.client_allowed_sans",
            "needs client_auth_type RequireAndVerifyClientCert or VerifyClientCertIfGiven",
        ));
    }
    let min_version =
        version(path, "tls_server_config.min_version", t.min_version.as_deref(), TlsVersion::Tls12)?;
    let max_version =
        version(path, "tls_server_config.max_version", t.max_version.as_deref(), TlsVersion::Tls13)?;
    if min_version > max_version {
        return Err(invalid(path, "tls_server_config.max_version", "lower than min_version"));
    }
    let mut cipher_suites = Vec::new();
    for name in t.cipher_suites.unwrap_or_default() {
        match CipherSuite::from_go_name(&name)
            .map_err(|e| invalid(path, "tls_server_config.cipher_suites", e))?
        {
            Some(suite) => cipher_suites.push(suite),
            None => warnings.push(format!(
                "{}: tls_server_config.cipher_suites: {name} is a TLS 1.3 suite, which cannot be chosen \
                 (as in Go); it has no effect",
                path.display()
            )),
        }
    }
    let curves = t
        .curve_preferences
        .unwrap_or_default()
        .iter()
        .map(|n| Curve::from_go_name(n))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, "tls_server_config.curve_preferences", e))?;
    Ok(Some(ServerTls {
        cert,
        key,
        client_auth,
        client_ca,
        allowed_sans,
        certmatch: None,
        min_version,
        max_version,
        cipher_suites,
        curves,
        prefer_server_order: t.prefer_server_cipher_suites.unwrap_or(true),
        // Set from http_server_config by the caller.
        http2: true,
    }))
}

/// `http_server_config.headers`, checked as exporter-toolkit checks them.
fn security_headers(
    path: &Path,
    configured: BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    let mut headers = Vec::new();
    for (name, value) in configured {
        let Some((canonical, allowed)) = HEADERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) else {
            return Err(invalid(
                path,
                "http_server_config.headers",
                format!("{name:?} is not one of the supported security headers"),
            ));
        };
        if let Some(allowed) = allowed
            && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&value))
        {
            return Err(invalid(
                path,
                "http_server_config.headers",
                format!("invalid value {value:?} for {canonical} (allowed: {})", allowed.join(", ")),
            ));
        }
        let value = HeaderValue::from_str(&value).map_err(|_| {
            invalid(path, "http_server_config.headers", format!("invalid value for {canonical}"))
        })?;
        headers.push((HeaderName::from_static(lower(canonical)), value));
    }
    Ok(headers)
}

/// `rate_limit`, read as exporter-toolkit reads it: an `interval` of zero (or none) turns it
/// off; a `burst` of zero (or none) with an interval refuses every request, as there.
fn rate_limit(
    path: &Path,
    r: raw::RateLimit,
    warnings: &mut Vec<String>,
) -> Result<Option<RateLimit>, ConfigError> {
    let ns = match r.interval {
        None | Some(Timeout::Nanos(0)) => 0,
        Some(Timeout::Nanos(n)) => {
            return Err(invalid(
                path,
                "rate_limit.interval",
                format!("{n} is a bare number (Go reads it as {n} nanoseconds); write a unit, e.g. {n}s"),
            ));
        }
        Some(Timeout::Text(t)) => {
            parse_go_duration(&t).map_err(|e| invalid(path, "rate_limit.interval", e))?
        }
    };
    let interval = u64::try_from(ns).map_err(|_| invalid(path, "rate_limit.interval", "negative"))?;
    let burst =
        u64::try_from(r.burst.unwrap_or(0)).map_err(|_| invalid(path, "rate_limit.burst", "negative"))?;
    if interval == 0 {
        return Ok(None);
    }
    if burst == 0 {
        warnings.push(format!(
            "{}: rate_limit.burst is 0 with an interval: every request gets a 429, as in exporter-toolkit",
            path.display()
        ));
    }
    Ok(Some(RateLimit { interval: Duration::from_nanos(interval), burst }))
}

/// The lower-case form of one of the known header names.
fn lower(name: &str) -> &'static str {
    match name {
        "Strict-Transport-Security" => "strict-transport-security",
        "X-Content-Type-Options" => "x-content-type-options",
        "X-Frame-Options" => "x-frame-options",
        "X-XSS-Protection" => "x-xss-protection",
        _ => "content-security-policy",
    }
}

#[cfg(test)]
mod tests {
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
        assert!(
            w.warnings[0].contains("tls_server_config.cert_file and tls_server_config.cert are both given")
        );
        // No key that turns TLS on: plain HTTP, as the toolkit serves, with a warning.
        let w =
            parse("tls_server_config:\n  min_version: TLS13\n  client_auth_type: \"\"\n").expect("parses");
        assert_eq!(w.tls, None);
        assert!(w.warnings[0].contains("so TLS is off"), "{:?}", w.warnings);
        // TLS 1.3 suite names are accepted without effect, as Go ignores them.
        let w = parse("tls_server_config:\n  cert: a\n  key: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n")
            .expect("parses");
        assert_eq!(w.tls.expect("tls").cipher_suites, [CipherSuite::EcdheRsaAes128Gcm]);
        assert!(w.warnings[0].contains("TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite"), "{:?}", w.warnings);
    }
}
