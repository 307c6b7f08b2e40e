#!/usr/bin/env bash
# Soak (issue 27): 64 clients across http, exec and file modules, verified and pass-through
# mixed, a reload every 10 s, and a labelled container coming and going under Docker
# discovery, for 30 minutes (BENCH_SOAK_SECONDS; CI runs a 2-minute smoke). Samples the proxy's
# RSS and open files every few seconds and fails (exit 1) when they are not flat (the mean of
# the second sixth of the run against the mean of the last sixth, within 10%: minutes 5-10
# against 25-30 of a 30-minute run), when any request failed (a 503 from busy exec slots
# included), when a reload was refused, or when the container was not scraped while it ran.
# See bench/README.md, "Soak".
set -euo pipefail

SECONDS_TOTAL=${BENCH_SOAK_SECONDS:-1800}
CLIENTS=${BENCH_SOAK_CLIENTS:-64}
RELOAD_EVERY=${BENCH_SOAK_RELOAD_EVERY:-10}  # seconds between reloads
SAMPLE_EVERY=${BENCH_SOAK_SAMPLE_EVERY:-5}   # seconds between RSS/fd samples
CONTAINER_UP=${BENCH_SOAK_CONTAINER_UP:-20}  # seconds a container lives
CONTAINER_DOWN=${BENCH_SOAK_CONTAINER_DOWN:-10}
TOLERANCE=${BENCH_SOAK_TOLERANCE:-0.10}
BUSYBOX=${BENCH_BUSYBOX:-/bin/busybox}
NODE_EXPORTER=${BENCH_NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
OURS=${BENCH_OURS:-}
KEEP_TMP=${BENCH_KEEP_TMP:-0}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

command -v wrk >/dev/null || die "missing wrk (apt-get install -y wrk)"
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "missing nginx (apt-get install -y nginx-light)"
command -v docker >/dev/null || die "missing docker (apt-get install -y docker.io)"
timeout 10 docker info >/dev/null 2>&1 || die "no Docker daemon answers (start dockerd)"
[[ -x $BUSYBOX ]] || die "missing $BUSYBOX (apt-get install -y busybox-static)"
if [[ -z $OURS ]]; then
    note "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet) >&2 || die "cargo build --release failed"
    OURS=$ROOT/target/release/exporter_exporter
fi
[[ -x $OURS ]] || die "$OURS not found"
(( SECONDS_TOTAL >= 60 )) || die "BENCH_SOAK_SECONDS must be at least 60"

TMP=$(mktemp -d /tmp/expexp-soak.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/logs" "$TMP/textfile"
make_payloads "$TMP/www"
cp "$TMP/www/small.prom" "$TMP/textfile/small.prom"

# ---------------------------------------------------------------- the container image
# No registry can be pulled from: an image of Debian's static busybox serving one page with its
# httpd, made with `docker import` (as tests/it/docker_support.rs does).
IMAGE=expexp-soak-busybox:$(sha256sum "$BUSYBOX" "$TMP/www/small.prom" | sha256sum | cut -c1-12)
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    root=$TMP/image
    mkdir -p "$root/bin" "$root/www"
    cp "$BUSYBOX" "$root/bin/busybox"
    for applet in sh httpd; do ln -s busybox "$root/bin/$applet"; done
    cp "$TMP/www/small.prom" "$root/www/metrics"
    tar -C "$root" -cf "$TMP/image.tar" .
    docker import --change 'CMD ["/bin/httpd", "-f", "-p", "9100", "-h", "/www"]' "$TMP/image.tar" "$IMAGE" >/dev/null
fi
CONTAINER=expexp-soak-$$
remove_container() { docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; }
trap 'remove_container; cleanup' EXIT

# ---------------------------------------------------------------- origin and proxy
UP_PORT=$(free_port)
nginx_static "$TMP/nginx-up" "$UP_PORT" "$TMP/www"
start_nginx "$TMP/nginx-up"
wait_http "http://127.0.0.1:$UP_PORT/small.prom" "$NGINX_PID" "origin nginx" || die "origin nginx did not start"

cat >"$TMP/page.sh" <<EOF
#!/bin/sh
exec cat $TMP/www/small.prom
EOF
chmod 755 "$TMP/page.sh"
write_config() { # write_config N: the configuration, with a comment that changes on every reload
    cat >"$TMP/expexp.yaml" <<EOF
# generation $1
docker: {refresh_interval: 2s, discover: {label_prefix: prometheus.io}}
modules:
  http_verified:
    method: http
    timeout: 30s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /small.prom}
  http_passthrough:
    method: http
    timeout: 30s
    http: {address: 127.0.0.1, port: $UP_PORT, path: /small.prom, verify: false}
  exec:
    method: exec
    timeout: 30s
    exec: {command: $TMP/page.sh, max_concurrency: 8}
  file:
    method: file
    timeout: 30s
    file: {path: $TMP/textfile/small.prom}
EOF
}
write_config 0
PORT=$(free_port)
"$OURS" -config.file "$TMP/expexp.yaml" -web.listen-address "127.0.0.1:$PORT" -web.enable-lifecycle \
    -log.level warn >"$TMP/logs/ours.log" 2>&1 &
PID=$!
track "$PID"
wait_http "http://127.0.0.1:$PORT/-/ready" "$PID" "the proxy" || die "the proxy did not start: $(tail -5 "$TMP/logs/ours.log")"
BASE=http://127.0.0.1:$PORT

# ---------------------------------------------------------------- load
# Every client goes round the modules in turn; each runs on its own keep-alive connection.
cat >"$TMP/mix.lua" <<'EOF'
local paths = {
    "/proxy?module=http_verified", "/proxy?module=http_passthrough",
    "/proxy?module=exec", "/proxy?module=file",
}
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", paths[(n % #paths) + 1])
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKRESULT %d %d %d %d %d %d %d\n", summary.requests,
        e.connect, e.read, e.write, e.status, e.timeout, summary.duration))
