//! The TLS listener's configuration: server certificate, protocol versions and suites, and the
//! client-certificate policy with the original's `-web.tls.certmatch`, exporter-toolkit's
//! `client_allowed_sans`, and the pinned-certificate fallback of [`super::pinned`].

use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

use super::pinned::Pins;
use super::{TlsError, load_certs, load_key};
use crate::config::web::{ClientAuth, TlsVersion};

/// Everything the TLS listener needs, from the flags or the web configuration file.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// Server certificate chain.
    pub cert_file: PathBuf,
    /// Server key.
    pub key_file: PathBuf,
    /// Client certificate policy.
    pub client_auth: ClientAuth,
    /// CAs for client certificates.
    pub client_ca_file: Option<PathBuf>,
    /// A client certificate must carry one of these SANs (exact match), if any are given.
    pub allowed_sans: Vec<String>,
    /// A client certificate's CN, a DNS SAN or an email must match this, if given.
    pub certmatch: Option<Regex>,
    /// Lowest version offered.
    pub min_version: TlsVersion,
    /// Highest version offered.
    pub max_version: TlsVersion,
    /// TLS 1.2 suites by Go name; empty for the defaults.
    pub cipher_suites: Vec<String>,
    /// Key exchange groups by Go name; empty for the defaults.
    pub curves: Vec<String>,
    /// Whether the server's suite order wins.
    pub prefer_server_order: bool,
    /// Whether HTTP/2 is offered through ALPN.
    pub http2: bool,
}

/// Go's cipher-suite names for the TLS 1.2 suites rustls implements.
const SUITES: [(&str, &str); 8] = [
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
];

/// Go's curve names for the key exchange groups rustls implements.
const CURVES: [(&str, &str); 3] =
    [("X25519", "X25519"), ("CurveP256", "secp256r1"), ("CurveP384", "secp384r1")];

