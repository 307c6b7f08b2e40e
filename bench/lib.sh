# Shared by bench/compare.sh and bench/load.sh (sourced): messages, the processes a benchmark
# starts (all stopped on exit, also on Ctrl-C), its temp dir ($TMP, kept with KEEP_TMP=1),
# free loopback ports, and waiting for a server to answer.

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# ---------------------------------------------------------------- process bookkeeping
PIDS=()
TMP=""
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ $KEEP_TMP == 1 ]]; then note "kept $TMP"; else rm -rf "$TMP"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

track() { PIDS+=("$1"); }
untrack() {
    local p keep=()
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
stop() { # stop PID: TERM, up to 5 s, then KILL
    local p=$1
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    untrack "$p"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # wait_http URL PID NAME: until the URL answers anything, or the process dies
    local url=$1 pid=$2 name=$3
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -s -o /dev/null --max-time 2 "$url" && return 0
        sleep 0.1
    done
    echo "${0##*/}: $name did not answer $url" >&2
    return 1
}

# ---------------------------------------------------------------- /proc
children_of() { # PIDs whose parent is $1
    grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null | sed 's|/proc/\([0-9]*\)/status|\1|' || true
}
rss_field() { # rss_field FIELD PID...: sum of FIELD (kB) over the PIDs
    local f=$1 sum=0 p v
    shift
    for p in "$@"; do
        v=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || true)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# ---------------------------------------------------------------- nginx
# nginx_conf DIR SERVER-BLOCK [HTTP-EXTRA]: an nginx of its own in DIR (no daemon, no access log,
# keep-alive without limit). As root its workers run as nobody.
nginx_conf() {
    local dir=$1 user=""
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && user="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
    cat >"$dir/nginx.conf" <<CONF
$user
daemon off;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    ${3:-}
    $2
}
CONF
}
# The Content-Types of the pages by their name's end (make_format_pages); any other page is
# text 0.0.4. A `-gz` page is gzip-compressed text, sent with Content-Encoding: gzip.
OPENMETRICS_TYPE="application/openmetrics-text; version=1.0.0; charset=utf-8"
PROTOBUF_TYPE="application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
# nginx_static DIR PORT ROOT: a static file server for ROOT's *.prom pages.
nginx_static() {
    nginx_conf "$1" "types { } default_type \"text/plain; version=0.0.4\";
    server { listen 127.0.0.1:$2; root $3; location / { }
        location ~ -om\\.prom\$ { default_type \"$OPENMETRICS_TYPE\"; }
        location ~ -pb\\.prom\$ { default_type \"$PROTOBUF_TYPE\"; }
        location ~ -gz\\.prom\$ { add_header Content-Encoding gzip; } }"
}
# nginx_proxy DIR PORT UPSTREAM-PORT: nginx as a plain reverse proxy, configured as a careful
# operator would (HTTP/1.1 to the upstream, 32 kept-alive upstream connections, no access log).
nginx_proxy() {
    nginx_conf "$1" "server { listen 127.0.0.1:$2;
        location / { proxy_pass http://upstream_nginx; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }" \
        "upstream upstream_nginx { server 127.0.0.1:$3; keepalive 32; }"
}
# start_nginx DIR -> NGINX_PID (the master; its workers are children_of it)
start_nginx() {
    local dir=$1 bin
    bin=$(command -v nginx || echo /usr/sbin/nginx)
    "$bin" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >&2 || die "nginx -t failed for $dir/nginx.conf"
    "$bin" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    track "$NGINX_PID"
}

# ---------------------------------------------------------------- CPU time
# cpu_ticks PID...: utime + stime (clock ticks, all threads, reaped children not counted) summed
# over the PIDs. Field 2 of /proc/PID/stat may hold spaces, so count from its closing bracket.
cpu_ticks() {
    local sum=0 p rest
    for p in "$@"; do
        rest=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        # after "pid (comm) ", utime and stime are the 12th and 13th fields
        sum=$((sum + $(awk '{print $12 + $13}' <<<"$rest")))
    done
    echo "$sum"
}

# ---------------------------------------------------------------- payloads
# make_payloads WWW: WWW/small.prom, a real node_exporter page (NODE_EXPORTER, scraped once on a
# free port; a synthetic page of the same shape when that fails), and WWW/big.prom, 10,000
# families x 10 series (gen_payload.py big, deterministic). Sets SMALL_SOURCE.
make_payloads() {
    local www=$1 port ne here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    mkdir -p "$www"
    SMALL_SOURCE="synthetic (gen_payload.py small)"
    if [[ -x ${NODE_EXPORTER:-} ]]; then
        port=$(free_port)
        "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" >"$www/../node_exporter.log" 2>&1 &
        ne=$!
        track "$ne"
        if wait_http "http://127.0.0.1:$port/metrics" "$ne" node_exporter 2>/dev/null &&
            curl -sf --max-time 10 -H 'Accept: text/plain' -o "$www/small.prom" "http://127.0.0.1:$port/metrics" &&
            [[ -s $www/small.prom ]]; then
            SMALL_SOURCE="$("$NODE_EXPORTER" --version 2>&1 | head -1 | sed 's/ *(.*//') /metrics"
        else
            rm -f "$www/small.prom"
        fi
        stop "$ne"
    fi
    if [[ ! -s $www/small.prom ]]; then
        note "node_exporter scrape unavailable, using a synthetic small page"
        python3 "$here/gen_payload.py" small "$www/small.prom" || die "gen_payload.py small failed"
    fi
    python3 "$here/gen_payload.py" big "$www/big.prom" || die "gen_payload.py big failed"
    chmod 644 "$www/"*.prom
}

# make_format_pages WWW PAYLOAD...: the pages beyond small and big that PAYLOAD names, as
# WWW/PAYLOAD.prom: small-om, the small page as OpenMetrics (gen_payload.py openmetrics-of:
# Debian's node_exporter 1.5 does not serve OpenMetrics), small-pb, the node_exporter page as
# protobuf (scraped again with that Accept header; there is no synthetic stand-in), big-om and big-pb (gen_payload.py), and
# small-gz and big-gz, the text page gzip-compressed (level 6, as client_golang's default).
make_format_pages() {
    local www=$1 p port ne here accept
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    shift
    for p in "$@"; do
        case $p in
            small | big) ;;
            small-gz | big-gz) gzip -6 -n -c "$www/${p%-gz}.prom" >"$www/$p.prom" ;;
            big-om | big-pb) python3 "$here/gen_payload.py" "$p" "$www/$p.prom" || die "gen_payload.py $p failed" ;;
            small-om) python3 "$here/gen_payload.py" openmetrics-of "$www/small.prom" "$www/$p.prom" ||
                die "gen_payload.py openmetrics-of failed" ;;
            small-pb)
                [[ -x ${NODE_EXPORTER:-} ]] || die "$p needs a node_exporter (NODE_EXPORTER)"
                accept=$PROTOBUF_TYPE
                port=$(free_port)
                "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" >"$www/../node_exporter-$p.log" 2>&1 &
                ne=$!
                track "$ne"
                wait_http "http://127.0.0.1:$port/metrics" "$ne" node_exporter || die "node_exporter did not start for $p"
                curl -sf --max-time 10 -H "Accept: $accept" -o "$www/$p.prom" "http://127.0.0.1:$port/metrics" ||
                    die "node_exporter gave no protobuf page"
                stop "$ne"
                ;;
            *) die "unknown page $p (small, big, and either with -om, -pb or -gz)" ;;
        esac
        chmod 644 "$www/$p.prom"
    done
}

# content_type_of PAYLOAD: the Content-Type nginx_static serves the page with.
content_type_of() {
    case $1 in
        *-om) echo "$OPENMETRICS_TYPE" ;;
        *-pb) echo "$PROTOBUF_TYPE" ;;
        *) echo "text/plain; version=0.0.4" ;;
    esac
}

# page_bytes WWW PAYLOAD: the bytes a verifier reads of the page (a -gz page's decoded size).
page_bytes() {
    if [[ $2 == *-gz ]]; then gzip -dc "$1/$2.prom" | wc -c; else stat -c %s "$1/$2.prom"; fi
}
