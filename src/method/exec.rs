//! `method: exec`: its block ([`ExecBlock`], checked into an [`ExecConfig`]), what the JSON
//! listing shows of it, and its runner, which runs a command directly (never through a shell)
//! in a process tree of its own (a process group; on Windows a Job Object: process.rs), reads
//! its standard output up to a limit, and answers with it whole. On an oversized output the
//! whole tree is killed at once, grandchildren included; at the deadline the fetch path drops
//! the run, which kills the tree the same way, so the answer goes out at the deadline, not when
//! the last child lets go of the pipe.

mod process;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use serde::{Deserialize, Serialize};

use super::build::{BuildContext, BuildProblem};
use super::definition::Definition;
use super::runner::{Answer, ModuleRef, Runner};
use crate::config::block::{Invalid, invalid, positive_bytes, positive_count};
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::{Families, ModuleMetrics};
use process::Group;

/// Concurrent runs of one exec module by default.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;
/// How much of a command's standard error is kept for the log.
pub const STDERR_LOG_BYTES: usize = 4096;
/// After the command exits, how long a child of it may keep the output pipe open.
pub const EXIT_DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How long a request waits for a free run slot when it has no deadline of its own.
pub const QUEUE_WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(60);

/// The `exec` block, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecBlock {
    command: Option<String>,
    args: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    allow_args: Option<bool>,
    max_concurrency: Option<i64>,
    max_output_bytes: Option<i64>,
}

/// An `exec` module's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecConfig {
    /// The program, run directly (never through a shell).
    pub command: String,
    /// Arguments given before any from the query.
    pub args: Vec<String>,
    /// Variables set on top of the daemon's environment.
    pub env: Vec<(String, String)>,
    /// Whether `args` query parameters are appended (otherwise they are a 400).
    pub allow_args: bool,
    /// Most runs of this module at once; more wait for a slot.
    pub max_concurrency: NonZeroUsize,
    /// Largest standard output accepted.
    pub max_output_bytes: u64,
}

/// What the JSON listing shows of an exec module: the program, never its arguments or
/// environment.
#[derive(Debug, Serialize)]
pub struct ExecView<'a> {
    #[serde(rename = "Command")]
    command: &'a str,
}

impl Definition for ExecConfig {
    const NAME: &'static str = "exec";
    const VIEW_KEY: &'static str = "Exec";
    type Block = ExecBlock;
    type View<'a> = ExecView<'a>;
    type Runner = ExecRunner;

    fn check(block: ExecBlock) -> Result<ExecConfig, Invalid> {
        check(block)
    }

    fn view(&self) -> ExecView<'_> {
        ExecView { command: &self.command }
    }

    fn build(&self, _context: &BuildContext<'_>) -> Result<ExecRunner, BuildProblem> {
        Ok(ExecRunner::new(self))
    }
}

/// A running exec module.
#[derive(Debug)]
pub struct ExecRunner {
    config: ExecConfig,
    slots: Arc<Semaphore>,
}

/// What a finished run left behind.
struct Run {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

/// A task reading one of the command's pipes, stopped when the run ends however it ends.
struct Reading<T>(JoinHandle<T>);

impl<T> Drop for Reading<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ExecRunner {
    /// A runner with the module's concurrency limit.
    pub fn new(config: &ExecConfig) -> ExecRunner {
        ExecRunner { config: config.clone(), slots: Arc::new(Semaphore::new(config.max_concurrency.get())) }
    }

    /// The `args` query parameters, appended to the command line where the module allows it.
    fn query_args<'q>(&self, req: &'q ScrapeRequest<'_>) -> Result<Vec<&'q str>, ScrapeError> {
        let args: Vec<&str> =
            req.params.iter().filter(|(k, _)| k == "args").map(|(_, v)| v.as_str()).collect();
        if !args.is_empty() && !self.config.allow_args {
            return Err(ScrapeError::ArgsNotAllowed);
        }
        if args.iter().any(|a| a.contains('\0')) {
            return Err(ScrapeError::NulInArgs);
        }
        Ok(args)
    }

    /// A run slot, waited for until the deadline (or [`QUEUE_WAIT_WITHOUT_DEADLINE`]).
    async fn slot(&self, deadline: Option<Instant>) -> Result<SemaphorePermit<'_>, ScrapeError> {
        let wait_until = deadline.unwrap_or_else(|| Instant::now() + QUEUE_WAIT_WITHOUT_DEADLINE);
        tokio::time::timeout_at(wait_until, self.slots.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ScrapeError::Busy(self.config.max_concurrency.get()))
    }

