//! Why a request is refused, and what the client is told: the status and the short body.

use std::net::IpAddr;

use http::StatusCode;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The client address is outside the allow list.
    #[error("client {0} is not in the allow list")]
    NotAllowed(IpAddr),
    /// No Authorization header.
    #[error("no Authorization header")]
    Missing,
    /// An Authorization header of a scheme we do not take.
    #[error("Authorization header of the wrong type")]
    WrongScheme,
    /// A bearer token that is not the one.
    #[error("invalid bearer token")]
    BadToken,
    /// Basic credentials that do not match.
    #[error("invalid basic auth credentials for user {0:?}")]
    BadCredentials(String),
}

impl Denied {
    /// The status the client gets.
    pub fn status(&self) -> StatusCode {
        match self {
            Denied::NotAllowed(_) => StatusCode::FORBIDDEN,
            Denied::Missing | Denied::WrongScheme | Denied::BadToken | Denied::BadCredentials(_) => {
                StatusCode::UNAUTHORIZED
            }
        }
    }

    /// The body the client gets; the bearer bodies are the original's (`bearer_only`: a
    /// bearer token is the only header check).
    pub fn body(&self, bearer_only: bool) -> &'static str {
        match self {
            Denied::NotAllowed(_) => "Forbidden",
            Denied::Missing if bearer_only => "Authorization header is missing",
            Denied::WrongScheme if bearer_only => "Authorization header not of Bearer type",
            Denied::BadToken => "Invalid Bearer Token",
            Denied::Missing | Denied::WrongScheme | Denied::BadCredentials(_) => "Unauthorized",
        }
    }
}
