//! The Engine API answers we read, as serde types: only the fields used. Unknown fields are
//! ignored (the daemon adds fields with every API version) and absent or `null` ones read as
//! empty, because Podman's compatible service leaves some out (it never sends `HostConfig` in
//! `/containers/json`) and Docker sends `null` for empty maps in places. Every fact about the
//! JSON's shape lives in this file.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer};

/// A field that may be absent or `null`: both read as the type's empty value.
fn or_empty<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// The `filters` parameter of `GET /containers/json` that keeps containers carrying `label`
/// (`key` or `key=value`): `{"label":["key=value"]}`, to be URL-encoded.
pub fn label_filter(label: &str) -> String {
    serde_json::json!({ "label": [label] }).to_string()
}

/// The body of an error answer: `{"message": "No such container: x"}` (Podman adds `cause`
/// and `response`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorMessage {
    /// What the daemon says.
    #[serde(default, deserialize_with = "or_empty")]
    pub message: String,
}

/// `State.Health`, or `None` when there is no health check: Podman sends `{"Status": ""}` then.
fn health_if_checked<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Health>, D::Error> {
    Ok(Option::<Health>::deserialize(d)?.filter(|h| !h.status.is_empty()))
}

/// One entry of `GET /containers/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// The full container ID.
    #[serde(default, deserialize_with = "or_empty")]
    pub id: String,
    /// Its names, each with a leading `/` (`/pg-exporter`); see [`ContainerSummary::name`].
    #[serde(default, deserialize_with = "or_empty")]
    pub names: Vec<String>,
    /// The image as the container was created from it (`prom/node-exporter:v1.8`).
    #[serde(default, deserialize_with = "or_empty")]
    pub image: String,
    /// The container's labels.
    #[serde(default, deserialize_with = "or_empty")]
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `removing` or `dead`.
    #[serde(default, deserialize_with = "or_empty")]
    pub state: String,
    /// Human-readable state (`Up 4 days`, `Exited (2) 2 minutes ago`).
    #[serde(default, deserialize_with = "or_empty")]
    pub status: String,
    /// The networks it is attached to.
    #[serde(default, deserialize_with = "or_empty")]
    pub network_settings: SummaryNetworks,
    /// Its exposed and published ports.
    #[serde(default, deserialize_with = "or_empty")]
    pub ports: Vec<PortSummary>,
    /// The network mode (absent from Podman's answer).
    #[serde(default, deserialize_with = "or_empty")]
    pub host_config: HostConfig,
}

impl ContainerSummary {
    /// The container's own name without the leading `/`. Docker also lists names given through
    /// legacy links (`/other/alias`); those hold a second `/` and are skipped.
    pub fn name(&self) -> Option<&str> {
        let plain = |n: &&String| !n.trim_start_matches('/').contains('/');
        self.names.iter().find(plain).or(self.names.first()).map(|n| n.trim_start_matches('/'))
    }
}

/// `NetworkSettings` of a `/containers/json` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworks {
    /// Network name to the container's endpoint on it.
    #[serde(default, deserialize_with = "or_empty")]
    pub networks: BTreeMap<String, Endpoint>,
}

/// The container's endpoint on one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Endpoint {
    /// Its IPv4 address on the network; empty when it has none (a stopped container, an
    /// IPv6-only network).
    #[serde(rename = "IPAddress", default, deserialize_with = "or_empty")]
    pub ip_address: String,
    /// Its IPv6 address on the network, if any.
    #[serde(rename = "GlobalIPv6Address", default, deserialize_with = "or_empty")]
    pub global_ipv6_address: String,
}

/// One port of a `/containers/json` entry: exposed (no public port) or published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortSummary {
    /// The host address it is published on (`0.0.0.0`, `::`, `127.0.0.1`); empty or absent when
    /// it is not published.
    #[serde(rename = "IP", default, deserialize_with = "or_empty")]
    pub ip: String,
    /// The port inside the container.
    #[serde(default)]
    pub private_port: u16,
    /// The port on the host, when published.
    #[serde(default)]
    pub public_port: Option<u16>,
    /// `tcp`, `udp` or `sctp` (the JSON's `Type`).
    #[serde(rename = "Type", default, deserialize_with = "or_empty")]
    pub protocol: String,
}

