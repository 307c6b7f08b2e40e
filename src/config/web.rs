//! The exporter-toolkit web configuration file (`-web.config.file`), the format every
//! Prometheus exporter reads: TLS server settings, security headers, and basic-auth users.
//! Parsed strictly, like the module configuration: an unknown key is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use http::{HeaderName, HeaderValue};

use super::ConfigError;
use super::tls::{CipherSuite, ClientAuth, Curve, ServerTls, TlsVersion};

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
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Tls {
        pub(super) cert_file: Option<String>,
        pub(super) key_file: Option<String>,
        pub(super) client_ca_file: Option<String>,
        pub(super) client_auth_type: Option<super::ClientAuth>,
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
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |f: String| if Path::new(&f).is_absolute() { PathBuf::from(f) } else { base.join(f) };
        let tls = match raw.tls_server_config {
            None => None,
            Some(t) => {
                let (cert_file, key_file) =
                    match (t.cert_file.filter(|s| !s.is_empty()), t.key_file.filter(|s| !s.is_empty())) {
                        (Some(c), Some(k)) => (resolve(c), resolve(k)),
                        (None, _) => return Err(invalid(path, "tls_server_config.cert_file", "missing")),
                        (_, None) => return Err(invalid(path, "tls_server_config.key_file", "missing")),
                    };
                let client_ca_file = t.client_ca_file.filter(|s| !s.is_empty()).map(resolve);
                let client_auth = match (t.client_auth_type, &client_ca_file) {
                    (Some(a), _) => a,
                    (None, Some(_)) => {
                        return Err(invalid(
                            path,
                            "tls_server_config.client_auth_type",
                            "client CAs have been configured without a client auth policy",
                        ));
                    }
                    (None, None) => ClientAuth::NoClientCert,
                };
                if client_auth.verifies() && client_ca_file.is_none() {
                    return Err(invalid(
                        path,
                        "tls_server_config.client_ca_file",
                        "required to verify client certificates",
                    ));
                }
                let client_allowed_sans = t.client_allowed_sans.unwrap_or_default();
                if !client_allowed_sans.is_empty() && !client_auth.verifies() {
                    return Err(invalid(
                        path,
                        "tls_server_config.client_allowed_sans",
                        "needs client_auth_type RequireAndVerifyClientCert or VerifyClientCertIfGiven",
                    ));
                }
                let min_version = version(
                    path,
                    "tls_server_config.min_version",
                    t.min_version.as_deref(),
                    TlsVersion::Tls12,
                )?;
                let max_version = version(
                    path,
                    "tls_server_config.max_version",
                    t.max_version.as_deref(),
                    TlsVersion::Tls13,
                )?;
                if min_version > max_version {
                    return Err(invalid(path, "tls_server_config.max_version", "lower than min_version"));
                }
                let cipher_suites = t
                    .cipher_suites
                    .unwrap_or_default()
                    .iter()
                    .map(|n| CipherSuite::from_go_name(n))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| invalid(path, "tls_server_config.cipher_suites", e))?;
                let curves = t
                    .curve_preferences
                    .unwrap_or_default()
                    .iter()
                    .map(|n| Curve::from_go_name(n))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| invalid(path, "tls_server_config.curve_preferences", e))?;
                Some(ServerTls {
                    cert_file,
                    key_file,
                    client_auth,
                    client_ca_file,
                    allowed_sans: client_allowed_sans,
                    certmatch: None,
                    min_version,
                    max_version,
                    cipher_suites,
                    curves,
                    prefer_server_order: t.prefer_server_cipher_suites.unwrap_or(true),
                    // Set from http_server_config below.
                    http2: true,
                })
            }
        };
        let (http2, headers) = match raw.http_server_config {
            None => (true, Vec::new()),
            Some(h) => {
                let mut headers = Vec::new();
                for (name, value) in h.headers.unwrap_or_default() {
                    let Some((canonical, allowed)) =
                        HEADERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    else {
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
                            format!(
                                "invalid value {value:?} for {canonical} (allowed: {})",
                                allowed.join(", ")
                            ),
                        ));
                    }
                    let value = HeaderValue::from_str(&value).map_err(|_| {
                        invalid(path, "http_server_config.headers", format!("invalid value for {canonical}"))
                    })?;
                    headers.push((HeaderName::from_static(lower(canonical)), value));
                }
                (h.http2.unwrap_or(true), headers)
            }
        };
        let tls = tls.map(|t| ServerTls { http2, ..t });
        Ok(WebConfig { tls, http2, headers, basic_auth_users: raw.basic_auth_users.unwrap_or_default() })
    }
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
        assert_eq!(tls.cert_file, PathBuf::from("/etc/server.crt"), "relative to the file");
        assert_eq!(tls.key_file, PathBuf::from("/abs/server.key"));
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
            ("tls_server_config:\n  key_file: b\n", "tls_server_config.cert_file: missing"),
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
                "unknown variant",
            ),
            ("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS11\n", "not supported"),
            (
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
                "tls_server_config.cipher_suites: cipher suite \"TLS_RSA_WITH_RC4_128_SHA\" is not supported",
            ),
            (
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP521]\n",
                "tls_server_config.curve_preferences: curve \"CurveP521\" is not supported",
            ),
            (
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
                "client_allowed_sans",
            ),
            ("http_server_config:\n  headers: {X-Powered-By: me}\n", "not one of the supported"),
            ("http_server_config:\n  headers: {X-Frame-Options: allow}\n", "invalid value"),
            ("rate_limit: {interval: 1s}\n", "unknown field `rate_limit`"),
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
}
