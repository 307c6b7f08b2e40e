#!/usr/bin/env bash
# Builds everything a release holds into OUTDIR, under the names the original's goreleaser
# gives its artifacts where it has one, and writes checksums.txt over all of it:
#
#   exporter_exporter_VERSION_Linux_x86_64.tar.gz     the binary, LICENSE and README.md, at the
#   exporter_exporter_VERSION_Linux_arm64.tar.gz      archive's root (as goreleaser packs them)
#   exporter_exporter_VERSION_Linux_armv7.tar.gz      (32-bit ARM, armhf; the original has none)
#   exporter_exporter_VERSION_Windows_x86_64.tar.gz   exporter_exporter.exe, an example expexp.yaml,
#   exporter_exporter_VERSION_Windows_x86_64.zip      README.txt and LICENSE.txt at the root; the
#   exporter_exporter_VERSION_Windows_x86_64.msi      same, zipped; the installer of the service
#                                                     (packaging/build-windows.sh)
#   exporter-exporter_VERSION_amd64.deb               the Debian packages (packaging/build-deb.sh)
#   exporter-exporter_VERSION_arm64.deb
#   exporter-exporter_VERSION_armhf.deb
#   exporter_exporter_VERSION_image_linux_amd64.tar.gz   the container image, `docker save`d
#   exporter_exporter_VERSION_image_linux_arm64.tar.gz   (docker load -i FILE; tag exporter_exporter:VERSION-ARCH)
#   NAME.sbom.json                                    a CycloneDX SBOM of each of the above
#                                                     (an image's also lists the C libraries
#                                                     and the CA bundle copied into it)
#   checksums.txt                                     SHA-256 of every file, as goreleaser writes
#                                                     it (`sha256sum -c checksums.txt` verifies)
#
#   packaging/release.sh OUTDIR
#
# The targets are packaging/targets.sh's RELEASE_TARGETS: each Linux one gets an archive and a
# .deb (and an image where the table names its platform), the Windows one its archives and
# MSI. Run as root on Debian 12 (x86_64) with a Docker daemon answering: it installs what it
# needs from Debian (the cross toolchains; packaging/targets.sh lists them) and cargo-auditable
# from crates.io. A missing tool or daemon is an error, never a skip: nothing is left out.
# OUTDIR must be empty or absent. Each step's time is printed at the end.
# shellcheck disable=SC2317 # the step functions run through step(), which shellcheck does not follow
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

