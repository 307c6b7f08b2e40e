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
    let allowed_sans = t.client_allowed_sans.unwrap_or_default();
    client_policy(path, client_ca.is_some(), client_auth, &allowed_sans)?;
    let (min_version, max_version) = versions(path, t.min_version.as_deref(), t.max_version.as_deref())?;
    let cipher_suites = cipher_suites(path, t.cipher_suites.unwrap_or_default(), warnings)?;
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

/// The client-certificate keys together: CAs need a policy, a verifying policy needs CAs, and
/// `client_allowed_sans` needs a verifying policy.
fn client_policy(
    path: &Path,
    has_client_ca: bool,
    client_auth: ClientAuth,
    allowed_sans: &[String],
) -> Result<(), ConfigError> {
    if has_client_ca && client_auth == ClientAuth::NoClientCert {
        return Err(invalid(
            path,
            "tls_server_config.client_auth_type",
            "client CAs have been configured without a client auth policy",
        ));
    }
    if client_auth.verifies() && !has_client_ca {
        return Err(invalid(
            path,
            "tls_server_config.client_ca_file",
            "required to verify client certificates (or inline as client_ca)",
        ));
    }
    if !allowed_sans.is_empty() && !client_auth.verifies() {
        return Err(invalid(
            path,
            "tls_server_config.client_allowed_sans",
            "needs client_auth_type RequireAndVerifyClientCert or VerifyClientCertIfGiven",
        ));
    }
    Ok(())
}

/// `min_version` and `max_version` (TLS 1.2 and 1.3 by default), in that order.
fn versions(
    path: &Path,
    min: Option<&str>,
    max: Option<&str>,
) -> Result<(TlsVersion, TlsVersion), ConfigError> {
    let min_version = version(path, "tls_server_config.min_version", min, TlsVersion::Tls12)?;
    let max_version = version(path, "tls_server_config.max_version", max, TlsVersion::Tls13)?;
    if min_version > max_version {
        return Err(invalid(path, "tls_server_config.max_version", "lower than min_version"));
    }
    Ok((min_version, max_version))
}

/// `cipher_suites` by Go's names; a TLS 1.3 suite (which Go cannot choose either) is a warning.
fn cipher_suites(
    path: &Path,
    names: Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<CipherSuite>, ConfigError> {
    let mut suites = Vec::new();
    for name in names {
        match CipherSuite::from_go_name(&name)
            .map_err(|e| invalid(path, "tls_server_config.cipher_suites", e))?
        {
            Some(suite) => suites.push(suite),
            None => warnings.push(format!(
                "{}: tls_server_config.cipher_suites: {name} is a TLS 1.3 suite, which cannot be chosen \
                 (as in Go); it has no effect",
                path.display()
            )),
        }
    }
    Ok(suites)
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
mod tests;
