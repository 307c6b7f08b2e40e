#!/usr/bin/env bash
# Runs the release's ARM binaries on this x86_64 machine under Debian's qemu-user-static, from
# the archives and .debs packaging/release.sh wrote to RELEASE_DIR, for every target of
# packaging/targets.sh that has an emulator (arm64; armv7 too):
#   - each archive holds exactly exporter_exporter, LICENSE and README.md at its root, and its
#     binary and the .deb's are for that architecture (ELF machine; the .deb's Architecture);
#   - -version prints the release's version;
#   - it serves an http module (Debian's static busybox httpd on loopback) and a file module:
#     a valid body comes back unchanged, an invalid one is refused with a 500 (the verifier
#     runs on that architecture), the file module's body gets its mtime series;
#   - a module added to the configuration is served after SIGHUP, and the reload is reported;
#   - SIGTERM stops it with status 0.
# The emulator is called explicitly with -L SYSROOT, since binfmt_misc may not be registered.
# The daemon gets GLIBC_TUNABLES set to the malloc settings it would set itself (read out of
# the binary), so that it does not run itself again at startup (docs/operations.md): under
# qemu-user without binfmt_misc that exec fails with ENOEXEC, and glibc's execvp then hands the
# ELF file to /bin/sh, which ends the process. That cannot happen on an ARM machine.
#
#   packaging/test-qemu.sh RELEASE_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

step() { printf '\n=== test-qemu: %s\n' "$*"; }
fail() { printf '\ntest-qemu: FAILED: %s\n' "$*" >&2; exit 1; }

release=${1:?usage: test-qemu.sh RELEASE_DIR}
[ -d "$release" ] || fail "$release is not a directory"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
for tool in curl readelf dpkg-deb; do command -v "$tool" >/dev/null || fail "$tool is needed"; done
busybox=/bin/busybox
[ -x "$busybox" ] || fail "$busybox is needed (Debian's busybox-static)"

work=$(mktemp -d)
chmod 0755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port (none is listening there now).
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Htln "sport = :$port" | grep -q .; then echo "$port"; return 0; fi
  done
  fail "no free port"
}

# wait_for FILE PATTERN PID: until FILE has a line matching PATTERN (10 s; 60 under emulation
# of a loaded machine), while PID lives.
wait_for() {
  for _ in $(seq 600); do
    grep -q "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || { cat "$1"; fail "the process exited before: $2"; }
    sleep 0.1
  done
  cat "$1"
  fail "timed out waiting for: $2"
}

tested=0
for triple in "${RELEASE_TARGETS[@]}"; do
  target_info "$triple"
  [ -n "$T_QEMU" ] || continue
  tested=$((tested + 1))
  machine=$T_ELF_MACHINE
  dir=$work/$T_ARCH
  mkdir -p "$dir/www"
  command -v "$T_QEMU" >/dev/null || fail "$T_QEMU is needed (Debian's qemu-user-static)"
  [ -d "$T_SYSROOT" ] || fail "$T_SYSROOT is needed (${T_PACKAGES[*]})"

  step "$T_ARCH: the archive and the .deb"
  archive=$release/exporter_exporter_${version}_Linux_${T_ARCH}.tar.gz
  [ -f "$archive" ] || fail "no $archive"
  entries=$(tar -tzf "$archive" | sort | tr '\n' ' ')
  [ "$entries" = "LICENSE README.md exporter_exporter " ] || fail "$archive holds: $entries"
  tar -xzf "$archive" -C "$dir"
  got=$(elf_machine "$dir/exporter_exporter")
  [ "$got" = "$machine" ] || fail "the archive's binary is for $got, not $machine"
  deb=$release/exporter-exporter_${version}_${T_DEB_ARCH}.deb
  [ -f "$deb" ] || fail "no $deb"
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$T_DEB_ARCH" ] || fail "$deb is not Architecture: $T_DEB_ARCH"
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/exporter_exporter >"$dir/from-deb"
  chmod 0755 "$dir/from-deb"
  got=$(elf_machine "$dir/from-deb")
  [ "$got" = "$machine" ] || fail "the .deb's binary is for $got, not $machine"
  echo "archive: $entries; binaries for $machine; $(dpkg-deb -f "$deb" Package Version Architecture Depends | tr '\n' ' ')"

  tunables=$(grep -aoE 'glibc\.malloc\.[a-z_]+=[0-9]+(:glibc\.malloc\.[a-z_]+=[0-9]+)+' "$dir/exporter_exporter" | head -n1)
  [ -n "$tunables" ] || fail "no glibc malloc settings found in the binary"
  run=(env "GLIBC_TUNABLES=$tunables" "$T_QEMU" -L "$T_SYSROOT")
  step "$T_ARCH: -version under $T_QEMU"
  for bin in "$dir/exporter_exporter" "$dir/from-deb"; do
    out=$("${run[@]}" "$bin" -version)
    grep -q "^exporter_exporter $version " <<<"$out" || fail "-version of $bin: $out"
  done
  echo "$out"

  step "$T_ARCH: an http module and a file module, verified"
  printf '# HELP arm_ok Served through an emulated proxy.\n# TYPE arm_ok gauge\narm_ok{arch="%s"} 1\n' "$T_ARCH" \
    >"$dir/www/good"
  printf 'arm_broken{ 1\n' >"$dir/www/bad"
  printf '# TYPE arm_file gauge\narm_file 42\n' >"$dir/textfile.prom"
  printf '# TYPE arm_added gauge\narm_added 7\n' >"$dir/added.prom"
  upstream=$(free_port)
  "$busybox" httpd -f -p "127.0.0.1:$upstream" -h "$dir/www" &
  pids+=($!)
  cat >"$dir/expexp.yaml" <<YAML
