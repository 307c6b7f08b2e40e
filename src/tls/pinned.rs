//! Accepting a peer certificate that is byte-identical to one the operator listed as trusted.
//!
//! webpki refuses a CA certificate as the end-entity certificate (`CaUsedAsEndEntity`), yet
//! `openssl req -x509` makes exactly that, and the original's README recipe uses such
//! self-signed certificates as each other's CA. When normal verification fails, a presented
//! certificate that equals, byte for byte, a certificate from the configured CA file is
//! accepted if it is within its validity dates. The handshake signature is still verified,
//! by the provider, against that certificate's key: only its key holder can complete it.

use rustls::pki_types::{CertificateDer, UnixTime};

/// Certificates trusted as they are.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    certs: Vec<CertificateDer<'static>>,
}

impl Pins {
    /// Pins every certificate of a CA file.
    pub fn new(certs: Vec<CertificateDer<'static>>) -> Pins {
        Pins { certs }
    }

    /// Whether `presented` is one of the pinned certificates and valid at `now`.
    pub fn accepts(&self, presented: &CertificateDer<'_>, now: UnixTime) -> Result<bool, String> {
        if !self.certs.iter().any(|c| c.as_ref() == presented.as_ref()) {
            return Ok(false);
        }
        within_validity(presented, now).map(|()| true)
    }
}

/// Checks the certificate's notBefore/notAfter against `now`.
pub fn within_validity(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| format!("unparsable certificate: {e}"))?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = parsed.validity();
    if now < validity.not_before.timestamp() {
        return Err(format!("certificate not valid before {}", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        return Err(format!("certificate expired on {}", validity.not_after));
    }
    Ok(())
}
