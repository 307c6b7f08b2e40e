//! `method: file`: reads a file on every scrape (off the async workers, up to a limit),
//! verifies it, and serves it with `expexp_file_mtime_timestamp` appended, so a stale textfile
//! can be alerted on.

use std::io::Read as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use http::Response;

use super::error::ScrapeError;
use super::output;
use super::request::ScrapeRequest;
use crate::body::Body;
use crate::config::FileSource;
use crate::exposition::Format;
use crate::telemetry::{escape, fmt_float};

/// The family appended to every file module's output.
pub const MTIME_FAMILY: &str = "expexp_file_mtime_timestamp";

/// A running file module.
#[derive(Debug)]
pub struct FileReader {
    source: FileSource,
}

impl FileReader {
    /// A reader for one module.
    pub fn new(source: &FileSource) -> FileReader {
        FileReader { source: source.clone() }
    }

    /// Reads, verifies and serves the file.
    pub async fn scrape(&self, module: &str, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let path = self.source.path.clone();
        let limit = self.source.max_bytes;
        let read = tokio::task::spawn_blocking(move || read_file(&path, limit));
        let read = async { read.await.map_err(|e| std::io::Error::other(e.to_string())) };
        let result = match req.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, read)
                .await
                .map_err(|_| ScrapeError::Timeout(req.timeout.unwrap_or_default()))?,
            None => read.await,
        };
        let shown = self.source.path.display().to_string();
        if let Some(t) = req.trace {
            t.upstream(format!("file {shown}"));
        }
        let (mut body, mtime) = match result {
            Ok(Ok(r)) => {
                if let Some(t) = req.trace {
                    t.piece(&bytes::Bytes::copy_from_slice(&r.0));
                    t.complete();
                }
                r
            }
            Ok(Err(ReadError::TooLarge)) => return Err(ScrapeError::FileTooLarge { path: shown, limit }),
            Ok(Err(ReadError::Io(cause))) | Err(cause) => {
                return Err(ScrapeError::File { path: shown, cause });
            }
        };
        let dialect = output::check(&body)?;
        if !defines_family(&body, MTIME_FAMILY.as_bytes()) {
            append_mtime(&mut body, dialect.format, module, &self.source.path, mtime);
        }
        Ok(output::respond(body, dialect, output::accepts_gzip(req.headers)).await)
    }
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

/// Whether a sample or HELP/TYPE/UNIT line of `body` names the family `name`.
fn defines_family(body: &[u8], name: &[u8]) -> bool {
    memchr::memmem::find_iter(body, name).any(|at| {
        let line_start = body[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let before = &body[line_start..at];
        let after = body.get(at + name.len()).copied();
        let whole_name = matches!(after, None | Some(b' ' | b'\t' | b'{' | b'\n'));
        let at_start = before.iter().all(|&b| b == b' ' || b == b'\t')
            || [&b"# HELP "[..], b"# TYPE ", b"# UNIT "].contains(&before);
        whole_name && at_start
    })
}

fn append_mtime(body: &mut Vec<u8>, format: Format, module: &str, path: &Path, mtime: SystemTime) {
    let secs = match mtime.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let family = format!(
        "# HELP {MTIME_FAMILY} Time of modification of parsed file\n# TYPE {MTIME_FAMILY} gauge\n\
         {MTIME_FAMILY}{{module=\"{}\",path=\"{}\"}} {}\n",
        escape(module),
        escape(&path.display().to_string()),
        fmt_float(secs)
    );
    if format == Format::OpenMetrics {
        // Before the `# EOF` line, which ends the body.
        let eof_at = memchr::memmem::rfind(body, b"# EOF").unwrap_or(body.len());
        body.splice(eof_at..eof_at, family.bytes());
    } else {
        body.extend_from_slice(family.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_an_existing_mtime_family() {
        assert!(defines_family(b"expexp_file_mtime_timestamp 1\n", b"expexp_file_mtime_timestamp"));
        assert!(defines_family(
            b"a 1\n# TYPE expexp_file_mtime_timestamp gauge\n",
            b"expexp_file_mtime_timestamp"
        ));
        assert!(!defines_family(b"expexp_file_mtime_timestamp_x 1\n", b"expexp_file_mtime_timestamp"));
        assert!(!defines_family(b"a{l=\"expexp_file_mtime_timestamp\"} 1\n", b"expexp_file_mtime_timestamp"));
    }

    #[test]
    fn appends_in_the_file_format() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_500);
        let mut text = b"a 1\n".to_vec();
        append_mtime(&mut text, Format::Text, "m", &std::path::PathBuf::from("/x.prom"), t);
        assert!(
            String::from_utf8_lossy(&text)
                .ends_with("expexp_file_mtime_timestamp{module=\"m\",path=\"/x.prom\"} 1700000000.5\n")
        );
        let mut om = b"a 1\n# EOF\n".to_vec();
        append_mtime(&mut om, Format::OpenMetrics, "m", &std::path::PathBuf::from("/x"), t);
        let om = String::from_utf8(om).unwrap();
        assert!(om.ends_with("} 1700000000.5\n# EOF\n"), "{om}");
    }
}
