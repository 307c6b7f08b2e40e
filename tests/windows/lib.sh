# shellcheck shell=bash
# Sourced by the wine tests of tests/windows (service.sh, msi.sh), from the repository's root:
# what both need beside packaging/windows/env.sh.
#
#   wine_test NAME      names the test in its messages (step, fail), makes $work (removed at
#                       exit, with the prefix's wine processes ended)
#   free_port           a loopback port nothing listens on
#   in_wine CMD...      runs `wine CMD...` with its output through a file, not a pipe (a
#                       services.exe started meanwhile inherits the output and lives on, so a
#                       pipe's reader would wait for ever); prints it without CRs; its status
#   reg_query ARGS...   `wine reg query ARGS...`'s output (nothing if the key is not there)
#   answers URL         waits up to 30 s for URL/-/healthy to answer 200

# shellcheck source=packaging/windows/env.sh
. packaging/windows/env.sh

wine_test() {
  test_name=$1
  work=$(mktemp -d)
  trap 'if [ -n "${WINEPREFIX:-}" ]; then wineserver -k 2>/dev/null || true; fi; rm -rf "$work"' EXIT
}

step() { printf '\n=== %s: %s\n' "$test_name" "$*"; }
fail() { printf '\n%s: FAILED: %s\n' "$test_name" "$*" >&2; exit 1; }

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  fail "no free port found"
}

in_wine() {
  local rc=0
  wine "$@" >"$work/out" 2>&1 || rc=$?
  tr -d '\r' <"$work/out"
  return "$rc"
}

reg_query() {
  wine reg query "$@" >"$work/out" 2>/dev/null || true
  tr -d '\r' <"$work/out"
}

answers() {
  for _ in $(seq 60); do
    curl -sf -o /dev/null "$1/-/healthy" && return 0
    sleep 0.5
  done
  return 1
}
