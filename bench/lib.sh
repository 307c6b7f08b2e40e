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
