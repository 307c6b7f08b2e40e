#!/usr/bin/env bash
# Installs the Debian package with dpkg -i, checks its files, verifies the systemd unit, reads
# the crate list back out of the installed binary and checks it and the SBOM against cargo
# tree, runs the installed binary the way the unit does (as the package's user, with the flags
# from /etc/default/exporter_exporter and the packaged configuration), scrapes it, stops it,
# and purges the package. As root, on Debian 12 (CI runs it so). Refuses to run where
# exporter-exporter is installed already.
#
#   packaging/test-deb.sh [DEB]
#
# DEB is the package to test: CI gives it the amd64 package packaging/release.sh made, so the
# package tested is the one released. Without it, packaging/build-deb.sh builds one first (the
# release build takes most of the time: about 3 minutes of 2 cores from nothing, seconds
# when target/release is current); the rest takes about 10 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== test-deb: %s\n' "$*"; }
fail() { printf '\ntest-deb: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: it installs and purges a package"
if dpkg-query -W -f='${Status}' exporter-exporter 2>/dev/null | grep -q 'installed'; then
  fail "exporter-exporter is installed already; this test would purge it (dpkg --purge exporter-exporter first)"
fi

step "tools"
missing=()
for tool in curl:curl systemd-analyze:systemd dpkg-deb:dpkg gzip:gzip; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d)
chmod 0755 "$work" # the service's user reads the test textfile there
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -f /etc/exporter_exporter.d/pkgtest.yaml
  if dpkg-query -W -f='${Status}' exporter-exporter 2>/dev/null | grep -q 'installed'; then
    dpkg --purge exporter-exporter >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${1:-}" ]; then
  step "the package: $1"
  deb=$(realpath "$1")
  [ -f "$deb" ] || fail "no package $1"
else
  step "build"
  deb=$(packaging/build-deb.sh "$work/out" | tail -n1)
  [ -f "$deb" ] || fail "build-deb.sh made no package"
fi
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] \
  || fail "$deb is for $(dpkg-deb -f "$deb" Architecture), this machine is $(dpkg --print-architecture)"
# The SBOM reader (examples/sbom.rs), built for this machine.
tools=$(packaging/build-target.sh --tools | tail -n1)
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

step "no file in common with Debian's prometheus-exporter-exporter"
ours=$(dpkg-deb --contents "$deb" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $6}')
if dpkg-query -W prometheus-exporter-exporter >/dev/null 2>&1; then
  theirs=$(dpkg -L prometheus-exporter-exporter)
  common=$(comm -12 <(sort <<<"$ours") <(sort <<<"$theirs" | while read -r f; do [ -d "$f" ] || echo "$f"; done | sort))
  [ -z "$common" ] || fail "files shared with prometheus-exporter-exporter: $common"
  echo "prometheus-exporter-exporter is installed: no file in common"
else
  for f in /usr/bin/prometheus-exporter-exporter /etc/default/prometheus-exporter-exporter \
           /etc/prometheus/exporter-exporter.yml /lib/systemd/system/prometheus-exporter-exporter.service; do
    ! grep -qxF "$f" <<<"$ours" || fail "the package ships $f, which is prometheus-exporter-exporter's"
  done
  echo "prometheus-exporter-exporter is not installed: none of its files are ours"
fi

step "install"
dpkg -i "$deb"

