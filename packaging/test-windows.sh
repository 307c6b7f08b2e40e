#!/usr/bin/env bash
# The Windows release and the Windows build's tests, as CI runs them (docs/windows.md, "Testing
# under wine"), on what packaging/release.sh built into RELEASE:
#   1. tests/windows/release.sh: the Windows archives, their checksums and SBOMs, and the
#      released exe under wine (-version, the example configuration, /metrics, a file module);
#   2. clippy -D warnings on the Windows target (Linux clippy never sees cfg(windows) code);
#   3. the unit tests and the integration suites under wine (the Linux-only ones are compiled
#      out), in a fresh wine prefix with the stand-in bcryptprimitives.dll and the fixtures;
#   4. tests/windows/service.sh on the released exe (the service under wine's service manager);
#   5. tests/windows/msi.sh on the released MSI (install and start, upgrade, uninstall).
# Parts 2 and 3 build with Debian's Rust 1.96 in the cross builds' target directory
# (packaging/targets.sh: EXPEXP_CROSS_TARGET_DIR, which CI keeps between runs), so a second run
# rebuilds only what changed. Prints how long each part took.
#
#   packaging/test-windows.sh RELEASE     (RELEASE: packaging/release.sh's OUTDIR)
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: packaging/test-windows.sh RELEASE (release.sh's OUTDIR)" >&2; exit 1; }
release=$(cd "$1" && pwd)
# shellcheck source=packaging/windows/env.sh
. packaging/windows/env.sh
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
target_info "$(targets_of_os Windows)"
name=exporter_exporter_${version}_${T_OS}_${T_ARCH}

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
  times+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
}

clippy() {
  (
    windows_toolchain
    cargo clippy --locked --all-targets "${CROSS_CARGO_FLAGS[@]}" -- -D warnings
  )
}

wine_tests() {
  (
    windows_toolchain
    wine_prefix "$work/prefix"
    # No `panic = "abort"` anywhere: with it, `cargo test -Zbuild-std` fails (a duplicate lang
    # item); the tests build the standard library with its default crates.
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
      cargo test --locked --target "$WINDOWS_TRIPLE" -Zbuild-std --lib --test it
    wineserver -k 2>/dev/null || true
  )
}

released_exe() {
  mkdir -p "$work/exe"
  tar -xzf "$release/$name.tar.gz" -C "$work/exe" "exporter_exporter$T_EXE"
}

part "the released archives, SBOMs and exe (tests/windows/release.sh)" tests/windows/release.sh "$release"
part "clippy -D warnings, Windows target" clippy
part "unit and integration tests under wine" wine_tests
released_exe
part "service test, released exe (tests/windows/service.sh)" \
  tests/windows/service.sh "$work/exe/exporter_exporter$T_EXE"
part "MSI test, released MSI (tests/windows/msi.sh)" tests/windows/msi.sh "$release/$name.msi"

printf '\n=== test-windows: time per part\n'
printf '  %s\n' "${times[@]}"
