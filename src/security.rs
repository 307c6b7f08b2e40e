//! Inbound security, assembled once from the flags, the web configuration file and the token
//! file: the TLS listener's configuration, the request checks ([`Auth`]), the security
//! headers and the rate limit. The original's flags and the exporter-toolkit file combine into one layer.

use std::path::PathBuf;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use ipnet::IpNet;
use regex::Regex;
use rustls::ServerConfig;

use crate::auth::{Auth, BasicUsers, BcryptError, Token};
use crate::config::ConfigError;
use crate::config::tls::{CertMatch, ClientAuth, Pem, ServerTls, TlsVersion};
use crate::config::web::{RateLimit, WebConfig};
use crate::tls::TlsError;
use crate::tls::server::server_config;

/// Where the bearer token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerFlag {
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
    pub bearer: BearerFlag,
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
    /// `-web.tls.certmatch` does not compile.
    #[error("-web.tls.certmatch is not a valid regular expression: {0}")]
    CertMatch(regex::Error),
    /// TLS flags beside a web configuration that sets TLS.
    #[error(
        "-web.tls.cert, -web.tls.key, -web.tls.ca and -web.tls.verify cannot be combined with \
         tls_server_config in -web.config.file; set them in the file"
    )]
    TlsFlagsBesideWebConfig,
    /// `-web.tls.certmatch` with a web configuration that verifies no client certificate.
    #[error(
        "-web.tls.certmatch needs client_auth_type RequireAndVerifyClientCert or \
         VerifyClientCertIfGiven in -web.config.file"
    )]
    CertMatchUnverified,
    /// `-web.tls.certmatch` without `-web.tls.verify` (the original's message).
    #[error("tls.web.verify must be set to use certificate matching")]
    CertMatchWithoutVerify,
    /// The bearer token file cannot be read.
    #[error("failed reading bearer file {}: {source}", path.display())]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bearer token file holds only blanks.
    #[error("token file {} should not be empty", path.display())]
    EmptyToken {
        /// The file.
        path: PathBuf,
    },
    /// A `basic_auth_users` hash is not a bcrypt hash.
    #[error("{}: basic_auth_users: {source}", path.display())]
    BasicUsers {
        /// The web configuration file.
        path: PathBuf,
        /// Which user.
        source: BcryptError,
    },
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
    /// The web configuration's `rate_limit`, if on.
    pub rate_limit: Option<RateLimit>,
    /// Things worth a warning (flags, or web configuration keys, that have no effect).
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
        let mut warnings = web.warnings.clone();
        let (tls, tls_on_plain) = listener_tls(s, &web, &mut warnings)?;
        let basic = if web.basic_auth_users.is_empty() {
            None
        } else {
            let users = web.basic_auth_users.clone().into_iter().collect();
            Some(BasicUsers::new(users).map_err(|source| SecurityError::BasicUsers {
                path: s.web_config_file.clone().unwrap_or_default(),
                source,
            })?)
        };
        Ok(Security {
            auth: Auth { allow: s.allow.clone(), bearer: bearer(&s.bearer)?, basic },
            tls,
            tls_on_plain,
            headers: web.headers,
            rate_limit: web.rate_limit,
            warnings,
        })
    }
}

/// The TLS listener's configuration, from the web configuration's `tls_server_config` or else
/// from the original's flags, and whether `-web.listen-address` serves TLS too.
fn listener_tls(
    s: &WebSettings,
    web: &WebConfig,
    warnings: &mut Vec<String>,
) -> Result<(Option<Arc<ServerConfig>>, bool), SecurityError> {
    let certmatch = match &s.certmatch {
        Some(re) => Some(CertMatch(Regex::new(re).map_err(SecurityError::CertMatch)?)),
        None => None,
    };
    Ok(match (&web.tls, &s.tls_address) {
        (Some(w), tls_address) => {
            if s.verify || s.tls_files_given {
                return Err(SecurityError::TlsFlagsBesideWebConfig);
            }
            if certmatch.is_some() && !w.client_auth.verifies() {
                return Err(SecurityError::CertMatchUnverified);
            }
            let t = ServerTls { certmatch, ..w.clone() };
            (Some(server_config(&t)?), tls_address.is_none())
        }
        (None, Some(_)) => {
            if certmatch.is_some() && !s.verify {
                return Err(SecurityError::CertMatchWithoutVerify);
            }
            let t = ServerTls {
                cert: Pem::File(s.cert.clone()),
                key: Pem::File(s.key.clone()),
                client_auth: if s.verify {
                    ClientAuth::RequireAndVerifyClientCert
                } else {
                    ClientAuth::NoClientCert
                },
                client_ca: s.verify.then(|| Pem::File(s.ca.clone())),
                allowed_sans: Vec::new(),
                certmatch,
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
                    "-web.tls.verify and -web.tls.certmatch have no effect without -web.tls.listen-address"
                        .into(),
                );
            }
            (None, false)
        }
    })
}

/// The bearer token, from its flag or read from its file (trimmed; an empty one is refused).
fn bearer(flag: &BearerFlag) -> Result<Option<Token>, SecurityError> {
    Ok(match flag {
        BearerFlag::None => None,
        BearerFlag::Token(t) => Some(Token::new(&t.0)),
        BearerFlag::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| SecurityError::TokenFile { path: path.clone(), source })?;
            let token = text.trim();
            if token.is_empty() {
                return Err(SecurityError::EmptyToken { path: path.clone() });
            }
            Some(Token::new(token))
        }
    })
}
