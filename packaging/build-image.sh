#!/usr/bin/env bash
# Builds exporter_exporter's container image for one architecture in the local Docker daemon,
# from the repository's Dockerfile, and prints its tag. Nothing is pulled (no registry is
# reachable here, and none is needed): the image is FROM scratch, and this script stages
# everything it holds:
#
#   /usr/bin/exporter_exporter         the release binary (packaging/build-target.sh), stripped
#   /ko-app/exporter_exporter          a link to it, where the original's image (built by ko) has it
#   /lib/..., /lib64/...               the dynamic loader and the libraries the binary links
#                                      (glibc's libc, libm; libgcc_s), found from its ELF
#                                      NEEDED entries, copied from Debian 12's own libc6 and
#                                      libgcc-s1 packages of that architecture
#   /etc/ssl/certs/ca-certificates.crt the CA bundle of Debian's ca-certificates (Mozilla's store)
#   /etc/passwd, /etc/group            root, and the user the proxy runs as: nonroot, 65532
#   /etc/nsswitch.conf                 host names from /etc/hosts, then DNS
#   /etc/exporter_exporter.yaml        an example configuration (packaging/image/)
#   /usr/share/doc/...                 the licence, each copied package's copyright file (for
#                                      libgcc-s1, gcc-12-base's, where Debian keeps it), and
#                                      the image's CycloneDX SBOM (examples/sbom.rs --image)
#
# The Debian packages are fetched with apt-get download through a private apt state (the
# machine's own apt configuration is not changed; no foreign architecture is added), so an
# arm64 image gets the arm64 libc6 of the same Debian release and security update as the
# amd64 one, not the older cross-compiling copy in libc6-arm64-cross.
#
#   packaging/build-image.sh [--target TRIPLE] [--binary FILE] [--tag NAME:TAG] [--sbom FILE]
#
# TRIPLE: x86_64-unknown-linux-gnu (default, linux/amd64) or aarch64-unknown-linux-gnu
# (linux/arm64). --binary puts FILE in, a binary packaging/build-target.sh built for TRIPLE,
# instead of building it here. TAG defaults to exporter_exporter:VERSION-ARCH. --sbom also
# writes the SBOM there. Needs a Docker daemon that answers (an error otherwise, never a skip).
# Environment: EXPEXP_CACHE_DIR (default ~/.cache/exporter_exporter) keeps the apt state and
# the downloaded packages; the apt lists are refreshed when older than an hour.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

log() { printf 'build-image: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

# The Debian packages files are copied from: name, CycloneDX type, and licence (SPDX, from the
# package's debian/copyright, for the files copied: glibc's libraries, libgcc_s with GCC's
# runtime exception, Mozilla's certificate data).
PACKAGES=(libc6 libgcc-s1 ca-certificates)
declare -A KIND=([libc6]=library [libgcc-s1]=library [ca-certificates]=data)
declare -A LICENCE=(
  [libc6]=LGPL-2.1-or-later
  [libgcc-s1]="GPL-3.0-or-later WITH GCC-exception-3.1"
  [ca-certificates]=MPL-2.0
)
# The user the proxy runs as, as in distroless and ko images (the original's).
USER_ID=65532

triple=x86_64-unknown-linux-gnu binary='' tag='' sbom_out=''
while [ $# -gt 0 ]; do
  case $1 in
    --target) triple=${2:?--target needs a triple}; shift 2 ;;
    --binary) binary=${2:?--binary needs a file}; shift 2 ;;
    --tag) tag=${2:?--tag needs NAME:TAG}; shift 2 ;;
    --sbom) sbom_out=${2:?--sbom needs a file}; shift 2 ;;
    *) fail "unknown argument $1 (usage: build-image.sh [--target TRIPLE] [--binary FILE] [--tag NAME:TAG] [--sbom FILE])" ;;
  esac
done
target_info "$triple"
[ -n "$T_IMAGE_ARCH" ] || fail "no container image for $triple"
arch=$T_IMAGE_ARCH
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
tag=${tag:-exporter_exporter:$version-$arch}

command -v docker >/dev/null || fail "no docker client (Debian's docker.io)"
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (docker info failed); start dockerd"
for tool in apt-get dpkg-deb readelf sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is needed"
done

