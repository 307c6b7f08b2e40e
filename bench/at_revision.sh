# Sourced by callgrind.sh and verdicts_before.sh (POSIX sh): builds an example of this
# repository as it was at another revision, in a git worktree of its own under a temp dir that
# is removed on exit.
#   build_at REV EXAMPLE [FILE]   FILE (an example's source written for REV's API) is copied
#                                 into the worktree's examples/ first; prints the binary's path
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

build_at() {
    rev=$1 example=$2
    if [ -z "$at_revision_dir" ]; then
        at_revision_dir=$(mktemp -d /tmp/expexp-at-revision.XXXXXX)
        git -C "$repo" worktree add --detach "$at_revision_dir/tree" "$rev" >&2
    fi
    [ $# -lt 3 ] || cp "$3" "$at_revision_dir/tree/examples/$example.rs"
    target=${BENCH_REV_TARGET_DIR:-$at_revision_dir/tree/target}
    (cd "$at_revision_dir/tree" && CARGO_TARGET_DIR=$target cargo build --release --example "$example" >&2)
    echo "$target/release/examples/$example"
}
