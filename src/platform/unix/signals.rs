//! The process signals the daemon acts on: SIGHUP reloads, SIGTERM and SIGINT stop. `main`
//! installs them before anything else starts, so a signal that comes early is not lost (or
//! fatal, as an unhandled SIGHUP or SIGTERM would be).

use tokio::signal::unix::{Signal as Stream, SignalKind, signal};

use crate::platform::Signal;

/// The installed handlers.
#[derive(Debug)]
pub struct Signals {
    hangup: Stream,
    terminate: Stream,
    interrupt: Stream,
}

impl Signals {
    /// Installs the handlers; from now on these signals are queued here.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Tells whoever started the daemon that it serves (on Windows, the service manager);
    /// nothing to do here.
    pub fn ready(&self) {}

    /// Waits for the next signal.
    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.hangup.recv() => {
                tracing::info!("SIGHUP received, reloading");
                Signal::Reload
            }
            _ = self.terminate.recv() => {
                tracing::info!("SIGTERM received, shutting down");
                Signal::Stop
            }
            _ = self.interrupt.recv() => {
                tracing::info!("SIGINT received, shutting down");
                Signal::Stop
            }
        }
    }
}
