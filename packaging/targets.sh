# shellcheck shell=bash
# shellcheck disable=SC2034 # the T_* variables and CROSS_CARGO_FLAGS are for the scripts that source this
# The targets a release is built for, and how a binary is built for each: sourced by the
# packaging scripts (build-target.sh, build-deb.sh, build-image.sh, release.sh, the tests).
# Every fact about a target (its Debian architecture, archive name, image platform, linker,
# emulator, the Debian packages it needs) lives in target_info below and nowhere else.
#
# The native target (x86_64-unknown-linux-gnu) is built with the machine's own toolchain
# (rustup's) in ${CARGO_TARGET_DIR:-target}. Every other target is cross-built with Debian's
# rustc-web, cargo-web and rust-web-src (Rust 1.96, security-supported in Debian 12), whose
# library sources let cargo's -Zbuild-std build the standard library for a target that has no
# prebuilt one here (rustup cannot download one: no network but the package registries), and
# Debian's cross gcc links it. research/platforms.md tells how this was found.
#
# Cross builds share one target directory, ${EXPEXP_CROSS_TARGET_DIR:-$native_dir/cross}: the
# native build (rustup's rustc) and these (Debian's) must not share artifacts, but the cross
# targets can, since cargo keeps each target's artifacts under <dir>/<triple>/ and the host's
# (build scripts, proc-macros, made by the same Debian rustc for every target) are then built
# once. Pointing EXPEXP_CROSS_TARGET_DIR at a directory kept between runs (CI does) keeps the
# standard library and the dependencies built; cargo rebuilds whatever changed.

# The targets release.sh builds, in the order it builds them.
RELEASE_TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
                 x86_64-pc-windows-gnu)

# Debian's toolchain for the cross targets.
CROSS_TOOLCHAIN_PACKAGES=(rustc-web cargo-web rust-web-src)
# cargo-auditable embeds the crate list in every binary (section .dep-v0), for scanners and
# examples/sbom.rs.
CARGO_AUDITABLE_VERSION=0.7.7

# target_info TRIPLE: sets, for that target,
#   T_NATIVE         yes for the machine's own target (built with rustup's toolchain), else no
#   T_OS, T_ARCH     the original's goreleaser archive names: {{title .Os}} and
#                    {{if eq .Arch "amd64"}}x86_64{{else}}{{.Arch}}{{end}}{{if .Arm}}v{{.Arm}}{{end}}
#   T_DEB_ARCH       Debian's architecture name (empty: no .deb)
#   T_IMAGE_ARCH     the container image's architecture, as Docker names it (empty: no image;
#                    the original ships images for linux/amd64 and linux/arm64 only)
#   T_GNU            the GNU triplet of its gcc and binutils (aarch64-linux-gnu-gcc, ...)
#   T_PACKAGES       the Debian packages that build it, beyond the toolchain
#   T_QEMU           the user-mode emulator that runs it here (empty: runs natively)
#   T_SYSROOT        the directory holding its dynamic loader and libraries here (qemu -L)
#   T_EXE            the executable's suffix
#   T_ELF_MACHINE    the machine readelf names in its ELF header (empty: not an ELF target)
target_info() {
  T_NATIVE=no T_OS=Linux T_EXE='' T_QEMU='' T_SYSROOT=/ T_IMAGE_ARCH='' T_DEB_ARCH='' T_ELF_MACHINE=''
  case $1 in
    x86_64-unknown-linux-gnu)
      T_NATIVE=yes T_ARCH=x86_64 T_DEB_ARCH=amd64 T_IMAGE_ARCH=amd64 T_GNU=x86_64-linux-gnu
      T_ELF_MACHINE='Advanced Micro Devices X86-64'
      T_PACKAGES=(gcc) ;;
    aarch64-unknown-linux-gnu)
      T_ARCH=arm64 T_DEB_ARCH=arm64 T_IMAGE_ARCH=arm64 T_GNU=aarch64-linux-gnu T_ELF_MACHINE=AArch64
      T_PACKAGES=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
      T_QEMU=qemu-aarch64-static T_SYSROOT=/usr/aarch64-linux-gnu ;;
    armv7-unknown-linux-gnueabihf)
      T_ARCH=armv7 T_DEB_ARCH=armhf T_GNU=arm-linux-gnueabihf T_ELF_MACHINE=ARM
      T_PACKAGES=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
      T_QEMU=qemu-arm-static T_SYSROOT=/usr/arm-linux-gnueabihf ;;
    x86_64-pc-windows-gnu)
      T_OS=Windows T_ARCH=x86_64 T_GNU=x86_64-w64-mingw32 T_EXE=.exe
      T_PACKAGES=(gcc-mingw-w64-x86-64) ;;
    *)
      echo "targets.sh: unknown target $1 (known: ${RELEASE_TARGETS[*]})" >&2
      return 1 ;;
  esac
  if [ "$T_NATIVE" = yes ] && [ "$(uname -m)" != x86_64 ]; then
    echo "targets.sh: the release is built on x86_64 (this is $(uname -m))" >&2
    return 1
  fi
}

