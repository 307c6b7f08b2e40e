#!/usr/bin/env bash
# CPU per scrape and latency of this proxy against nginx as a plain reverse proxy (issue 27):
# one client, the same two pages as compare.sh, each target's own CPU time (utime + stime from
# /proc) divided by the scrapes it served; then the rate of 8 and 64 clients, verified against
# `verify: false`. See bench/README.md, "CPU per scrape". A benchmark, not a test: exits 0
# whatever the numbers, non-zero only when the setup fails.
set -euo pipefail

# ---------------------------------------------------------------- knobs
ROUNDS=${BENCH_ROUNDS:-5}                 # interleaved rounds; every figure is a median over them
DURATION=${BENCH_DURATION:-10}            # seconds of each measured one-client run
WARMUP=${BENCH_WARMUP:-2}                 # seconds of warm-up before each measured run
LEVELS=${BENCH_LEVELS-8 64}               # client counts of the rate runs ("" skips them)
LEVEL_DURATION=${BENCH_LEVEL_DURATION:-5} # seconds of each rate run
PAYLOADS=${BENCH_PAYLOADS:-small big}     # also small-om, small-pb, small-gz, big-om, big-pb, big-gz (lib.sh)
TARGETS=${BENCH_TARGETS:-nginx-proxy ours-verified ours-noverify}
EXTRA=${BENCH_EXTRA:-}                    # more builds of ours: "name=/path/to/binary ..." (each gets -verified and -noverify)
NODE_EXPORTER=${BENCH_NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
OURS=${BENCH_OURS:-}
KEEP_TMP=${BENCH_KEEP_TMP:-0}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

command -v wrk >/dev/null || die "missing wrk (apt-get install -y wrk)"
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "missing nginx (apt-get install -y nginx-light)"
command -v python3 >/dev/null || die "missing python3"
if [[ -z $OURS ]]; then
    note "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet) >&2 || die "cargo build --release failed"
    OURS=$ROOT/target/release/exporter_exporter
fi
[[ -x $OURS ]] || die "$OURS not found"
TICK=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/expexp-cpu.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/logs"
make_payloads "$TMP/www"
# shellcheck disable=SC2086
make_format_pages "$TMP/www" $PAYLOADS
for p in $PAYLOADS; do
    # Every page must be one a verified scrape serves, or the figures would be of refusals.
    "$OURS" -check.metrics "$TMP/www/$p.prom" -check.content-type "$(content_type_of "$p")" >/dev/null ||
        die "$p.prom does not verify: $("$OURS" -check.metrics "$TMP/www/$p.prom" 2>&1 | head -3)"
    printf '%s\t%s\n' "$p" "$(page_bytes "$TMP/www" "$p")" >>"$TMP/pages.tsv"
done

# The origin: a separate nginx serving both pages as files. Its CPU is never counted.
UP_PORT=$(free_port)
nginx_static "$TMP/nginx-up" "$UP_PORT" "$TMP/www"
start_nginx "$TMP/nginx-up"
wait_http "http://127.0.0.1:$UP_PORT/small.prom" "$NGINX_PID" "origin nginx" || die "origin nginx did not start"
PX_PORT=$(free_port)
nginx_proxy "$TMP/nginx-px" "$PX_PORT" "$UP_PORT"
start_nginx "$TMP/nginx-px"
NGINX_PX_PID=$NGINX_PID
wait_http "http://127.0.0.1:$PX_PORT/small.prom" "$NGINX_PX_PID" "nginx proxy" || die "nginx proxy did not start"

cat >"$TMP/expexp.yaml" <<EOF
modules:
EOF
for p in $PAYLOADS; do
    cat >>"$TMP/expexp.yaml" <<EOF
  $p:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /$p.prom}
  ${p}_noverify:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /$p.prom, verify: false}
EOF
done

cat >"$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKRESULT %d %d %.0f %.0f %d %d %d %d %d %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
EOF

binary_of() { # binary_of TARGET: the build a target of ours runs
    local build=${1%-*} spec
    [[ $build == ours ]] && { echo "$OURS"; return; }
    spec=$(tr ' ' '\n' <<<"$EXTRA" | grep "^${build}=" | head -1 | cut -d= -f2-)
    [[ -n $spec ]] || die "no BENCH_EXTRA entry for $build"
    echo "$spec"
}

