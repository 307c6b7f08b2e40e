#!/bin/sh
# Instruction counts of the verifier (callgrind), on the bodies bench/README.md quotes:
#   bench/callgrind.sh [DIR]
# DIR keeps the bodies between runs (default /tmp/expexp-callgrind): a node_exporter page is
# scraped once (or gen_payload.py small stands in), so before/after runs see the same bytes.
# Prints one line per body: its name and the instructions callgrind collected.
# BENCH_REV=REV counts the verifier of another revision instead (built by bench/at_revision.sh;
# its verify_profile takes the same arguments back to 8c403c5), for before/after figures.
# BENCH_JUDGE=2.42 judges as Prometheus 2.42 rather than 3 (revisions since issue 23; earlier
# ones have one verdict for every scraper and ignore it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
dir=${1:-/tmp/expexp-callgrind}
mkdir -p "$dir"
cd "$repo"
if [ -n "${BENCH_REV:-}" ]; then
    . "$here/at_revision.sh"
    bin=$(build_at "$BENCH_REV" verify_profile)
else
    cargo build --release --example verify_profile >&2
    bin=target/release/examples/verify_profile
fi
if [ ! -s "$dir/node.txt" ]; then
    if [ -x /usr/bin/prometheus-node-exporter ]; then
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        /usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:$port >/dev/null 2>&1 &
        pid=$!
        sleep 2
        curl -sf "http://127.0.0.1:$port/metrics" >"$dir/node.txt" || true
        kill $pid
    fi
    [ -s "$dir/node.txt" ] || python3 "$here/gen_payload.py" small "$dir/node.txt"
fi
[ -s "$dir/big.txt" ] || python3 "$here/gen_payload.py" big "$dir/big.txt"
[ -s "$dir/protobuf.bin" ] || python3 "$here/callgrind_bodies.py" "$dir"
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" ${BENCH_JUDGE:-3} 2>&1 >/dev/null |
        sed -n 's/.*Collected : //p'
}
echo "node_exporter page ($(wc -c <"$dir/node.txt") bytes), 100 verifications: $(count 100 "$dir/node.txt" text)"
echo "generated 9.6 MB page, once: $(count 1 "$dir/big.txt" text)"
echo "one family of 100,000 labelled sample lines, once: $(count 1 "$dir/family.txt" text)"
echo "generated 10 MB OpenMetrics body, once: $(count 1 "$dir/openmetrics.txt" openmetrics)"
echo "generated 50 KB protobuf body, 100 verifications: $(count 100 "$dir/protobuf.bin" protobuf)"
