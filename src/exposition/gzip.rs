//! gzip bodies: decompressed as they arrive and fed to the verifier, keeping only the last
//! partial line of decoded output, so a compressed body never exists twice in memory.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;

use super::judge::Judge;
use super::verdict::{Format, Position, Summary, VerifyError};

/// What the decoded bytes go to: the verifier, fed pieces in any sizes.
pub(super) trait Decoded: std::fmt::Debug {
    /// Checks one more piece of decoded body.
    fn push(&mut self, piece: &[u8]) -> Result<(), VerifyError>;
    /// Ends the body.
    fn finish(self) -> Result<Summary, VerifyError>;
    /// A failure of the body as a whole, in the verifier's format.
    fn body_error(&self, message: String) -> VerifyError;
}

/// The decoded side: takes decompressed bytes and verifies every complete line.
#[derive(Debug)]
struct Sink<D> {
    feeder: Option<D>,
    decoded: u64,
    max_decoded: u64,
    error: Option<VerifyError>,
}

impl<D: Decoded> Write for Sink<D> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let Some(feeder) = self.feeder.as_mut() else {
            return Err(io::Error::other("verifier finished"));
        };
        self.decoded += data.len() as u64;
        if self.decoded > self.max_decoded {
            self.error =
                Some(feeder.body_error(format!("gzip body decodes to more than {} bytes", self.max_decoded)));
            return Err(io::Error::other("decoded size limit"));
        }
        match feeder.push(data) {
            Ok(()) => Ok(data.len()),
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
pub(super) struct GzipCheck<D: Decoded> {
    decoder: MultiGzDecoder<Sink<D>>,
}

impl<D: Decoded> GzipCheck<D> {
    pub(super) fn new(feeder: D, max_decoded: u64) -> Self {
        let sink = Sink { feeder: Some(feeder), decoded: 0, max_decoded, error: None };
        GzipCheck { decoder: MultiGzDecoder::new(sink) }
    }

    pub(super) fn write(&mut self, compressed: &[u8]) -> Result<(), VerifyError> {
        let result = self.decoder.write_all(compressed);
        result.map_err(|e| {
            // A corrupt stream fails the write before the output decoded ahead of the fault
            // reaches the verifier, so a fault in that output would be reported or not
            // depending on where the body was cut into pieces. Hand it over first: the verdict
            // is then the first fault in the stream, however the bytes arrived.
            if self.decoder.get_ref().error.is_none() {
                let _ = self.decoder.try_finish();
            }
            self.error_from(&e)
        })
    }

    pub(super) fn finish(mut self) -> Result<Summary, VerifyError> {
        // A stream cut short (no trailer, or no data at all) is an error, as in Go's reader.
        if let Err(e) = self.decoder.try_finish() {
            return Err(self.error_from(&e));
        }
        let sink = self.decoder.get_mut();
        if let Some(e) = sink.error.take() {
            return Err(e);
        }
        let Some(feeder) = sink.feeder.take() else {
            return Err(gzip_error("verifier already finished".into()));
        };
        feeder.finish()
    }

    fn error_from(&mut self, e: &io::Error) -> VerifyError {
        let sink = self.decoder.get_mut();
        match sink.error.take() {
            Some(verify) => verify,
            None => match &sink.feeder {
                Some(f) => f.body_error(format!("gzip: {e}")),
                None => gzip_error(format!("gzip: {e}")),
            },
        }
    }
}

fn gzip_error(message: String) -> VerifyError {
    VerifyError { format: Format::Text, judge: Judge::PROMETHEUS_3, position: Position::Body, message }
}
