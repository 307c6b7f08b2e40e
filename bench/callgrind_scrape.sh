#!/usr/bin/env bash
# Instructions per scrape of the whole proxy (callgrind), beyond start-up, for each kind of
# scrape; see bench/README.md, "CPU per scrape". Instruction counts do not depend on the
# machine's load, so before/after figures can be taken on a busy machine; wall time is not used.
#   bench/callgrind_scrape.sh                      this tree's release build
#   BENCH_OURS=/path/to/exporter_exporter bench/callgrind_scrape.sh
#   BENCH_REV=REV bench/callgrind_scrape.sh         REV's proxy (built by bench/at_revision.sh;
#                                                  BENCH_REV_TARGET_DIR reuses a target folder)
# One server runs under `valgrind --tool=callgrind` with GLIBC_TUNABLES set to the tunables the
# binary would run itself again with (read from the binary), so it does not run itself again and
# its malloc behaves as in production. Its modules: http on an nginx origin serving the 57 KB and
# the 9.6 MB page (gen_payload.py small and big, deterministic, so every run sees the same
# bytes), verified and `verify: false`; exec, a tiny /bin/sh script; file, the 57 KB page. For
# each kind, one scrape at a time (one curl, its connection kept alive): BENCH_WARMUP scrapes,
# then the counters are zeroed (callgrind_control -z), BENCH_SCRAPES scrapes (BENCH_BIG_SCRAPES
# of the 9.6 MB page) and a dump (callgrind_control --dump); the dump's total / scrapes is the
# figure. Every scrape must be a 200 of the expected size. Prints one line per kind.
# The pages come from this tree's gen_payload.py, also with BENCH_REV. A benchmark, not a test:
# exits non-zero only when the setup fails. BENCH_KEEP_TMP=1 keeps the dumps (callgrind.out.N,
# one per kind in the order of BENCH_KINDS); bench/callgrind_diff.py compares two of them.
set -euo pipefail

WARMUP=${BENCH_WARMUP:-5}
SCRAPES=${BENCH_SCRAPES:-100}
BIG_SCRAPES=${BENCH_BIG_SCRAPES:-5}
KINDS=${BENCH_KINDS:-small small_noverify big big_noverify exec file}
OURS=${BENCH_OURS:-}
KEEP_TMP=${BENCH_KEEP_TMP:-0}
NODE_EXPORTER="" # make_payloads: the synthetic 57 KB page, the same bytes in every run

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
repo=$ROOT

# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
# shellcheck source=bench/at_revision.sh
source "$HERE/at_revision.sh"
trap 'cleanup; at_revision_cleanup' EXIT

for tool in valgrind callgrind_control curl python3; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y valgrind curl python3)"
done
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "missing nginx (apt-get install -y nginx-light)"

if [[ -n ${BENCH_REV:-} ]]; then
    [[ -z $OURS ]] || die "give BENCH_OURS or BENCH_REV, not both"
    note "release build of $BENCH_REV"
    build_binary_at "$BENCH_REV"
    OURS=$built
    WHAT="revision $(git -C "$ROOT" rev-parse --short "$BENCH_REV")"
elif [[ -z $OURS ]]; then
    note "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet) >&2 || die "cargo build --release failed"
    OURS=$ROOT/target/release/exporter_exporter
    WHAT="this tree, revision $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' with changes')"
else
    WHAT=$OURS
fi
[[ -x $OURS ]] || die "$OURS not found"

# The tunables the binary sets when it runs itself again (src/platform/unix/malloc.rs).
TUNABLES=$(grep -a -o -m1 'glibc\.malloc\.arena_max=[0-9a-z_.=:]*' "$OURS" | head -1 || true)
[[ -n $TUNABLES ]] || die "no glibc.malloc tunables found in $OURS"

TMP=$(mktemp -d /tmp/expexp-callgrind-scrape.XXXXXX)
chmod 755 "$TMP"
make_payloads "$TMP/www"
for p in small big; do
    "$OURS" -check.metrics "$TMP/www/$p.prom" >/dev/null || die "$p.prom does not verify"
done
cat >"$TMP/exec.sh" <<'EOF'
#!/bin/sh
echo '# HELP bench_value A value.'
echo '# TYPE bench_value gauge'
echo 'bench_value{kind="exec"} 1'
EOF
chmod 755 "$TMP/exec.sh"

UP_PORT=$(free_port)
nginx_static "$TMP/nginx-up" "$UP_PORT" "$TMP/www"
start_nginx "$TMP/nginx-up"
wait_http "http://127.0.0.1:$UP_PORT/small.prom" "$NGINX_PID" "origin nginx" || die "origin nginx did not start"

