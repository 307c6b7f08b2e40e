//! Why a scrape failed, and the one table that maps each failure to the status and short body
//! a client gets. Details (upstream addresses, stderr, parser messages) are for the log only.

use http::StatusCode;

use crate::docker::resolve::ContainerError;
use crate::exposition::VerifyError;

/// The original's body for a failed verification, kept byte for byte.
pub const VERIFICATION_FAILED: &str =
    "Internal Server Error: Response from proxied server failed verification. See server logs for details\n";

/// A failed scrape.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The deadline passed before the scrape finished.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The upstream could not be reached.
    #[error("cannot connect to {upstream}: {cause}")]
    Connect {
        /// `host:port` of the upstream.
        upstream: String,
        /// The connection error.
        cause: String,
    },
    /// The module's container cannot be reached: missing, stopped, unhealthy, or the Engine
    /// API failed.
    #[error("{0}")]
    Container(#[from] ContainerError),
    /// The upstream broke the exchange (reset, malformed HTTP, body cut short).
    #[error("upstream {upstream} failed: {cause}")]
    Upstream {
        /// `host:port` of the upstream.
        upstream: String,
        /// What went wrong.
        cause: String,
    },
    /// The upstream body exceeded the limit.
    #[error("upstream body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body is not valid exposition format.
    #[error("verification failed: {0}")]
    Malformed(#[from] VerifyError),
    /// The body has a content coding we cannot look through.
    #[error("verification failed: cannot verify a body with Content-Encoding {0:?}")]
    Encoding(String),
    /// Every run slot of an exec module stayed busy until the deadline.
    #[error("all {0} run slots busy until the deadline")]
    Busy(usize),
    /// Every connection to an http module's upstream stayed in use for the whole wait of a
    /// scrape without a deadline.
    #[error("all {0} upstream connections busy for the whole wait")]
    NoConnection(usize),
    /// The memory budget for upstream bodies (`-upstream.max-held-bytes`) stayed full until
    /// the deadline, or the body alone is larger than all of it (`never`).
    #[error("no room for the body in the memory budget{}", if *never { " (the body alone is larger than the budget)" } else { " until the deadline" })]
    NoMemory {
        /// Whether the body could never fit.
        never: bool,
    },
    /// The request passed `args` to an exec module that does not accept them.
    #[error("args given but exec.allow_args is false")]
    ArgsNotAllowed,
    /// An `args` value holds a NUL byte, which no command line can carry.
    #[error("an args value holds a NUL byte")]
    NulInArgs,
    /// The command could not be started.
    #[error("cannot start {command}: {cause}")]
    Spawn {
        /// The program.
        command: String,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The command's output could not be read.
    #[error("cannot read the command's output: {0}")]
    Output(std::io::Error),
    /// The command exited unsuccessfully.
    #[error("command exited with {status}{}", stderr_note(stderr))]
    Exit {
        /// How it ended (`exit status: 1`, `signal: 9`).
        status: String,
        /// The start of its standard error.
        stderr: String,
    },
    /// The command wrote more than the limit.
    #[error("command output larger than {limit} bytes")]
    OutputTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {cause}")]
    File {
        /// The file.
        path: String,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The failure of a fetch that coalesced scrapes shared: each of them answers with it.
    #[error(transparent)]
    Shared(std::sync::Arc<ScrapeError>),
    /// A shared fetch ended without an answer (its task failed).
    #[error("the shared fetch ended without an answer")]
    Lost,
    /// The file is larger than the limit.
    #[error("file {path} is larger than {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
}

/// An error with its causes, `a: b: c`, skipping the wrappers that repeat the text below them.
pub fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn stderr_note(stderr: &str) -> String {
    if stderr.is_empty() { String::new() } else { format!("; stderr: {stderr}") }
}

impl ScrapeError {
    /// The status a client gets for this failure.
    pub fn status(&self) -> StatusCode {
        use ScrapeError as E;
        match self {
            E::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            E::Connect { .. } | E::Container(_) | E::Upstream { .. } | E::BodyTooLarge { .. } => {
                StatusCode::BAD_GATEWAY
            }
            E::Malformed(_) | E::Encoding(_) => StatusCode::INTERNAL_SERVER_ERROR,
            E::Busy(_) | E::NoConnection(_) | E::NoMemory { .. } => StatusCode::SERVICE_UNAVAILABLE,
            E::ArgsNotAllowed | E::NulInArgs => StatusCode::BAD_REQUEST,
            E::Spawn { .. } | E::Output(_) | E::Exit { .. } | E::OutputTooLarge { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            E::File { .. } | E::FileTooLarge { .. } | E::Lost => StatusCode::INTERNAL_SERVER_ERROR,
            E::Shared(e) => e.status(),
        }
    }

    /// The short, fixed body a client gets: never a detail from the upstream, script or file.
    pub fn body(&self) -> &'static str {
        use ScrapeError as E;
        match self {
            E::Timeout(_) => "Gateway Timeout\n",
            E::Connect { .. } | E::Upstream { .. } => "Bad Gateway\n",
            E::Container(_) => {
                "Bad Gateway: the module's container cannot be reached. See server logs for details\n"
            }
            E::BodyTooLarge { .. } => "Bad Gateway: upstream response too large\n",
            E::Malformed(_) | E::Encoding(_) => VERIFICATION_FAILED,
            E::Busy(_) => "Service Unavailable: too many concurrent runs of this module\n",
            E::NoMemory { .. } => "Service Unavailable: the proxy's memory for upstream bodies is in use\n",
            E::NoConnection(_) => "Service Unavailable: every connection to this module's upstream is busy\n",
            E::ArgsNotAllowed => "Bad Request: this module does not accept args\n",
            E::NulInArgs => "Bad Request: args may not contain NUL bytes\n",
            E::Spawn { .. } | E::Output(_) | E::Exit { .. } | E::OutputTooLarge { .. } => {
                "Internal Server Error: the module's command failed. See server logs for details\n"
            }
            E::File { .. } | E::FileTooLarge { .. } => {
                "Internal Server Error: the module's file could not be served. See server logs for details\n"
            }
            E::Lost => "Internal Server Error\n",
            E::Shared(e) => e.body(),
        }
    }

    /// Whether this failure counts as malformed content.
    pub fn is_malformed(&self) -> bool {
        matches!(self.cause(), ScrapeError::Malformed(_) | ScrapeError::Encoding(_))
    }

    /// The failure itself: for one a shared fetch gave, the fetch's.
    pub fn cause(&self) -> &ScrapeError {
        if let ScrapeError::Shared(e) = self { e.cause() } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let io = || std::io::Error::other("x");
        let cases = [
            (ScrapeError::Timeout(std::time::Duration::from_secs(1)), 504),
            (ScrapeError::Connect { upstream: "a:1".into(), cause: "refused".into() }, 502),
            (ScrapeError::Upstream { upstream: "a:1".into(), cause: "reset".into() }, 502),
            (ScrapeError::BodyTooLarge { limit: 1 }, 502),
            (ScrapeError::Encoding("br".into()), 500),
            (ScrapeError::Busy(4), 503),
            (ScrapeError::NoConnection(128), 503),
            (ScrapeError::NoMemory { never: false }, 503),
            (ScrapeError::ArgsNotAllowed, 400),
            (ScrapeError::Spawn { command: "x".into(), cause: io() }, 500),
            (ScrapeError::Exit { status: "exit status: 1".into(), stderr: "secret".into() }, 500),
            (ScrapeError::OutputTooLarge { limit: 1 }, 500),
            (ScrapeError::File { path: "/x".into(), cause: io() }, 500),
            (ScrapeError::FileTooLarge { path: "/x".into(), limit: 1 }, 500),
        ];
        for (e, status) in cases {
            assert_eq!(e.status().as_u16(), status, "{e}");
            assert!(
                !e.body().contains("secret") && !e.body().contains("a:1"),
                "no details in {:?}",
                e.body()
            );
        }
    }
}
