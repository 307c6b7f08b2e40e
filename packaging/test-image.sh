#!/usr/bin/env bash
# Tests the container images packaging/release.sh saved in RELEASE_DIR, with the real Docker
# daemon, for each architecture (arm64 runs under qemu-user-static through binfmt_misc, which
# this script registers from Debian's qemu-user-static if it is not yet):
#   - `docker load` gives exporter_exporter:VERSION-ARCH, for that architecture, at most 20 MB,
#     running as 65532:65532, with the example configuration, and no shell;
#   - started with no arguments, it serves /metrics and its example module (its own /metrics
#     through an http module, verified), as the non-root user;
#   - with the Docker socket mounted and --group-add of the socket's group, as its non-root
#     user, on the default bridge network (never root, never --network host), it scrapes
#     another container by name and discovers a labelled one, which it then scrapes; without
#     --group-add the same scrape is a 502 (the socket is not readable: the user is not root);
#   - a bad configuration makes it exit non-zero with the error in its log.
# The other containers are made from Debian's static busybox with `docker import` (nothing is
# pulled); traffic goes only to containers this test started. Every container it makes is
# named expexp-image-*-PID, labelled expexp.test=1, and removed at the end.
#
#   packaging/test-image.sh RELEASE_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

step() { printf '\n=== test-image: %s\n' "$*"; }
fail() { printf '\ntest-image: FAILED: %s\n' "$*" >&2; exit 1; }

release=${1:?usage: test-image.sh RELEASE_DIR}
[ -d "$release" ] || fail "$release is not a directory"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
MAX_BYTES=$((20 * 1000 * 1000))
USER_ID=65532
SOCKET=/var/run/docker.sock
busybox=/bin/busybox
command -v docker >/dev/null || fail "no docker client"
command -v curl >/dev/null || fail "curl is needed"
[ -x "$busybox" ] || fail "$busybox is needed (Debian's busybox-static)"
[ -S "$SOCKET" ] || fail "no Docker daemon socket at $SOCKET"
timeout 20 docker info >/dev/null 2>&1 || fail "no Docker daemon answers"

work=$(mktemp -d)
chmod 0755 "$work"
cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=expexp.image-test=$$" 2>/dev/null || true)
  # shellcheck disable=SC2086 # a list of IDs
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# run NAME ARGS...: docker run -d, named and labelled for cleaning up; prints the name.
run() {
  local name=expexp-image-$1-$$
  shift
  docker run -d --name "$name" --label expexp.test=1 --label "expexp.image-test=$$" "$@" >/dev/null \
    || fail "docker run $name failed"
  echo "$name"
}
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
# wait_http URL CONTAINER: until URL answers (30 s: arm64 runs emulated), while CONTAINER runs.
wait_http() {
  for _ in $(seq 300); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$2")" = true ] || { docker logs "$2"; fail "$2 exited"; }
    sleep 0.1
  done
  docker logs "$2"
  fail "$1 did not answer"
}
# The uid and gids of a container's main process, from the host's /proc.
ids_of() {
  local pid
  pid=$(docker inspect -f '{{.State.Pid}}' "$1")
  grep -E '^(Uid|Gid|Groups):' "/proc/$pid/status" | tr -s '\t ' ' ' | tr '\n' '|'
}

step "busybox image for the other containers (docker import; nothing is pulled)"
bb=$work/busybox
mkdir -p "$bb/bin" "$bb/www"
cp "$busybox" "$bb/bin/busybox"
for applet in sh httpd; do ln -s busybox "$bb/bin/$applet"; done
printf '# TYPE target_up gauge\ntarget_up 1\n' >"$bb/www/metrics"
busybox_image=expexp-image-test-busybox:$(sha256sum "$busybox" | cut -c1-12)
if ! docker image inspect "$busybox_image" >/dev/null 2>&1; then
  tar -C "$bb" -cf "$work/busybox.tar" bin www
  docker import --change 'CMD ["httpd", "-f", "-p", "9100", "-h", "/www"]' "$work/busybox.tar" "$busybox_image" >/dev/null