end
EOF
note "soak: $CLIENTS clients for ${SECONDS_TOTAL}s, a reload every ${RELOAD_EVERY}s, a container up ${CONTAINER_UP}s / down ${CONTAINER_DOWN}s"
wrk -t2 -c"$CLIENTS" -d"${SECONDS_TOTAL}s" --timeout 30s -s "$TMP/mix.lua" "$BASE" >"$TMP/logs/wrk.txt" 2>&1 &
WRK=$!
track "$WRK"

# ---------------------------------------------------------------- reloads, churn, samples
SAMPLES=$TMP/samples.tsv # seconds since start, RSS kB, open fds
: >"$SAMPLES"
reloads=0 refused=0 cycles=0 scraped_cycles=0 generation=0
container_state=down next_change=0 scraped_this_cycle=0
next_reload=$RELOAD_EVERY next_sample=0
start=$(date +%s)
while kill -0 "$WRK" 2>/dev/null; do
    now=$(( $(date +%s) - start ))
    if (( now >= next_sample )); then
        printf '%s\t%s\t%s\n' "$now" "$(rss_field VmRSS "$PID")" "$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)" >>"$SAMPLES"
        next_sample=$(( next_sample + SAMPLE_EVERY ))
    fi
    if (( now >= next_reload )); then
        generation=$((generation + 1))
        write_config "$generation"
        code=$(curl -s -o "$TMP/logs/reload.txt" -w '%{http_code}' -X POST --max-time 30 "$BASE/-/reload" || echo 000)
        reloads=$((reloads + 1))
        [[ $code == 200 ]] || { refused=$((refused + 1)); note "reload $reloads: HTTP $code $(head -c 300 "$TMP/logs/reload.txt")"; }
        next_reload=$(( next_reload + RELOAD_EVERY ))
    fi
    if (( now >= next_change )); then
        if [[ $container_state == down ]]; then
            docker run -d --name "$CONTAINER" --label prometheus.io/scrape=true --label prometheus.io/port=9100 \
                --label expexp.test=1 "$IMAGE" >/dev/null
            container_state=up scraped_this_cycle=0 cycles=$((cycles + 1))
            next_change=$(( now + CONTAINER_UP ))
        else
            remove_container
            (( scraped_this_cycle )) && scraped_cycles=$((scraped_cycles + 1))
            container_state=down
            next_change=$(( now + CONTAINER_DOWN ))
        fi
    fi
    # The discovered module is named after the container; scrape it while it runs.
    if [[ $container_state == up ]] && (( ! scraped_this_cycle )); then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/proxy?module=$CONTAINER" || echo 000)
        [[ $code == 200 ]] && scraped_this_cycle=1
    fi
    sleep 1
done
[[ $container_state == up ]] && { remove_container; (( scraped_this_cycle )) && scraped_cycles=$((scraped_cycles + 1)); }
wait "$WRK" || true
untrack "$WRK"

# ---------------------------------------------------------------- verdict
line=$(grep '^WRKRESULT ' "$TMP/logs/wrk.txt" | tail -1 || true)
[[ -n $line ]] || die "wrk gave no result: $(tail -5 "$TMP/logs/wrk.txt")"
read -r _ requests connect readerr writeerr status timeouts _ <<<"$line"
errors=$((connect + readerr + writeerr + status + timeouts))
kill -0 "$PID" 2>/dev/null || die "the proxy exited during the soak: $(tail -5 "$TMP/logs/ours.log")"
echo "== soak: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), ${SECONDS_TOTAL}s, $CLIENTS clients, $("$OURS" -version 2>&1 | head -1)"
echo "requests:   $requests ($((requests / SECONDS_TOTAL))/s); errors: $errors (non-2xx $status, connect $connect, read $readerr, write $writeerr, timeout $timeouts)"
echo "reloads:    $reloads ($refused refused)"
echo "container:  $cycles cycles, scraped through discovery in $scraped_cycles"
flat=0
python3 - "$SAMPLES" "$SECONDS_TOTAL" "$TOLERANCE" <<'EOF' || flat=$?
import statistics, sys
path, total, tol = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rows = [tuple(map(int, l.split())) for l in open(path) if l.strip()]
sixth = total / 6
early = [r for r in rows if sixth <= r[0] < 2 * sixth]
late = [r for r in rows if r[0] >= total - sixth]
ok = True
for name, i in (("RSS kB", 1), ("open fds", 2)):
    a, b = statistics.mean(r[i] for r in early), statistics.mean(r[i] for r in late)
    flat = b <= a * (1 + tol)
    ok &= flat
    print(f"{name + ':':11} {a:,.0f} (s {sixth:.0f}-{2 * sixth:.0f}) -> {b:,.0f} (last {sixth:.0f} s): "
          f"{(b / a - 1) * 100:+.1f}% {'flat' if flat else 'GROWING'}; peak {max(r[i] for r in rows):,}")
sys.exit(0 if ok else 1)
EOF
failed=0
(( errors == 0 )) || { echo "FAIL: $errors failed requests"; failed=1; }
(( refused == 0 )) || { echo "FAIL: $refused reloads refused"; failed=1; }
(( cycles > 0 && scraped_cycles == cycles )) || { echo "FAIL: the container was scraped in $scraped_cycles of $cycles cycles"; failed=1; }
(( flat == 0 )) || { echo "FAIL: RSS or open fds grew by more than ${TOLERANCE}"; failed=1; }
(( failed == 0 )) && echo "PASS"
exit "$failed"
