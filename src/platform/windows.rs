//! Windows parts: Job Objects for commands, console controls and the service manager instead
//! of signals, the process's own APIs for its figures, the Event Log, and `-winsvc`. Unix
//! sockets are refused by the configuration (docs/windows.md).

pub mod event_log;
mod process_stats;
mod process_tree;
pub mod service;
mod signals;
mod status;
mod sys;

pub use process_stats::ProcessReader;
pub use process_tree::{ProcessTree, prepare_command};
pub use signals::Signals;

/// Where the dependency list is, for `-version`: embedded in the exe (cargo auditable), and
/// beside the release's archives (packaging/release.sh).
pub const SBOM: &str = concat!(
    "embedded in this exe (cargo auditable), and exporter_exporter_",
    env!("CARGO_PKG_VERSION"),
    "_Windows_x86_64.zip.sbom.json beside the release's archives (CycloneDX)"
);

/// Listeners do not set SO_REUSEADDR, as tokio's own bind does not on Windows: there it would
/// let another program's socket take a port in use.
pub const REUSE_ADDRESS: bool = false;

const NO_UNIX_SOCKETS: &str = "unix sockets are not available on Windows";

/// Why `http.socket` and `unix://` Docker hosts are refused here.
pub fn unix_sockets() -> Result<(), &'static str> {
    Err(NO_UNIX_SOCKETS)
}

/// Windows has no soft limit on open handles to raise (its limit is fixed, 16 Mi per process).
pub fn raise_fd_limit() {}

/// Windows' heap gives freed memory back without the tuning glibc needs (malloc.rs on Linux).
pub fn tune_allocator() {}

/// A unix socket stream, which cannot exist here: [`UnixStream::connect`] always fails, and
/// the configuration refuses unix sockets before any is tried.
#[derive(Debug)]
pub enum UnixStream {}

impl UnixStream {
    /// Fails: Windows builds have no unix sockets.
    pub async fn connect(_path: impl AsRef<std::path::Path>) -> std::io::Result<UnixStream> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, NO_UNIX_SOCKETS))
    }
}

impl tokio::io::AsyncRead for UnixStream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match *self {}
    }
}

impl tokio::io::AsyncWrite for UnixStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match *self {}
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match *self {}
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match *self {}
    }
}

pub use service::{manage_service, serve_as_service};
