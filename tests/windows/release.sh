#!/usr/bin/env bash
# The Windows artifacts of a release (packaging/release.sh OUTDIR), as a user gets them:
#   - exporter_exporter_VERSION_Windows_x86_64.tar.gz (the original's name) and .zip hold the
#     same four files at their root: exporter_exporter.exe, expexp.yaml, README.txt,
#     LICENSE.txt; the exe is a 64-bit PE for x86-64, and the MSI is there;
#   - checksums.txt lists and verifies each of them; the exe embeds every crate of the Windows
#     target's `cargo tree -e normal` (cargo auditable's .dep-v0, read from the PE file by
#     examples/sbom.rs as a scanner reads it), and each artifact's SBOM names the exe by its
#     SHA-256 and lists every one of those crates;
#   - under wine, the released exe prints -version, checks the archive's example
#     configuration, serves /metrics and a file module (a valid body verified and served, an
#     invalid one refused with a 500), and stops on Ctrl-C's stand-in (wineserver -k).
#
#   tests/windows/release.sh OUTDIR
#
# About 20 s. Needs wine and mingw-w64 (installed if missing), curl, unzip, and the SBOM
# reader (packaging/build-target.sh --tools builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/windows/lib.sh
. tests/windows/lib.sh
wine_test release
[ $# -eq 1 ] && [ -d "$1" ] || fail "usage: tests/windows/release.sh OUTDIR (packaging/release.sh's)"
release=$(cd "$1" && pwd)
triple=$(targets_of_os Windows)
target_info "$triple"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
name=exporter_exporter_${version}_${T_OS}_${T_ARCH}
exe=exporter_exporter$T_EXE
apt_install unzip curl

step "the archives: the same four files at their root"
for artifact in "$name.tar.gz" "$name.zip" "$name.msi"; do
  [ -f "$release/$artifact" ] || fail "no $artifact in $release"
done
want="LICENSE.txt README.txt expexp.yaml $exe "
got=$(tar -tzf "$release/$name.tar.gz" | LC_ALL=C sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "$name.tar.gz holds: $got (want $want)"
got=$(unzip -Z1 "$release/$name.zip" | LC_ALL=C sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "$name.zip holds: $got (want $want)"
mkdir "$work/tar" "$work/zip"
tar -xzf "$release/$name.tar.gz" -C "$work/tar"
unzip -q "$release/$name.zip" -d "$work/zip"
diff -r "$work/tar" "$work/zip" || fail "the .tar.gz and the .zip differ"
format=$(x86_64-w64-mingw32-objdump -f "$work/tar/$exe" | sed -n 's/.*file format //p')
[ "$format" = pei-x86-64 ] || fail "$exe is $format, not a 64-bit PE for x86-64"
grep -q $'\r$' "$work/tar/expexp.yaml" || fail "expexp.yaml does not have Windows line ends"
echo "$want; $exe: $format"

step "checksums.txt and the SBOMs"
for artifact in "$name.tar.gz" "$name.zip" "$name.msi"; do
  grep -q "  $artifact\$" "$release/checksums.txt" || fail "checksums.txt does not list $artifact"
done
(cd "$release" && grep "  $name\." checksums.txt | sha256sum --quiet -c -) || fail "checksums.txt does not verify"
tools=$(packaging/build-target.sh --tools | tail -n1)
# Every crate of the Windows target's normal tree (proc-macros included), as name and version.
tree=$(cargo tree --offline --locked --target "$triple" -e normal --prefix none --format '{p}' |
  sed 's/ (\*)$//; s/ (.*)$//; s/ v/ /' | sort -u)
[ "$(wc -l <<<"$tree")" -gt 50 ] || fail "cargo tree listed too few crates: $tree"
grep -q '^windows-service ' <<<"$tree" || fail "the Windows tree lacks windows-service: $tree"
# Read as a scanner reads it: from the released (stripped) exe alone.
embedded=$("$tools/sbom" --list "$work/tar/$exe" | sort -u)
absent=$(comm -23 <(echo "$tree") <(echo "$embedded"))
[ -z "$absent" ] || fail "crates of the Windows tree not in the exe's embedded list: $absent"
sha=$(sha256sum "$work/tar/$exe" | cut -d' ' -f1)
for artifact in "$name.tar.gz" "$name.zip" "$name.msi"; do
  sbom=$release/$artifact.sbom.json
  [ -f "$sbom" ] || fail "no $artifact.sbom.json"
  grep -q '"bomFormat": "CycloneDX"' "$sbom" || fail "$artifact.sbom.json is not CycloneDX JSON"
  grep -q "\"content\": \"$sha\"" "$sbom" || fail "$artifact.sbom.json does not name the exe's SHA-256 $sha"
  grep -q "\"value\": \"$triple\"" "$sbom" || fail "$artifact.sbom.json does not name the target $triple"
  while read -r crate crate_version; do
    grep -qF "\"purl\": \"pkg:cargo/$crate@$crate_version\"" "$sbom" ||
      fail "$artifact.sbom.json does not list $crate $crate_version"
  done <<<"$tree"
done
echo "listed and verified; the exe embeds all $(wc -l <<<"$tree") crates of the Windows tree; each SBOM names"
echo "the exe by its SHA-256 ($sha) and lists every one of them"

step "the released exe under wine: -version, the example configuration"
wine_prefix "$work/prefix"
cp "$work/tar/"* "$WINEPREFIX/drive_c/expexp-test/"
dir_unix=$WINEPREFIX/drive_c/expexp-test
exe_win="C:\\expexp-test\\$exe"
run() { in_wine "$exe_win" "$@"; }
out=$(run -version) || fail "-version: $out"
echo "$out"
grep -q "^exporter_exporter $version (revision " <<<"$out" || fail "-version printed: $out"
grep -q "^licence: Apache-2.0" <<<"$out" || fail "-version printed no licence: $out"
grep -q "^dependency list: embedded in this exe (cargo auditable), and ${name}.zip.sbom.json beside" <<<"$out" ||
  fail "-version does not say where the dependency list is: $out"
out=$(run -config.check -config.file 'C:\expexp-test\expexp.yaml') || fail "the example configuration: $out"
grep -q 'configuration OK' <<<"$out" || fail "-config.check of the example configuration: $out"

step "the released exe under wine: /metrics and a file module, verified"
port=$(free_port)
url="http://127.0.0.1:$port"
printf '# TYPE expexp_release_test gauge\nexpexp_release_test 1\n' >"$dir_unix/good.prom"
printf 'expexp_release_test{ 1\n' >"$dir_unix/bad.prom"
cat >"$dir_unix/test.yaml" <<'YAML'
modules:
  good:
    method: file
    file: {path: 'C:\expexp-test\good.prom'}
  bad:
    method: file
    file: {path: 'C:\expexp-test\bad.prom'}
YAML
wine "$exe_win" -config.file 'C:\expexp-test\test.yaml' -web.listen-address "127.0.0.1:$port" \
  >"$work/daemon.log" 2>&1 &
answers "$url" || { tr -d '\r' <"$work/daemon.log"; fail "the exe does not answer on $url"; }
body=$(curl -sf "$url/metrics") || fail "/metrics"
grep -q '^expexp_build_info{' <<<"$body" || fail "/metrics has no expexp_build_info: $body"
grep -q '^process_start_time_seconds ' <<<"$body" || fail "/metrics has no process_* from Windows: $body"
body=$(curl -sf "$url/proxy?module=good") || fail "module good"
grep -q '^expexp_release_test 1' <<<"$body" || fail "module good served: $body"
code=$(curl -s -o "$work/bad.out" -w '%{http_code}' "$url/proxy?module=bad")
[ "$code" = 500 ] || fail "module bad (an invalid body): $code $(cat "$work/bad.out")"
echo "/metrics, a valid body served, an invalid one refused (500)"
wineserver -k
wait || true
if curl -s -o /dev/null "$url/-/healthy"; then fail "still answering after wineserver -k"; fi

step "ok"
