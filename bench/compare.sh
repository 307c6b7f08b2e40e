#!/usr/bin/env bash
# Throughput / latency / memory comparison of this proxy against the original Go
# exporter_exporter (Debian's prometheus-exporter-exporter) and nginx, on loopback.
# See bench/README.md. A benchmark, not a test: exits 0 whatever the numbers, non-zero
# only when the setup fails.
set -euo pipefail

# ---------------------------------------------------------------- knobs
ROUNDS=${BENCH_ROUNDS:-3}                       # every target is measured once per round
SMALL_DURATION=${BENCH_SMALL_DURATION:-5}       # seconds per measured run, small payload
BIG_DURATION=${BENCH_BIG_DURATION:-10}          # seconds per measured run, big payload
WARMUP=${BENCH_WARMUP:-1}                       # seconds of warm-up before each measured run
SMALL_CONNECTIONS=${BENCH_SMALL_CONNECTIONS:-16}
SMALL_THREADS=${BENCH_SMALL_THREADS:-2}
BIG_CONNECTIONS=${BENCH_BIG_CONNECTIONS:-4}
BIG_THREADS=${BENCH_BIG_THREADS:-1}
EXEC_DURATION=${BENCH_EXEC_DURATION:-5}         # seconds per measured run, exec module
EXEC_CONNECTIONS=${BENCH_EXEC_CONNECTIONS:-4}
EXEC_THREADS=${BENCH_EXEC_THREADS:-1}
ORIGINAL=${BENCH_ORIGINAL:-/usr/bin/prometheus-exporter-exporter}
NODE_EXPORTER=${BENCH_NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
OURS=${BENCH_OURS:-}                            # a prebuilt binary; empty = cargo build --release
KEEP_TMP=${BENCH_KEEP_TMP:-0}                   # 1 = keep the temp dir (configs, logs, wrk output)

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg) # before we add any load
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

# ---------------------------------------------------------------- 1. tools
missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
[[ -x $ORIGINAL ]] || missing+=(prometheus-exporter-exporter)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        note "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
            { DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; } ||
            die "apt-get install ${missing[*]} failed"
    else
        die "missing: ${missing[*]} (install with: apt-get install -y ${missing[*]})"
    fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $ORIGINAL ]] || die "$ORIGINAL not found"
[[ -n $OURS ]] || command -v cargo >/dev/null || die "cargo not found (or set BENCH_OURS to a built binary)"

TMP=$(mktemp -d /tmp/expexp-bench.XXXXXX)
chmod 755 "$TMP" # nginx workers run as nobody when we are root
mkdir -p "$TMP/www" "$TMP/logs" "$TMP/nginx-up" "$TMP/nginx-px"

# ---------------------------------------------------------------- 4a. build ours (early: slowest step)
if [[ -z $OURS ]]; then
    note "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet) >&2 || die "cargo build --release failed"
    OURS=$ROOT/target/release/exporter_exporter
fi
[[ -x $OURS ]] || die "$OURS not found"

# ---------------------------------------------------------------- 2. payloads
make_payloads "$TMP/www"
SMALL_BYTES=$(stat -c %s "$TMP/www/small.prom")
BIG_BYTES=$(stat -c %s "$TMP/www/big.prom")

# ---------------------------------------------------------------- 3. nginx: upstream and proxy
UP_PORT=$(free_port)
PX_PORT=$(free_port)
nginx_static "$TMP/nginx-up" "$UP_PORT" "$TMP/www"
nginx_proxy "$TMP/nginx-px" "$PX_PORT" "$UP_PORT"

start_nginx "$TMP/nginx-up"
NGINX_UP_PID=$NGINX_PID
start_nginx "$TMP/nginx-px"
NGINX_PX_PID=$NGINX_PID
wait_http "http://127.0.0.1:$UP_PORT/small.prom" "$NGINX_UP_PID" "nginx upstream" ||
    die "nginx upstream failed to start (see $TMP/nginx-up/error.log): $(tail -3 "$TMP/nginx-up/error.log" 2>/dev/null)"
wait_http "http://127.0.0.1:$PX_PORT/small.prom" "$NGINX_PX_PID" "nginx proxy" ||
    die "nginx proxy failed to start: $(tail -3 "$TMP/nginx-px/error.log" 2>/dev/null)"

