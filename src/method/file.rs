//! `method: file`: its block ([`FileBlock`], checked into a [`FileConfig`]), what the JSON
//! listing shows of it, and its runner, which reads a file on every scrape (off the async workers, up to a limit) and
//! answers with it whole, adding `expexp_file_mtime_timestamp` (appended once the file is
//! verified, in its format), so a stale textfile can be alerted on.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::build::{BuildContext, BuildProblem};
use super::definition::Definition;
use super::runner::{Answer, ModuleRef, Runner};
use crate::config::block::{Invalid, invalid, positive_bytes};
use crate::response::AddedFamily;
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::{Families, ModuleMetrics, escape, fmt_float};

/// The family appended to every file module's output.
pub const MTIME_FAMILY: &str = "expexp_file_mtime_timestamp";

/// The `file` block, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBlock {
    path: Option<String>,
    max_bytes: Option<i64>,
}

/// A `file` module's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileConfig {
    /// The file, read on every scrape.
    pub path: PathBuf,
    /// Largest file accepted.
    pub max_bytes: u64,
}

/// What the JSON listing shows of a file module.
#[derive(Debug, Serialize)]
pub struct FileView {
    #[serde(rename = "Path")]
    path: String,
}

impl Definition for FileConfig {
    const NAME: &'static str = "file";
    const VIEW_KEY: &'static str = "File";
    type Block = FileBlock;
    type View<'a> = FileView;
    type Runner = FileRunner;

    fn check(block: FileBlock) -> Result<FileConfig, Invalid> {
        check(block)
    }

    fn view(&self) -> FileView {
        FileView { path: self.path.display().to_string() }
    }

    fn build(&self, _context: &BuildContext<'_>) -> Result<FileRunner, BuildProblem> {
        Ok(FileRunner::new(self))
    }
}

/// A running file module.
#[derive(Debug)]
pub struct FileRunner {
    config: FileConfig,
}

impl FileRunner {
    /// A runner for one module.
    pub fn new(config: &FileConfig) -> FileRunner {
        FileRunner { config: config.clone() }
    }
}

impl Runner for FileRunner {
    /// Reads the file (off the async workers); the answer adds its modification time.
    async fn run(&self, _req: &ScrapeRequest<'_>, module: ModuleRef<'_>) -> Result<Answer<'_>, ScrapeError> {
        let path = self.config.path.clone();
        let limit = self.config.max_bytes;
        let read = tokio::task::spawn_blocking(move || read_file(&path, limit))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()));
        let shown = || self.config.path.display().to_string();
        let (body, mtime) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(ReadError::TooLarge)) => return Err(ScrapeError::FileTooLarge { path: shown(), limit }),
            Ok(Err(ReadError::Io(cause))) | Err(cause) => {
                return Err(ScrapeError::File { path: shown(), cause });
            }
        };
        let added = mtime_family(module.name, &self.config.path, mtime);
        Ok(Answer::Bare { output: body, added: Some(added) })
    }

    fn method(&self) -> &'static str {
        "file"
    }

    fn describe(&self, _req: &ScrapeRequest<'_>) -> String {
        format!("file {}", self.config.path.display())
    }

    fn families(&self) -> Families {
        Families { files: true, ..Families::NONE }
    }

    fn count_failure(&self, failure: &ScrapeError, metrics: &ModuleMetrics) {
        if matches!(failure, ScrapeError::File { .. } | ScrapeError::FileTooLarge { .. }) {
            metrics.file_fails.inc();
        }
    }
}

fn check(f: FileBlock) -> Result<FileConfig, Invalid> {
    let FileBlock { path, max_bytes } = f;
    let path = path.filter(|p| !p.is_empty()).ok_or_else(|| invalid("file.path", "missing"))?;
    Ok(FileConfig { path: PathBuf::from(path), max_bytes: positive_bytes("file.max_bytes", max_bytes)? })
}

enum ReadError {
    Io(std::io::Error),
    TooLarge,
}

fn read_file(path: &Path, limit: u64) -> Result<(Vec<u8>, SystemTime), ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        // A FIFO or device could block a thread forever.
        return Err(ReadError::Io(std::io::Error::other("not a regular file")));
    }
    let mtime = meta.modified().map_err(ReadError::Io)?;
    let mut body = Vec::with_capacity(meta.len().min(limit) as usize + 256);
    file.take(limit.saturating_add(1)).read_to_end(&mut body).map_err(ReadError::Io)?;
    if body.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok((body, mtime))
}

/// `expexp_file_mtime_timestamp{module, path}`: when the file was last modified.
fn mtime_family(module: &str, path: &Path, mtime: SystemTime) -> AddedFamily {
    let secs = match mtime.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let lines = format!(
        "# HELP {MTIME_FAMILY} Time of modification of parsed file\n# TYPE {MTIME_FAMILY} gauge\n\
         {MTIME_FAMILY}{{module=\"{}\",path=\"{}\"}} {}\n",
        escape(module),
        escape(&path.display().to_string()),
        fmt_float(secs)
    );
    AddedFamily { name: MTIME_FAMILY, lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mtime_family_names_the_module_and_the_path() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_500);
        let added = mtime_family("m\"", Path::new("/x.prom"), t);
        assert_eq!(added.name, MTIME_FAMILY);
        assert!(
            added
                .lines
                .ends_with("expexp_file_mtime_timestamp{module=\"m\\\"\",path=\"/x.prom\"} 1700000000.5\n"),
            "{}",
            added.lines
        );
    }
}