step "files"
# Slim images tell dpkg not to unpack manual pages and docs (path-exclude); check what is kept.
excluded() { grep -rqsx "path-exclude[ =]$1/\\*" /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/; }
man_installed=yes
excluded /usr/share/man && man_installed=no
for f in /usr/bin/exporter_exporter /lib/systemd/system/exporter_exporter.service \
         /etc/default/exporter_exporter /etc/exporter_exporter.yaml \
         /usr/share/man/man1/exporter_exporter.1.gz /usr/share/doc/exporter-exporter/copyright \
         /usr/share/doc/exporter-exporter/grafana-dashboard.json /usr/share/doc/exporter-exporter/sbom.cdx.json; do
  if [ ! -f "$f" ]; then
    case $f in
      /usr/share/man/*) [ $man_installed = no ] && { echo "dpkg excludes $f here"; continue; } ;;
      /usr/share/doc/*) excluded /usr/share/doc && { echo "dpkg excludes $f here"; continue; } ;;
    esac
    fail "missing $f"
  fi
done
[ -d /etc/exporter_exporter.d ] || fail "missing /etc/exporter_exporter.d"
[ -x /usr/bin/exporter_exporter ] || fail "/usr/bin/exporter_exporter is not executable"
conffiles=$(dpkg-query -W -f='${Conffiles}' exporter-exporter)
for f in /etc/default/exporter_exporter /etc/exporter_exporter.yaml; do
  grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile"
done
getent passwd exporter_exporter | grep -q ':/usr/sbin/nologin$' || fail "no system user exporter_exporter"
[ "$(stat -c '%U:%G %a' /etc/exporter_exporter.yaml)" = "root:exporter_exporter 640" ] \
  || fail "/etc/exporter_exporter.yaml is $(stat -c '%U:%G %a' /etc/exporter_exporter.yaml)"
[ "$(stat -c '%U:%G %a' /etc/exporter_exporter.d)" = "root:exporter_exporter 750" ] \
  || fail "/etc/exporter_exporter.d is $(stat -c '%U:%G %a' /etc/exporter_exporter.d)"
# Enabled as dh_installsystemd does (the symlink is made even where systemd is not running).
wants=/etc/systemd/system/multi-user.target.wants/exporter_exporter.service
[ "$(readlink "$wants")" = /lib/systemd/system/exporter_exporter.service ] || fail "the unit is not enabled"
if [ $man_installed = yes ]; then
  man=$(zcat /usr/share/man/man1/exporter_exporter.1.gz)
  grep -q '^\.TH exporter_exporter 1' <<<"$man" || fail "bad man page"
fi
# Output is captured before grep reads it: with pipefail, `producer | grep -q` fails whenever grep
# exits on its match before the producer has finished writing (curl then reports error 23).
version=$(/usr/bin/exporter_exporter -version)
echo "$version"
grep -q "$(dpkg-query -W -f='${Version}' exporter-exporter)" <<<"$version" \
  || fail "-version does not print the package's version"
grep -q '^licence: Apache-2.0$' <<<"$version" || fail "-version does not print the licence"
grep -q 'sbom.cdx.json' <<<"$version" || fail "-version does not say where the SBOM is"
echo "files OK"

step "dependency list: embedded in the installed binary, and the SBOM, against cargo tree"
# Every crate of the normal tree (proc-macros included), as name and version.
tree=$(cargo tree --offline --locked -e normal --prefix none --format '{p}' | sed 's/ (\*)$//; s/ (.*)$//; s/ v/ /' | sort -u)
[ "$(wc -l <<<"$tree")" -gt 50 ] || fail "cargo tree listed too few crates: $tree"
# Read as a scanner reads it: from the installed (stripped) binary alone.
embedded=$("$tools/sbom" --list /usr/bin/exporter_exporter | sort -u)
absent=$(comm -23 <(echo "$tree") <(echo "$embedded"))
[ -z "$absent" ] || fail "crates of the normal tree not in the binary's embedded list: $absent"
echo "the installed binary lists $(wc -l <<<"$embedded") crates, every one of the $(wc -l <<<"$tree") of cargo tree -e normal"
# The SBOM as packaged (dpkg may be told not to unpack docs).
sbom=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/exporter-exporter/sbom.cdx.json)
grep -q '"bomFormat": "CycloneDX"' <<<"$sbom" || fail "the SBOM is not CycloneDX JSON"
while read -r name version; do
  grep -qF "\"purl\": \"pkg:cargo/$name@$version\"" <<<"$sbom" || fail "the SBOM does not list $name $version"
done <<<"$tree"
unlicensed=$(grep -c '"bom-ref"' <<<"$sbom")
[ "$(grep -c '"expression"' <<<"$sbom")" = "$unlicensed" ] || fail "a component of the SBOM has no licence"
echo "the SBOM lists every crate of the normal tree, each with its licence"

step "systemd-analyze verify"
unit=/lib/systemd/system/exporter_exporter.service
# verify checks that man:exporter_exporter(1) resolves when man is installed.
man_check=--man=yes
if ! command -v man >/dev/null || [ $man_installed = no ]; then man_check=--man=no; fi
probe=$work/probe.service
printf '[Service]\nExecStart=/bin/true\n' >"$probe"
if systemd-analyze verify --man=no "$probe" >"$work/probe.log" 2>&1; then
  if ! systemd-analyze verify "$man_check" "$unit" >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
    cat "$work/verify.log"
    fail "systemd-analyze verify $unit"
  fi
  echo "verify: no complaint ($man_check)"
  systemd-analyze security --offline=true --threshold=30 "$unit" | tail -n1
else
  cat "$work/probe.log"
  printf '\n*** SKIPPED: systemd-analyze cannot verify even a trivial unit here; the unit is NOT verified ***\n\n'
fi

step "run as the unit does: User=exporter_exporter, EnvironmentFile=/etc/default/exporter_exporter"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
# shellcheck disable=SC2016 # the literal text of the unit
[ "$exec_start" = '/usr/bin/exporter_exporter $EXPEXP_FLAGS' ] || fail "unexpected ExecStart=$exec_start"
# EnvironmentFile's KEY="value" lines are shell syntax too; systemd splits an unquoted
# $EXPEXP_FLAGS on whitespace into separate arguments, as the shell does here (globbing off).
# shellcheck disable=SC1091 # installed by the package
flags=$(set -a; . /etc/default/exporter_exporter; printf '%s' "$EXPEXP_FLAGS")
echo "EXPEXP_FLAGS=$flags"
# User=/Group= with the user's supplementary groups; setpriv execs, so $! is the daemon.
as_service=(setpriv --reuid=exporter_exporter --regid=exporter_exporter --init-groups --)
set -f
# shellcheck disable=SC2086 # split like systemd
"${as_service[@]}" /usr/bin/exporter_exporter $flags -config.check
# A module of the kind the package's configuration suggests, dropped into the packaged
# -config.dirs directory: a textfile.
printf '# HELP pkgtest_ok A packaged proxy served this.\n# TYPE pkgtest_ok gauge\npkgtest_ok 1\n' \
  >"$work/pkgtest.prom"
chmod 0644 "$work/pkgtest.prom"
printf 'method: file\nfile:\n  path: %s\n' "$work/pkgtest.prom" >/etc/exporter_exporter.d/pkgtest.yaml
# shellcheck disable=SC2086
"${as_service[@]}" /usr/bin/exporter_exporter $flags \
  -web.listen-address=127.0.0.1:0 -log.level=info 2>"$work/daemon.log" &
pid=$!
set +f
address=
for _ in $(seq 100); do
  address=$(sed -n 's/.*msg=listening .*bound=\([^ ]*\).*/\1/p' "$work/daemon.log" | head -n1)
  [ -n "$address" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/daemon.log"; fail "the daemon exited"; }
  sleep 0.1
done
[ -n "$address" ] || { cat "$work/daemon.log"; fail "the daemon did not log its address"; }
[ "$(stat -c %U "/proc/$pid")" = exporter_exporter ] || fail "not running as exporter_exporter"
echo "listening on $address"

landing=$(curl -fsS "http://$address/")
grep -q 'node' <<<"$landing" || fail "the landing page does not list the packaged node module"
grep -q 'pkgtest' <<<"$landing" || fail "the landing page does not list the module from /etc/exporter_exporter.d"
scrape=$(curl -fsS "http://$address/proxy?module=pkgtest")
grep -qx 'pkgtest_ok 1' <<<"$scrape" || fail "scrape of pkgtest: $scrape"
echo "scraped module pkgtest:"
echo "$scrape"
metrics=$(curl -fsS "http://$address/metrics")
grep -q '^expexp_build_info{' <<<"$metrics" || fail "no expexp_build_info in /metrics"
# ExecReload= sends SIGHUP.
kill -HUP "$pid"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$work/daemon.log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$work/daemon.log" || { cat "$work/daemon.log"; fail "SIGHUP did not reload"; }
metrics=$(curl -fsS "http://$address/metrics")
grep -qx 'expexp_config_last_reload_successful 1' <<<"$metrics" \
  || { grep '^expexp_config_last_reload' <<<"$metrics"; fail "reload not reported successful"; }
# systemd stops with SIGTERM.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || { cat "$work/daemon.log"; fail "exit status $status after SIGTERM"; }
echo "stopped cleanly; its log:"
cat "$work/daemon.log"

step "purge"
rm -f /etc/exporter_exporter.d/pkgtest.yaml
dpkg --purge exporter-exporter
for f in /usr/bin/exporter_exporter /lib/systemd/system/exporter_exporter.service \
         /etc/default/exporter_exporter /etc/exporter_exporter.yaml /etc/exporter_exporter.d \
         /usr/share/man/man1/exporter_exporter.1.gz "$wants"; do
  if [ -e "$f" ] || [ -L "$f" ]; then fail "$f is still there after purge"; fi
done

printf '\ntest-deb: package built, installed, served a scrape, purged: OK\n'