log() { printf 'release: %s\n' "$*" >&2; }
fail() { printf '\nrelease: FAILED: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] && [ "${1#-}" = "$1" ] || fail "usage: release.sh OUTDIR"
outdir=$1
if [ -e "$outdir" ] && [ -n "$(ls -A "$outdir")" ]; then
  fail "$outdir is not empty: a release directory holds one release only"
fi
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || fail "no version in Cargo.toml"
# Archives get the commit's time, so that the same commit makes the same archives. It is not
# exported: the cc crate reruns ring's build script whenever SOURCE_DATE_EPOCH changes, which
# would rebuild ring and all that depends on it after every commit (build-image.sh takes the
# same time from git itself).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# Each step is timed; the table is printed at the end.
timings=()
step() {
  local name=$1 start=$SECONDS
  shift
  printf '\n=== release: %s\n' "$name" >&2
  "$@"
  timings+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tools() {
  # shellcheck disable=SC2046 # lists of package names
  apt_install tar gzip zip dpkg binutils wixl msitools \
    $(for t in "${RELEASE_TARGETS[@]}"; do target_packages "$t"; done)
  # Debian's docker.io, unless a docker client is there already (Docker's own docker-ce
  # conflicts with it).
  command -v docker >/dev/null || apt_install docker.io
  ensure_cargo_auditable
  timeout 20 docker info >/dev/null 2>&1 \
    || fail "no Docker daemon answers (docker info): start dockerd; the container images need it"
  # the SBOM writer (examples/sbom.rs), built as build-deb.sh and build-image.sh build it
  helpers=$(packaging/build-target.sh --tools | tail -n1)
}

# archive TRIPLE BINARY NAME: NAME.tar.gz with the binary (stripped), LICENSE and README.md at
# its root, owned by root, dated as the commit, and its SBOM.
archive() {
  local triple=$1 binary=$2 name=$3 dir
  target_info "$triple"
  dir=$work/$name
  mkdir -p "$dir"
  install -m0755 "$binary" "$dir/exporter_exporter$T_EXE"
  "$(target_tool "$triple" strip)" --strip-unneeded "$dir/exporter_exporter$T_EXE"
  install -m0644 /usr/share/common-licenses/Apache-2.0 "$dir/LICENSE"
  install -m0644 README.md "$dir/README.md"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -C "$dir" -cf - "exporter_exporter$T_EXE" LICENSE README.md | gzip -9n >"$outdir/$name.tar.gz"
  "$helpers/sbom" --target "$triple" \
    "$dir/exporter_exporter$T_EXE" >"$outdir/$name.tar.gz.sbom.json"
  log "$name.tar.gz"
}

# Each target's binary, built once for its archive, its package and its image.
declare -A BINARY

# linux TRIPLE: the binary, its archive and its Debian package (with the SBOM it carries).
linux() {
  local triple=$1 deb
  target_info "$triple"
  BINARY[$triple]=$(packaging/build-target.sh "$triple" | tail -n1)
  archive "$triple" "${BINARY[$triple]}" "exporter_exporter_${version}_${T_OS}_${T_ARCH}"
  deb=$(packaging/build-deb.sh --target "$triple" --binary "${BINARY[$triple]}" "$outdir" | tail -n1)
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/exporter-exporter/sbom.cdx.json >"$deb.sbom.json"
}

# image TRIPLE: the container image, saved, with its SBOM.
image() {
  local triple=$1 name tag
  target_info "$triple"
  name=exporter_exporter_${version}_image_linux_${T_IMAGE_ARCH}
  tag=$(packaging/build-image.sh --target "$triple" --binary "${BINARY[$triple]}" \
    --tag "exporter_exporter:$version-$T_IMAGE_ARCH" \
    --sbom "$outdir/$name.tar.gz.sbom.json" | tail -n1)
  docker save "$tag" | gzip -9n >"$outdir/$name.tar.gz"
  log "$name.tar.gz ($tag)"
}

# windows TRIPLE: the exe, its archives and its MSI (packaging/build-windows.sh), each with the
# SBOM of the exe they hold.
windows() {
  local triple=$1 name exe artifact
  target_info "$triple"
  name=exporter_exporter_${version}_${T_OS}_${T_ARCH}
  BINARY[$triple]=$(packaging/build-target.sh "$triple" | tail -n1)
  exe=$(packaging/build-windows.sh --binary "${BINARY[$triple]}" "$work/$name" | tail -n1)
  [ -f "$exe" ] || fail "packaging/build-windows.sh printed no .exe ($exe)"
  "$helpers/sbom" --target "$triple" "$exe" >"$work/$name.sbom.json"
  for artifact in "$name.tar.gz" "$name.zip" "$name.msi"; do
    [ -f "$work/$name/$artifact" ] || fail "packaging/build-windows.sh made no $artifact"
    mv "$work/$name/$artifact" "$outdir/"
    cp "$work/$name.sbom.json" "$outdir/$artifact.sbom.json"
    log "$artifact"
  done
}

checksums() {
  # goreleaser's checksums.txt: "SHA256  NAME", one a line, sorted by name.
  local list
  list=$(cd "$outdir" && find . -maxdepth 1 -type f ! -name checksums.txt -printf '%P\n' | LC_ALL=C sort)
  (cd "$outdir" && xargs -d '\n' sha256sum <<<"$list" >checksums.txt)
  (cd "$outdir" && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not verify"
}

# The steps, in a function so that bash has read all of them before the first runs.
main() {
  step "tools: Debian's toolchains, cargo-auditable, the Docker daemon" tools
  for triple in "${RELEASE_TARGETS[@]}"; do
    target_info "$triple"
    case $T_OS in
      Linux) step "Linux $T_ARCH: binary, archive, .deb ($triple)" linux "$triple" ;;
      Windows) step "Windows $T_ARCH: exe, archives, MSI ($triple, packaging/build-windows.sh)" windows "$triple" ;;
      *) fail "no release step for $T_OS ($triple)" ;;
    esac
  done
  for triple in "${RELEASE_TARGETS[@]}"; do
    target_info "$triple"
    [ -z "$T_IMAGE_ARCH" ] || step "container image linux/$T_IMAGE_ARCH" image "$triple"
  done
  step "checksums.txt" checksums

  printf '\n=== release: %s in %s\n' "$version" "$outdir" >&2
  find "$outdir" -maxdepth 1 -type f -printf '%12s  %f\n' | LC_ALL=C sort -k2 >&2
  printf '\nrelease: time per step\n' >&2
  printf '  %s\n' "${timings[@]}" >&2
  echo "$outdir"
}
main; exit
