//! TLS for `https` upstreams: which roots to trust (`tls_ca_cert_file` replaces the system
//! roots, `tls_root_ca_file` adds to them), a client certificate, `server_name`, and
//! `tls_insecure_skip_verify`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore, SignatureScheme};

use crate::tls::pinned::Pins;
use crate::tls::{self, TlsError};

/// TLS settings for connections to an `https` upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamTls {
    /// Skip certificate verification altogether.
    pub insecure_skip_verify: bool,
    /// Client certificate and key presented to the upstream.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// CA certificates trusted instead of the system roots (`tls_ca_cert_file`).
    pub ca_file: Option<PathBuf>,
    /// CA certificates trusted in addition to the system roots (`tls_root_ca_file`).
    pub root_ca_file: Option<PathBuf>,
    /// Name expected in, and sent as SNI for, the upstream's certificate.
    pub server_name: Option<String>,
}

/// The operating system's trusted roots, loaded once per build and only if a module needs them.
#[derive(Debug, Default)]
pub struct SystemRoots(OnceLock<Arc<Vec<CertificateDer<'static>>>>);

impl SystemRoots {
    fn get(&self) -> Arc<Vec<CertificateDer<'static>>> {
        self.0
            .get_or_init(|| {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::warn!(error = %e, "could not load some system root certificates");
                }
                Arc::new(found.certs)
            })
            .clone()
    }
}

/// Builds the client configuration for one upstream.
pub(crate) fn client_config(t: &UpstreamTls, system: &SystemRoots) -> Result<ClientConfig, TlsError> {
    let provider = tls::provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let trust = if t.insecure_skip_verify {
        Trust::Anything
    } else {
        let mut roots = RootCertStore::empty();
        let mut pins = Vec::new();
        if let Some(ca) = &t.ca_file {
            let certs = tls::load_certs(ca)?;
            pins.extend(certs.iter().cloned());
            roots.add_parsable_certificates(certs);
        }
        if let Some(root) = &t.root_ca_file {
            let certs = tls::load_certs(root)?;
            pins.extend(certs.iter().cloned());
            roots.add_parsable_certificates(certs);
        }
        if t.ca_file.is_none() || t.root_ca_file.is_some() {
            roots.add_parsable_certificates(system.get().iter().cloned());
        }
        let webpki = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsError::Config(e.to_string()))?,
            )
        };
        Trust::Roots { webpki, pins: Pins::new(pins) }
    };
    let verifier = Arc::new(UpstreamVerifier { trust, provider: provider.clone() });
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    // No ALPN is offered: upstreams are spoken to in HTTP/1.1 only (pool.rs).
    let config = match &t.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = tls::load_certs(cert)?;
            let key_der = tls::load_key(key)?;
            tls::check_signing_key(&key_der, key)?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| TlsError::Key {
                path: key.clone(),
                problem: format!("does not match {}: {e}", cert.display()),
            })?
        }
    };
    Ok(config)
}

/// What an upstream's certificate is checked against.
#[derive(Debug)]
enum Trust {
    /// `tls_insecure_skip_verify: true`: any certificate, though the handshake itself must still
    /// be signed by the certificate presented.
    Anything,
    /// WebPKI verification against the roots, falling back to certificates pinned by the CA files.
    Roots { webpki: Option<Arc<WebPkiServerVerifier>>, pins: Pins },
}

/// The upstream certificate check.
#[derive(Debug)]
struct UpstreamVerifier {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for UpstreamVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (webpki, pins) = match &self.trust {
            Trust::Anything => return Ok(ServerCertVerified::assertion()),
            Trust::Roots { webpki, pins } => (webpki, pins),
        };
        let result = match webpki {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
        };
        match result {
            Ok(v) => Ok(v),
            Err(e) => match pins.accepts(end_entity, now) {
                Ok(true) => Ok(ServerCertVerified::assertion()),
                Ok(false) => Err(e),
                Err(problem) => Err(rustls::Error::General(problem)),
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