fn provider_for(t: &ServerTls) -> Result<CryptoProvider, TlsError> {
    let mut provider = rustls::crypto::ring::default_provider();
    if !t.cipher_suites.is_empty() {
        let mut suites = Vec::new();
        for name in &t.cipher_suites {
            let Some((_, rustls_name)) = SUITES.iter().find(|(go, _)| go == name) else {
                return Err(TlsError::Config(format!(
                    "cipher suite {name:?} is not supported (supported: {})",
                    SUITES.iter().map(|(g, _)| *g).collect::<Vec<_>>().join(", ")
                )));
            };
            let suite = provider
                .cipher_suites
                .iter()
                .find(|s| format!("{:?}", s.suite()) == *rustls_name)
                .copied()
                .ok_or_else(|| TlsError::Config(format!("cipher suite {name:?} is not available")))?;
            suites.push(suite);
        }
        // Go does not let TLS 1.3 suites be chosen; neither does the web config.
        suites.extend(
            provider.cipher_suites.iter().filter(|s| s.version() == &rustls::version::TLS13).copied(),
        );
        provider.cipher_suites = suites;
    }
    if !t.curves.is_empty() {
        let mut groups = Vec::new();
        for name in &t.curves {
            let Some((_, group_name)) = CURVES.iter().find(|(go, _)| go == name) else {
                return Err(TlsError::Config(format!(
                    "curve {name:?} is not supported (X25519, CurveP256, CurveP384)"
                )));
            };
            let group = provider
                .kx_groups
                .iter()
                .find(|g| format!("{:?}", g.name()).eq_ignore_ascii_case(group_name))
                .copied()
                .ok_or_else(|| TlsError::Config(format!("curve {name:?} is not available")))?;
            groups.push(group);
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}

/// Builds the listener's configuration, reading every file now.
pub fn server_config(t: &ServerTls) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(provider_for(t)?);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [(TlsVersion::Tls12, &rustls::version::TLS12), (TlsVersion::Tls13, &rustls::version::TLS13)]
            .into_iter()
            .filter(|(v, _)| *v >= t.min_version && *v <= t.max_version)
            .map(|(_, v)| v)
            .collect();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match t.client_auth {
        ClientAuth::NoClientCert => builder.with_no_client_auth(),
        _ => builder.with_client_cert_verifier(Arc::new(ClientVerifier::new(t, provider.clone())?)),
    };
    let chain = load_certs(&t.cert_file)?;
    let key = load_key(&t.key_file)?;
    super::check_signing_key(&key, &t.key_file)?;
    let mut config = builder.with_single_cert(chain, key).map_err(|e| TlsError::Key {
        path: t.key_file.clone(),
        problem: format!("does not match {}: {e}", t.cert_file.display()),
    })?;
    config.ignore_client_order = t.prefer_server_order;
    config.alpn_protocols =
        if t.http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(Arc::new(config))
}

/// Client-certificate checks for every policy but `NoClientCert`.
#[derive(Debug)]
struct ClientVerifier {
    mode: ClientAuth,
    webpki: Option<Arc<dyn ClientCertVerifier>>,
    pins: Pins,
    hints: Vec<DistinguishedName>,
    certmatch: Option<Regex>,
    allowed_sans: Vec<String>,
    provider: Arc<CryptoProvider>,
}

impl ClientVerifier {
    fn new(t: &ServerTls, provider: Arc<CryptoProvider>) -> Result<ClientVerifier, TlsError> {
        let (webpki, pins, hints) = match (&t.client_ca_file, t.client_auth.verifies()) {
            (Some(ca), true) => {
                let certs = load_certs(ca)?;
                let mut roots = rustls::RootCertStore::empty();
                let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
                if added == 0 {
                    return Err(TlsError::Certificates {
                        path: ca.clone(),
                        problem: "no usable CA certificate".into(),
                    });
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots.clone()), provider.clone())
                        .allow_unauthenticated()
                        .build()
                        .map_err(|e| TlsError::Config(e.to_string()))?;
                (Some(verifier), Pins::new(certs), roots.subjects())
            }
            (None, true) => {
                return Err(TlsError::Config("verifying client certificates needs a client CA file".into()));
            }
            (_, false) => (None, Pins::default(), Vec::new()),
        };
        Ok(ClientVerifier {
            mode: t.client_auth,
            webpki,
            pins,
            hints,
            certmatch: t.certmatch.clone(),
            allowed_sans: t.allowed_sans.clone(),
            provider,
        })
    }

    /// Certmatch and allowed SANs, on a certificate already verified.
    fn check_identity(&self, cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if self.certmatch.is_none() && self.allowed_sans.is_empty() {
            return Ok(());
        }
        let names = super::names::Names::of(cert).map_err(rustls::Error::General)?;
        if let Some(re) = &self.certmatch
            && !names.certmatch_candidates().any(|n| re.is_match(n))
        {
            return Err(rustls::Error::General(format!(
                "no client certificate subject, DNS name or email address matched -web.tls.certmatch ({})",
                names.summary()
            )));
        }
        if !self.allowed_sans.is_empty() && !names.sans().any(|n| self.allowed_sans.iter().any(|a| a == n)) {
            return Err(rustls::Error::General(format!(
                "client certificate has none of client_allowed_sans ({})",
                names.summary()
            )));
        }
        Ok(())
    }

    fn signature_error(&self, cert: &CertificateDer<'_>, e: rustls::Error) -> rustls::Error {
        match super::names::rsa_bits(cert) {
            Some(bits) if bits < 2048 => rustls::Error::General(format!(
                "client certificate has a {bits}-bit RSA key; the TLS library needs at least 2048 bits"
            )),
            _ => e,
        }
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode.mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Some(webpki) = &self.webpki
            && let Err(e) = webpki.verify_client_cert(end_entity, intermediates, now)
        {
            match self.pins.accepts(end_entity, now) {
                Ok(true) => {}
                Ok(false) => return Err(e),
                Err(problem) => return Err(rustls::Error::General(problem)),
            }
        }
        self.check_identity(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
            .map_err(|e| self.signature_error(cert, e))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
            .map_err(|e| self.signature_error(cert, e))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(suites: &[&str], curves: &[&str]) -> ServerTls {
        ServerTls {
            cert_file: PathBuf::new(),
            key_file: PathBuf::new(),
            client_auth: ClientAuth::NoClientCert,
            client_ca_file: None,
            allowed_sans: Vec::new(),
            certmatch: None,
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            cipher_suites: suites.iter().map(|s| s.to_string()).collect(),
            curves: curves.iter().map(|s| s.to_string()).collect(),
            prefer_server_order: true,
            http2: true,
        }
    }

    #[test]
    fn cipher_suites_and_curves_by_go_name() {
        let p =
            provider_for(&tls(&["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], &["CurveP256"])).expect("valid");
        let tls12: Vec<String> = p
            .cipher_suites
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS12)
            .map(|s| format!("{:?}", s.suite()))
            .collect();
        assert_eq!(tls12, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]);
        assert!(
            p.cipher_suites.iter().any(|s| s.version() == &rustls::version::TLS13),
            "TLS 1.3 suites stay"
        );
        assert_eq!(p.kx_groups.len(), 1);
        let e = provider_for(&tls(&["TLS_RSA_WITH_AES_128_CBC_SHA"], &[])).unwrap_err().to_string();
        assert!(e.contains("TLS_RSA_WITH_AES_128_CBC_SHA") && e.contains("not supported"), "{e}");
        assert!(provider_for(&tls(&[], &["CurveP521"])).is_err());
    }
}