fi
echo "$busybox_image"

# arm64 images run under qemu-user-static through binfmt_misc (its F flag opens the emulator
# once, so it works inside containers too).
binfmt() {
  local conf=/usr/lib/binfmt.d/$1.conf
  [ -f /proc/sys/fs/binfmt_misc/"$1" ] && return 0
  [ -f "$conf" ] || fail "$conf is missing (Debian's qemu-user-static)"
  if [ ! -f /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || fail "cannot mount binfmt_misc"
  fi
  cat "$conf" >/proc/sys/fs/binfmt_misc/register || fail "cannot register $1 with binfmt_misc"
  echo "registered $1 with binfmt_misc"
}

socket_group=$(stat -c %g "$SOCKET")
tested=0
for triple in "${RELEASE_TARGETS[@]}"; do
  target_info "$triple"
  arch=$T_IMAGE_ARCH
  [ -n "$arch" ] || continue
  tested=$((tested + 1))
  tag=exporter_exporter:$version-$arch
  on_arch=(--platform "linux/$arch")
  tarball=$release/exporter_exporter_${version}_image_linux_${arch}.tar.gz

  step "$arch: docker load, and what the image is"
  [ -f "$tarball" ] || fail "no $tarball"
  [ -z "$T_QEMU" ] || binfmt "${T_QEMU%-static}"
  docker rmi "$tag" >/dev/null 2>&1 || true
  docker load -i "$tarball"
  read -r platform size user entrypoint <<<"$(docker image inspect -f \
    '{{.Os}}/{{.Architecture}} {{.Size}} {{.Config.User}} {{join .Config.Entrypoint ","}}' "$tag")"
  echo "$tag: $platform, $size bytes, user $user, entrypoint $entrypoint"
  [ "$platform" = "linux/$arch" ] || fail "$tag is $platform"
  [ "$size" -le "$MAX_BYTES" ] || fail "$tag is $size bytes, more than $MAX_BYTES"
  [ "$user" = "$USER_ID:$USER_ID" ] || fail "$tag runs as $user"
  [ "$entrypoint" = "/usr/bin/exporter_exporter,-config.file=/etc/exporter_exporter.yaml" ] \
    || fail "entrypoint $entrypoint"
  id=$(docker create "${on_arch[@]}" "$tag")
  docker export "$id" | tar -t | sort >"$work/files"
  docker rm "$id" >/dev/null
  for f in usr/bin/exporter_exporter etc/exporter_exporter.yaml etc/ssl/certs/ca-certificates.crt \
           etc/passwd usr/share/doc/exporter-exporter/sbom.cdx.json usr/share/doc/exporter-exporter/LICENSE; do
    grep -qx "$f" "$work/files" || fail "$tag has no /$f"
  done
  if grep -qE '^(bin|usr/bin)/(sh|bash|busybox)$' "$work/files"; then fail "$tag has a shell"; fi
  echo "$(grep -vc '/$' "$work/files") files, no shell"

  step "$arch: started as it comes, it serves /metrics and its example module"
  c=$(run "$arch-plain" "${on_arch[@]}" "$tag")
  ip=$(ip_of "$c")
  wait_http "http://$ip:9999/metrics" "$c"
  metrics=$(curl -fsS "http://$ip:9999/metrics")
  grep -q "^expexp_build_info{.*version=\"$version\"" <<<"$metrics" || fail "no expexp_build_info of $version"
  body=$(curl -fsS "http://$ip:9999/proxy?module=self")
  grep -q '^expexp_build_info{' <<<"$body" || fail "module self served: $body"
  ids=$(ids_of "$c")
  grep -q "^Uid: $USER_ID " <<<"$ids" || fail "runs as $ids, not $USER_ID"
  echo "/metrics and /proxy?module=self: 200, as uid $USER_ID ($ids)"
  docker rm -f "$c" >/dev/null

  step "$arch: the Docker socket, as non-root with --group-add, on the default bridge"
  target=$(run "$arch-target" "$busybox_image")
  labelled=$(run "$arch-labelled" --label prometheus.io/scrape=true --label prometheus.io/port=9100 \
    --label "expexp.image-test.labelled=$$" "$busybox_image")
  cat >"$work/containers.yaml" <<YAML
docker:
  refresh_interval: 1s
  discover: {label_prefix: prometheus.io}
modules:
  byname: {method: http, http: {container: $target, port: 9100}}
YAML
  chmod 0644 "$work/containers.yaml"
  mounts=(-v "$work/containers.yaml:/etc/exporter_exporter.yaml:ro" -v "$SOCKET:$SOCKET:ro")
  c=$(run "$arch-socket" "${on_arch[@]}" --group-add "$socket_group" "${mounts[@]}" "$tag")
  ip=$(ip_of "$c")
  [ "$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$c")" = default ] || fail "not on the default network"
  wait_http "http://$ip:9999/metrics" "$c"
  ids=$(ids_of "$c")
  grep -q "^Uid: $USER_ID " <<<"$ids" || fail "runs as $ids, not $USER_ID"
  grep -q "Groups: .*\b$socket_group\b" <<<"$ids" || fail "not in the socket's group $socket_group: $ids"
  body=$(curl -fsS "http://$ip:9999/proxy?module=byname")
  [ "$body" = "$(cat "$bb/www/metrics")" ] || fail "module byname served: $body"
  echo "by name ($target): 200, as $ids"
  found=
  for _ in $(seq 100); do
    discovery=$(curl -fsS "http://$ip:9999/discovery")
    if grep -q "\"module\": *\"$labelled\"" <<<"$discovery"; then found=yes; break; fi
    sleep 0.2
  done
  [ -n "$found" ] || { curl -sS "http://$ip:9999/discovery"; docker logs "$c"; fail "$labelled not discovered"; }
  body=$(curl -fsS "http://$ip:9999/proxy?module=$labelled")
  [ "$body" = "$(cat "$bb/www/metrics")" ] || fail "discovered module $labelled served: $body"
  echo "discovered $labelled from its labels, and scraped it: 200"
  docker rm -f "$c" >/dev/null

  # The same without --group-add: the user is not root, so the socket is closed to it.
  c=$(run "$arch-nogroup" "${on_arch[@]}" "${mounts[@]}" "$tag")
  ip=$(ip_of "$c")
  wait_http "http://$ip:9999/metrics" "$c"
  status=$(curl -sS -o /dev/null -w '%{http_code}' "http://$ip:9999/proxy?module=byname")
  [ "$status" = 502 ] || fail "without --group-add, module byname answered $status, not 502"
  # (captured first: `docker logs | grep -q` fails under pipefail when grep stops reading early)
  log=$(docker logs "$c" 2>&1)
  grep -qi 'permission denied' <<<"$log" || { echo "$log"; fail "no 'permission denied' logged"; }
  echo "without --group-add: 502, 'permission denied' in its log"
  docker rm -f "$c" "$target" "$labelled" >/dev/null

  step "$arch: a bad configuration stops it, with the error in its log"
  printf 'modules:\n  broken:\n    method: http\n    htp: {port: 9100}\n' >"$work/bad.yaml"
  chmod 0644 "$work/bad.yaml"
  c=$(run "$arch-bad" "${on_arch[@]}" -v "$work/bad.yaml:/etc/exporter_exporter.yaml:ro" "$tag")
  code=$(timeout 60 docker wait "$c") || fail "$c did not exit within 60 s"
  [ "$code" != 0 ] || fail "exit status 0 with a bad configuration"
  log=$(docker logs "$c" 2>&1)
  grep -q 'htp' <<<"$log" || fail "the log does not name the bad key: $log"
  grep -q '/etc/exporter_exporter.yaml' <<<"$log" || fail "the log does not name the file: $log"
  echo "exit status $code; its log:"
  echo "$log"
  docker rm -f "$c" >/dev/null
done
[ "$tested" -gt 0 ] || fail "no image target in packaging/targets.sh"
printf '\ntest-image: %d image(s) loaded, served, routed by name and label from inside, refused a bad configuration: OK\n' "$tested"
