#!/usr/bin/env bash
# Load benchmark (issue 18): memory and throughput of this proxy, the original Go
# exporter_exporter (Debian's prometheus-exporter-exporter) and nginx as a plain reverse proxy
# under many concurrent clients of one 9.6 MB verified page, and the same three in front of a
# fragile exporter (backlog 5, a connection per request) under 1000 kept-alive clients.
# See bench/README.md, "Load". A benchmark, not a test: exits 0 whatever the numbers, non-zero
# only when the setup fails.
set -euo pipefail

# ---------------------------------------------------------------- knobs
LEVELS=${BENCH_LEVELS:-16 64 256}          # concurrent clients of the 9.6 MB page
DURATION=${BENCH_DURATION:-10}             # seconds of each loaded run
SETTLE=${BENCH_SETTLE:-30}                 # seconds after the load before the settled RSS
TIMEOUT=${BENCH_TIMEOUT:-10s}              # wrk's per-request timeout
TARGETS=${BENCH_TARGETS:-nginx-proxy original ours}
MODES=${BENCH_MODES:-same}                 # same: every client the same URL; distinct: a new query each request
EXTRA=${BENCH_EXTRA:-}                     # more builds of ours: "name=/path/to/binary[@ENV=V,ENV2=V2] ..."
FRAGILE_CLIENTS=${BENCH_FRAGILE_CLIENTS:-1000}
FRAGILE_DURATION=${BENCH_FRAGILE_DURATION:-20}
FRAGILE=${BENCH_FRAGILE:-1}                # 0 skips the fragile-exporter runs
RSS_CAP_MIB=${BENCH_RSS_CAP_MIB:-6144}     # a target above this is killed (the machine is shared)
ORIGINAL=${BENCH_ORIGINAL:-/usr/bin/prometheus-exporter-exporter}
OURS=${BENCH_OURS:-}
KEEP_TMP=${BENCH_KEEP_TMP:-0}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

# ---------------------------------------------------------------- tools
command -v wrk >/dev/null || die "missing wrk (apt-get install -y wrk)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "missing nginx (apt-get install -y nginx-light)"
[[ -x $ORIGINAL ]] || die "missing $ORIGINAL (apt-get install -y prometheus-exporter-exporter)"
command -v python3 >/dev/null || die "missing python3"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [[ -z $OURS ]]; then
    note "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet) >&2 || die "cargo build --release failed"
    OURS=$ROOT/target/release/exporter_exporter
fi

TMP=$(mktemp -d /tmp/expexp-load.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/www" "$TMP/logs"
python3 "$HERE/gen_payload.py" big "$TMP/www/big.prom" || die "gen_payload.py failed"
chmod 644 "$TMP/www/big.prom"
BIG_BYTES=$(stat -c %s "$TMP/www/big.prom")

# ---------------------------------------------------------------- upstreams
nginx_user=""
[[ $(id -u) == 0 ]] && nginx_user="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
nginx_conf() { # DIR HTTP-BODY
    mkdir -p "$1"
    cat >"$1/nginx.conf" <<CONF
$nginx_user
daemon off;
worker_processes auto;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $1/client_body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    $2
}
CONF
}
UP_PORT=$(free_port)
nginx_conf "$TMP/nginx-up" "types { } default_type \"text/plain; version=0.0.4\";
    server { listen 127.0.0.1:$UP_PORT; location / { root $TMP/www; } }"
"$NGINX" -p "$TMP/nginx-up" -e "$TMP/nginx-up/error.log" -c "$TMP/nginx-up/nginx.conf" >/dev/null 2>&1 &
UP_PID=$!
track "$UP_PID"
wait_http "http://127.0.0.1:$UP_PORT/big.prom" "$UP_PID" "upstream nginx" || die "upstream nginx did not start"

FRAGILE_PORT=$(free_port)
start_fragile() {
    python3 "$HERE/fragile_exporter.py" "$FRAGILE_PORT" >>"$TMP/logs/fragile.log" 2>&1 &
    FRAGILE_PID=$!
    track "$FRAGILE_PID"
    wait_http "http://127.0.0.1:$FRAGILE_PORT/metrics" "$FRAGILE_PID" "fragile exporter" || die "fragile exporter did not start"
}

