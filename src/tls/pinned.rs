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
    let (not_before, not_after) = super::der::Certificate::parse(cert.as_ref())
        .and_then(|c| c.validity())
        .map_err(|e| e.to_string())?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    if now < not_before.unix {
        return Err(format!("certificate not valid before {not_before}"));
    }
    if now > not_after.unix {
        return Err(format!("certificate expired on {not_after}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::default();
        params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("sign").der().clone()
    }

    #[test]
    fn validity_is_checked_at_both_ends() {
        let cert = certificate((2020, 1, 1), (2060, 1, 1));
        let at = |secs| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        assert_eq!(within_validity(&cert, at(1_600_000_000)), Ok(()));
        assert_eq!(
            within_validity(&cert, at(1_500_000_000)),
            Err("certificate not valid before 2020-01-01 00:00:00 UTC".to_owned())
        );
        assert_eq!(
            within_validity(&cert, at(2_900_000_000)),
            Err("certificate expired on 2060-01-01 00:00:00 UTC".to_owned())
        );
        let pins = Pins::new(vec![cert.clone()]);
        assert_eq!(pins.accepts(&cert, at(1_600_000_000)), Ok(true));
        assert_eq!(pins.accepts(&certificate((2020, 1, 1), (2060, 1, 1)), at(1_600_000_000)), Ok(false));
    }
}