[ -n "$binary" ] || binary=$(packaging/build-target.sh "$triple" | tail -n1)
[ -f "$binary" ] || fail "no binary $binary"
tools=$(packaging/build-target.sh --tools | tail -n1)
strip=$(target_tool "$triple" strip)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/context/rootfs
mkdir -p "$root"

# --- Debian's packages, through a private apt state ------------------------------------------
cache=${EXPEXP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exporter_exporter}/apt-$arch
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs"
touch "$cache/status"
apt_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State::Lists=$cache/lists" -o "Dir::State::status=$cache/status"
  -o "Dir::Cache=$cache" -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=600)
if [ -z "$(find "$cache/lists" -maxdepth 1 -name '*Packages*' -mmin -60 -print -quit)" ]; then
  log "apt-get update ($arch lists, private state in $cache)"
  apt-get "${apt_opts[@]}" update >&2 || fail "apt-get update failed for $arch"
fi
rm -f "$cache/debs"/*.deb
declare -A VERSION DEB_ARCH
extracted=$work/debs
# fetch PACKAGE...: downloads and unpacks them.
fetch() {
  (cd "$cache/debs" && apt-get "${apt_opts[@]}" download "${@/%/:$arch}" >&2) \
    || fail "apt-get download $* for $arch failed"
  local p deb
  for p in "$@"; do
    deb=$(find "$cache/debs" -name "${p}_*.deb" | head -n1)
    [ -n "$deb" ] || fail "apt-get download left no $p package"
    VERSION[$p]=$(dpkg-deb -f "$deb" Version)
    DEB_ARCH[$p]=$(dpkg-deb -f "$deb" Architecture)
    mkdir -p "$extracted/$p"
    dpkg-deb -x "$deb" "$extracted/$p"
  done
}
fetch "${PACKAGES[@]}"
# A package whose /usr/share/doc/PACKAGE links to another's (libgcc-s1 to gcc-12-base) has its
# copyright file there: that package is fetched too, for it.
declare -A DOC
for p in "${PACKAGES[@]}"; do
  DOC[$p]=$p
  if [ -L "$extracted/$p/usr/share/doc/$p" ]; then
    base=$(readlink "$extracted/$p/usr/share/doc/$p")
    case $base in */*) fail "$p's documentation links to $base, outside /usr/share/doc" ;; esac
    fetch "$base"
    DOC[$p]=$base KIND[$base]=data LICENCE[$base]=${LICENCE[$p]}
  fi
done