/// `HostConfig` as far as it is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// `default` or `bridge` (the bridge network), `host`, `none`, `container:<id>`, or the name
    /// of a user-defined network; empty when the daemon leaves it out.
    #[serde(default, deserialize_with = "or_empty")]
    pub network_mode: String,
}

/// `GET /containers/{name}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    /// The full container ID.
    #[serde(default, deserialize_with = "or_empty")]
    pub id: String,
    /// Its name with a leading `/`; see [`ContainerInspect::name`].
    #[serde(default, deserialize_with = "or_empty")]
    pub name: String,
    /// Whether and since when it runs.
    #[serde(default, deserialize_with = "or_empty")]
    pub state: ContainerState,
    /// Its image and labels.
    #[serde(default, deserialize_with = "or_empty")]
    pub config: ContainerConfig,
    /// Its networks and published ports.
    #[serde(default, deserialize_with = "or_empty")]
    pub network_settings: NetworkSettings,
    /// Its network mode.
    #[serde(default, deserialize_with = "or_empty")]
    pub host_config: HostConfig,
}

impl ContainerInspect {
    /// The name without the leading `/`.
    pub fn name(&self) -> &str {
        self.name.trim_start_matches('/')
    }
}

/// `State` of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    #[serde(default, deserialize_with = "or_empty")]
    pub status: String,
    /// Whether its process runs (also true while paused or restarting).
    #[serde(default)]
    pub running: bool,
    /// The health check's state, when the container has one.
    #[serde(default, deserialize_with = "health_if_checked")]
    pub health: Option<Health>,
    /// The last exit code.
    #[serde(default)]
    pub exit_code: i64,
    /// When it last started, RFC 3339 (`0001-01-01T00:00:00Z` for never).
    #[serde(default, deserialize_with = "or_empty")]
    pub started_at: String,
    /// When it last stopped, RFC 3339 (`0001-01-01T00:00:00Z` for never).
    #[serde(default, deserialize_with = "or_empty")]
    pub finished_at: String,
}

impl ContainerState {
    /// When it last started; `None` if never (the daemon writes Go's zero time,
    /// `0001-01-01T00:00:00Z`) or if the time cannot be read.
    pub fn started(&self) -> Option<SystemTime> {
        rfc3339(&self.started_at)
    }

    /// When it last stopped; `None` if never or unreadable, as [`ContainerState::started`].
    pub fn finished(&self) -> Option<SystemTime> {
        rfc3339(&self.finished_at)
    }
}

