# Sourced by the Windows build and tests (bash). Two functions:
#
#   windows_toolchain [PACKAGE...]  installs what is missing of Debian's Rust 1.96 (rustc-web,
#       cargo-web, rust-web-src, rust-web-clippy), mingw-w64 and the named packages, then
#       exports the environment that builds for x86_64-pc-windows-gnu with -Zbuild-std:
#       Debian's cargo and rustc first in PATH (rustup's proxies would pick 1.95, which has no
#       Windows standard library here), RUSTC_BOOTSTRAP=1 (-Zbuild-std is unstable), and
#       mingw-w64's gcc as the linker.
#   wine_prefix DIR  makes DIR a fresh 64-bit wine prefix ready for tests: wineboot -i, then
#       wineserver -w (a service started before that can time out or vanish), the stand-in
#       bcryptprimitives.dll (tests/windows/bcryptprimitives.c; wine 8.0 lacks the DLL that
#       Rust's standard library takes random numbers from) in its system32, and the tests'
#       fixtures hold.exe and argv.exe in C:\expexp-test. Exports WINEPREFIX, WINEARCH,
#       WINEDEBUG and WINEDLLOVERRIDES for it. All of it is built here from C, for tests only.
#
# apt-get runs as is (CI is root on a machine of its own); set APT_LOCK to a file to run it
# under flock where several users of the machine install at once.

windows_apt_get() {
  if [ -n "${APT_LOCK:-}" ]; then
    flock "$APT_LOCK" apt-get "$@"
  else
    apt-get "$@"
  fi
}

windows_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  printf 'windows: installing %s\n' "${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  windows_apt_get update >&2
  windows_apt_get install -y --no-install-recommends "${missing[@]}" >&2
}

windows_toolchain() {
  windows_install rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 "$@"
  export PATH=/usr/bin:$PATH
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
  unset RUSTUP_TOOLCHAIN
}

wine_prefix() {
  local prefix=$1 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  windows_install wine wine64 gcc-mingw-w64-x86-64
  export WINEPREFIX=$prefix WINEARCH=win64 WINEDEBUG=${WINEDEBUG:--all}
  # No Mono or Gecko: nothing here needs them, and their installers would ask.
  export WINEDLLOVERRIDES="mscoree=;mshtml="
  mkdir -p "$prefix"
  wineboot -i >/dev/null 2>&1
  wineserver -w
  x86_64-w64-mingw32-gcc -shared -O2 -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
    "$root/tests/windows/bcryptprimitives.c" -ladvapi32
  mkdir -p "$prefix/drive_c/expexp-test"
  local fixture
  for fixture in hold argv; do
    x86_64-w64-mingw32-gcc -O2 -o "$prefix/drive_c/expexp-test/$fixture.exe" "$root/tests/windows/$fixture.c"
  done
}
