//! Which Prometheus judges a body: its version (3.x or 2.42, the one Debian 12 ships) and the
//! name validation it applies, read from the scrape request's `Accept` header
//! (docs/verification.md, "Which Prometheus"); and the moment it judges at, for the head's time
//! window.

use std::fmt;

/// A Prometheus version whose scrape path the verifier reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Prometheus 3.x (pinned at the reference's commit, and checked against 3.5.3).
    V3,
    /// Prometheus 2.42, the version Debian 12 ships.
    V2_42,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V3 => "Prometheus 3",
            Version::V2_42 => "Prometheus 2.42",
        })
    }
}

/// The Prometheus that asked for a body, whose scrape path decides whether the body is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Judge {
    /// Its version.
    pub version: Version,
    /// Whether it validates metric and label names with the legacy grammar
    /// (`[a-zA-Z_:][a-zA-Z0-9_:]*`, `[a-zA-Z_][a-zA-Z0-9_]*`) rather than as any non-empty UTF-8.
    /// Prometheus 2.42 always does; Prometheus 3 does when its scrape config sets
    /// `metric_name_validation_scheme: legacy`, which its `Accept` header shows.
    pub legacy_names: bool,
    /// Whether it ingests native histograms. Prometheus 2.42 does only with
    /// `--enable-feature=native-histograms`, which also makes it ask for protobuf (its
    /// `Accept` header shows it); without it, a native histogram in a protobuf body (sent by an
    /// exporter that ignores `Accept`) fails the scrape. Prometheus 3 is judged as with native
    /// histograms on, as it asks for protobuf only then.
    pub native_histograms: bool,
}

impl Judge {
    /// Prometheus 3 with its default (UTF-8) name validation.
    pub const PROMETHEUS_3: Judge =
        Judge { version: Version::V3, legacy_names: false, native_histograms: true };
    /// Prometheus 3 set to legacy name validation.
    pub const PROMETHEUS_3_LEGACY: Judge =
        Judge { version: Version::V3, legacy_names: true, native_histograms: true };
    /// Prometheus 2.42 with native histograms on (`--enable-feature=native-histograms`): the
    /// one that asks for protobuf, and whose scrape path the reference program follows.
    pub const PROMETHEUS_2_42: Judge =
        Judge { version: Version::V2_42, legacy_names: true, native_histograms: true };
    /// Prometheus 2.42 as Debian runs it, without native histograms.
    pub const PROMETHEUS_2_42_CLASSIC: Judge =
        Judge { version: Version::V2_42, legacy_names: true, native_histograms: false };
    /// Both versions, as `-check.metrics` and the debug scrape report them: Prometheus 3 with
    /// its defaults, and Prometheus 2.42 as it reads protobuf (with native histograms; the
    /// two 2.42s differ on nothing else).
    pub const BOTH: [Judge; 2] = [Judge::PROMETHEUS_3, Judge::PROMETHEUS_2_42];

    /// The Prometheus that sent a scrape request with this `Accept` header:
    /// - Prometheus 3 when an entry has an `escaping` parameter, or is `text/plain` with
    ///   `version=1.0.0` (only Prometheus 3 asks for those); with legacy names when an
    ///   `escaping` value is other than `allow-utf-8`;
    /// - Prometheus 2.42 when it lists OpenMetrics or protobuf entries without either of those
    ///   (Prometheus 2 asks for OpenMetrics first, and for protobuf first with native
    ///   histograms on, which is how the two are told apart);
    /// - Prometheus 3 otherwise (curl, vmagent, the OpenTelemetry collector, which embeds
    ///   Prometheus 3's scrape code, no header at all).
    ///
    /// `accept` holds the header's values; a repeated header is read as one list.
    pub fn from_accept<'a>(accept: impl IntoIterator<Item = &'a [u8]>) -> Judge {
        let (mut three, mut legacy, mut two, mut protobuf) = (false, false, false, false);
        for entry in accept.into_iter().flat_map(|value| value.split(|&b| b == b',')) {
            let mut parts = entry.split(|&b| b == b';');
            let media = parts.next().unwrap_or_default().trim_ascii();
            let mut version_1 = false;
            for param in parts {
                let Some(eq) = param.iter().position(|&b| b == b'=') else { continue };
                let key = param[..eq].trim_ascii();
                let value = param[eq + 1..].trim_ascii();
                if key.eq_ignore_ascii_case(b"escaping") {
                    three = true;
                    legacy |= value != b"allow-utf-8";
                } else if key.eq_ignore_ascii_case(b"version") && value == b"1.0.0" {
                    version_1 = true;
                }
            }
            if media.eq_ignore_ascii_case(b"text/plain") && version_1 {
                three = true;
            }
            let is_protobuf = media.eq_ignore_ascii_case(b"application/vnd.google.protobuf");
            if is_protobuf || media.eq_ignore_ascii_case(b"application/openmetrics-text") {
                two = true;
            }
            protobuf |= is_protobuf;
        }
        match (three, two) {
            (true, _) => Judge { legacy_names: legacy, ..Judge::PROMETHEUS_3 },
            (false, true) if protobuf => Judge::PROMETHEUS_2_42,
            (false, true) => Judge::PROMETHEUS_2_42_CLASSIC,
            (false, false) => Judge::PROMETHEUS_3,
        }
    }
}