echo "modules:" >"$TMP/expexp.yaml"
for p in small big; do
    cat >>"$TMP/expexp.yaml" <<EOF
  $p: {method: http, timeout: 600s, http: {address: 127.0.0.1, port: $UP_PORT, path: /$p.prom}}
  ${p}_noverify: {method: http, timeout: 600s, http: {address: 127.0.0.1, port: $UP_PORT, path: /$p.prom, verify: false}}
EOF
done
cat >>"$TMP/expexp.yaml" <<EOF
  exec: {method: exec, timeout: 600s, exec: {command: $TMP/exec.sh}}
  file: {method: file, timeout: 600s, file: {path: $TMP/www/small.prom}}
EOF

PORT=$(free_port)
# Names written out in every dump, so that callgrind_annotate reads each one on its own.
GLIBC_TUNABLES=$TUNABLES valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$TMP/callgrind.out" \
    "$OURS" -config.file "$TMP/expexp.yaml" -web.listen-address "127.0.0.1:$PORT" -log.level error \
    >"$TMP/server.log" 2>&1 &
SERVER=$!
track "$SERVER"
for _ in $(seq 600); do
    kill -0 "$SERVER" 2>/dev/null || die "the server under valgrind exited: $(tail -5 "$TMP/server.log")"
    curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/metrics" && break
    sleep 0.2
done
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/metrics" || die "the server did not answer"

SMALL="$(($(stat -c %s "$TMP/www/small.prom") / 1000)) KB page"
BIG="$(python3 -c "print(f'{$(stat -c %s "$TMP/www/big.prom") / 1e6:.1f}')") MB page"
describe() {
    case $1 in
        small) echo "http, $SMALL, verified" ;;
        small_noverify) echo "http, $SMALL, verify: false" ;;
        big) echo "http, $BIG, verified" ;;
        big_noverify) echo "http, $BIG, verify: false" ;;
        exec) echo "exec, /bin/sh script (4 lines)" ;;
        file) echo "file, $SMALL" ;;
        *) die "unknown kind $1 ($KINDS)" ;;
    esac
}
# scrape KIND COUNT: COUNT scrapes, one at a time over one kept-alive connection; dies unless
# each is a 200 of at least the page's size.
scrape() {
    local kind=$1 n=$2 url min args=() codes
    url="http://127.0.0.1:$PORT/proxy?module=$kind"
    case $kind in
        small* | file) min=$(stat -c %s "$TMP/www/small.prom") ;;
        big*) min=$(stat -c %s "$TMP/www/big.prom") ;;
        *) min=1 ;;
    esac
    for _ in $(seq "$n"); do args+=("$url" -o /dev/null); done
    codes=$(curl -s --max-time 3600 -w '%{http_code} %{size_download}\n' "${args[@]}") || die "curl failed on $kind"
    awk -v n="$n" -v min="$min" '$1 == 200 && $2 >= min {ok++} END {exit !(ok == n && NR == n)}' <<<"$codes" ||
        die "$kind: not every scrape was a 200 of $min bytes or more: $(sort <<<"$codes" | uniq -c | head -3)"
}
DUMPS=0
dump() { # dump KIND: dumps the counters into $TMP/callgrind.out.N (N counts the dumps)
    DUMPS=$((DUMPS + 1))
    callgrind_control --dump="$1" "$SERVER" >/dev/null || die "callgrind_control --dump failed"
    [[ -s $TMP/callgrind.out.$DUMPS ]] || die "callgrind wrote no $TMP/callgrind.out.$DUMPS"
}
total_of() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; } # the instructions in a dump

date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "# instructions per scrape beyond start-up (callgrind), $date_utc"
echo "# binary: $WHAT ($("$OURS" -version 2>&1 | head -1))"
echo "# warm-up $WARMUP scrapes per kind; then $SCRAPES scrapes ($BIG_SCRAPES of the $BIG), one at a time"
for kind in $KINDS; do
    what=$(describe "$kind")
    n=$SCRAPES
    [[ $kind == big* ]] && n=$BIG_SCRAPES
    note "$what: $WARMUP warm-up, $n measured"
    scrape "$kind" "$WARMUP"
    callgrind_control -z "$SERVER" >/dev/null || die "callgrind_control -z failed"
    scrape "$kind" "$n"
    dump "$kind"
    total=$(total_of "$TMP/callgrind.out.$DUMPS")
    [[ -n $total ]] || die "no total in the dump for $kind"
    printf '%-36s %14s instructions per scrape (%d scrapes)\n' "$what" "$((total / n))" "$n"
done
stop "$SERVER"
exit 0