files=$work/files.tsv
: >"$files"
# record PACKAGE PATH: lists a file copied from PACKAGE (or made from its data) for the SBOM.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "${VERSION[$1]}" "${DEB_ARCH[$1]}" "${KIND[$1]}" \
    "${LICENCE[$1]}" "$2" "$(sha256sum <"$root$2" | cut -d' ' -f1)" >>"$files"
}
# copy PACKAGE PATH: copies PATH (absolute, as in the package) into the image; a symbolic
# link is copied as a link, with what it points to.
copy() {
  local p=$1 path=$2 from=$extracted/$1$2
  [ -e "$from" ] || [ -L "$from" ] || fail "$p has no $path"
  if [ -e "$root$path" ] || [ -L "$root$path" ]; then return 0; fi
  mkdir -p "$root$(dirname "$path")"
  if [ -L "$from" ]; then
    cp -P "$from" "$root$path"
    local to
    to=$(readlink "$from")
    case $to in /*) ;; *) to=$(dirname "$path")/$to ;; esac
    copy "$p" "$(realpath -m -s "$to")"
  else
    install -m "$(stat -c %a "$from")" "$from" "$root$path"
    record "$p" "$path"
  fi
}
# owner LIBRARY: the package and path of a shared library, looked up where the loader looks.
owner() {
  local p dir
  for p in "${PACKAGES[@]}"; do
    for dir in /lib/$T_GNU /usr/lib/$T_GNU /lib /usr/lib; do
      if [ -e "$extracted/$p$dir/$1" ]; then echo "$p $dir/$1"; return 0; fi
    done
  done
  return 1
}

# --- the binary and what it links ------------------------------------------------------------
install -D -m0755 "$binary" "$root/usr/bin/exporter_exporter"
"$strip" --strip-unneeded "$root/usr/bin/exporter_exporter"
mkdir -p "$root/ko-app"
ln -s ../usr/bin/exporter_exporter "$root/ko-app/exporter_exporter"
interpreter=$(readelf --program-headers --wide "$root/usr/bin/exporter_exporter" \
  | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[ -n "$interpreter" ] || fail "the binary names no dynamic loader"
loader=$(owner "$(basename "$interpreter")") || fail "no package of ${PACKAGES[*]} holds $interpreter"
copy "${loader%% *}" "$interpreter"
# Every library the binary needs, and every library those need, breadth first.
queue=("$root/usr/bin/exporter_exporter") seen=" "
while [ ${#queue[@]} -gt 0 ]; do
  elf=${queue[0]} queue=("${queue[@]:1}")
  for lib in $(readelf --dynamic --wide "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
    case $seen in *" $lib "*) continue ;; esac
    seen="$seen$lib "
    found=$(owner "$lib") || fail "the binary needs $lib, which none of ${PACKAGES[*]} ($arch) holds: add its package to PACKAGES"
    copy "${found%% *}" "${found#* }"
    queue+=("$root${found#* }")
  done
done
log "libraries: $seen(and the loader $interpreter)"

# --- the CA bundle, as update-ca-certificates makes it from Mozilla's store ------------------
mkdir -p "$root/etc/ssl/certs"
certs=("$extracted/ca-certificates/usr/share/ca-certificates/mozilla/"*.crt)
[ -f "${certs[0]}" ] || fail "ca-certificates holds no certificate"
# (each ends in a newline, as update-ca-certificates makes sure)
# shellcheck disable=SC1003 # sed's "append" command, not an escaped quote
for cert in "${certs[@]}"; do sed -e '$a\' "$cert"; done >"$root/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$root/etc/ssl/certs/ca-certificates.crt"
record ca-certificates /etc/ssl/certs/ca-certificates.crt
log "CA bundle: ${#certs[@]} certificates"

# --- users, name service, configuration, documents --------------------------------------------
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/nonexistent:/sbin/nologin\n' \
  "$USER_ID" "$USER_ID" >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$USER_ID" >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
install -m0644 packaging/image/exporter_exporter.yaml "$root/etc/exporter_exporter.yaml"
doc=$root/usr/share/doc/exporter-exporter
install -D -m0644 packaging/debian/copyright "$doc/copyright"
install -m0644 /usr/share/common-licenses/Apache-2.0 "$doc/LICENSE"
for p in "${PACKAGES[@]}"; do
  if [ "${DOC[$p]}" != "$p" ]; then
    mkdir -p "$root/usr/share/doc"
    cp -P "$extracted/$p/usr/share/doc/$p" "$root/usr/share/doc/$p"
  fi
  copy "${DOC[$p]}" "/usr/share/doc/${DOC[$p]}/copyright"
done
"$tools/sbom" --target "$triple" --image "$files" "$root/usr/bin/exporter_exporter" >"$work/sbom.json"
install -m0644 "$work/sbom.json" "$doc/sbom.cdx.json"
[ -z "$sbom_out" ] || install -m0644 "$work/sbom.json" "$sbom_out"

# Same times everywhere, so that the same inputs make the same layer.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
find "$root" -exec touch -h -d "@$epoch" {} +

# --- the image ----------------------------------------------------------------------------------
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
log "docker build --platform linux/$arch -t $tag ($(du -sh "$root" | cut -f1) staged)"
# The classic builder: BuildKit would want the buildx plugin, which Debian's docker.io lacks.
DOCKER_BUILDKIT=0 docker build --platform "linux/$arch" --file Dockerfile --tag "$tag" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
  --build-arg "CREATED=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" \
  "$work/context" >&2
got=$(docker image inspect --format '{{.Os}}/{{.Architecture}} {{.Size}}' "$tag")
[ "${got%% *}" = "linux/$arch" ] || fail "the image is ${got%% *}, not linux/$arch"
log "built $tag: linux/$arch, $((${got#* } / 1000)) kB"
echo "$tag"
