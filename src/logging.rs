//! Log lines in logfmt (`time=… level=… msg=… key=value`, the shape of the original's logrus
//! text output and of Prometheus's own logs) or JSON, one event per line on standard error, or
//! handed with its level to a [`LineSink`] (the Windows Event Log, when run as a service).

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Log verbosity, with logrus's names accepted too (`warning`, `fatal`, `panic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Every request and every event.
    Info,
    /// Failures and suspicious input (the default).
    Warn,
    /// Failures only.
    Error,
}

impl LogLevel {
    /// Reads a level as `-log.level` takes it (case-insensitive, logrus names too).
    pub fn parse(s: &str) -> Result<LogLevel, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" | "fatal" | "panic" => LogLevel::Error,
            _ => return Err(format!("not a valid log level: {s:?} (trace, debug, info, warn, error)")),
        })
    }

    /// The level's name, as `-log.level` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl LogLevel {
    /// The level of a tracing event.
    pub fn of(level: Level) -> LogLevel {
        match level {
            Level::TRACE => LogLevel::Trace,
            Level::DEBUG => LogLevel::Debug,
            Level::INFO => LogLevel::Info,
            Level::WARN => LogLevel::Warn,
            Level::ERROR => LogLevel::Error,
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs.
    Logfmt,
    /// One JSON object per line.
    Json,
}

/// Where log lines go other than standard error: each formatted line (without its newline)
/// with the level of its event.
pub trait LineSink: Send + Sync + 'static {
    /// Takes one line.
    fn line(&self, level: LogLevel, line: &str);
}

/// Installs the process's log subscriber, writing to standard error. Called once, by `main`.
pub fn init(level: LogLevel, format: LogFormat) {
    install(subscriber(level, format, std::io::stderr));
}

/// Installs the process's log subscriber, writing to `sink`. Called once, by `main`.
pub fn init_sink(level: LogLevel, format: LogFormat, sink: Box<dyn LineSink>) {
    install(subscriber(level, format, SinkWriter(sink)));
}

fn install(subscriber: impl Subscriber + Send + Sync + 'static) {
    // Only fails if a subscriber is already installed, which leaves that one in charge.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

fn subscriber<W>(level: LogLevel, format: LogFormat, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = match level {
        LogLevel::Trace => tracing::level_filters::LevelFilter::TRACE,
        LogLevel::Debug => tracing::level_filters::LevelFilter::DEBUG,
        LogLevel::Info => tracing::level_filters::LevelFilter::INFO,
        LogLevel::Warn => tracing::level_filters::LevelFilter::WARN,
        LogLevel::Error => tracing::level_filters::LevelFilter::ERROR,
    };
    tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(writer)
        .event_format(Line { format })
        .finish()
}

/// Makes a writer per event that hands the event's line to the sink when dropped (the
/// formatter writes each event whole, then drops its writer).
struct SinkWriter(Box<dyn LineSink>);

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = SinkLine<'a>;

    fn make_writer(&'a self) -> SinkLine<'a> {
        SinkLine { sink: &*self.0, level: LogLevel::Info, buf: Vec::new() }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> SinkLine<'a> {
        SinkLine { sink: &*self.0, level: LogLevel::of(*meta.level()), buf: Vec::new() }
    }
}

/// One event's line on its way to a sink.
struct SinkLine<'a> {
    sink: &'a dyn LineSink,
    level: LogLevel,
    buf: Vec<u8>,
}

impl std::io::Write for SinkLine<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SinkLine<'_> {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.buf);
        let line = line.trim_end_matches('\n');
        if !line.is_empty() {
            self.sink.line(self.level, line);
        }
    }
}

/// The event formatter.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// logfmt or JSON.
    pub format: LogFormat,
}

#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.pairs.push((field.name(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.pairs.push((field.name(), value.to_owned()));
        }
    }
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = LogLevel::of(*event.metadata().level()).as_str();
        let time = rfc3339_now();
        match self.format {
            LogFormat::Logfmt => {
                write!(w, "time={time} level={level} msg={}", logfmt_value(&fields.message))?;
                for (k, v) in &fields.pairs {
                    write!(w, " {k}={}", logfmt_value(v))?;
                }
            }
            LogFormat::Json => {
                write!(
                    w,
                    "{{\"time\":\"{time}\",\"level\":\"{level}\",\"msg\":{}",
                    json_string(&fields.message)
                )?;
                for (k, v) in &fields.pairs {
                    write!(w, ",{}:{}", json_string(k), json_string(v))?;
                }
                w.write_char('}')?;
            }
        }
        writeln!(w)
    }
}

fn logfmt_value(v: &str) -> String {
    let plain =
        !v.is_empty() && v.chars().all(|c| c > ' ' && c != '"' && c != '=' && c != '\\' && c != '\u{7f}');
    if plain { v.to_owned() } else { json_string(v) }
}

fn json_string(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The current UTC time as RFC 3339 with milliseconds.
fn rfc3339_now() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(now.as_secs() as i64, now.subsec_millis())
}

/// `secs` since the epoch and `millis` as `2026-12-02T03:04:05.123Z`, as log lines write times.
pub fn rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(format: LogFormat, f: impl FnOnce()) -> String {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .event_format(Line { format })
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8")
    }

    #[test]
    fn logfmt_lines() {
        let out = capture(LogFormat::Logfmt, || {
            tracing::warn!(module = "node", cause = "connection refused", "scrape failed");
        });
        assert!(out.starts_with("time=20"), "{out}");
        assert!(
            out.trim_end()
                .ends_with("level=warn msg=\"scrape failed\" module=node cause=\"connection refused\""),
            "{out}"
        );
    }

    #[test]
    fn json_lines() {
        let out = capture(LogFormat::Json, || tracing::error!(module = "a\"b", "bad"));
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "bad");
        assert_eq!(v["module"], "a\"b");
    }

    /// Records what it is given, as the Event Log would.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<(LogLevel, String)>>>);

    impl LineSink for Recorder {
        fn line(&self, level: LogLevel, line: &str) {
            self.0.lock().expect("lock").push((level, line.to_owned()));
        }
    }

    #[test]
    fn a_sink_gets_each_line_whole_with_its_level_and_the_level_filter_applies() {
        let recorder = Recorder::default();
        let subscriber =
            subscriber(LogLevel::Info, LogFormat::Logfmt, SinkWriter(Box::new(recorder.clone())));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("filtered out");
            tracing::info!(address = ":9999", "listening");
            tracing::warn!(module = "node", "scrape failed\nsecond line");
            tracing::error!("cannot start");
        });
        let got = recorder.0.lock().expect("lock").clone();
        let levels: Vec<LogLevel> = got.iter().map(|(l, _)| *l).collect();
        assert_eq!(levels, [LogLevel::Info, LogLevel::Warn, LogLevel::Error], "{got:?}");
        assert!(
            got[0].1.starts_with("time=20") && got[0].1.ends_with("level=info msg=listening address=:9999")
        );
        // One event, one entry: a newline inside the message stays escaped in the line.
        assert!(got[1].1.ends_with(r#"level=warn msg="scrape failed\nsecond line" module=node"#), "{got:?}");
        assert!(got.iter().all(|(_, l)| !l.ends_with('\n')), "{got:?}");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_000_000, 5), "2025-11-24T16:00:00.005Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000Z");
    }
}