# elf_machine FILE: the machine its ELF header names, as readelf prints it (T_ELF_MACHINE).
elf_machine() {
  readelf -h "$1" | sed -n 's/^ *Machine: *//p'
}
# targets_of_os OS: the release targets whose T_OS is OS (Linux, Windows), one a line.
targets_of_os() {
  local t found=no
  for t in "${RELEASE_TARGETS[@]}"; do
    target_info "$t" || return 1
    if [ "$T_OS" = "$1" ]; then echo "$t"; found=yes; fi
  done
  [ "$found" = yes ] || { echo "targets.sh: no release target for $1" >&2; return 1; }
}

# The target directory of TRIPLE's build.
target_dir() {
  target_info "$1" || return 1
  local native=${CARGO_TARGET_DIR:-target}
  if [ "$T_NATIVE" = yes ]; then
    echo "$native"
  else
    echo "${EXPEXP_CROSS_TARGET_DIR:-$native/cross}"
  fi
}

# The binutils program NAME (strip, readelf, objdump) that handles TRIPLE's binaries.
target_tool() {
  target_info "$1" || return 1
  if [ "$T_NATIVE" = yes ]; then echo "$2"; else echo "$T_GNU-$2"; fi
}

# apt_install PACKAGE...: installs those not installed yet (as root; else says what to run).
# APT_LOCK, when set, names a file to hold with flock around apt-get (machines where several
# people install at once); apt-get itself waits up to 10 minutes for dpkg's own lock.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]}; as root: apt-get install ${missing[*]}" >&2
    return 1
  fi
  echo "installing ${missing[*]}" >&2
  local apt=(apt-get -o DPkg::Lock::Timeout=600)
  [ -n "${APT_LOCK:-}" ] && apt=(flock "$APT_LOCK" "${apt[@]}")
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2
}

# Installs cargo-auditable from crates.io unless cargo has it.
ensure_cargo_auditable() {
  cargo auditable --version >/dev/null 2>&1 && return 0
  echo "installing cargo-auditable $CARGO_AUDITABLE_VERSION: cargo install --locked" >&2
  cargo install --locked cargo-auditable --version "$CARGO_AUDITABLE_VERSION" >&2
}

# cross_env TRIPLE: exports, in the calling shell, what a cargo command needs to build for
# TRIPLE with Debian's toolchain: Debian's cargo and rustc first in PATH (rustup's proxies
# would otherwise win), RUSTC_BOOTSTRAP for -Zbuild-std, the target's linker, and the target
# directory. CROSS_CARGO_FLAGS then holds the flags every such build takes.
cross_env() {
  target_info "$1" || return 1
  [ "$T_NATIVE" = no ] || { echo "cross_env: $1 is built natively" >&2; return 1; }
  local cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin triple_var
  triple_var=$(echo "$1" | tr 'a-z-' 'A-Z_')
  # cargo-auditable, installed by `cargo install`, stays reachable after Debian's programs.
  export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$cargo_bin
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  export "CARGO_TARGET_${triple_var}_LINKER=$T_GNU-gcc"
  CARGO_TARGET_DIR=$(target_dir "$1")
  export CARGO_TARGET_DIR
  # The standard library is built from rust-web-src with the same profile as the program.
  # shellcheck disable=SC2054 # one flag, whose value has a comma
  CROSS_CARGO_FLAGS=(--target "$1" -Zbuild-std=std,panic_abort)
}

# The Debian packages building TRIPLE needs.
target_packages() {
  target_info "$1" || return 1
  if [ "$T_NATIVE" = yes ]; then
    echo "${T_PACKAGES[*]}"
  else
    echo "${CROSS_TOOLCHAIN_PACKAGES[*]} ${T_PACKAGES[*]}"
  fi
}
