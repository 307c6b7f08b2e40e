#!/usr/bin/env bash
# Builds exporter_exporter.exe for Windows (x86_64-pc-windows-gnu) on Debian 12, a zip with
# the exe, an example expexp.yaml, a short README and the licence, and an MSI that installs
# the same and the service, and starts it (packaging/windows/exporter_exporter.wxs, built with
# msitools' wixl). Prints the path of the .exe last.
#
#   packaging/build-windows.sh OUTDIR
#
# No Windows standard library exists for rustup's toolchains here, so this uses Debian's own
# Rust 1.96 (rustc-web, cargo-web, rust-web-src), whose cargo builds the standard library from
# source for the target (-Zbuild-std, unstable: RUSTC_BOOTSTRAP=1), and Debian's mingw-w64 to
# link (docs/windows.md, "Building"). Installs what is missing with apt-get (as root; set
# APT_LOCK to a lock file shared with other apt-get users of the machine). Its own target
# directory (WINDOWS_TARGET_DIR, default ${CARGO_TARGET_DIR:-target}/windows): the two
# toolchains must not share artifacts. From nothing about 5 minutes of 2 cores (the standard
# library about 70 s of it); seconds when current.
#
# Environment: WINDOWS_PROFILE=release (default) or dev; EXPEXP_GIT_REVISION as for the Linux
# build.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-windows: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

[ $# -eq 1 ] || fail "usage: packaging/build-windows.sh OUTDIR"
outdir=$1
triple=x86_64-pc-windows-gnu
profile=${WINDOWS_PROFILE:-release}
target_dir=${WINDOWS_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/windows}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || fail "no version found in Cargo.toml"

# shellcheck source=packaging/windows/env.sh
. packaging/windows/env.sh
windows_toolchain zip wixl msitools

log "cargo build --profile $profile --target $triple -Zbuild-std (Debian's $(rustc --version))"
CARGO_TARGET_DIR=$target_dir cargo build --locked --profile "$profile" --target "$triple" \
  -Zbuild-std=std,panic_abort --bin exporter_exporter >&2
case $profile in dev) dir=debug ;; *) dir=$profile ;; esac
built=$target_dir/$triple/$dir/exporter_exporter.exe
[ -f "$built" ] || fail "cargo made no $built"

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
exe=$outdir/exporter_exporter.exe
cp "$built" "$exe"
x86_64-w64-mingw32-strip --strip-unneeded "$exe"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
name=exporter_exporter_${version}_Windows_x86_64
mkdir "$stage/$name"
cp "$exe" "$stage/$name/"
cp packaging/windows/expexp.yaml "$stage/$name/expexp.yaml"
cp packaging/windows/README.txt "$stage/$name/README.txt"
{
  sed -n '/^Files: \*/,$p' packaging/debian/copyright | sed '/^ On Debian systems/,$d'
  echo
  cat /usr/share/common-licenses/Apache-2.0
} >"$stage/$name/LICENSE.txt"
# Windows' own tools read CRLF text best.
sed -i 's/$/\r/' "$stage/$name/expexp.yaml" "$stage/$name/README.txt" "$stage/$name/LICENSE.txt"
rm -f "$outdir/$name.zip"
(cd "$stage" && TZ=UTC zip -qrX "$outdir/$name.zip" "$name")
log "archive: $outdir/$name.zip"

msi=$outdir/$name.msi
rm -f "$msi"
wxs=$PWD/packaging/windows/exporter_exporter.wxs
(cd "$stage/$name" && wixl -a x64 -D VERSION="$version" -o "$msi" "$wxs")
# wixl drops these two attributes: the configuration survives an uninstall (Permanent, 16) and
# an upgrade or repair leaves it as edited (NeverOverwrite, 128), on top of 64-bit (256).
msibuild "$msi" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'Configuration'"
log "installer: $msi"
echo "$exe"
