//! A fault in one block of the configuration (a module, the `docker:` block): the key, as a
//! dotted path inside the block, and what is wrong with it. The caller adds the file and the
//! block's name.

/// A key and its problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Invalid {
    /// Dotted key path inside the block, e.g. `http.port`.
    pub(super) key: &'static str,
    /// What is wrong with it.
    pub(super) problem: String,
}

/// The fault `problem` at `key`.
pub(super) fn invalid(key: &'static str, problem: impl Into<String>) -> Invalid {
    Invalid { key, problem: problem.into() }
}
