#!/bin/sh
# How an earlier revision's verifier (default 0d5094d, the last before issue 23, which followed
# prometheus/common's expfmt decoder) fares against the Prometheus servers' scrape path, on the
# bodies the differential test generates (tests/it/reference.rs, tests/it/bodies.rs):
#   bench/verdicts_before.sh [REV]
# 1. the differential test writes every body it generates and both reference programs'
#    verdicts (EXPEXP_REFCHECK_DUMP_ALL); EXPEXP_REFCHECK_BODIES bodies per format (default
#    20,000) with EXPEXP_REFCHECK_SEED (default the test's);
# 2. bench/verdicts_at.rs is built at REV (bench/at_revision.sh) and run on the bodies.
# Prints the table of verdicts to standard output. Needs the reference programs (where the
# tests find them: EXPEXP_REFCHECK_DIR). About 5 minutes and REV's release build.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/at_revision.sh"
rev=${1:-0d5094d}
bodies=${EXPEXP_REFCHECK_BODIES:-20000}
dump=$(mktemp -d /tmp/expexp-bodies.XXXXXX)
trap 'at_revision_cleanup; rm -rf "$dump"' EXIT

echo "# the differential test, $bodies bodies per format, writing them to $dump" >&2
# The test fails on a disagreement of today's verifier; the bodies are written before that.
(cd "$repo" && EXPEXP_REFCHECK_DUMP_ALL="$dump" EXPEXP_REFCHECK_BODIES="$bodies" \
    cargo test --test it reference::verdicts_agree_with_the_prometheus_servers >&2) || true
written=$(wc -l <"$dump/index.tsv")
[ "$written" -eq $((bodies * 5)) ] || { echo "${0##*/}: $written bodies written, not $((bodies * 5))" >&2; exit 1; }

bin=$(build_at "$rev" verdicts_at "$here/verdicts_at.rs")
echo "$rev's verifier against the reference programs, $bodies bodies per format (seed ${EXPEXP_REFCHECK_SEED:-23}), $(date -u +%Y-%m-%d):"
"$bin" "$dump"
