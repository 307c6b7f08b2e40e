//! The TLS listener's configuration: server certificate, protocol versions and suites, and the
//! client-certificate policy with the original's `-web.tls.certmatch`, exporter-toolkit's
//! `client_allowed_sans`, and the pinned-certificate fallback of [`super::pinned`].

use std::sync::Arc;

use regex::Regex;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

use super::pinned::Pins;
use super::{TlsError, load_certs_from, load_key_from};
use crate::config::tls::{ClientAuth, ServerTls, TlsVersion};

fn provider_for(t: &ServerTls) -> Result<CryptoProvider, TlsError> {
    let mut provider = rustls::crypto::ring::default_provider();
    if !t.cipher_suites.is_empty() {
        let mut suites = Vec::new();
        for wanted in &t.cipher_suites {
            let suite = provider
                .cipher_suites
                .iter()
                .find(|s| format!("{:?}", s.suite()) == wanted.iana_name())
                .copied()
                .ok_or_else(|| {
                    TlsError::Config(format!("cipher suite {} is not available", wanted.iana_name()))
                })?;
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
        for wanted in &t.curves {
            let group = provider
                .kx_groups
                .iter()
                .find(|g| format!("{:?}", g.name()).eq_ignore_ascii_case(wanted.group_name()))
                .copied()
                .ok_or_else(|| TlsError::Config(format!("curve {} is not available", wanted.group_name())))?;
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
    let chain = load_certs_from(&t.cert)?;
    let key = load_key_from(&t.key)?;
    super::check_signing_key(&key, &t.key.label())?;
    let mut config = builder.with_single_cert(chain, key).map_err(|e| TlsError::Key {
        path: t.key.label(),
        problem: format!("does not match {}: {e}", t.cert.label().display()),
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
        let (webpki, pins, hints) = match (&t.client_ca, t.client_auth.verifies()) {
            (Some(ca), true) => {
                let certs = load_certs_from(ca)?;
                let mut roots = rustls::RootCertStore::empty();
                let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
                if added == 0 {
                    return Err(TlsError::Certificates {
                        path: ca.label(),
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
            certmatch: t.certmatch.as_ref().map(|c| c.0.clone()),
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
    use std::path::PathBuf;

    use super::*;
    use crate::config::tls::{CipherSuite, Curve, Pem};

    fn tls(suites: &[&str], curves: &[&str]) -> ServerTls {
        ServerTls {
            cert: Pem::File(PathBuf::new()),
            key: Pem::File(PathBuf::new()),
            client_auth: ClientAuth::NoClientCert,
            client_ca: None,
            allowed_sans: Vec::new(),
            certmatch: None,
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            cipher_suites: suites
                .iter()
                .filter_map(|s| CipherSuite::from_go_name(s).expect("known"))
                .collect(),
            curves: curves.iter().map(|s| Curve::from_go_name(s).expect("known")).collect(),
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
        // Names rustls does not implement are refused when the web configuration is read.
        let e = CipherSuite::from_go_name("TLS_RSA_WITH_AES_128_CBC_SHA").unwrap_err();
        assert!(e.contains("TLS_RSA_WITH_AES_128_CBC_SHA") && e.contains("not supported"), "{e}");
        assert_eq!(tls(&["TLS_AES_256_GCM_SHA384"], &[]).cipher_suites, [], "TLS 1.3 names choose nothing");
        assert!(Curve::from_go_name("CurveP521").is_err());
    }
}