# ---------------------------------------------------------------- 4b. proxies' shared config
# The exec module's script: the cheapest valid page, so what is measured is the module's own
# cost (starting a process, collecting and checking its output), not the script's.
cat >"$TMP/trivial.sh" <<'EOF'
#!/bin/sh
printf '# HELP trivial A constant.\n# TYPE trivial gauge\ntrivial 1\n'
EOF
chmod 755 "$TMP/trivial.sh"
cat >"$TMP/expexp.yaml" <<EOF
modules:
  exec:
    method: exec
    timeout: 10s
    exec: {command: $TMP/trivial.sh}
  small:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /small.prom}
  small_noverify:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /small.prom, verify: false}
  big:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /big.prom}
  big_noverify:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /big.prom, verify: false}
EOF

start_proxy() { # start_proxy ours|original -> sets PROXY_PID, PROXY_PORT
    local which=$1 bin
    [[ $which == ours ]] && bin=$OURS || bin=$ORIGINAL
    PROXY_PORT=$(free_port)
    "$bin" -config.file "$TMP/expexp.yaml" -web.listen-address "127.0.0.1:$PROXY_PORT" -log.level error \
        >>"$TMP/logs/$which.log" 2>&1 &
    PROXY_PID=$!
    track "$PROXY_PID"
    wait_http "http://127.0.0.1:$PROXY_PORT/metrics" "$PROXY_PID" "$which" ||
        die "$which ($bin) failed to start: $(tail -5 "$TMP/logs/$which.log")"
}

# ---------------------------------------------------------------- 5. measuring
cat >"$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKRESULT %d %d %.0f %.0f %d %d %d %d %d %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
EOF


RESULTS=$TMP/results.tsv
: >"$RESULTS"
PROBES=()

# measure ROUND TARGET PAYLOAD URL PIDS...: warm-up, reset the peak-RSS mark, measured run, record.
measure() {
    local round=$1 target=$2 payload=$3 url=$4
    shift 4
    local pids=("$@") dur conns threads probe
    case $payload in
        small) dur=$SMALL_DURATION conns=$SMALL_CONNECTIONS threads=$SMALL_THREADS ;;
        big) dur=$BIG_DURATION conns=$BIG_CONNECTIONS threads=$BIG_THREADS ;;
        *) dur=$EXEC_DURATION conns=$EXEC_CONNECTIONS threads=$EXEC_THREADS ;;
    esac
    if [[ $round == 1 ]]; then
        probe=$(curl -s -o /dev/null --max-time 60 -w '%{http_code} %{size_download}' "$url" || echo "000 0")
        PROBES+=("$(printf '%-22s %-6s HTTP %s, %s bytes' "$target" "$payload" ${probe% *} ${probe#* })")
    fi
    note "round $round/$ROUNDS, $target / $payload: warm-up ${WARMUP}s, run ${dur}s, -t$threads -c$conns"
    wrk -t"$threads" -c"$conns" -d"${WARMUP}s" --timeout 60s "$url" >"$TMP/logs/wrk-$target-$payload-$round-warmup.txt" 2>&1 || true

    # Peak RSS over the measured run: reset VmHWM (clear_refs 5), read it afterwards; where the
    # reset is refused, poll VmRSS every 100 ms instead.
    local hwm_ok=1 p poller="" peakfile=$TMP/peak.$target.$payload
    for p in "${pids[@]}"; do echo 5 2>/dev/null >"/proc/$p/clear_refs" || hwm_ok=0; done
    if [[ $hwm_ok == 0 ]]; then
        echo 0 >"$peakfile"
        (
            peak=0
            while :; do
                r=$(rss_field VmRSS "${pids[@]}")
                ((r > peak)) && { peak=$r; echo "$peak" >"$peakfile"; }
                sleep 0.1
            done
        ) &
        poller=$!
        track "$poller"
    fi
    local out=$TMP/logs/wrk-$target-$payload-$round.txt
    wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 60s --latency -s "$TMP/report.lua" "$url" >"$out" 2>&1 || true
    local rss
    if [[ $hwm_ok == 1 ]]; then
        rss=$(rss_field VmHWM "${pids[@]}")
    else
        stop "$poller"
        rss=$(cat "$peakfile")
    fi
    local line
    line=$(grep '^WRKRESULT ' "$out" | tail -1 || true)
    if [[ -z $line ]]; then
        note "wrk produced no result for $target/$payload (see $out)"
        printf '%s\t%s\t%s\t-\t-\t-\t%s\t-\n' "$round" "$target" "$payload" "$rss" >>"$RESULTS"
        return 0
    fi
    # WRKRESULT requests duration_us p50_us p99_us connect read write status timeout bytes
    awk -v r="$round" -v t="$target" -v pl="$payload" -v rss="$rss" '{
        rps = $2 / ($3 / 1e6); errs = $6 + $7 + $8 + $10; non2xx = $9
        printf "%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%d/%d\n", r, t, pl, rps, $4, $5, rss, non2xx, errs
    }' <<<"$line" >>"$RESULTS"
}