impl fmt::Display for Judge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.version, self.legacy_names, self.native_histograms) {
            (Version::V3, true, _) => write!(f, "{} with legacy names", self.version),
            (Version::V2_42, _, false) => write!(f, "{} without native histograms", self.version),
            _ => write!(f, "{}", self.version),
        }
    }
}

/// The moment a body is judged at, in milliseconds since the Unix epoch: Prometheus's head
/// drops samples stamped outside now − 1 h … now + 10 min before some of its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now(pub i64);

/// How far ahead of now a sample may be stamped (scrape.go `maxAheadTime`).
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;
/// How far behind now a running head takes samples (half its 2 h chunk range).
const MAX_BEHIND_MS: i64 = 60 * 60 * 1000;

impl Now {
    /// The system clock.
    pub fn system() -> Now {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Now(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    /// The latest timestamp the scrape loop appends (later ones are out of bounds).
    pub(super) fn latest(self) -> i64 {
        self.0.saturating_add(MAX_AHEAD_MS)
    }

    /// The earliest timestamp the head takes (earlier ones are out of bounds).
    pub(super) fn earliest(self) -> i64 {
        self.0.saturating_sub(MAX_BEHIND_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_of_real_scrapers() {
        let judge = |accept: &str| Judge::from_accept([accept.as_bytes()]);
        // Prometheus 2.42, default and with --enable-feature=native-histograms.
        let v2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        let v2_native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(judge(v2), Judge::PROMETHEUS_2_42_CLASSIC);
        assert_eq!(judge(v2_native), Judge::PROMETHEUS_2_42);
        // Prometheus 3 (scrape/scrape.go acceptHeader): default, native histograms, legacy.
        let v3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        let v3_native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
        let v3_legacy = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(judge(v3), Judge::PROMETHEUS_3);
        assert_eq!(judge(v3_native), Judge::PROMETHEUS_3);
        assert_eq!(judge(v3_legacy), Judge::PROMETHEUS_3_LEGACY);
        assert_eq!(judge("text/plain;version=1.0.0;q=0.6,*/*;q=0.5"), Judge::PROMETHEUS_3);
        // Others: curl, vmagent, no header.
        assert_eq!(judge("*/*"), Judge::PROMETHEUS_3);
        assert_eq!(judge("text/plain;version=0.0.4;q=1,*/*;q=0.1"), Judge::PROMETHEUS_3);
        assert_eq!(Judge::from_accept([]), Judge::PROMETHEUS_3);
        // A header repeated is read as one list.
        assert_eq!(
            Judge::from_accept([&b"*/*"[..], b"text/plain;version=1.0.0;escaping=dots"]),
            Judge::PROMETHEUS_3_LEGACY
        );
    }

    #[test]
    fn the_window_is_an_hour_back_and_ten_minutes_ahead() {
        let now = Now(10_000_000);
        assert_eq!(now.earliest(), 10_000_000 - 3_600_000);
        assert_eq!(now.latest(), 10_000_000 + 600_000);
        assert_eq!(Now(i64::MIN).earliest(), i64::MIN);
    }
}
