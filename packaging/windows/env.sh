# shellcheck shell=bash
# Sourced by the Windows tests (bash), from the repository's root, after packaging/targets.sh
# (which it sources if it was not: apt_install, cross_env, targets_of_os). Two functions:
#
#   windows_toolchain   installs what is missing of the Windows target's toolchain
#       (packaging/targets.sh: Debian's Rust 1.96 with its library sources, mingw-w64) and
#       Debian's clippy for it (rust-web-clippy), then exports, through cross_env, what a cargo
#       command needs to build for it with -Zbuild-std, in the cross builds' target directory.
#       Sets WINDOWS_TRIPLE (x86_64-pc-windows-gnu, the table's Windows target).
#   wine_prefix DIR     makes DIR a fresh 64-bit wine prefix ready for tests: wineboot -i, then
#       wineserver -w (a service started before that can time out or vanish), the stand-in
#       bcryptprimitives.dll (tests/windows/bcryptprimitives.c; wine 8.0 lacks the DLL that
#       Rust's standard library takes random numbers from) in its system32, and the tests'
#       fixtures hold.exe and argv.exe in C:\expexp-test. Exports WINEPREFIX, WINEARCH,
#       WINEDEBUG and WINEDLLOVERRIDES for it. All of it is built here from C, for tests only.
#
# What is missing is installed from Debian as root (set APT_LOCK to a file to run apt-get under
# flock where several users of the machine install at once).

if ! declare -F cross_env >/dev/null; then
  # shellcheck source=packaging/targets.sh
  . packaging/targets.sh
fi

windows_toolchain() {
  WINDOWS_TRIPLE=$(targets_of_os Windows)
  # shellcheck disable=SC2046 # a list of package names
  apt_install $(target_packages "$WINDOWS_TRIPLE") rust-web-clippy
  cross_env "$WINDOWS_TRIPLE"
  unset RUSTUP_TOOLCHAIN
}

wine_prefix() {
  local prefix=$1 fixture
  apt_install wine wine64 gcc-mingw-w64-x86-64
  export WINEPREFIX=$prefix WINEARCH=win64 WINEDEBUG=${WINEDEBUG:--all}
  # No Mono or Gecko: nothing here needs them, and their installers would ask.
  export WINEDLLOVERRIDES="mscoree=;mshtml="
  mkdir -p "$prefix"
  wineboot -i >/dev/null 2>&1
  wineserver -w
  x86_64-w64-mingw32-gcc -shared -O2 -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
    tests/windows/bcryptprimitives.c -ladvapi32
  mkdir -p "$prefix/drive_c/expexp-test"
  for fixture in hold argv; do
    x86_64-w64-mingw32-gcc -O2 -o "$prefix/drive_c/expexp-test/$fixture.exe" "tests/windows/$fixture.c"
  done
}
