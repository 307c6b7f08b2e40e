//! Inbound security, assembled once from the flags, the web configuration file and the token
//! file: the TLS listener's configuration, the request checks ([`Auth`]) and the security
//! headers. The original's flags and the exporter-toolkit file combine into one layer.

use std::path::PathBuf;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use ipnet::IpNet;
use regex::Regex;
use rustls::ServerConfig;

use crate::auth::{Auth, BasicUsers, Token};
use crate::config::ConfigError;
use crate::config::web::{ClientAuth, TlsVersion, WebConfig};
use crate::tls::TlsError;
use crate::tls::server::{ServerTls, server_config};

/// Where the bearer token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerSource {
    /// No bearer token.
    None,
    /// `-web.bearer.token` (kept out of Debug output).
    Token(Secret),
    /// `-web.bearer.token-file`.
    File(PathBuf),
}

/// A string that never appears in Debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The security-related flags, checked but not yet read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// `-web.listen-address`, unless `""`.
    pub plain_address: Option<String>,
    /// `-web.tls.listen-address`, unless `""`.
    pub tls_address: Option<String>,
    /// `-web.tls.cert`.
    pub cert: PathBuf,
    /// `-web.tls.key`.
    pub key: PathBuf,
    /// `-web.tls.ca`.
    pub ca: PathBuf,
    /// `-web.tls.verify`.
    pub verify: bool,
    /// `-web.tls.certmatch`, unless `""`.
    pub certmatch: Option<String>,
    /// Whether any of `-web.tls.cert`, `-web.tls.key`, `-web.tls.ca` was given.
    pub tls_files_given: bool,
    /// `-web.config.file`, unless `""`.
    pub web_config_file: Option<PathBuf>,
    /// The bearer token source.
    pub bearer: BearerSource,
    /// `-allow.net`.
    pub allow: Vec<IpNet>,
}

/// Why the security settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// The web configuration file is unreadable or invalid.
    #[error("{0}")]
    WebConfig(#[from] ConfigError),
    /// TLS material is unusable.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// The flags contradict each other or the web configuration.
    #[error("{0}")]
    Conflict(String),
    /// The bearer token file cannot be used.
    #[error("{0}")]
    Token(String),
}

/// Inbound security, ready to use.
#[derive(Debug, Default)]
pub struct Security {
    /// The request checks.
    pub auth: Auth,
    /// TLS for the listeners that use it.
    pub tls: Option<Arc<ServerConfig>>,
    /// Whether `-web.listen-address` serves TLS too (a web config with TLS and no
    /// `-web.tls.listen-address`, as exporter-toolkit does).
    pub tls_on_plain: bool,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Things worth a warning (flags that have no effect).
    pub warnings: Vec<String>,
}

impl Security {
    /// Reads the web configuration, the certificates and the token file.
    pub fn load(s: &WebSettings) -> Result<Security, SecurityError> {
        let web = match &s.web_config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                WebConfig::from_yaml(&text, path)?
            }
            None => WebConfig { http2: true, ..WebConfig::default() },
        };
        let mut warnings = Vec::new();
        let certmatch = match &s.certmatch {
            Some(re) => Some(Regex::new(re).map_err(|e| {
                SecurityError::Conflict(format!("-web.tls.certmatch is not a valid regular expression: {e}"))
            })?),
            None => None,
        };
        let (tls, tls_on_plain) = match (&web.tls, &s.tls_address) {
            (Some(w), tls_address) => {
                if s.verify || s.tls_files_given {
                    return Err(SecurityError::Conflict(
                        "-web.tls.cert, -web.tls.key, -web.tls.ca and -web.tls.verify cannot be combined with \
                         tls_server_config in -web.config.file; set them in the file"
                            .into(),
                    ));
                }
                if certmatch.is_some() && !w.client_auth.verifies() {
                    return Err(SecurityError::Conflict(
                        "-web.tls.certmatch needs client_auth_type RequireAndVerifyClientCert or \
                         VerifyClientCertIfGiven in -web.config.file"
                            .into(),
                    ));
                }
                let t = ServerTls {
                    cert_file: w.cert_file.clone(),
                    key_file: w.key_file.clone(),
                    client_auth: w.client_auth,
                    client_ca_file: w.client_ca_file.clone(),
                    allowed_sans: w.client_allowed_sans.clone(),
                    certmatch: certmatch.clone(),
                    min_version: w.min_version,
                    max_version: w.max_version,
                    cipher_suites: w.cipher_suites.clone(),
                    curves: w.curve_preferences.clone(),
                    prefer_server_order: w.prefer_server_cipher_suites,
                    http2: web.http2,
                };
                (Some(server_config(&t)?), tls_address.is_none())
            }
            (None, Some(_)) => {
                if certmatch.is_some() && !s.verify {
                    return Err(SecurityError::Conflict(
                        "tls.web.verify must be set to use certificate matching".into(),
                    ));
                }
                let t = ServerTls {
                    cert_file: s.cert.clone(),
                    key_file: s.key.clone(),
                    client_auth: if s.verify {
                        ClientAuth::RequireAndVerifyClientCert
                    } else {
                        ClientAuth::NoClientCert
                    },
                    client_ca_file: s.verify.then(|| s.ca.clone()),
                    allowed_sans: Vec::new(),
                    certmatch: certmatch.clone(),
                    min_version: TlsVersion::Tls12,
                    max_version: TlsVersion::Tls13,
                    cipher_suites: Vec::new(),
                    curves: Vec::new(),
                    prefer_server_order: true,
                    http2: web.http2,
                };
                (Some(server_config(&t)?), false)
            }
            (None, None) => {
                if s.verify || certmatch.is_some() {
                    warnings.push(
                        "-web.tls.verify and -web.tls.certmatch have no effect without -web.tls.listen-address".into(),
                    );
                }
                (None, false)
            }
        };
        let bearer = match &s.bearer {
            BearerSource::None => None,
            BearerSource::Token(t) => Some(Token::new(&t.0)),
            BearerSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    SecurityError::Token(format!("failed reading bearer file {}: {e}", path.display()))
                })?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(SecurityError::Token(format!(
                        "token file {} should not be empty",
                        path.display()
                    )));
                }
                Some(Token::new(token))
            }
        };
        let basic = if web.basic_auth_users.is_empty() {
            None
        } else {
            let users = web.basic_auth_users.clone().into_iter().collect();
            Some(BasicUsers::new(users).map_err(|e| {
                SecurityError::Conflict(format!(
                    "{}: basic_auth_users: {e}",
                    s.web_config_file.as_deref().unwrap_or_else(|| std::path::Path::new("")).display()
                ))
            })?)
        };
        Ok(Security {
            auth: Auth { allow: s.allow.clone(), bearer, basic },
            tls,
            tls_on_plain,
            headers: web.headers,
            warnings,
        })
    }
}
