#!/usr/bin/env bash
# Fetches Debian sid's `prometheus` package (Prometheus 3.x) and unpacks it into DEST (default
# /var/cache/expexp-ci/prometheus-sid), for the end-to-end test of verification against both
# Prometheus versions (tests/it/prometheus_versions.rs). The package is downloaded with
# `apt-get download` under a private apt state (a sources list naming sid, with its own lists and
# cache folders; the system's sources, lists and dpkg database are not touched) and unpacked
# with `dpkg -x`: it is never installed. Prints the unpacked server's version. A second run
# with the same version already unpacked only prints it.
set -euo pipefail
dest=${1:-/var/cache/expexp-ci/prometheus-sid}
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts" "$state/preferences.d"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" \
  >"$state/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$state/sources.list"
  -o "Dir::Etc::SourceParts=$state/parts"
  -o "Dir::Etc::PreferencesParts=$state/preferences.d"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::Cache=$state/cache"
  -o "APT::Get::List-Cleanup=0"
  -o "APT::Sandbox::User=root"
)
# Several users of apt on one machine take the same lock (the team's convention; harmless alone).
lock=${APT_LOCK:-/work/team/apt.lock}
with_lock() { if [ -e "$(dirname "$lock")" ]; then flock "$lock" "$@"; else "$@"; fi; }
with_lock apt-get "${apt_private[@]}" -qq update
version=$(apt-cache "${apt_private[@]}" policy prometheus | awk '/Candidate:/ {print $2}')
if [ -x "$dest/usr/bin/prometheus" ] && [ "$(cat "$dest/.version" 2>/dev/null)" = "$version" ]; then
  "$dest/usr/bin/prometheus" --version | head -n 1
  exit 0
fi
(cd "$state" && with_lock apt-get "${apt_private[@]}" -qq download "prometheus=$version")
rm -rf "$dest"
mkdir -p "$dest"
dpkg -x "$state"/prometheus_*.deb "$dest"
echo "$version" >"$dest/.version"
"$dest/usr/bin/prometheus" --version | head -n 1
