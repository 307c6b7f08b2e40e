//! TLS material shared by the listener and the upstream client: loading PEM files (and the
//! listener's inline PEM) with errors that say what to do, and the one place where we accept a certificate webpki refuses.

pub mod der;
pub mod names;
pub mod pinned;
pub mod server;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::tls::Pem;

/// The crypto provider everything uses: ring, TLS 1.2 and 1.3.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why TLS material cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate file could not be read or holds no certificate.
    #[error("{}: {problem}", path.display())]
    Certificates {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A key file could not be read or used.
    #[error("{}: {problem}", path.display())]
    Key {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// rustls refused the configuration.
    #[error("{0}")]
    Config(String),
}

/// Every certificate in a PEM file (at least one).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let problem = |p: String| TlsError::Certificates { path: path.to_owned(), problem: p };
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| problem(pem_problem(&e)))?;
    let certs: Vec<_> = iter.collect::<Result<_, _>>().map_err(|e| problem(pem_problem(&e)))?;
    if certs.is_empty() {
        return Err(problem("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#1, PKCS#8 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| TlsError::Key { path: path.to_owned(), problem: pem_problem(&e) })
}

/// Every certificate in a PEM file or inline PEM text (at least one).
pub fn load_certs_from(pem: &Pem) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = match pem {
        Pem::File(path) => return load_certs(path),
        Pem::Inline { text, .. } => text,
    };
    let problem = |p: String| TlsError::Certificates { path: pem.label(), problem: p };
    let certs: Vec<_> = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| problem(pem_problem(&e)))?;
    if certs.is_empty() {
        return Err(problem("no PEM certificate in the text".into()));
    }
    Ok(certs)
}

/// The private key in a PEM file or inline PEM text.
pub fn load_key_from(pem: &Pem) -> Result<PrivateKeyDer<'static>, TlsError> {
    match pem {
        Pem::File(path) => load_key(path),
        Pem::Inline { text, .. } => PrivateKeyDer::from_pem_slice(text.as_bytes())
            .map_err(|e| TlsError::Key { path: pem.label(), problem: pem_problem(&e) }),
    }
}

fn pem_problem(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item of the expected kind in the file".into(),
        other => format!("malformed PEM: {other:?}"),
    }
}

/// Checks that `provider` can sign with `key`, with an error that explains RSA keys under
/// 2048 bits (ring cannot use them at all) and how to make a good one.
pub fn check_signing_key(key: &PrivateKeyDer<'static>, path: &Path) -> Result<(), TlsError> {
    provider().key_provider.load_private_key(key.clone_key()).map(|_| ()).map_err(|e| TlsError::Key {
        path: path.to_owned(),
        problem: format!(
            "unusable private key ({e}). RSA keys must have at least 2048 bits (the TLS library refuses \
             shorter ones); make a new key and certificate with e.g. `openssl req -x509 -newkey rsa:2048 \
             -keyout key.pem -out cert.pem -days 3650 -nodes -subj /commonName=NAME/`, or use an EC key \
             (`-newkey ec -pkeyopt ec_paramgen_curve:prime256v1`)"
        ),
    })
}
