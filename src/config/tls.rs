//! The TLS listener's settings, one type whether they come from the original's flags or from
//! the web configuration file: certificate and key, the client-certificate policy, protocol
//! versions, and cipher suites and curves already checked against what rustls implements.

use std::path::PathBuf;

use regex::Regex;
use serde::Deserialize;

/// How a TLS listener treats client certificates (Go's `tls.ClientAuthType` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified.
    RequireAnyClientCert,
    /// Verified against the client CA when given.
    VerifyClientCertIfGiven,
    /// Required and verified against the client CA.
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    /// Whether presented certificates are verified against a CA.
    pub fn verifies(self) -> bool {
        matches!(self, ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert)
    }

    /// Whether a certificate must be presented.
    pub fn mandatory(self) -> bool {
        matches!(self, ClientAuth::RequireAnyClientCert | ClientAuth::RequireAndVerifyClientCert)
    }
}

/// A TLS protocol version rustls can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// A TLS 1.2 cipher suite rustls implements, named in the web configuration as Go names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherSuite {
    /// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
    EcdheEcdsaAes128Gcm,
    /// `TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384`.
    EcdheEcdsaAes256Gcm,
    /// `TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305` (or `..._SHA256`).
    EcdheEcdsaChacha20,
    /// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    EcdheRsaAes128Gcm,
    /// `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`.
    EcdheRsaAes256Gcm,
    /// `TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305` (or `..._SHA256`).
    EcdheRsaChacha20,
}

/// Go's names for the suites, with the suite each stands for.
const SUITES: [(&str, CipherSuite); 8] = [
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CipherSuite::EcdheEcdsaAes128Gcm),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", CipherSuite::EcdheEcdsaAes256Gcm),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", CipherSuite::EcdheEcdsaChacha20),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", CipherSuite::EcdheEcdsaChacha20),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", CipherSuite::EcdheRsaAes128Gcm),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", CipherSuite::EcdheRsaAes256Gcm),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", CipherSuite::EcdheRsaChacha20),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CipherSuite::EcdheRsaChacha20),
];

impl CipherSuite {
    /// The suite Go calls `name`; the error lists the names that work.
    pub fn from_go_name(name: &str) -> Result<CipherSuite, String> {
        SUITES.iter().find(|(go, _)| *go == name).map(|(_, s)| *s).ok_or_else(|| {
            format!(
                "cipher suite {name:?} is not supported (supported: {})",
                SUITES.iter().map(|(g, _)| *g).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The IANA name, as rustls prints the suite.
    pub fn iana_name(self) -> &'static str {
        match self {
            CipherSuite::EcdheEcdsaAes128Gcm => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            CipherSuite::EcdheEcdsaAes256Gcm => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            CipherSuite::EcdheEcdsaChacha20 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            CipherSuite::EcdheRsaAes128Gcm => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            CipherSuite::EcdheRsaAes256Gcm => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            CipherSuite::EcdheRsaChacha20 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        }
    }
}

/// A key exchange group rustls implements, named as Go names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// `X25519`.
    X25519,
    /// `CurveP256`.
    P256,
    /// `CurveP384`.
    P384,
}

impl Curve {
    /// The curve Go calls `name`.
    pub fn from_go_name(name: &str) -> Result<Curve, String> {
        match name {
            "X25519" => Ok(Curve::X25519),
            "CurveP256" => Ok(Curve::P256),
            "CurveP384" => Ok(Curve::P384),
            _ => Err(format!("curve {name:?} is not supported (X25519, CurveP256, CurveP384)")),
        }
    }

    /// The group's name as rustls prints it (compared without case).
    pub fn group_name(self) -> &'static str {
        match self {
            Curve::X25519 => "X25519",
            Curve::P256 => "secp256r1",
            Curve::P384 => "secp384r1",
        }
    }
}

/// `-web.tls.certmatch`: a regular expression a client certificate's subject CN, a DNS name or
/// an email address must match.
#[derive(Debug, Clone)]
pub struct CertMatch(pub Regex);

impl PartialEq for CertMatch {
    fn eq(&self, other: &CertMatch) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for CertMatch {}

/// Everything the TLS listener needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// Server certificate chain (PEM file).
    pub cert_file: PathBuf,
    /// Server key (PEM file).
    pub key_file: PathBuf,
    /// Client certificate policy.
    pub client_auth: ClientAuth,
    /// CAs client certificates must chain to.
    pub client_ca_file: Option<PathBuf>,
    /// SANs one of which a client certificate must carry (exact match), if any are given.
    pub allowed_sans: Vec<String>,
    /// The original's `-web.tls.certmatch`, if given.
    pub certmatch: Option<CertMatch>,
    /// Lowest version offered.
    pub min_version: TlsVersion,
    /// Highest version offered.
    pub max_version: TlsVersion,
    /// TLS 1.2 suites in preference order; empty for rustls's defaults.
    pub cipher_suites: Vec<CipherSuite>,
    /// Key exchange groups in preference order; empty for the defaults.
    pub curves: Vec<Curve>,
    /// Whether the server's order of cipher suites wins.
    pub prefer_server_order: bool,
    /// Whether HTTP/2 is offered through ALPN.
    pub http2: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_are_read_and_unknown_ones_listed() {
        assert_eq!(
            CipherSuite::from_go_name("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"),
            Ok(CipherSuite::EcdheRsaChacha20)
        );
        let e = CipherSuite::from_go_name("TLS_RSA_WITH_RC4_128_SHA").unwrap_err();
        assert!(e.contains("not supported") && e.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), "{e}");
        assert_eq!(Curve::from_go_name("CurveP384"), Ok(Curve::P384));
        assert!(Curve::from_go_name("CurveP521").unwrap_err().contains("not supported"));
    }
}
