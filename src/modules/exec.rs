//! `method: exec`: runs a command directly (never through a shell) in a process tree of its
//! own (a process group; on Windows a Job Object: `platform::ProcessTree`), reads its standard
//! output up to a limit, and serves it once verified. On a timeout or an oversized output the
//! whole tree is killed at once, grandchildren included, and the answer goes out at the
//! deadline, not when the last child lets go of the pipe.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use http::Response;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::error::ScrapeError;
use super::output;
use super::request::ScrapeRequest;
use crate::body::Body;
use crate::config::ExecSource;
use crate::platform::{ProcessTree, prepare_command};
use crate::telemetry::ModuleMetrics;

/// How much of a command's standard error is kept for the log.
pub const STDERR_LOG_BYTES: usize = 4096;
/// After the command exits, how long a child of it may keep the output pipe open.
pub const EXIT_DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How long a request waits for a free run slot when it has no deadline of its own.
pub const QUEUE_WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(60);

/// A running exec module.
#[derive(Debug)]
pub struct ExecRunner {
    source: ExecSource,
    slots: Arc<Semaphore>,
}

/// What a finished run left behind.
struct Run {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl ExecRunner {
    /// A runner with the module's concurrency limit.
    pub fn new(source: &ExecSource) -> ExecRunner {
        ExecRunner { source: source.clone(), slots: Arc::new(Semaphore::new(source.max_concurrency.get())) }
    }

    /// Runs the command once and serves its output.
    pub async fn scrape(
        &self,
        module: &str,
        req: &ScrapeRequest<'_>,
        metrics: &ModuleMetrics,
    ) -> Result<Response<Body>, ScrapeError> {
        let query_args: Vec<&str> =
            req.params.iter().filter(|(k, _)| k == "args").map(|(_, v)| v.as_str()).collect();
        if !query_args.is_empty() && !self.source.allow_args {
            return Err(ScrapeError::ArgsNotAllowed);
        }
        if query_args.iter().any(|a| a.contains('\0')) {
            return Err(ScrapeError::NulInArgs);
        }
        let wait_until = req.deadline.unwrap_or_else(|| Instant::now() + QUEUE_WAIT_WITHOUT_DEADLINE);
        let _slot = tokio::time::timeout_at(wait_until, self.slots.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ScrapeError::Busy(self.source.max_concurrency.get()))?;

        if let Some(t) = req.trace {
            let argv: Vec<&str> = std::iter::once(self.source.command.as_str())
                .chain(self.source.args.iter().map(String::as_str))
                .chain(query_args.iter().copied())
                .collect();
            // The environment's values may be secrets: only their names are shown.
            let env: Vec<&str> = self.source.env.iter().map(|(k, _)| k.as_str()).collect();
            let env = if env.is_empty() {
                String::new()
            } else {
                format!(" (environment adds {})", env.join(", "))
            };
            t.upstream(format!("command {argv:?}{env}"));
        }
        let mut command = Command::new(&self.source.command);
        command
            .args(&self.source.args)
            .args(&query_args)
            .envs(self.source.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        prepare_command(&mut command, &self.source.env);
        metrics.command_starts.inc();
        let mut child = command
            .spawn()
            .map_err(|cause| ScrapeError::Spawn { command: self.source.command.clone(), cause })?;
        let group = ProcessTree::adopt(&mut child)
            .map_err(|cause| ScrapeError::Spawn { command: self.source.command.clone(), cause })?;
        let kill_group = || group.kill();
        let limit = self.source.max_output_bytes;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out_task = tokio::spawn(async move {
            match stdout {
                Some(s) => read_capped(s, limit).await,
                None => Ok(Some(Vec::new())),
            }
        });
        let mut err_task = tokio::spawn(async move {
            match stderr {
                Some(s) => read_prefix(s, STDERR_LOG_BYTES).await,
                None => Vec::new(),
            }
        });

        let run = async {
            // Output over the limit ends the run at once; otherwise wait for the exit.
            let mut early_stdout = None;
            let status = tokio::select! {
                status = child.wait() => status,
                out = &mut out_task => {
                    if let Ok(Ok(None)) = out {
                        kill_group();
                        return Err(ScrapeError::OutputTooLarge { limit });
                    }
                    // Standard output closed (or failed) before the exit: wait for it.
                    early_stdout = Some(out);
                    child.wait().await
                }
            };
            let status =
                status.map_err(|cause| ScrapeError::Spawn { command: self.source.command.clone(), cause })?;
            let stdout = match early_stdout {
                Some(out) => out,
                None => {
                    // A child of the command may still hold the pipe; give it a moment, then end it.
                    let drained = tokio::time::timeout(EXIT_DRAIN_GRACE, &mut out_task).await;
                    kill_group();
                    match drained {
                        Ok(r) => r,
                        Err(_) => (&mut out_task).await,
                    }
                }
            };
            kill_group();
            let stdout = match stdout {
                Ok(Ok(Some(out))) => out,
                Ok(Ok(None)) => return Err(ScrapeError::OutputTooLarge { limit }),
                Ok(Err(cause)) => return Err(ScrapeError::Output(cause)),
                Err(join) => return Err(ScrapeError::Output(std::io::Error::other(join))),
            };
            let stderr = tokio::time::timeout(EXIT_DRAIN_GRACE, &mut err_task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            Ok(Run { status, stdout, stderr: excerpt(&stderr) })
        };
        let result = match req.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, run).await.unwrap_or_else(|_| {
                kill_group();
                Err(ScrapeError::Timeout(req.timeout.unwrap_or_default()))
            }),
            None => run.await,
        };
        out_task.abort();
        err_task.abort();
        if let (Some(t), Ok(run)) = (req.trace, &result) {
            t.exited(run.status.to_string(), run.stderr.clone(), run.status.success());
            t.piece(&bytes::Bytes::copy_from_slice(&run.stdout));
        }
        let run = result?;
        if !run.status.success() {
            return Err(ScrapeError::Exit { status: run.status.to_string(), stderr: run.stderr });
        }
        if !run.stderr.is_empty() {
            tracing::info!(module, stderr = %run.stderr, "command wrote to standard error");
        }
        let dialect = output::check(&run.stdout)?;
        Ok(output::respond(run.stdout, dialect, output::accepts_gzip(req.headers)).await)
    }
}

/// Reads all of `r`; `None` if it holds more than `limit` bytes.
async fn read_capped(r: impl AsyncRead + Unpin, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = r.take(limit.saturating_add(1)).read_to_end(&mut buf).await?;
    Ok(((n as u64) <= limit).then_some(buf))
}

/// Keeps the first `keep` bytes of `r` and drains the rest, so the writer never blocks.
async fn read_prefix(mut r: impl AsyncRead + Unpin, keep: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = keep.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}

/// Standard error for the log: text, trimmed, one line.
fn excerpt(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).trim().replace('\n', " | ")
}