# start_target TARGET PAYLOAD -> URL, CPU_PIDS (whose CPU counts), OWN_PID (ours: stopped after)
start_target() {
    local target=$1 payload=$2 port module
    OWN_PID=""
    if [[ $target == nginx-proxy ]]; then
        URL="http://127.0.0.1:$PX_PORT/$payload.prom"
        read -r -a CPU_PIDS <<<"$(children_of "$NGINX_PX_PID" | tr '\n' ' ')"
        return
    fi
    port=$(free_port)
    "$(binary_of "$target")" -config.file "$TMP/expexp.yaml" -web.listen-address "127.0.0.1:$port" -log.level error \
        >>"$TMP/logs/$target.log" 2>&1 &
    OWN_PID=$!
    track "$OWN_PID"
    wait_http "http://127.0.0.1:$port/metrics" "$OWN_PID" "$target" || die "$target did not start: $(tail -3 "$TMP/logs/$target.log")"
    module=$payload
    [[ $target == *-noverify ]] && module=${payload}_noverify
    URL="http://127.0.0.1:$port/proxy?module=$module"
    CPU_PIDS=("$OWN_PID")
}

RESULTS=$TMP/results.tsv
: >"$RESULTS"

# run ROUND TARGET PAYLOAD CLIENTS SECONDS: warm-up, then a measured wrk run; one line of
# RESULTS: round target payload clients requests seconds cpu_seconds p50_us p99_us bytes errors
run() {
    local round=$1 target=$2 payload=$3 clients=$4 secs=$5 out before after line
    start_target "$target" "$payload"
    wrk -t1 -c"$clients" -d"${WARMUP}s" --timeout 60s "$URL" >/dev/null 2>&1 || true
    out=$TMP/logs/wrk-$target-$payload-$clients-$round.txt
    before=$(cpu_ticks "${CPU_PIDS[@]}")
    wrk -t1 -c"$clients" -d"${secs}s" --timeout 60s --latency -s "$TMP/report.lua" "$URL" >"$out" 2>&1 || true
    after=$(cpu_ticks "${CPU_PIDS[@]}")
    [[ -n $OWN_PID ]] && stop "$OWN_PID"
    line=$(grep '^WRKRESULT ' "$out" | tail -1 || true)
    [[ -n $line ]] || { note "wrk gave no result for $target/$payload/$clients (see $out)"; return 0; }
    # WRKRESULT requests duration_us p50_us p99_us connect read write status timeout bytes
    awk -v r="$round" -v t="$target" -v pl="$payload" -v c="$clients" -v cpu=$(((after - before))) -v tick="$TICK" '{
        printf "%s\t%s\t%s\t%s\t%d\t%.3f\t%.2f\t%s\t%s\t%s\t%d\n", r, t, pl, c, $2, $3 / 1e6, cpu / tick, $4, $5, $11, $6 + $7 + $8 + $9 + $10
    }' <<<"$line" >>"$RESULTS"
}

all_targets=($TARGETS)
for spec in $EXTRA; do all_targets+=("${spec%%=*}-verified" "${spec%%=*}-noverify"); done
in_order() { # in_order ROUND ITEM...: the items, reversed in even rounds
    local round=$1 i
    shift
    if ((round % 2 == 1)); then echo "$@"; else for ((i = $#; i >= 1; i--)); do echo -n "${!i} "; done; fi
}
for round in $(seq "$ROUNDS"); do
    for payload in $PAYLOADS; do
        for target in $(in_order "$round" "${all_targets[@]}"); do
            note "round $round/$ROUNDS, $target / $payload: 1 client, ${DURATION}s"
            run "$round" "$target" "$payload" 1 "$DURATION"
        done
    done
done
for clients in $LEVELS; do
    for round in $(seq "$ROUNDS"); do
        for payload in $PAYLOADS; do
            for target in $(in_order "$round" "${all_targets[@]}"); do
                note "round $round/$ROUNDS, $target / $payload: $clients clients, ${LEVEL_DURATION}s"
                run "$round" "$target" "$payload" "$clients" "$LEVEL_DURATION"
            done
        done
    done
done

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
echo "== CPU per scrape: this proxy against nginx as a plain reverse proxy"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r)"
echo "load avg:  $LOAD_START (1/5/15 min) when the script started"
echo "ours:      $("$OURS" -version 2>&1 | head -1)$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null | sed 's/^/, revision /')"
echo "nginx:     $(nginx -v 2>&1 | sed 's/.*version: //'), $(nproc) workers, upstream keepalive 32, HTTP/1.1, access_log off"
echo "payloads:  small $(stat -c %s "$TMP/www/small.prom") bytes ($SMALL_SOURCE); big $(stat -c %s "$TMP/www/big.prom") bytes (gen_payload.py big); measured: $PAYLOADS"
echo "rounds:    $ROUNDS interleaved (reversed in even rounds); one client ${DURATION}s after ${WARMUP}s warm-up; rate runs ${LEVEL_DURATION}s at ${LEVELS:-none} clients"
echo
python3 "$HERE/cpu_report.py" "$RESULTS" "$TMP/pages.tsv"
exit 0
