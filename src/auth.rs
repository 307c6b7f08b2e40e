//! Who may ask: the allow list, then (after the TLS handshake has checked any client
//! certificate) basic auth or a bearer token, applied to every endpoint. Decisions are pure:
//! a peer address and request headers in, a verdict out.

mod basic;
mod denied;

use std::net::IpAddr;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use ipnet::IpNet;
use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq as _;

pub use basic::{BasicUsers, BcryptError};
pub use denied::Denied;

/// A bearer token, compared in constant time and never shown.
#[derive(Clone)]
pub struct Token {
    sha256: [u8; 32],
}

impl Token {
    /// Wraps the expected token.
    pub fn new(token: &str) -> Token {
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        Token { sha256 }
    }

    /// Whether `presented` is the token. Both sides are hashed first, so neither the content
    /// nor the length of the token leaks through timing.
    pub fn matches(&self, presented: &[u8]) -> bool {
        digest(&SHA256, presented).as_ref().ct_eq(&self.sha256).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The request-level checks.
#[derive(Debug, Default)]
pub struct Auth {
    /// Client networks allowed (`-allow.net`); empty means everyone.
    pub allow: Vec<IpNet>,
    /// `-web.bearer.token` / `-web.bearer.token-file`.
    pub bearer: Option<Token>,
    /// `basic_auth_users` of the web config file.
    pub basic: Option<BasicUsers>,
}

impl Auth {
    /// Whether any header-based check is on (then the client's Authorization header is ours
    /// and is not forwarded upstream).
    pub fn consumes_authorization(&self) -> bool {
        self.bearer.is_some() || self.basic.is_some()
    }

    /// Checks the client address against the allow list. IPv4-mapped IPv6 addresses (from a
    /// dual-stack listener) are matched as IPv4.
    pub fn allowed(&self, peer: IpAddr) -> Result<(), Denied> {
        let peer = peer.to_canonical();
        if self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&peer)) {
            Ok(())
        } else {
            Err(Denied::NotAllowed(peer))
        }
    }

    /// Checks the Authorization header. With both basic auth and a bearer token configured,
    /// either one admits the request (they share the header, so a client can send only one).
    /// Basic auth may run bcrypt, so this is async and runs it off the async workers.
    pub async fn authorized(&self, headers: &HeaderMap) -> Result<(), Denied> {
        if !self.consumes_authorization() {
            return Ok(());
        }
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(Denied::Missing);
        };
        let value = value.as_bytes();
        // As the original: the scheme is everything up to the first space, case-sensitive.
        let (scheme, credentials) = match value.iter().position(|&b| b == b' ') {
            Some(i) => (&value[..i], &value[i + 1..]),
            None => (value, &b""[..]),
        };
        match (scheme, &self.bearer, &self.basic) {
            (b"Bearer", Some(token), _) if value.contains(&b' ') => {
                if token.matches(credentials) {
                    Ok(())
                } else {
                    Err(Denied::BadToken)
                }
            }
            (b"Basic", _, Some(users)) => users.check(credentials).await,
            _ => Err(Denied::WrongScheme),
        }
    }
}

#[cfg(test)]
mod tests;