/// Reads the daemon's times, RFC 3339 with optional nanoseconds (`2026-12-02T03:02:13.494241081Z`,
/// Go's `RFC3339Nano`); Docker and Podman write UTC, an offset is read all the same. Times
/// before 1970 (Go's zero time among them) read as `None`.
fn rfc3339(s: &str) -> Option<SystemTime> {
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let b = s.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if b.len() < 20 || !separators.iter().all(|&(i, c)| b[i] == c) || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        // Nanoseconds: the first nine digits, padded.
        let kept = &fraction[..len.min(9)];
        nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - u32::try_from(kept.len()).ok()?);
        rest = &fraction[len..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit()) {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `State.Health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `none`, `starting`, `healthy` or `unhealthy`.
    #[serde(default, deserialize_with = "or_empty")]
    pub status: String,
}

/// `Config` of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The image as the container was created from it.
    #[serde(default, deserialize_with = "or_empty")]
    pub image: String,
    /// The container's labels.
    #[serde(default, deserialize_with = "or_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `NetworkSettings` of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// Network name to the container's endpoint on it.
    #[serde(default, deserialize_with = "or_empty")]
    pub networks: BTreeMap<String, Endpoint>,
    /// `"9187/tcp"` to where it is published on the host: `None` (JSON `null`) when exposed
    /// but not published.
    #[serde(default, deserialize_with = "or_empty")]
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
}

/// Where a container port is published on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    /// The host address (`0.0.0.0`, `::`, `127.0.0.1`); empty for all addresses.
    #[serde(default, deserialize_with = "or_empty")]
    pub host_ip: String,
    /// The host port, as a string in the JSON (`"19187"`).
    #[serde(default, deserialize_with = "or_empty")]
    pub host_port: String,
}

impl PortBinding {
    /// The host port as a number; `None` when it is empty or not a port.
    pub fn port(&self) -> Option<u16> {
        self.host_port.parse().ok().filter(|p| *p != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_absent_fields_read_as_empty() {
        let json = r#"[{"Id":"abc","Names":null,"Labels":null,"Ports":null,
            "NetworkSettings":{"Networks":null},"Unknown":{"x":1}}]"#;
        let list: Vec<ContainerSummary> = serde_json::from_str(json).expect("parses");
        assert_eq!(list[0].id, "abc");
        assert!(list[0].names.is_empty() && list[0].labels.is_empty() && list[0].ports.is_empty());
        assert!(list[0].network_settings.networks.is_empty());
        assert_eq!(list[0].host_config.network_mode, "");
        assert_eq!(list[0].name(), None);
    }

    #[test]
    fn the_own_name_is_preferred_to_a_link_alias() {
        let c =
            ContainerSummary { names: vec!["/web/db".into(), "/db".into()], ..ContainerSummary::default() };
        assert_eq!(c.name(), Some("db"));
    }

    #[test]
    fn inspect_reads_exposed_and_published_ports() {
        let json = r#"{"Name":"/pg","State":{"Status":"exited","Running":false,"ExitCode":2,
            "FinishedAt":"2026-01-01T00:00:00Z","Health":{"Status":"unhealthy","FailingStreak":3}},
            "NetworkSettings":{"Ports":{"9187/tcp":[{"HostIp":"0.0.0.0","HostPort":"19187"}],
            "80/tcp":null}}}"#;
        let c: ContainerInspect = serde_json::from_str(json).expect("parses");
        assert_eq!(c.name(), "pg");
        assert_eq!(c.state.exit_code, 2);
        assert_eq!(c.state.health.as_ref().map(|h| h.status.as_str()), Some("unhealthy"));
        let published = c.network_settings.ports["9187/tcp"].as_ref().expect("published");
        assert_eq!(published[0].port(), Some(19187));
        assert_eq!(c.network_settings.ports["80/tcp"], None);
    }

    #[test]
    fn the_daemons_times_are_read() {
        let at = |s: &str| rfc3339(s).map(|t| t.duration_since(UNIX_EPOCH).expect("after 1970"));
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(Duration::ZERO));
        // Windows' system time counts 100 ns steps.
        let ns = if cfg!(windows) { 494_241_000 } else { 494_241_081 };
        assert_eq!(at("2026-12-02T03:02:13.494241081Z"), Some(Duration::new(1_796_180_533, ns)));
        assert_eq!(at("2026-12-02T03:02:13.5Z"), Some(Duration::new(1_796_180_533, 500_000_000)));
        assert_eq!(at("2024-02-29T23:59:59-05:30"), Some(Duration::from_secs(1_709_270_999)));
        // Go's zero time is "never".
        assert_eq!(at("0001-01-01T00:00:00Z"), None);
        for bad in [
            "",
            "2026-12-02",
            "2026-13-02T00:00:00Z",
            "2026-12-02T03:02:13",
            "2026-12-02T03:02:13.Z",
            "2026-12-02T03:02:13+0100",
            "2026-12-02T+3:02:13Z",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
        let state =
            ContainerState { finished_at: "1970-01-01T00:01:00Z".into(), ..ContainerState::default() };
        assert_eq!(state.finished(), Some(UNIX_EPOCH + Duration::from_secs(60)));
        assert_eq!(state.started(), None);
    }

    #[test]
    fn an_empty_health_status_is_no_health_check() {
        let c: ContainerInspect =
            serde_json::from_str(r#"{"State":{"Health":{"Status":"","FailingStreak":0,"Log":null}}}"#)
                .expect("parses");
        assert_eq!(c.state.health, None);
    }
}
