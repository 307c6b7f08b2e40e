#!/usr/bin/env bash
# Everything a release holds (packaging/release.sh OUTDIR), checked against packaging/targets.sh's
# RELEASE_TARGETS, so that a missing or misnamed artifact fails CI rather than a user's download
# script:
#   - each Linux target's archive, under the original's name, holds exactly exporter_exporter,
#     LICENSE and README.md at its root, and the binary is an ELF for that target's machine;
#   - each artifact (archives, .debs, images; the Windows ones are tests/windows/release.sh's)
#     has its CycloneDX SBOM beside it; an archive's names the binary it holds by its SHA-256
#     and the target; an image's lists the Debian packages whose files it copies (libc6, the
#     CA bundle of ca-certificates), each file with its hash;
#   - checksums.txt lists every file of OUTDIR but itself, once, and verifies.
#
#   packaging/test-release.sh OUTDIR
#
# A few seconds; needs only coreutils, tar and binutils (readelf).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

fail() { echo "test-release: FAIL: $*" >&2; exit 1; }
[ $# -eq 1 ] && [ -d "$1" ] || fail "usage: packaging/test-release.sh OUTDIR (packaging/release.sh's)"
release=$(cd "$1" && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# sbom_of ARTIFACT: its SBOM's path, after checking it is CycloneDX JSON.
sbom_of() {
  local sbom=$release/$1.sbom.json
  [ -s "$sbom" ] || fail "no SBOM beside $1 ($1.sbom.json)"
  grep -q '"bomFormat": "CycloneDX"' "$sbom" || fail "$1.sbom.json is not CycloneDX JSON"
  echo "$sbom"
}

expected=()
for triple in "${RELEASE_TARGETS[@]}"; do
  target_info "$triple"
  [ "$T_OS" = Linux ] || continue
  name=exporter_exporter_${version}_${T_OS}_${T_ARCH}
  archive=$name.tar.gz
  [ -f "$release/$archive" ] || fail "no $archive for $triple"
  got=$(tar -tzf "$release/$archive" | LC_ALL=C sort | tr '\n' ' ')
  [ "$got" = "LICENSE README.md exporter_exporter " ] || fail "$archive holds: $got"
  mkdir -p "$work/$T_ARCH"
  tar -xzf "$release/$archive" -C "$work/$T_ARCH"
  machine=$(elf_machine "$work/$T_ARCH/exporter_exporter")
  [ "$machine" = "$T_ELF_MACHINE" ] || fail "$archive's binary is for '$machine', not $T_ELF_MACHINE"
  sha=$(sha256sum "$work/$T_ARCH/exporter_exporter" | cut -d' ' -f1)
  sbom=$(sbom_of "$archive")
  grep -q "\"content\": \"$sha\"" "$sbom" || fail "$archive.sbom.json does not name the binary's SHA-256 $sha"
  grep -q "\"value\": \"$triple\"" "$sbom" || fail "$archive.sbom.json does not name the target $triple"
  expected+=("$archive" "$archive.sbom.json")
  echo "$archive: LICENSE, README.md, exporter_exporter ($machine, $sha), its SBOM"
  if [ -n "$T_DEB_ARCH" ]; then
    deb=exporter-exporter_${version}_${T_DEB_ARCH}.deb
    [ -f "$release/$deb" ] || fail "no $deb for $triple"
    sbom_of "$deb" >/dev/null
    expected+=("$deb" "$deb.sbom.json")
    echo "$deb and its SBOM"
  fi
  if [ -n "$T_IMAGE_ARCH" ]; then
    image=exporter_exporter_${version}_image_linux_${T_IMAGE_ARCH}.tar.gz
    [ -f "$release/$image" ] || fail "no $image for $triple"
    sbom=$(sbom_of "$image")
    for package in libc6 libgcc-s1 ca-certificates; do
      grep -q "\"purl\": \"pkg:deb/debian/$package@[^\"]*arch=$T_IMAGE_ARCH" "$sbom" ||
        grep -q "\"purl\": \"pkg:deb/debian/$package@[^\"]*arch=all" "$sbom" ||
        fail "$image.sbom.json does not list the Debian package $package copied into the image"
    done
    grep -q '"name": "/etc/ssl/certs/ca-certificates.crt"' "$sbom" ||
      fail "$image.sbom.json does not list the CA bundle (/etc/ssl/certs/ca-certificates.crt)"
    expected+=("$image" "$image.sbom.json")
    echo "$image and its SBOM (libc6, libgcc-s1, ca-certificates and the CA bundle listed)"
  fi
done
for triple in $(targets_of_os Windows); do
  target_info "$triple"
  name=exporter_exporter_${version}_${T_OS}_${T_ARCH}
  for artifact in "$name.tar.gz" "$name.zip" "$name.msi"; do
    [ -f "$release/$artifact" ] || fail "no $artifact for $triple"
    sbom_of "$artifact" >/dev/null
    expected+=("$artifact" "$artifact.sbom.json")
  done
  echo "$name.tar.gz, .zip and .msi, each with its SBOM (their contents: tests/windows/release.sh)"
done

listed=$(sed 's/^[0-9a-f]\{64\}  //' "$release/checksums.txt" | LC_ALL=C sort)
present=$(find "$release" -maxdepth 1 -type f ! -name checksums.txt -printf '%f\n' | LC_ALL=C sort)
[ "$listed" = "$present" ] || fail "checksums.txt lists: $(tr '\n' ' ' <<<"$listed"); OUTDIR holds: $(tr '\n' ' ' <<<"$present")"
[ "$(sort -u <<<"$listed" | wc -l)" = "$(wc -l <<<"$listed")" ] || fail "checksums.txt lists a file twice"
(cd "$release" && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not verify"
unexpected=$(comm -13 <(printf '%s\n' "${expected[@]}" | LC_ALL=C sort) <(echo "$present"))
[ -z "$unexpected" ] || fail "OUTDIR holds files no target explains: $unexpected"
echo "checksums.txt lists and verifies all $(wc -l <<<"$present") files; nothing is missing or unexplained"
