//! The values flags take, read as Go's `flag` package and the original read them: booleans as
//! `strconv.ParseBool`, durations as seconds or a Go duration, networks as `net.ParseCIDR`,
//! paths cleaned as `path.Clean`.

use std::time::Duration;

use ipnet::IpNet;

/// Go's `strconv.ParseBool`, which its `flag` package uses for boolean flags.
pub(super) fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean value {s:?}")),
    }
}

/// Seconds as a number (blackbox's `--timeout-offset=0.5`) or a Go duration (`500ms`).
pub(super) fn duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration {s:?}"));
    }
    let ns = crate::config::parse_go_duration(s)?;
    u64::try_from(ns).map(Duration::from_nanos).map_err(|_| format!("negative duration {s:?}"))
}

/// Go's `net.ParseCIDR`: an address with a prefix length; host bits are dropped.
pub(super) fn cidr(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| format!("invalid CIDR address: {s}"))
}

/// A path flag, cleaned as the original does (`path.Clean("/" + p)`).
pub(super) fn path(p: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(path("proxy").as_deref(), Ok("/proxy"));
        assert_eq!(path("/proxy/").as_deref(), Ok("/proxy"));
        assert_eq!(path("//a/./b/../c").as_deref(), Ok("/a/c"));
        assert_eq!(path("").as_deref(), Ok("/"));
    }

    #[test]
    fn durations_are_seconds_or_go_durations() {
        assert_eq!(duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("-1s").is_err());
    }

    #[test]
    fn booleans_as_go_reads_them() {
        assert_eq!(go_bool("T"), Ok(true));
        assert_eq!(go_bool("0"), Ok(false));
        assert!(go_bool("yes").is_err());
    }
}
