#!/usr/bin/env bash
# The Windows build and its tests, as CI runs them (docs/windows.md, "Testing under wine"):
#   1. packaging/build-windows.sh: exporter_exporter.exe (release) and the zip;
#   2. clippy -D warnings on x86_64-pc-windows-gnu (Linux clippy never sees cfg(windows) code);
#   3. the unit tests and the integration suites under wine (the Linux-only ones are compiled
#      out), in a fresh wine prefix with the stand-in bcryptprimitives.dll and the fixtures;
#   4. tests/windows/service.sh on the release exe;
#   5. tests/windows/msi.sh on the MSI (install and start, upgrade, uninstall under msiexec).
# Everything uses Debian's Rust 1.96 and one target directory (target/windows), so a second run
# rebuilds only what changed. Prints how long each part took.
#
#   packaging/test-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."

triple=x86_64-pc-windows-gnu
export WINDOWS_TARGET_DIR=${WINDOWS_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/windows}
work=$(mktemp -d)
cleanup() {
  if [ -n "${WINEPREFIX:-}" ]; then wineserver -k 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

times=()
part() {
  local name=$1 start=$SECONDS
  shift
  printf '\n=== test-windows: %s\n' "$name"
  "$@"
  times+=("$(printf '%-44s %4d s' "$name" $((SECONDS - start)))")
}

build() {
  exe=$(packaging/build-windows.sh "$work/dist" | tail -n1)
  [ -f "$exe" ] || { echo "build-windows.sh made no exe" >&2; exit 1; }
  msi=$(ls "$work"/dist/*.msi)
  ls -l "$exe" "$work"/dist/*.zip "$msi"
}

# shellcheck source=packaging/windows/env.sh
. packaging/windows/env.sh

clippy() {
  CARGO_TARGET_DIR=$WINDOWS_TARGET_DIR cargo clippy --locked --all-targets --target "$triple" \
    -Zbuild-std=std,panic_abort -- -D warnings
}

wine_tests() {
  wine_prefix "$work/prefix"
  # No `panic = "abort"` anywhere: with it, `cargo test -Zbuild-std` fails (a duplicate lang item).
  CARGO_TARGET_DIR=$WINDOWS_TARGET_DIR CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
    cargo test --locked --target "$triple" -Zbuild-std --lib --test it
  wineserver -k 2>/dev/null || true
}

part "build (packaging/build-windows.sh)" build
windows_toolchain
part "clippy -D warnings, Windows target" clippy
part "unit and integration tests under wine" wine_tests
part "service test (tests/windows/service.sh)" tests/windows/service.sh "$exe"
part "MSI test (tests/windows/msi.sh)" tests/windows/msi.sh "$msi"

printf '\n=== test-windows: times\n'
printf '%s\n' "${times[@]}"