# measure_target ROUND TARGET PAYLOAD: one measured run of one target, a proxy in a fresh
# process each time so no memory is carried over.
measure_target() {
    local round=$1 target=$2 payload=$3 module
    case $target in
        nginx-direct)
            measure "$round" "$target" "$payload" "http://127.0.0.1:$UP_PORT/$payload.prom" \
                $(children_of "$NGINX_UP_PID") ;;
        nginx-proxy)
            measure "$round" "$target" "$payload" "http://127.0.0.1:$PX_PORT/$payload.prom" \
                $(children_of "$NGINX_PX_PID") ;;
        *)
            module=$payload
            [[ $target == *-noverify ]] && module=${payload}_noverify
            start_proxy "${target%%-*}"
            measure "$round" "$target" "$payload" "http://127.0.0.1:$PROXY_PORT/proxy?module=$module" "$PROXY_PID"
            stop "$PROXY_PID" ;;
    esac
}

# Rounds, each measuring every target once, in reverse order every other round: a slow phase
# of the shared machine then falls on every target alike, and the report takes medians.
TARGETS=(nginx-direct nginx-proxy original-verified original-noverify ours-verified ours-noverify)
in_order() { # in_order ROUND TARGET...: the targets, reversed in even rounds
    local round=$1 i
    shift
    if ((round % 2 == 1)); then echo "$@"; else for ((i = $#; i >= 1; i--)); do echo -n "${!i} "; done; fi
}
for payload in small big; do
    for round in $(seq "$ROUNDS"); do
        for target in $(in_order "$round" "${TARGETS[@]}"); do measure_target "$round" "$target" "$payload"; done
    done
done
# The exec module: a process per scrape, its output checked by both (exec has no verify switch).
for round in $(seq "$ROUNDS"); do
    for target in $(in_order "$round" original-verified ours-verified); do measure_target "$round" "$target" exec; done
done

# ---------------------------------------------------------------- 6. report
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
echo "== exporter_exporter comparison benchmark"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r), $(awk '/^MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "load avg:  $LOAD_START (1/5/15 min) when the script started; other work on the machine skews the figures"
echo "ours:      $("$OURS" -version 2>&1 | head -1)"
echo "original:  $ORIGINAL $("$ORIGINAL" -version 2>&1 | head -1 | sed 's/ *(.*//')"
echo "nginx:     $("$NGINX" -v 2>&1 | sed 's/.*version: //'), workers: $(nproc) per instance (auto), upstream keepalive 32"
echo "rounds:    $ROUNDS, every target measured once per round (in reverse order in even rounds)"
echo "wrk:       $(wrk -v 2>&1 | head -1 | awk '{print $2}'), small: -t$SMALL_THREADS -c$SMALL_CONNECTIONS ${SMALL_DURATION}s, big: -t$BIG_THREADS -c$BIG_CONNECTIONS ${BIG_DURATION}s, exec: -t$EXEC_THREADS -c$EXEC_CONNECTIONS ${EXEC_DURATION}s, warm-up ${WARMUP}s each"
echo "payloads:  small $SMALL_BYTES bytes ($SMALL_SOURCE); big $BIG_BYTES bytes (gen_payload.py big: 10000 families x 10 series); exec: a /bin/sh script printing one gauge"
echo "probes (one GET each before loading):"
for p in "${PROBES[@]}"; do echo "  $p"; done
echo
python3 "$HERE/report.py" "$RESULTS"
exit 0
