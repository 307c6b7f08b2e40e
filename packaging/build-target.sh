#!/usr/bin/env bash
# Builds exporter_exporter for one target (release profile, --locked, its crate list embedded by
# cargo auditable) and prints the binary's path, unstripped. Installs what that needs first:
# cargo-auditable (cargo install), and as root from Debian, for a cross target, Debian's Rust
# toolchain and the cross gcc (packaging/targets.sh says which, and how). Run again, it
# rebuilds only what changed.
#
#   packaging/build-target.sh [TRIPLE]     (default: x86_64-unknown-linux-gnu, natively)
#   packaging/build-target.sh --tools      the helpers that run here (examples gen_man, sbom; debug
#                                          build, as cargo test makes it): prints their directory
#
# Targets: RELEASE_TARGETS in packaging/targets.sh (x86_64-unknown-linux-gnu natively;
# aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf and x86_64-pc-windows-gnu cross).
# Environment: CARGO_TARGET_DIR (native), EXPEXP_CROSS_TARGET_DIR (cross), APT_LOCK.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=packaging/targets.sh
. packaging/targets.sh

log() { printf 'build-target: %s\n' "$*" >&2; }

triple=${1:-x86_64-unknown-linux-gnu}
if [ "$triple" = --tools ]; then
  # Examples build with the dev-dependencies' features, so they never share the release
  # binary's compiled library anyway; the debug build is the one `cargo test` has made.
  log "cargo build (the helpers: gen_man, sbom)"
  cargo build --locked --example gen_man --example sbom >&2
  echo "$(target_dir x86_64-unknown-linux-gnu)/debug/examples"
  exit 0
fi
ensure_cargo_auditable

target_info "$triple"
# shellcheck disable=SC2046 # a list of package names
apt_install $(target_packages "$triple")
if [ "$T_NATIVE" = yes ]; then
  log "cargo auditable build --release ($triple, rustup's toolchain)"
  cargo auditable build --release --locked --bin exporter_exporter >&2
  dir=$(target_dir "$triple")/release
else
  cross_env "$triple"
  log "cargo auditable build --release --target $triple -Zbuild-std ($(rustc --version), in $CARGO_TARGET_DIR)"
  cargo auditable build --release --locked "${CROSS_CARGO_FLAGS[@]}" --bin exporter_exporter >&2
  dir=$CARGO_TARGET_DIR/$triple/release
fi
binary=$dir/exporter_exporter$T_EXE
[ -f "$binary" ] || { log "the build made no $binary"; exit 1; }
echo "$binary"