cat >"$TMP/expexp.yaml" <<YAML
modules:
  big:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /big.prom}
  fragile:
    method: http
    timeout: 60s
    http: {address: 127.0.0.1, port: $FRAGILE_PORT, path: /metrics}
YAML

# ---------------------------------------------------------------- targets
# start_target NAME -> TARGET_PID (the process whose memory counts: for nginx its master; the
# workers are summed), TARGET_BIG, TARGET_FRAGILE (URLs)
start_target() {
    local name=$1 port spec bin envs=() dir
    port=$(free_port)
    case $name in
        nginx-proxy)
            dir=$TMP/nginx-px-$RANDOM
            nginx_conf "$dir" "server { listen 127.0.0.1:$port;
        location /big.prom { proxy_pass http://127.0.0.1:$UP_PORT; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
        location /fragile { proxy_pass http://127.0.0.1:$FRAGILE_PORT/metrics; } }"
            "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >/dev/null 2>&1 &
            TARGET_PID=$!
            TARGET_BIG=http://127.0.0.1:$port/big.prom
            TARGET_FRAGILE=http://127.0.0.1:$port/fragile ;;
        *)
            if [[ $name == original ]]; then
                bin=$ORIGINAL
            elif [[ $name == ours ]]; then
                bin=$OURS
            else
                spec=$(tr ' ' '\n' <<<"$EXTRA" | grep "^${name}=" | head -1 | cut -d= -f2-)
                [[ -n $spec ]] || die "no BENCH_EXTRA entry for $name"
                bin=${spec%%@*}
                [[ $spec == *@* ]] && IFS=, read -r -a envs <<<"${spec#*@}"
            fi
            env "${envs[@]}" "$bin" -config.file "$TMP/expexp.yaml" -web.listen-address "127.0.0.1:$port" \
                -log.level error >>"$TMP/logs/$name.log" 2>&1 &
            TARGET_PID=$!
            TARGET_BIG="http://127.0.0.1:$port/proxy?module=big"
            TARGET_FRAGILE="http://127.0.0.1:$port/proxy?module=fragile" ;;
    esac
    track "$TARGET_PID"
    wait_http "${TARGET_BIG%%\?*}" "$TARGET_PID" "$name" || true
    sleep 0.3
}
# Every process whose memory counts: the target, or its nginx workers.
target_pids() {
    if [[ $1 == nginx-proxy ]]; then
        children_of "$TARGET_PID"
    else
        echo "$TARGET_PID"
    fi
}
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKRESULT %d %d %.0f %.0f %d %d %d %d %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
cat >"$TMP/distinct.lua" <<'LUA'
local counter = 0
request = function()
    counter = counter + 1
    return wrk.format(nil, wrk.path .. "&n=" .. counter .. "-" .. math.random(1000000000))
end
LUA
sed -n '/^done/,$p' "$TMP/report.lua" >>"$TMP/distinct.lua"

# run_wrk CLIENTS SECONDS SCRIPT URL -> prints "req/s p50ms p99ms non2xx errors timeouts"
run_wrk() {
    local out=$TMP/logs/wrk-$RANDOM.txt threads=2
    (($1 < 2)) && threads=1
    wrk -t"$threads" -c"$1" -d"$2s" --timeout "$TIMEOUT" --latency -s "$3" "$4" >"$out" 2>&1 || true
    grep '^WRKRESULT ' "$out" | tail -1 | awk '{
        printf "%.1f %.1f %.1f %d %d %d\n", $2 / ($3 / 1e6), $4 / 1000, $5 / 1000, $9, $6 + $7 + $8, $10 }'
}

