//! What every block of the configuration (a module, its method's block, the `docker:` block)
//! shares: a fault ([`Invalid`]: the key, as a dotted path inside the block, and what is wrong
//! with it; the caller adds the file and the block's name), and the checks of counts and sizes.

use std::num::NonZeroUsize;

/// Largest exec output or file read by default (64 MiB).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 64 << 20;

/// A key and its problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Dotted key path inside the block, e.g. `http.port`.
    pub key: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// The fault `problem` at `key`.
pub fn invalid(key: &'static str, problem: impl Into<String>) -> Invalid {
    Invalid { key, problem: problem.into() }
}

/// A count that must be positive, `default` when not given.
pub fn positive_count(key: &'static str, v: Option<i64>, default: usize) -> Result<NonZeroUsize, Invalid> {
    match v {
        None => Ok(NonZeroUsize::new(default).unwrap_or(NonZeroUsize::MIN)),
        Some(n) => usize::try_from(n)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| invalid(key, format!("{n} is not a positive number"))),
    }
}

/// A size in bytes that must be positive, [`DEFAULT_MAX_OUTPUT_BYTES`] when not given.
pub fn positive_bytes(key: &'static str, v: Option<i64>) -> Result<u64, Invalid> {
    match v {
        None => Ok(DEFAULT_MAX_OUTPUT_BYTES),
        Some(n) if n > 0 => Ok(n as u64),
        Some(n) => Err(invalid(key, format!("{n} is not a positive number of bytes"))),
    }
}
