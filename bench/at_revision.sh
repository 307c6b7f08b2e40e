# Sourced by callgrind.sh, callgrind_scrape.sh and verdicts_before.sh (POSIX sh): builds an
# example of this repository, or the proxy itself, as it was at another revision, in a git
# worktree of its own under a temp dir that is removed on exit.
#   build_at REV EXAMPLE [FILE]   FILE (an example's source written for REV's API) is copied
#                                 into the worktree's examples/ first; sets $built to the binary
#   build_binary_at REV           the proxy (a release build); sets $built to it
# Call it directly, not in $(...): the worktree must be made by the shell that removes it.
# BENCH_REV_TARGET_DIR reuses a target folder for the build (default: one in the worktree, a
# full release build of REV).
at_revision_dir=""
at_revision_cleanup() {
    [ -n "$at_revision_dir" ] || return 0
    git -C "$repo" worktree remove --force "$at_revision_dir/tree" >/dev/null 2>&1 || true
    rm -rf "$at_revision_dir"
}
trap at_revision_cleanup EXIT
trap 'exit 130' INT TERM

at_revision_tree() {
    if [ -z "$at_revision_dir" ]; then
        at_revision_dir=$(mktemp -d /tmp/expexp-at-revision.XXXXXX)
        git -C "$repo" worktree add --detach "$at_revision_dir/tree" "$1" >&2
    fi
    target=${BENCH_REV_TARGET_DIR:-$at_revision_dir/tree/target}
}

build_at() {
    at_revision_tree "$1"
    [ $# -lt 3 ] || cp "$3" "$at_revision_dir/tree/examples/$2.rs"
    (cd "$at_revision_dir/tree" && CARGO_TARGET_DIR=$target cargo build --release --example "$2" >&2)
    built=$target/release/examples/$2
}

build_binary_at() {
    at_revision_tree "$1"
    (cd "$at_revision_dir/tree" && CARGO_TARGET_DIR=$target cargo build --release --bin exporter_exporter >&2)
    built=$target/release/exporter_exporter
}