RESULTS=$TMP/results.txt
: >"$RESULTS"
measure_big() { # measure_big TARGET MODE CLIENTS
    local target=$1 mode=$2 clients=$3 script=$TMP/report.lua pids idle peak settled res capped=""
    [[ $mode == distinct ]] && script=$TMP/distinct.lua
    note "$target, $mode URL, $clients clients: ${DURATION}s, then ${SETTLE}s settling"
    start_target "$target"
    curl -s -o /dev/null --max-time 60 "$TARGET_BIG" || true
    sleep 1
    mapfile -t pids < <(target_pids "$target")
    idle=$(rss_field VmRSS "${pids[@]}")
    for p in "${pids[@]}"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
    # A watchdog: the machine is shared, so a target over the cap is killed.
    (
        while sleep 0.2; do
            r=$(rss_field VmRSS "${pids[@]}")
            if ((r > RSS_CAP_MIB * 1024)); then
                echo "$r" >"$TMP/capped"
                kill -KILL "${pids[@]}" "$TARGET_PID" 2>/dev/null
                exit 0
            fi
        done
    ) &
    local dog=$!
    rm -f "$TMP/capped"
    res=$(run_wrk "$clients" "$DURATION" "$script" "$TARGET_BIG")
    peak=$(rss_field VmHWM "${pids[@]}")
    if [[ -f $TMP/capped ]]; then
        capped=" (killed above ${RSS_CAP_MIB} MiB)"
        peak=$(cat "$TMP/capped")
        settled=0
    else
        sleep "$SETTLE"
        settled=$(rss_field VmRSS "${pids[@]}")
    fi
    kill "$dog" 2>/dev/null || true
    wait "$dog" 2>/dev/null || true
    stop "$TARGET_PID"
    echo "big $target $mode $clients ${res:-0 0 0 0 0 0} $(mib "$idle") $(mib "$peak") $(mib "$settled")$capped" >>"$RESULTS"
}
measure_fragile() { # measure_fragile TARGET
    local target=$1 res peak
    note "$target, fragile exporter, $FRAGILE_CLIENTS clients: ${FRAGILE_DURATION}s"
    start_fragile
    start_target "$target"
    curl -s -o /dev/null --max-time 10 "$TARGET_FRAGILE" || true
    curl -s -o /dev/null "http://127.0.0.1:$FRAGILE_PORT/reset"
    res=$(run_wrk "$FRAGILE_CLIENTS" "$FRAGILE_DURATION" "$TMP/report.lua" "$TARGET_FRAGILE")
    peak=$(curl -s --max-time 5 "http://127.0.0.1:$FRAGILE_PORT/peak" || echo "?")
    stop "$TARGET_PID"
    stop "$FRAGILE_PID"
    echo "fragile $target - $FRAGILE_CLIENTS ${res:-0 0 0 0 0 0} $peak" >>"$RESULTS"
}

ALL_TARGETS=$TARGETS
for e in $EXTRA; do ALL_TARGETS+=" ${e%%=*}"; done
for mode in $MODES; do
    for clients in $LEVELS; do
        for target in $ALL_TARGETS; do measure_big "$target" "$mode" "$clients"; done
    done
done
if [[ $FRAGILE == 1 ]]; then
    for target in $ALL_TARGETS; do measure_fragile "$target"; done
fi

# ---------------------------------------------------------------- report
echo "== exporter_exporter load benchmark"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   $(nproc) CPUs, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/^MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "load avg:  $LOAD_START when the script started, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "ours:      $("$OURS" -version 2>&1 | head -1)"
echo "original:  $ORIGINAL $("$ORIGINAL" -version 2>&1 | head -1 | sed 's/ *(.*//')"
echo "nginx:     $("$NGINX" -v 2>&1 | sed 's/.*version: //'), $(nproc) workers"
[[ -n $EXTRA ]] && echo "extra:     $EXTRA"
echo "big page:  $BIG_BYTES bytes; runs of ${DURATION}s, wrk --timeout $TIMEOUT, settled RSS ${SETTLE}s after the load"
echo
echo "| target | URL | clients | req/s | p50 ms | p99 ms | non-2xx | errors | timeouts | idle RSS MiB | peak RSS MiB | settled RSS MiB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
awk '$1 == "big" { extra = ""; for (i = 14; i <= NF; i++) extra = extra " " $i
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, extra, $13 }' "$RESULTS"
if [[ $FRAGILE == 1 ]]; then
    echo
    echo "Fragile exporter (python3 http.server, backlog 5, HTTP/1.0), $FRAGILE_CLIENTS kept-alive clients, ${FRAGILE_DURATION}s:"
    echo
    echo "| target | req/s | p50 ms | p99 ms | non-2xx | errors | timeouts | most upstream connections at once |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    awk '$1 == "fragile" { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $5, $6, $7, $8, $9, $10, $11 }' "$RESULTS"
fi
exit 0
