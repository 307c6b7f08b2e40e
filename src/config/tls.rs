//! The TLS listener's settings, one type whether they come from the original's flags or from
//! the web configuration file: certificate and key, the client-certificate policy, protocol
//! versions, and cipher suites and curves already checked against what rustls implements.

use std::path::PathBuf;

use regex::Regex;

/// How a TLS listener treats client certificates (Go's `tls.ClientAuthType` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The policy exporter-toolkit calls `name`: Go's names, `RequireClientCert` (its old name
    /// for `RequireAnyClientCert`), and `""` for `NoClientCert`.
    pub fn from_go_name(name: &str) -> Result<ClientAuth, String> {
        Ok(match name {
            "" | "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            other => {
                return Err(format!(
                    "unknown client auth type {other:?} (NoClientCert, RequestClientCert, RequireAnyClientCert, \
                     VerifyClientCertIfGiven, RequireAndVerifyClientCert)"
                ));
            }
        })
    }

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

/// The TLS 1.3 suites, which Go lists among its suites but does not let a configuration choose:
/// named in `cipher_suites`, they have no effect there, nor here.
const TLS13_SUITES: [&str; 3] =
    ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

impl CipherSuite {
    /// The suite Go calls `name`; `None` for a TLS 1.3 suite (accepted without effect, as in
    /// Go). The error says why a name Go knows cannot be used, and lists the names that work.
    pub fn from_go_name(name: &str) -> Result<Option<CipherSuite>, String> {
        if TLS13_SUITES.contains(&name) {
            return Ok(None);
        }
        if let Some((_, s)) = SUITES.iter().find(|(go, _)| *go == name) {
            return Ok(Some(*s));
        }
        let why = if name.contains("_CBC_") {
            "a CBC suite, which rustls does not implement (only AEAD suites)"
        } else if name.starts_with("TLS_RSA_") {
            "RSA key exchange, without forward secrecy, which rustls does not implement"
        } else if name.contains("RC4") || name.contains("3DES") {
            "an insecure suite, refused by exporter-toolkit too"
        } else {
            "not a suite Go names"
        };
        Err(format!(
            "cipher suite {name:?} is not supported: {why} (supported: {})",
            SUITES.iter().map(|(g, _)| *g).collect::<Vec<_>>().join(", ")
        ))
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
            "CurveP521" => Err(format!(
                "curve {name:?} is not supported: the TLS library (rustls with ring) does not implement \
                 P-521 (X25519, CurveP256, CurveP384)"
            )),
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

/// PEM material for the listener: a file, read at each load, or the PEM text itself, as the
/// web configuration's inline `cert`, `key` and `client_ca` give it.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// A PEM file.
    File(PathBuf),
    /// PEM text, with the web configuration key that held it (named in errors).
    Inline {
        /// `tls_server_config.cert`, say.
        key: &'static str,
        /// The PEM text (a key's is a secret: never in Debug output).
        text: String,
    },
}

impl Pem {
    /// What errors name: the file, or the key that held the text.
    pub fn label(&self) -> PathBuf {
        match self {
            Pem::File(path) => path.clone(),
            Pem::Inline { key, .. } => PathBuf::from(format!("{key} (inline)")),
        }
    }
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pem::File(path) => write!(f, "File({path:?})"),
            Pem::Inline { key, text } => write!(f, "Inline({key}, {} bytes)", text.len()),
        }
    }
}

/// Everything the TLS listener needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// Server certificate chain.
    pub cert: Pem,
    /// Server key.
    pub key: Pem,
    /// Client certificate policy.
    pub client_auth: ClientAuth,
    /// CAs client certificates must chain to.
    pub client_ca: Option<Pem>,
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
            Ok(Some(CipherSuite::EcdheRsaChacha20))
        );
        assert_eq!(
            CipherSuite::from_go_name("TLS_AES_128_GCM_SHA256"),
            Ok(None),
            "TLS 1.3: no effect, as in Go"
        );
        let e = CipherSuite::from_go_name("TLS_RSA_WITH_RC4_128_SHA").unwrap_err();
        assert!(e.contains("not supported") && e.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), "{e}");
        let e = CipherSuite::from_go_name("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA").unwrap_err();
        assert!(e.contains("CBC suite, which rustls does not implement"), "{e}");
        let e = CipherSuite::from_go_name("TLS_RSA_WITH_AES_128_GCM_SHA256").unwrap_err();
        assert!(e.contains("RSA key exchange"), "{e}");
        assert_eq!(Curve::from_go_name("CurveP384"), Ok(Curve::P384));
        assert!(Curve::from_go_name("CurveP521").unwrap_err().contains("does not implement P-521"));
        assert_eq!(ClientAuth::from_go_name("RequireClientCert"), Ok(ClientAuth::RequireAnyClientCert));
        assert_eq!(ClientAuth::from_go_name(""), Ok(ClientAuth::NoClientCert));
        assert!(ClientAuth::from_go_name("Sometimes").unwrap_err().contains("unknown client auth type"));
    }
}
