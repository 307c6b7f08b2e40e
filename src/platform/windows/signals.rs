//! What stops the daemon on Windows, which has no signals: at a console, Ctrl-C, Ctrl-Break,
//! closing the console window or the user logging off or the system shutting down; as a
//! service, the service manager's Stop and Shutdown controls. Nothing asks for a reload (no
//! SIGHUP): `POST /-/reload` does it, with `-web.enable-lifecycle`.

use tokio::signal::windows::{
    CtrlBreak, CtrlC, CtrlClose, CtrlShutdown, ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown,
};
use tokio::sync::mpsc;

use super::status::Status;
use crate::platform::Signal;

/// The installed handlers, or the service's controls.
#[derive(Debug)]
pub struct Signals(Source);

#[derive(Debug)]
enum Source {
    Console { c: CtrlC, brk: CtrlBreak, close: CtrlClose, shutdown: CtrlShutdown },
    Service { controls: mpsc::UnboundedReceiver<Signal>, status: Status },
}

impl Signals {
    /// Installs the console handlers; from now on these events are queued here.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals(Source::Console {
            c: ctrl_c()?,
            brk: ctrl_break()?,
            close: ctrl_close()?,
            shutdown: ctrl_shutdown()?,
        }))
    }

    /// The controls of a running service, which reports its state through `status`.
    pub(super) fn service(controls: mpsc::UnboundedReceiver<Signal>, status: Status) -> Signals {
        Signals(Source::Service { controls, status })
    }

    /// Tells the service manager that the service runs (at a console, nothing to do).
    pub fn ready(&self) {
        if let Source::Service { status, .. } = &self.0 {
            status.running();
        }
    }

    /// Waits for the next stop request.
    pub async fn next(&mut self) -> Signal {
        match &mut self.0 {
            Source::Console { c, brk, close, shutdown } => {
                let what = tokio::select! {
                    _ = c.recv() => "Ctrl-C",
                    _ = brk.recv() => "Ctrl-Break",
                    _ = close.recv() => "console closed",
                    _ = shutdown.recv() => "system shutdown",
                };
                tracing::info!("{what}, shutting down");
                Signal::Stop
            }
            Source::Service { controls, status } => {
                // A closed channel (the handler gone) stops too: nothing could stop it later.
                let signal = controls.recv().await.unwrap_or(Signal::Stop);
                tracing::info!("service stop requested, shutting down");
                status.stopping();
                signal
            }
        }
    }
}
