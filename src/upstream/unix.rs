//! Connections to an exporter listening on a unix socket (`http.socket`): every request of the
//! module goes to the one socket, whatever its URL says. On Windows the configuration refuses
//! unix sockets, and the stream type (`platform::UnixStream`) cannot connect.

use std::io;
use std::path::PathBuf;

use crate::platform::UnixStream;
use hyper_util::rt::TokioIo;

/// Connects to one socket.
#[derive(Debug, Clone)]
pub struct UnixConnector {
    path: PathBuf,
}

impl UnixConnector {
    /// A connector for `path`.
    pub fn new(path: PathBuf) -> UnixConnector {
        UnixConnector { path }
    }

    /// A new connection to the socket.
    pub async fn connect(&self) -> io::Result<TokioIo<UnixStream>> {
        UnixStream::connect(&self.path).await.map(TokioIo::new)
    }
}
