#!/usr/bin/env bash
# Builds the Windows release of exporter_exporter into OUTDIR and prints the path of the .exe
# last:
#
#   exporter_exporter.exe                              the program, stripped
#   exporter_exporter_VERSION_Windows_x86_64.tar.gz   the original's name (goreleaser's default
#                                                      format, which it uses for Windows too)
#   exporter_exporter_VERSION_Windows_x86_64.zip      the same files, zipped
#   exporter_exporter_VERSION_Windows_x86_64.msi      installs them and the service, and starts it
#                                                      (packaging/windows/exporter_exporter.wxs)
#
# Both archives hold, at their root, exporter_exporter.exe, an example expexp.yaml (the file
# the service reads when installed without flags), a short README.txt and LICENSE.txt; the
# text files with Windows line ends. The archives' files are dated as the commit and owned by
# 0:0, so the same commit and binary make the same archives (the MSI holds generated IDs).
#
#   packaging/build-windows.sh [--binary FILE] OUTDIR
#
# The exe is cross-built by packaging/build-target.sh for the Windows target of
# packaging/targets.sh's table (x86_64-pc-windows-gnu: Debian's Rust with -Zbuild-std, linked
# by mingw-w64, its crate list embedded by cargo auditable; docs/windows.md, "Building"), or
# --binary packages FILE, an exe build-target.sh made (release.sh builds each binary once).
# Installs what is missing from Debian (as root; APT_LOCK as in targets.sh): the toolchain,
# zip, and msitools' wixl and msibuild for the MSI.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

log() { printf 'build-windows: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

binary=''
while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=${2:?--binary needs a file}; shift 2 ;;
    -*) fail "unknown option $1 (usage: build-windows.sh [--binary FILE] OUTDIR)" ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || fail "usage: packaging/build-windows.sh [--binary FILE] OUTDIR"
outdir=$1
triple=$(targets_of_os Windows)
target_info "$triple"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || fail "no version found in Cargo.toml"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

apt_install tar gzip zip wixl msitools
[ -n "$binary" ] || binary=$(packaging/build-target.sh "$triple" | tail -n1)
[ -f "$binary" ] || fail "no binary $binary"

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
exe=$outdir/exporter_exporter$T_EXE
install -m0755 "$binary" "$exe"
"$(target_tool "$triple" strip)" --strip-unneeded "$exe"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
files=("exporter_exporter$T_EXE" expexp.yaml README.txt LICENSE.txt)
cp "$exe" "$stage/"
cp packaging/windows/expexp.yaml packaging/windows/README.txt "$stage/"
{
  sed -n '/^Files: \*/,$p' packaging/debian/copyright | sed '/^ On Debian systems/,$d'
  echo
  cat /usr/share/common-licenses/Apache-2.0
} >"$stage/LICENSE.txt"
# Windows' own tools read CRLF text best.
sed -i 's/$/\r/' "$stage/expexp.yaml" "$stage/README.txt" "$stage/LICENSE.txt"
touch -d "@$epoch" "${files[@]/#/$stage/}"

name=exporter_exporter_${version}_${T_OS}_${T_ARCH}
rm -f "$outdir/$name.tar.gz" "$outdir/$name.zip" "$outdir/$name.msi"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$stage" -cf - "${files[@]}" | gzip -9n >"$outdir/$name.tar.gz"
(cd "$stage" && TZ=UTC zip -qX -9 "$outdir/$name.zip" "${files[@]}")
log "archives: $outdir/$name.tar.gz, .zip"

msi=$outdir/$name.msi
wxs=$PWD/packaging/windows/exporter_exporter.wxs
(cd "$stage" && wixl -a x64 -D VERSION="$version" -o "$msi" "$wxs")
# wixl drops these two attributes: the configuration survives an uninstall (Permanent, 16) and
# an upgrade or repair leaves it as edited (NeverOverwrite, 128), on top of 64-bit (256).
msibuild "$msi" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'Configuration'"
log "installer: $msi"
echo "$exe"
