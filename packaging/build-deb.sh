#!/usr/bin/env bash
# Builds the Debian package exporter-exporter_VERSION_ARCH.deb with dpkg-deb alone (no
# cargo-deb, no debhelper: nothing to install beyond cargo and dpkg), and prints its path.
#
#   packaging/build-deb.sh [--target TRIPLE] [--binary FILE] [OUTDIR]   (default OUTDIR: target/debian)
#
# TRIPLE (default x86_64-unknown-linux-gnu, amd64) picks the architecture: aarch64-unknown-linux-gnu
# makes the arm64 package, armv7-unknown-linux-gnueabihf the armhf one, cross-built as
# packaging/targets.sh says (packaging/build-target.sh builds the binary). --binary packages
# FILE, a binary packaging/build-target.sh built for TRIPLE, instead of building it here
# (release.sh builds each binary once for the archive, the package and the image).
#
# Contents: /usr/bin/exporter_exporter (release build, --locked, with its crate list embedded by
# cargo auditable, which must be installed), the systemd unit, the
# /etc/default flags file and the default configuration (both conffiles), an empty
# /etc/exporter_exporter.d, the manual page generated from the CLI definition
# (examples/gen_man.rs), the docs, and a CycloneDX SBOM (examples/sbom.rs) in the docs. Every file name differs from those of Debian's
# prometheus-exporter-exporter, so the two can be installed side by side.
# Environment: CARGO_TARGET_DIR and EXPEXP_CROSS_TARGET_DIR are honoured; DEB_MAINTAINER
# overrides the Maintainer field.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

log() { printf 'build-deb: %s\n' "$*" >&2; }

triple=x86_64-unknown-linux-gnu binary=''
while [ $# -gt 0 ]; do
  case $1 in
    --target) triple=${2:?--target needs a target triple}; shift 2 ;;
    --binary) binary=${2:?--binary needs a file}; shift 2 ;;
    *) break ;;
  esac
done
target_info "$triple"
[ -n "$T_DEB_ARCH" ] || { log "no Debian package for $triple"; exit 1; }
outdir=${1:-${CARGO_TARGET_DIR:-target}/debian}
package=exporter-exporter
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
arch=$T_DEB_ARCH
[ -n "$version" ] || { log "no version found in Cargo.toml"; exit 1; }

# The binary for the target, and the manual page and SBOM generators, which run here.
[ -n "$binary" ] || binary=$(packaging/build-target.sh "$triple" | tail -n1)
[ -f "$binary" ] || { log "no binary $binary"; exit 1; }
tools=$(packaging/build-target.sh --tools | tail -n1)
strip=$(target_tool "$triple" strip)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root/DEBIAN"

install -D -m0755 "$binary" "$root/usr/bin/exporter_exporter"
"$strip" --strip-unneeded "$root/usr/bin/exporter_exporter"
install -D -m0644 packaging/exporter_exporter.service "$root/lib/systemd/system/exporter_exporter.service"
install -D -m0644 packaging/exporter_exporter.default "$root/etc/default/exporter_exporter"
install -D -m0644 packaging/exporter_exporter.yaml "$root/etc/exporter_exporter.yaml"
install -d -m0755 "$root/etc/exporter_exporter.d"

"$tools/gen_man" "$stage/man" >/dev/null
install -d -m0755 "$root/usr/share/man/man1"
gzip -9n <"$stage/man/exporter_exporter.1" >"$root/usr/share/man/man1/exporter_exporter.1.gz"
chmod 0644 "$root/usr/share/man/man1/exporter_exporter.1.gz"

doc=$root/usr/share/doc/$package
install -D -m0644 packaging/debian/copyright "$doc/copyright"
for f in README.md docs/*.md; do
  # shellcheck disable=SC2094 # reads the repository, writes the staging tree
  gzip -9n <"$f" >"$doc/$(basename "$f").gz"
done
install -m0644 docs/grafana-dashboard.json "$doc/grafana-dashboard.json"
# The SBOM, from the list embedded in the (stripped) binary that ships.
"$tools/sbom" --target "$triple" "$root/usr/bin/exporter_exporter" >"$doc/sbom.cdx.json"
chmod 0644 "$doc"/*

for script in postinst prerm postrm; do
  install -m0755 "packaging/debian/$script" "$root/DEBIAN/$script"
done
printf '%s\n' /etc/default/exporter_exporter /etc/exporter_exporter.yaml >"$root/DEBIAN/conffiles"

# The binary needs glibc and libgcc_s. The newest glibc symbol version it refers to is the
# glibc it needs at least (ELF symbol versioning: each symbol names the release that added it).
libc=$(readelf --version-info --wide "$root/usr/bin/exporter_exporter" | grep -o 'GLIBC_[0-9][0-9.]*' \
  | sed 's/^GLIBC_//' | sort -uV | tail -n1)
[ -n "$libc" ] || { log "no glibc symbol version in the binary"; exit 1; }
cat >"$root/DEBIAN/control" <<CONTROL
Package: $package
Version: $version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-exporter_exporter-rs maintainers <maintainers@exporter-exporter.invalid>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= $libc), libgcc-s1
Suggests: prometheus-node-exporter
Section: net
Priority: optional
Homepage: https://github.com/exporter-exporter/exporter_exporter-rs
Description: reverse proxy for Prometheus exporters, scripts and textfiles
 exporter_exporter puts one port (HTTP and/or HTTPS) in front of every
 Prometheus exporter, script and textfile on a host. Prometheus scrapes
 /proxy?module=NAME; the proxy fetches the module's metrics from an exporter,
 a command's output or a file, checks that they are valid exposition format
 (text, OpenMetrics or protobuf), and serves them unchanged.
 .
 A drop-in replacement for the Go exporter_exporter (Debian's
 prometheus-exporter-exporter): same flags, YAML, endpoints and metric names,
 with configuration reload, TLS client authentication, basic auth, an IP
 allow list and http_sd service discovery.
CONTROL

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$root/DEBIAN/md5sums"

mkdir -p "$outdir"
deb=$outdir/${package}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
log "built $deb"
echo "$deb"