    /// The command line: the configured one, then the query's `args`.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.config.command);
        command
            .args(&self.config.args)
            .args(args)
            .envs(self.config.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Waits for the command to end and reads what it wrote: standard output up to the limit
    /// (more ends the run at once), the start of standard error. A child of the command that
    /// keeps the output pipe open after the exit has [`EXIT_DRAIN_GRACE`] to let go.
    async fn collect(&self, child: &mut Child, group: &Group) -> Result<Run, ScrapeError> {
        let limit = self.config.max_output_bytes;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out = Reading(tokio::spawn(async move {
            match stdout {
                Some(s) => read_capped(s, limit).await,
                None => Ok(Some(Vec::new())),
            }
        }));
        let mut err = Reading(tokio::spawn(async move {
            match stderr {
                Some(s) => read_prefix(s, STDERR_LOG_BYTES).await,
                None => Vec::new(),
            }
        }));
        let spawn_error = |cause| ScrapeError::Spawn { command: self.config.command.clone(), cause };
        // Output over the limit ends the run at once; otherwise wait for the exit.
        let (status, early) = tokio::select! {
            status = child.wait() => (status, None),
            read = &mut out.0 => {
                if let Ok(Ok(None)) = read {
                    group.kill();
                    return Err(ScrapeError::OutputTooLarge { limit });
                }
                // Standard output closed (or failed) before the exit: wait for it.
                (child.wait().await, Some(read))
            }
        };
        let status = status.map_err(spawn_error)?;
        let read = match early {
            Some(read) => read,
            None => {
                // A child of the command may still hold the pipe; give it a moment, then end it.
                let drained = tokio::time::timeout(EXIT_DRAIN_GRACE, &mut out.0).await;
                group.kill();
                match drained {
                    Ok(read) => read,
                    Err(_) => (&mut out.0).await,
                }
            }
        };
        group.kill();
        let stdout = match read {
            Ok(Ok(Some(stdout))) => stdout,
            Ok(Ok(None)) => return Err(ScrapeError::OutputTooLarge { limit }),
            Ok(Err(cause)) => return Err(ScrapeError::Output(cause)),
            Err(join) => return Err(ScrapeError::Output(std::io::Error::other(join))),
        };
        let stderr = tokio::time::timeout(EXIT_DRAIN_GRACE, &mut err.0)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        Ok(Run { status, stdout, stderr: excerpt(&stderr) })
    }
}

impl Runner for ExecRunner {
    /// Runs the command once: its standard output is the answer, if it exits successfully.
    async fn run(&self, req: &ScrapeRequest<'_>, module: ModuleRef<'_>) -> Result<Answer<'_>, ScrapeError> {
        let args = self.query_args(req)?;
        let _slot = self.slot(req.deadline).await?;
        module.metrics.command_starts.inc();
        let (mut child, group) = process::spawn(self.command(&args), &self.config.env)
            .map_err(|cause| ScrapeError::Spawn { command: self.config.command.clone(), cause })?;
        let run = self.collect(&mut child, &group).await?;
        if let Some(t) = req.trace {
            t.exited(run.status.to_string(), run.stderr.clone(), run.status.success());
        }
        if !run.status.success() {
            return Err(ScrapeError::Exit { status: run.status.to_string(), stderr: run.stderr });
        }
        if !run.stderr.is_empty() {
            tracing::info!(module = module.name, stderr = %run.stderr, "command wrote to standard error");
        }
        Ok(Answer::Bare { output: run.stdout, added: None })
    }

    fn method(&self) -> &'static str {
        "exec"
    }

    fn describe(&self, req: &ScrapeRequest<'_>) -> String {
        let argv: Vec<&str> = std::iter::once(self.config.command.as_str())
            .chain(self.config.args.iter().map(String::as_str))
            .chain(req.params.iter().filter(|(k, _)| k == "args").map(|(_, v)| v.as_str()))
            .collect();
        // The environment's values may be secrets: only their names are shown.
        let env: Vec<&str> = self.config.env.iter().map(|(k, _)| k.as_str()).collect();
        if env.is_empty() {
            format!("command {argv:?}")
        } else {
            format!("command {argv:?} (environment adds {})", env.join(", "))
        }
    }

    fn families(&self) -> Families {
        Families { commands: true, ..Families::NONE }
    }

    fn count_failure(&self, failure: &ScrapeError, metrics: &ModuleMetrics) {
        if matches!(failure, ScrapeError::Spawn { .. } | ScrapeError::Exit { .. } | ScrapeError::Timeout(_)) {
            metrics.command_fails.inc();
        }
    }
}

fn check(e: ExecBlock) -> Result<ExecConfig, Invalid> {
    let ExecBlock { command, args, env, allow_args, max_concurrency, max_output_bytes } = e;
    let command = command.filter(|c| !c.is_empty()).ok_or_else(|| invalid("exec.command", "missing"))?;
    let env = env.unwrap_or_default();
    for key in env.keys() {
        if key.is_empty() || key.contains(['=', '\0']) {
            return Err(invalid("exec.env", format!("{key:?} is not an environment variable name")));
        }
    }
    let args = args.unwrap_or_default();
    if command.contains('\0') || args.iter().chain(env.values()).any(|a| a.contains('\0')) {
        return Err(invalid("exec", "a NUL byte cannot be passed to a command"));
    }
    let max_concurrency = positive_count("exec.max_concurrency", max_concurrency, DEFAULT_MAX_CONCURRENCY)?;
    Ok(ExecConfig {
        command,
        args,
        env: env.into_iter().collect(),
        allow_args: allow_args.unwrap_or(true),
        max_concurrency,
        max_output_bytes: positive_bytes("exec.max_output_bytes", max_output_bytes)?,
    })
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
