//! What the verifier says of a body: the format it was checked as, and either a summary of
//! what it held or where and why it fails.

use std::fmt;

use super::judge::Judge;

/// The exposition formats Prometheus negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format, 0.0.4 or 1.0.0.
    Text,
    /// OpenMetrics text, 1.0.0 or 0.0.1.
    OpenMetrics,
    /// Varint-delimited `io.prometheus.client.MetricFamily` protobuf messages.
    Protobuf,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Text => "text format",
            Format::OpenMetrics => "OpenMetrics",
            Format::Protobuf => "protobuf",
        })
    }
}

/// Where in the body a fault was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A byte in a line of a text format (the Prometheus text format or OpenMetrics).
    Line {
        /// The line, counted from 1.
        line: u64,
        /// The byte in the line where the fault is, counted from 1 in bytes, not characters: the
        /// first byte of the token that is wrong, or where a required byte is missing (one past
        /// the last byte when the line ends too soon).
        column: u64,
    },
    /// A protobuf message, counted from 1.
    Message(u64),
    /// The body as a whole (its encoding, its size).
    Body,
}

/// Why a body failed verification. The message may quote a few bytes of the body; it is meant
/// for the log, never for a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct VerifyError {
    /// The format being checked.
    pub format: Format,
    /// The Prometheus whose rules refused the body.
    pub judge: Judge,
    /// Where the fault is.
    pub position: Position,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Position::Line { line, column } => write!(f, "{} line {line} column {column}: ", self.format)?,
            Position::Message(n) => write!(f, "{} message {n}: ", self.format)?,
            Position::Body => write!(f, "{}: ", self.format)?,
        }
        write!(f, "{} ({})", self.message, self.judge)
    }
}

/// What a verified body held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Metric families (protobuf messages, TYPE lines in OpenMetrics, families seen in text).
    pub families: u64,
    /// Samples (protobuf metrics, sample lines in text formats).
    pub samples: u64,
}
