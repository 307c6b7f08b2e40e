//! The names in a certificate that identity checks look at: subject CNs and emails, and the
//! DNS, email, IP and URI subject alternative names.

use rustls::pki_types::CertificateDer;

use super::der::{AltName, Certificate};

/// A certificate's names.
#[derive(Debug, Default)]
pub struct Names {
    common_names: Vec<String>,
    subject_emails: Vec<String>,
    dns: Vec<String>,
    emails: Vec<String>,
    ips: Vec<String>,
    uris: Vec<String>,
}

impl Names {
    /// Reads the names of a DER certificate.
    pub fn of(cert: &CertificateDer<'_>) -> Result<Names, String> {
        let x = Certificate::parse(cert.as_ref()).map_err(|e| e.to_string())?;
        let mut n = Names {
            common_names: x.common_names().map_err(|e| e.to_string())?,
            subject_emails: x.subject_emails().map_err(|e| e.to_string())?,
            ..Names::default()
        };
        // Names that are not text are skipped, as IP addresses of another length are.
        let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_owned);
        for name in x.alt_names().map_err(|e| e.to_string())? {
            match name {
                AltName::Dns(d) => n.dns.extend(text(d)),
                AltName::Email(e) => n.emails.extend(text(e)),
                AltName::Uri(u) => n.uris.extend(text(u)),
                AltName::Ip(ip) => {
                    let addr = match ip.len() {
                        4 => <[u8; 4]>::try_from(ip).ok().map(|b| std::net::IpAddr::from(b).to_string()),
                        16 => <[u8; 16]>::try_from(ip).ok().map(|b| std::net::IpAddr::from(b).to_string()),
                        _ => None,
                    };
                    n.ips.extend(addr);
                }
                AltName::Other => {}
            }
        }
        Ok(n)
    }

    /// What `-web.tls.certmatch` is tried against: subject CN, DNS SANs, and email addresses
    /// (SAN or subject), as the original does.
    pub fn certmatch_candidates(&self) -> impl Iterator<Item = &str> {
        self.common_names
            .iter()
            .chain(&self.dns)
            .chain(&self.emails)
            .chain(&self.subject_emails)
            .map(String::as_str)
    }

    /// Every subject alternative name, for `client_allowed_sans`.
    pub fn sans(&self) -> impl Iterator<Item = &str> {
        self.dns.iter().chain(&self.emails).chain(&self.ips).chain(&self.uris).map(String::as_str)
    }

    /// A short description for log lines (names are not secret).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (label, values) in [
            ("CN", &self.common_names),
            ("DNS", &self.dns),
            ("email", &self.emails),
            ("IP", &self.ips),
            ("URI", &self.uris),
        ] {
            for v in values {
                parts.push(format!("{label}={v}"));
            }
        }
        if parts.is_empty() { "no names".into() } else { parts.join(", ") }
    }
}

/// The RSA modulus size of a certificate's key, if it is an RSA key.
pub fn rsa_bits(cert: &CertificateDer<'_>) -> Option<usize> {
    Certificate::parse(cert.as_ref()).ok()?.rsa_bits().ok()?
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, DnValue, KeyPair, SanType};

    fn certificate(params: &CertificateParams) -> CertificateDer<'static> {
        let key = KeyPair::generate().expect("key");
        params.self_signed(&key).expect("sign").der().clone()
    }

    #[test]
    fn every_kind_of_name_is_read() {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, "prometheus");
        params.distinguished_name.push(
            DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            DnValue::Ia5String("ops@example.org".try_into().expect("ia5")),
        );
        params.subject_alt_names = vec![
            SanType::DnsName("scraper.example".try_into().expect("ia5")),
            SanType::Rfc822Name("sre@example.org".try_into().expect("ia5")),
            SanType::URI("spiffe://example.org/prometheus".try_into().expect("ia5")),
            SanType::IpAddress("192.0.2.7".parse().expect("ip")),
            SanType::IpAddress("2001:db8::1".parse().expect("ip")),
        ];
        let names = Names::of(&certificate(&params)).expect("names");
        assert_eq!(
            names.certmatch_candidates().collect::<Vec<_>>(),
            ["prometheus", "scraper.example", "sre@example.org", "ops@example.org"]
        );
        assert_eq!(
            names.sans().collect::<Vec<_>>(),
            [
                "scraper.example",
                "sre@example.org",
                "192.0.2.7",
                "2001:db8::1",
                "spiffe://example.org/prometheus"
            ]
        );
        assert_eq!(
            names.summary(),
            "CN=prometheus, DNS=scraper.example, email=sre@example.org, IP=192.0.2.7, IP=2001:db8::1, \
             URI=spiffe://example.org/prometheus"
        );
    }

    #[test]
    fn a_certificate_without_names_has_none() {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let names = Names::of(&certificate(&params)).expect("names");
        assert_eq!(names.sans().count(), 0);
        assert_eq!(names.summary(), "no names");
    }

    #[test]
    fn garbage_is_an_error_that_says_so() {
        let e = Names::of(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01])).expect_err("garbage");
        assert!(e.starts_with("unparsable certificate: "), "{e}");
    }

    #[test]
    fn keys_that_are_not_rsa_have_no_rsa_size() {
        assert_eq!(rsa_bits(&certificate(&CertificateParams::default())), None);
    }
}
