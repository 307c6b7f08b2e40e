//! The names in a certificate that identity checks look at: subject CNs and emails, and the
//! DNS, email, IP and URI subject alternative names.

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

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
        let (_, x) =
            X509Certificate::from_der(cert.as_ref()).map_err(|e| format!("unparsable certificate: {e}"))?;
        let mut n = Names {
            common_names: x
                .subject()
                .iter_common_name()
                .filter_map(|a| a.as_str().ok())
                .map(str::to_owned)
                .collect(),
            subject_emails: x
                .subject()
                .iter_email()
                .filter_map(|a| a.as_str().ok())
                .map(str::to_owned)
                .collect(),
            ..Names::default()
        };
        if let Ok(Some(san)) = x.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(d) => n.dns.push((*d).to_owned()),
                    GeneralName::RFC822Name(e) => n.emails.push((*e).to_owned()),
                    GeneralName::URI(u) => n.uris.push((*u).to_owned()),
                    GeneralName::IPAddress(ip) => {
                        let addr = match ip.len() {
                            4 => <[u8; 4]>::try_from(*ip).ok().map(|b| std::net::IpAddr::from(b).to_string()),
                            16 => {
                                <[u8; 16]>::try_from(*ip).ok().map(|b| std::net::IpAddr::from(b).to_string())
                            }
                            _ => None,
                        };
                        n.ips.extend(addr);
                    }
                    _ => {}
                }
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
    let (_, x) = X509Certificate::from_der(cert.as_ref()).ok()?;
    match x.public_key().parsed().ok()? {
        PublicKey::RSA(rsa) => Some(rsa.key_size()),
        _ => None,
    }
}
