//! Shared checks for the verifier targets: the first byte of the input chooses where the body
//! is cut in two; the rest is the body.

#![allow(dead_code)]

use exporter_exporter::exposition::{BodyVerifier, Dialect, Encoding, Summary, VerifyError, verify};

/// Splits a fuzz input into (cut point, body). The cut is proportional to the first byte, so
/// it can land anywhere in a body of any length.
pub fn split_input(data: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, body) = data.split_first()?;
    Some((body.len() * usize::from(first) / 255, body))
}

/// Verifies `body` in one call and again in two pieces through [`BodyVerifier`], and panics if
/// the verdicts differ. Returns the one-shot verdict.
pub fn check_split(
    body: &[u8],
    cut: usize,
    dialect: Dialect,
    encoding: Encoding,
) -> Result<Summary, VerifyError> {
    let whole = verify(body, dialect, encoding);
    let mut check = BodyVerifier::new(dialect, encoding, u64::MAX);
    let pieces = match check.update(&body[..cut]) {
        Ok(()) => check.finish(body),
        Err(e) => Err(e),
    };
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "same body, different summaries (cut at {cut})"),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "one-shot and split verdicts differ (cut at {cut} of {}): {whole:?} vs {pieces:?}",
            body.len()
        ),
    }
    whole
}
