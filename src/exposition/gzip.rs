//! gzip bodies: decompressed as they arrive and fed to the verifier, keeping only the last
//! partial line of decoded output, so a compressed body never exists twice in memory.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;

use super::{Verifier, VerifyError};

/// The decoded side: takes decompressed bytes and verifies every complete line.
#[derive(Debug)]
struct Sink {
    verifier: Option<Verifier>,
    /// Decoded bytes not yet consumed by the verifier (at most one partial line or message).
    pending: Vec<u8>,
    decoded: u64,
    max_decoded: u64,
    error: Option<VerifyError>,
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let Some(verifier) = self.verifier.as_mut() else {
            return Err(io::Error::other("verifier finished"));
        };
        self.decoded += data.len() as u64;
        if self.decoded > self.max_decoded {
            self.error = Some(
                verifier.body_error(format!("gzip body decodes to more than {} bytes", self.max_decoded)),
            );
            return Err(io::Error::other("decoded size limit"));
        }
        self.pending.extend_from_slice(data);
        match verifier.feed(&self.pending) {
            Ok(used) => {
                self.pending.drain(..used);
                Ok(data.len())
            }
            Err(e) => {
                self.error = Some(e);
                Err(io::Error::other("verification failed"))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A gzip body being decoded and verified.
#[derive(Debug)]
pub(super) struct GzipCheck {
    decoder: MultiGzDecoder<Sink>,
}

impl GzipCheck {
    pub(super) fn new(verifier: Verifier, max_decoded: u64) -> Self {
        let sink =
            Sink { verifier: Some(verifier), pending: Vec::new(), decoded: 0, max_decoded, error: None };
        GzipCheck { decoder: MultiGzDecoder::new(sink) }
    }

    pub(super) fn write(&mut self, compressed: &[u8]) -> Result<(), VerifyError> {
        let result = self.decoder.write_all(compressed);
        result.map_err(|e| self.error_from(&e))
    }

    pub(super) fn finish(mut self) -> Result<super::Summary, VerifyError> {
        // A stream cut short (no trailer, or no data at all) is an error, as in Go's reader.
        if let Err(e) = self.decoder.try_finish() {
            return Err(self.error_from(&e));
        }
        let sink = self.decoder.get_mut();
        if let Some(e) = sink.error.take() {
            return Err(e);
        }
        let pending = std::mem::take(&mut sink.pending);
        let Some(verifier) = sink.verifier.take() else {
            return Err(gzip_error("verifier already finished".into()));
        };
        verifier.finish(&pending)
    }

    fn error_from(&mut self, e: &io::Error) -> VerifyError {
        let sink = self.decoder.get_mut();
        match sink.error.take() {
            Some(verify) => verify,
            None => match &sink.verifier {
                Some(v) => v.body_error(format!("gzip: {e}")),
                None => gzip_error(format!("gzip: {e}")),
            },
        }
    }
}

fn gzip_error(message: String) -> VerifyError {
    VerifyError { format: super::Format::Text, position: super::Position::Body, message }
}
