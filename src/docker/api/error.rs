//! The Engine API's versions ([`ApiVersion`], the ones this client speaks), and why a call to
//! it failed ([`DockerError`]).

use std::time::Duration;

use http::StatusCode;

use crate::tls::TlsError;

/// The newest API version this code is written against: Docker 29.0's. The API changelog up to
/// 1.56 changes nothing this client reads (names, labels, state, health, per-network addresses,
/// ports, network mode; 1.52 dropped only the top-level `NetworkSettings.IPAddress`, which is
/// not read), so raising it is a one-line change once checked again.
pub const OUR_API_VERSION: ApiVersion = ApiVersion { major: 1, minor: 52 };

/// The oldest API version accepted: 1.24 (Docker 1.12) has every field read here (health
/// checks, per-network addresses), and it is what Docker's own client assumes of a daemon that
/// does not say.
pub const MIN_API_VERSION: ApiVersion = ApiVersion { major: 1, minor: 24 };

/// An Engine API version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Always 1 so far.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = String;

    /// Reads `1.41`; a patch number (`1.41.0`, as Podman writes its versions elsewhere) is ignored.
    fn from_str(s: &str) -> Result<ApiVersion, String> {
        let bad = || format!("{s:?} is not an API version (major.minor)");
        let mut parts = s.trim().split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        match parts.next() {
            Some(patch) if patch.parse::<u32>().is_err() => Err(bad()),
            _ if parts.next().is_some() => Err(bad()),
            _ => Ok(ApiVersion { major, minor }),
        }
    }
}

/// Why a call to the Engine API failed. Messages name the host and the call, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No connection could be made (the daemon is down, the socket is missing or refuses us).
    #[error("cannot reach the Docker daemon at {host}: {cause}")]
    Unreachable {
        /// The configured host (`unix:///var/run/docker.sock`).
        host: String,
        /// What the system said.
        cause: String,
    },
    /// The connection failed during the call (reset, TLS refused, not HTTP).
    #[error("the connection to the Docker daemon at {host} failed during GET {path}: {cause}")]
    Connection {
        /// The configured host.
        host: String,
        /// The call.
        path: String,
        /// What failed.
        cause: String,
    },
    /// The deadline passed before the answer was read whole.
    #[error("the Docker daemon at {host} did not answer GET {path} within {budget:?}")]
    TimedOut {
        /// The configured host.
        host: String,
        /// The call.
        path: String,
        /// The time the call had.
        budget: Duration,
    },
    /// The daemon answered with an error status.
    #[error("the Docker daemon at {host} answered GET {path} with {status}: {message}")]
    Status {
        /// The configured host.
        host: String,
        /// The call.
        path: String,
        /// The HTTP status.
        status: StatusCode,
        /// The daemon's `message`, or the start of its answer.
        message: String,
    },
    /// The answer is not what the API defines.
    #[error("the Docker daemon at {host} answered GET {path} with something unreadable: {problem}")]
    BadAnswer {
        /// The configured host.
        host: String,
        /// The call.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The answer is larger than [`MAX_ANSWER_BYTES`](super::MAX_ANSWER_BYTES).
    #[error("the Docker daemon at {host} answered GET {path} with more than {limit} bytes")]
    TooLarge {
        /// The configured host.
        host: String,
        /// The call.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// The daemon's newest API version is older than [`MIN_API_VERSION`].
    #[error("the Docker daemon at {host} speaks API {version} at most; {MIN_API_VERSION} or newer is needed")]
    TooOld {
        /// The configured host.
        host: String,
        /// What it offers.
        version: ApiVersion,
    },
    /// The TLS files cannot be used (the error names the file).
    #[error("Docker TLS: {0}")]
    Tls(#[from] TlsError),
}

impl DockerError {
    /// Whether the connection itself failed (or went silent), so the daemon may have been
    /// replaced by another (an upgrade) and the version must be negotiated again.
    pub(super) fn lost_connection(&self) -> bool {
        match self {
            DockerError::Unreachable { .. }
            | DockerError::Connection { .. }
            | DockerError::TimedOut { .. } => true,
            DockerError::Status { .. }
            | DockerError::BadAnswer { .. }
            | DockerError::TooLarge { .. }
            | DockerError::TooOld { .. }
            | DockerError::Tls(_) => false,
        }
    }
}
