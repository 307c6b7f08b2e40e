//! The few fields of an X.509 certificate we read ourselves (subject, validity, SubjectAltName,
//! RSA key size), with a DER walk of our own (about 300 lines with its checks) instead of a general
//! ASN.1 library (docs/dependencies.md, "The diet").
//!
//! Only certificates that webpki has already parsed and verified, or that are byte-identical to
//! one the operator configured, reach this code; it still treats every byte as hostile: every
//! length is checked, nothing panics, and anything it does not expect is an error.

use std::fmt;

/// A DER element that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparsable certificate: {0}")]
pub struct DerError(&'static str);

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version` of the TBSCertificate.
const VERSION: u8 = 0xa0;
/// `[3] EXPLICIT Extensions` of the TBSCertificate.
const EXTENSIONS: u8 = 0xa3;

/// id-at-commonName, 2.5.4.3.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// emailAddress (PKCS #9), 1.2.840.113549.1.9.1.
const OID_EMAIL_ADDRESS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
/// id-ce-subjectAltName, 2.5.29.17.
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// rsaEncryption, 1.2.840.113549.1.1.1.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Reads consecutive DER elements from a byte slice.
#[derive(Debug, Clone, Copy)]
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element's tag and contents.
    fn any(&mut self) -> Result<(u8, &'a [u8]), DerError> {
        let [tag, first, rest @ ..] = self.rest else {
            return Err(DerError("truncated element"));
        };
        if tag & 0x1f == 0x1f {
            return Err(DerError("multi-byte tag"));
        }
        let (len, rest) = match *first {
            n @ 0..=0x7f => (usize::from(n), rest),
            0x80 => return Err(DerError("indefinite length")),
            n => {
                let count = usize::from(n & 0x7f);
                if count > 4 || rest.len() < count {
                    return Err(DerError("bad length"));
                }
                let (bytes, rest) = rest.split_at(count);
                (bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), rest)
            }
        };
        if rest.len() < len {
            return Err(DerError("element longer than its container"));
        }
        let (contents, rest) = rest.split_at(len);
        self.rest = rest;
        Ok((*tag, contents))
    }

    /// The next element, which must have `tag`.
    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], DerError> {
        match self.any()? {
            (t, contents) if t == tag => Ok(contents),
            _ => Err(DerError(what)),
        }
    }

    /// The next element if it has `tag`; nothing is consumed otherwise.
    fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, DerError> {
        if self.rest.first() != Some(&tag) {
            return Ok(None);
        }
        self.any().map(|(_, contents)| Some(contents))
    }
}

/// The fields of a TBSCertificate that we look at, still encoded.
#[derive(Debug)]
pub struct Certificate<'a> {
    validity: &'a [u8],
    subject: &'a [u8],
    spki: &'a [u8],
    extensions: Option<&'a [u8]>,
}

impl<'a> Certificate<'a> {
    /// Splits a DER certificate into the fields we read.
    pub fn parse(der: &'a [u8]) -> Result<Certificate<'a>, DerError> {
        let mut outer = Reader::new(der);
        let cert = outer.expect(SEQUENCE, "not a certificate")?;
        let mut cert = Reader::new(cert);
        let mut tbs = Reader::new(cert.expect(SEQUENCE, "no TBSCertificate")?);
        tbs.optional(VERSION)?;
        tbs.expect(INTEGER, "no serial number")?;
        tbs.expect(SEQUENCE, "no signature algorithm")?;
        tbs.expect(SEQUENCE, "no issuer")?;
        let validity = tbs.expect(SEQUENCE, "no validity")?;
        let subject = tbs.expect(SEQUENCE, "no subject")?;
        let spki = tbs.expect(SEQUENCE, "no subject public key")?;
        let mut extensions = None;
        while !tbs.is_empty() {
            // issuerUniqueID [1] and subjectUniqueID [2] are skipped.
            if let Some(e) = tbs.optional(EXTENSIONS)? {
                extensions = Some(e);
            } else {
                tbs.any()?;
            }
        }
        Ok(Certificate { validity, subject, spki, extensions })
    }

    /// notBefore and notAfter.
    pub fn validity(&self) -> Result<(Time, Time), DerError> {
        let mut r = Reader::new(self.validity);
        Ok((Time::read(&mut r)?, Time::read(&mut r)?))
    }

    /// The subject's attributes with `oid`, as text; values that are not text are skipped.
    fn subject_attributes(&self, oid: &[u8]) -> Result<Vec<String>, DerError> {
        let mut found = Vec::new();
        let mut rdns = Reader::new(self.subject);
        while !rdns.is_empty() {
            let mut rdn = Reader::new(rdns.expect(SET, "subject name is not a set")?);
            while !rdn.is_empty() {
                let mut atv = Reader::new(rdn.expect(SEQUENCE, "bad subject attribute")?);
                let kind = atv.expect(OID, "subject attribute without a type")?;
                let (tag, value) = atv.any()?;
                if kind == oid {
                    found.extend(text(tag, value));
                }
            }
        }
        Ok(found)
    }

    /// The subject's common names.
    pub fn common_names(&self) -> Result<Vec<String>, DerError> {
        self.subject_attributes(OID_COMMON_NAME)
    }

    /// The subject's emailAddress attributes.
    pub fn subject_emails(&self) -> Result<Vec<String>, DerError> {
        self.subject_attributes(OID_EMAIL_ADDRESS)
    }

    /// The SubjectAltName extension's names, empty where there is none.
    pub fn alt_names(&self) -> Result<Vec<AltName<'a>>, DerError> {
        let Some(extensions) = self.extensions else { return Ok(Vec::new()) };
        let mut list = Reader::new(Reader::new(extensions).expect(SEQUENCE, "bad extensions")?);
        while !list.is_empty() {
            let mut ext = Reader::new(list.expect(SEQUENCE, "bad extension")?);
            let oid = ext.expect(OID, "extension without an identifier")?;
            ext.optional(BOOLEAN)?;
            let value = ext.expect(OCTET_STRING, "extension without a value")?;
            if oid != OID_SUBJECT_ALT_NAME {
                continue;
            }
            let mut names = Reader::new(Reader::new(value).expect(SEQUENCE, "bad subjectAltName")?);
            let mut found = Vec::new();
            while !names.is_empty() {
                let (tag, contents) = names.any()?;
                // GeneralName's context-specific tags, RFC 5280 section 4.2.1.6.
                found.push(match tag {
                    0x81 => AltName::Email(contents),
                    0x82 => AltName::Dns(contents),
                    0x86 => AltName::Uri(contents),
                    0x87 => AltName::Ip(contents),
                    _ => AltName::Other,
                });
            }
            return Ok(found);
        }
        Ok(Vec::new())
    }

    /// The modulus size in bits, for an RSA key.
    pub fn rsa_bits(&self) -> Result<Option<usize>, DerError> {
        let mut spki = Reader::new(self.spki);
        let mut algorithm = Reader::new(spki.expect(SEQUENCE, "bad key algorithm")?);
        if algorithm.expect(OID, "key algorithm without an identifier")? != OID_RSA_ENCRYPTION {
            return Ok(None);
        }
        let [0, key @ ..] = spki.expect(BIT_STRING, "no public key")? else {
            return Err(DerError("public key with unused bits"));
        };
        let mut rsa = Reader::new(Reader::new(key).expect(SEQUENCE, "bad RSA key")?);
        let modulus = rsa.expect(INTEGER, "RSA key without a modulus")?;
        let start = modulus.iter().position(|b| *b != 0).unwrap_or(modulus.len());
        let modulus = &modulus[start..];
        Ok(Some(match modulus.first() {
            Some(top) => (modulus.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
            None => 0,
        }))
    }
}

/// One name of a SubjectAltName extension, still encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltName<'a> {
    /// rfc822Name.
    Email(&'a [u8]),
    /// dNSName.
    Dns(&'a [u8]),
    /// uniformResourceIdentifier.
    Uri(&'a [u8]),
    /// iPAddress: 4 or 16 bytes.
    Ip(&'a [u8]),
    /// otherName, x400Address, directoryName, ediPartyName, registeredID: never matched.
    Other,
}

/// A directory string's text, for the string types certificates use; `None` for anything else
/// or for bytes that are not valid in their type.
fn text(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, TeletexString (in practice ASCII or
        // UTF-8), IA5String, VisibleString.
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1a => std::str::from_utf8(value).ok().map(str::to_owned),
        // BMPString: UCS-2, big-endian.
        0x1e if value.len().is_multiple_of(2) => {
            char::decode_utf16(value.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])))
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// A UTCTime or GeneralizedTime of a validity period, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    /// Seconds since the Unix epoch.
    pub unix: i64,
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Time {
    fn read(r: &mut Reader<'_>) -> Result<Time, DerError> {
        let (tag, contents) = r.any()?;
        let digits = |range: std::ops::Range<usize>| -> Result<u32, DerError> {
            let bytes = contents.get(range).ok_or(DerError("time too short"))?;
            bytes.iter().try_fold(0u32, |acc, b| match b {
                b'0'..=b'9' => Ok(acc * 10 + u32::from(b - b'0')),
                _ => Err(DerError("time with a non-digit")),
            })
        };
        // RFC 5280 section 4.1.2.5: both end in Z, with seconds; UTCTime years 50-99 are 19xx.
        let (year, rest) = match (tag, contents.len()) {
            (UTC_TIME, 13) => {
                let yy = i64::from(digits(0..2)?);
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
            }
            (GENERALIZED_TIME, 15) => (i64::from(digits(0..4)?), 4),
            _ => return Err(DerError("validity is not a UTCTime or GeneralizedTime")),
        };
        if contents.last() != Some(&b'Z') {
            return Err(DerError("time not in UTC"));
        }
        let field = |i: usize| digits(rest + 2 * i..rest + 2 * i + 2);
        let (month, day, hour, minute, second) = (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return Err(DerError("time out of range"));
        }
        let days = days_from_civil(year, month, day);
        let unix = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Ok(Time { unix, year, month, day, hour, minute, second })
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element, for certificates built by hand.
    fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match contents.len() {
            n @ 0..=0x7f => out.push(n as u8),
            n @ 0x80..=0xff => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(contents);
        out
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    /// A certificate with an RSA key of `modulus` and the given validity times, unsigned.
    fn rsa_certificate(modulus: &[u8], not_before: Vec<u8>, not_after: Vec<u8>) -> Vec<u8> {
        let name =
            tlv(SEQUENCE, &tlv(SET, &tlv(SEQUENCE, &cat(&[tlv(OID, OID_COMMON_NAME), tlv(0x13, b"rsa")]))));
        let rsa_key = tlv(SEQUENCE, &cat(&[tlv(INTEGER, modulus), tlv(INTEGER, &[1, 0, 1])]));
        let spki = tlv(
            SEQUENCE,
            &cat(&[
                tlv(SEQUENCE, &cat(&[tlv(OID, OID_RSA_ENCRYPTION), tlv(0x05, &[])])),
                tlv(BIT_STRING, &cat(&[vec![0], rsa_key])),
            ]),
        );
        let tbs = tlv(
            SEQUENCE,
            &cat(&[
                tlv(VERSION, &tlv(INTEGER, &[2])),
                tlv(INTEGER, &[7]),
                tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b])),
                name.clone(),
                tlv(SEQUENCE, &cat(&[not_before, not_after])),
                name,
                spki,
            ]),
        );
        tlv(
            SEQUENCE,
            &cat(&[
                tbs,
                tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b])),
                tlv(BIT_STRING, &[0]),
            ]),
        )
    }

    #[test]
    fn rsa_key_sizes_are_counted_in_bits() {
        let mut modulus = vec![0u8; 129];
        modulus[1] = 0xc5; // a positive INTEGER: leading zero byte, top bit set
        let cert =
            rsa_certificate(&modulus, tlv(UTC_TIME, b"200101000000Z"), tlv(UTC_TIME, b"300101000000Z"));
        assert_eq!(Certificate::parse(&cert).and_then(|c| c.rsa_bits()), Ok(Some(1024)));
        let mut odd = vec![0u8; 256];
        odd[0] = 0x01;
        let cert = rsa_certificate(&odd, tlv(UTC_TIME, b"200101000000Z"), tlv(UTC_TIME, b"300101000000Z"));
        assert_eq!(Certificate::parse(&cert).and_then(|c| c.rsa_bits()), Ok(Some(2041)));
    }

    #[test]
    fn validity_reads_both_time_types() {
        let cert = rsa_certificate(
            &[0x80; 4],
            tlv(UTC_TIME, b"491231235959Z"),
            tlv(GENERALIZED_TIME, b"20500101000000Z"),
        );
        let (before, after) = Certificate::parse(&cert).and_then(|c| c.validity()).expect("validity");
        assert_eq!(before.unix, 2_524_607_999);
        assert_eq!(before.to_string(), "2049-12-31 23:59:59 UTC");
        assert_eq!(after.unix, 2_524_608_000);
        let cert = rsa_certificate(&[1], tlv(UTC_TIME, b"700101000000Z"), tlv(UTC_TIME, b"500101000000Z"));
        let (epoch, fifty) = Certificate::parse(&cert).and_then(|c| c.validity()).expect("validity");
        assert_eq!((epoch.unix, fifty.to_string().as_str()), (0, "1950-01-01 00:00:00 UTC"));
    }

    #[test]
    fn bad_times_are_errors() {
        for bad in [
            tlv(UTC_TIME, b"2001010000Z"),
            tlv(UTC_TIME, b"200101000000+"),
            tlv(UTC_TIME, b"201301000000Z"),
            tlv(UTC_TIME, b"20010100000aZ"),
            tlv(INTEGER, b"200101000000Z"),
        ] {
            let cert = rsa_certificate(&[1], bad.clone(), tlv(UTC_TIME, b"300101000000Z"));
            assert!(Certificate::parse(&cert).and_then(|c| c.validity()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let cert =
            rsa_certificate(&[0x80; 200], tlv(UTC_TIME, b"200101000000Z"), tlv(UTC_TIME, b"300101000000Z"));
        for len in 0..cert.len() {
            assert!(Certificate::parse(&cert[..len]).is_err(), "prefix of {len} bytes");
        }
        assert!(Certificate::parse(&cert).is_ok());
    }

    #[test]
    fn lengths_that_overrun_or_are_indefinite_are_errors() {
        assert_eq!(
            Reader::new(&[0x30, 0x05, 1, 2]).any(),
            Err(DerError("element longer than its container"))
        );
        assert_eq!(Reader::new(&[0x30, 0x80, 0, 0]).any(), Err(DerError("indefinite length")));
        assert_eq!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).any(), Err(DerError("bad length")));
        assert_eq!(Reader::new(&[0x1f, 0x01, 0]).any(), Err(DerError("multi-byte tag")));
        assert_eq!(Reader::new(&[0x04, 0x81, 0x01, 9]).any(), Ok((0x04, &[9u8][..])));
    }

    #[test]
    fn directory_strings_of_every_text_type() {
        assert_eq!(text(0x0c, "é".as_bytes()).as_deref(), Some("é"));
        assert_eq!(text(0x13, b"abc").as_deref(), Some("abc"));
        assert_eq!(text(0x1e, &[0, b'h', 0, b'i']).as_deref(), Some("hi"));
        assert_eq!(text(0x1e, &[0, b'h', 0]), None);
        assert_eq!(text(0x0c, &[0xff]), None);
        assert_eq!(text(0x04, b"abc"), None);
    }
}
