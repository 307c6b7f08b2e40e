//! `basic_auth_users` of the web config file: bcrypt hashes, with successful checks cached so
//! a scrape every few seconds does not pay for bcrypt each time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use ring::digest::{SHA256, digest};

use super::denied::Denied;

/// Most successful checks remembered; the cache is emptied when it is full.
const CACHE_LIMIT: usize = 1024;

/// A hash that is not a bcrypt hash.
#[derive(Debug, thiserror::Error)]
#[error("user {user:?}: not a bcrypt hash ($2a$, $2b$ or $2y$)")]
pub struct BcryptError {
    /// The user whose hash is bad.
    pub user: String,
}

/// Users and their bcrypt hashes.
#[derive(Debug, Clone)]
pub struct BasicUsers {
    hashes: Arc<HashMap<String, String>>,
    /// SHA-256 of `user NUL password` for credentials that passed.
    passed: Arc<Mutex<HashSet<[u8; 32]>>>,
}

impl BasicUsers {
    /// Checks every hash's form now, so a typo fails at startup.
    pub fn new(users: HashMap<String, String>) -> Result<BasicUsers, BcryptError> {
        for (user, hash) in &users {
            let well_formed = ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
                && hash.parse::<bcrypt::HashParts>().is_ok();
            if !well_formed {
                return Err(BcryptError { user: user.clone() });
            }
        }
        Ok(BasicUsers { hashes: Arc::new(users), passed: Arc::new(Mutex::new(HashSet::new())) })
    }

    /// Checks base64 `user:password` credentials.
    pub(super) async fn check(&self, credentials: &[u8]) -> Result<(), Denied> {
        let decoded =
            base64::engine::general_purpose::STANDARD.decode(credentials.trim_ascii()).unwrap_or_default();
        let text = String::from_utf8(decoded).unwrap_or_default();
        let Some((user, password)) = text.split_once(':') else {
            return Err(Denied::WrongScheme);
        };
        let denied = || Denied::BadCredentials(user.to_owned());
        let Some(hash) = self.hashes.get(user).cloned() else {
            return Err(denied());
        };
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, format!("{user}\0{password}").as_bytes()).as_ref());
        if self.passed.lock().unwrap_or_else(PoisonError::into_inner).contains(&key) {
            return Ok(());
        }
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
        if !ok {
            return Err(denied());
        }
        let mut passed = self.passed.lock().unwrap_or_else(PoisonError::into_inner);
        if passed.len() >= CACHE_LIMIT {
            passed.clear();
        }
        passed.insert(key);
        Ok(())
    }
}
