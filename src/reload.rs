//! Asking the daemon to reload, and the answer: the [`ReloadHandle`] that `POST /-/reload` and
//! SIGHUP use, and [`LoadError`], every reason a configuration is refused (at startup, by
//! `-config.check`, or on reload, when the running one keeps serving).

use std::fmt;

use tokio::sync::{mpsc, oneshot};

use crate::config::ConfigError;
use crate::docker::api::DockerError;
use crate::method::build::BuildError;
use crate::security::SecurityError;

/// Reload requests waiting at most; more wait for room.
const RELOAD_QUEUE: usize = 16;

/// One problem that stops a configuration from being used.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The module configuration (`-config.file`, `-config.dirs`).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Inbound security: the web configuration, certificates, the token file.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A module that cannot be built (its TLS files, its address).
    #[error(transparent)]
    Module(#[from] BuildError),
    /// The Docker Engine API client cannot be made.
    #[error("docker: {0}")]
    Docker(#[from] DockerError),
}

/// Why a configuration was refused: every problem found, not just the first.
#[derive(Debug)]
pub struct LoadError {
    /// The problems, in the order they were found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Why a reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new configuration was refused; the running one keeps serving.
    #[error("{0}")]
    Refused(LoadError),
    /// The daemon is stopping and takes no more reloads.
    #[error("the daemon is shutting down")]
    ShuttingDown,
    /// The reload itself failed (a bug); the running configuration keeps serving.
    #[error("the reload panicked")]
    Panicked,
}

/// A reload request: the channel its outcome goes back on.
pub type ReloadReply = oneshot::Sender<Result<(), ReloadError>>;

/// Asks the daemon to reload, and waits for the outcome.
#[derive(Debug, Clone)]
pub struct ReloadHandle {
    tx: mpsc::Sender<ReloadReply>,
}

/// The daemon's end: reload requests in the order they came.
#[derive(Debug)]
pub struct ReloadRequests {
    rx: mpsc::Receiver<ReloadReply>,
}

/// A connected handle and receiver.
pub fn channel() -> (ReloadHandle, ReloadRequests) {
    let (tx, rx) = mpsc::channel(RELOAD_QUEUE);
    (ReloadHandle { tx }, ReloadRequests { rx })
}

impl ReloadHandle {
    /// Reloads everything and waits for the outcome.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let (reply, outcome) = oneshot::channel();
        self.tx.send(reply).await.map_err(|_| ReloadError::ShuttingDown)?;
        outcome.await.map_err(|_| ReloadError::ShuttingDown)?
    }
}

impl ReloadRequests {
    /// The next request; `None` once every handle is gone.
    pub async fn next(&mut self) -> Option<ReloadReply> {
        self.rx.recv().await
    }
}