modules:
  good: {method: http, http: {address: 127.0.0.1, port: $upstream, path: /good}}
  bad: {method: http, http: {address: 127.0.0.1, port: $upstream, path: /bad}}
  textfile: {method: file, file: {path: $dir/textfile.prom}}
YAML
  "${run[@]}" "$dir/exporter_exporter" -config.file "$dir/expexp.yaml" \
    -web.listen-address=127.0.0.1:0 -log.level=info 2>"$dir/daemon.log" &
  pid=$!
  pids+=("$pid")
  wait_for "$dir/daemon.log" 'msg=listening' "$pid"
  address=$(sed -n 's/.*msg=listening .*bound=\([^ ]*\).*/\1/p' "$dir/daemon.log" | head -n1)
  [ -n "$address" ] || { cat "$dir/daemon.log"; fail "no address in the log"; }
  body=$(curl -fsS "http://$address/proxy?module=good")
  [ "$body" = "$(cat "$dir/www/good")" ] || fail "module good served: $body"
  status=$(curl -sS -o /dev/null -w '%{http_code}' "http://$address/proxy?module=bad")
  [ "$status" = 500 ] || fail "module bad (an invalid body) answered $status, not 500"
  grep -q 'module=bad' "$dir/daemon.log" || fail "the refused body of module bad is not logged"
  body=$(curl -fsS "http://$address/proxy?module=textfile")
  grep -qx 'arm_file 42' <<<"$body" || fail "module textfile served: $body"
  grep -q '^expexp_file_mtime_timestamp{' <<<"$body" || fail "module textfile has no mtime series: $body"
  echo "good: 200, unchanged; bad: 500; textfile: 200 with its mtime"

  step "$T_ARCH: reload on SIGHUP"
  printf '  added: {method: file, file: {path: %s}}\n' "$dir/added.prom" >>"$dir/expexp.yaml"
  kill -HUP "$pid"
  wait_for "$dir/daemon.log" 'configuration reloaded' "$pid"
  body=$(curl -fsS "http://$address/proxy?module=added")
  grep -qx 'arm_added 7' <<<"$body" || fail "the module added by the reload served: $body"
  metrics=$(curl -fsS "http://$address/metrics")
  grep -qx 'expexp_config_last_reload_successful 1' <<<"$metrics" || fail "the reload is not reported"
  grep -q "^expexp_build_info{.*version=\"$version\"" <<<"$metrics" || fail "no expexp_build_info of $version"
  echo "module added by the reload: 200; expexp_config_last_reload_successful 1"

  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" = 0 ] || { cat "$dir/daemon.log"; fail "exit status $status after SIGTERM"; }
  echo "stopped by SIGTERM, status 0"
done
[ "$tested" -gt 0 ] || fail "no emulated target in packaging/targets.sh"
printf '\ntest-qemu: %d emulated target(s) served, verified and reloaded: OK\n' "$tested"
