#!/usr/bin/env bash
# The Windows service, end to end under wine's service manager, with a fresh wine prefix:
#   - `-winsvc install` with flags: the service's command line in the registry holds them
#     (`-name=value`, a true boolean bare, a false one `=false`, the exe path quoted as it has
#     a space), start type automatic, the description, and the Event Log source registered;
#   - a second install and an unknown -winsvc value are refused;
#   - `-winsvc start`: the service serves file, exec (cmd.exe, in a Job Object) and http
#     modules, relative paths resolved beside the exe (the service manager starts services in
#     System32), and reloads on POST /-/reload;
#   - `-winsvc stop` returns once the service reports Stopped (it drains first), and the port
#     is closed;
#   - `-winsvc uninstall` removes the service and its Event Log source;
#   - installed without flags, the service's argument is the expexp.yaml beside the exe, which
#     it serves (when port 9999, the default, is free here); `-winsvc uninstall` stops it
#     while it runs, then removes it;
#   - a configuration refused at start stops the service, and an Event Log error names it.
# Wine stands in for the service manager's calls, not for Windows itself (docs/windows.md).
#
#   tests/windows/service.sh EXE      (EXE: exporter_exporter.exe, e.g. from build-windows.sh)
#
# About 30 s. Needs wine, wine64 and mingw-w64 (installed if missing, see
# packaging/windows/env.sh); runs as any user.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/windows/lib.sh
. tests/windows/lib.sh
wine_test service
[ $# -eq 1 ] && [ -f "$1" ] || fail "usage: tests/windows/service.sh EXE"
exe_src=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

step "a fresh wine prefix"
wine_prefix "$work/prefix"
# Wine's service manager lives as long as an ordinary program of the prefix does. It starts
# the session's services.exe, whose programs inherit its standard error and WINEDEBUG: wine's
# ReportEventW writes each Event Log entry it is given on its `eventlog` debug channel, the
# only way to read entries back under wine.
wine reg add 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' /v WINEDEBUG \
  /d '-all,trace+eventlog,warn+eventlog,err+eventlog' /f >/dev/null 2>&1
wineserver -w
WINEDEBUG=-all,trace+eventlog,warn+eventlog,err+eventlog wine 'C:\expexp-test\hold.exe' \
  >/dev/null 2>"$work/wine-debug.log" &
# The service manager must be this program's child, or the entries go elsewhere: the next wine
# command would start it when it comes first (once in a CI run), so wait until it runs here.
services_started=no
for _ in $(seq 150); do
  for pid in $(pgrep -f 'services\.exe' || true); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX"; then
      services_started=yes
    fi
  done
  [ "$services_started" = yes ] && break
  sleep 0.2
done
[ "$services_started" = yes ] || fail "wine's service manager did not start under hold.exe"

dir_unix="$WINEPREFIX/drive_c/Program Files/exporter_exporter"
dir_win='C:\Program Files\exporter_exporter'
exe_win="$dir_win\\exporter_exporter.exe"
mkdir -p "$dir_unix"
cp "$exe_src" "$dir_unix/exporter_exporter.exe"

port=$(free_port)
printf 'expexp_service_test{kind="file"} 1\n' >"$dir_unix/file.prom"
printf 'expexp_service_test{kind="exec"} 1\n' >"$dir_unix/exec.prom"
cat >"$dir_unix/test.yaml" <<YAML
modules:
  textfile:
    method: file
    file: {path: file.prom}
  script:
    method: exec
    timeout: 10s
    exec:
      command: cmd.exe
      args: ["/c", "type", "exec.prom"]
  self:
    method: http
    http: {address: 127.0.0.1, port: $port, path: /metrics}
  broken:
    method: http
    http: {address: 127.0.0.1, port: 1}
  slow:
    method: exec
    timeout: 30s
    exec:
      command: 'C:\expexp-test\hold.exe'
      args: ['-sleep', '3000', '-print', 'slow 1', '-exit', 'slow.lock']
YAML

run() { in_wine "$exe_win" "$@"; }
service_key='HKLM\SYSTEM\CurrentControlSet\Services\exporter_exporter'
source_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\exporter_exporter'
url="http://127.0.0.1:$port"

step "install with flags (Chocolatey's --winsvc=install spelling)"
out=$(run --winsvc=install "-config.file=$dir_win\\test.yaml" -web.listen-address "127.0.0.1:$port" \
  -web.enable-lifecycle -web.debug-scrapes=false -log.level=info -web.bearer.token-file=) ||
  fail "install: $out"
echo "$out"
grep -q 'service exporter_exporter installed' <<<"$out" || fail "install said: $out"

step "the registry: command line, start type, description, Event Log source"
image=$(reg_query "$service_key" /v ImagePath)
echo "$image"
for want in "\"$exe_win\"" "\"-config.file=$dir_win\\test.yaml\"" "-web.listen-address=127.0.0.1:$port" \
            " -web.enable-lifecycle " "-web.debug-scrapes=false" "-log.level=info" "-web.bearer.token-file= "; do
  grep -qF -- "$want" <<<"$image " || fail "ImagePath lacks $want: $image"
done
grep -q -- '-winsvc' <<<"$image" && fail "ImagePath holds -winsvc: $image"
reg_query "$service_key" /v Start | grep -q '0x2' || fail "start type is not automatic (2)"
reg_query "$service_key" /v Description | grep -q 'Reverse proxy for Prometheus exporters' ||
  fail "no description"
source=$(reg_query "$source_key")
echo "$source"
grep -q 'EventCreate.exe' <<<"$source" || fail "the Event Log source is not registered: $source"
grep -q 'TypesSupported.*0x7' <<<"$source" || fail "the Event Log source's types: $source"

step "refusals: a second install, an unknown -winsvc value"
if out=$(run -winsvc install); then fail "a second install succeeded: $out"; fi
echo "$out"
grep -q 'already exists' <<<"$out" || fail "second install said: $out"
if out=$(run -winsvc remove); then fail "-winsvc remove succeeded: $out"; fi
echo "$out"
grep -q 'unknown -winsvc command "remove"' <<<"$out" || fail "-winsvc remove said: $out"

step "start; scrape file, exec (cmd.exe) and http modules through the running service"
out=$(run -winsvc start) || fail "start: $out"
echo "$out"
answers "$url" || fail "the service does not answer on $url"
body=$(curl -sf "$url/proxy?module=textfile") || fail "file module"
grep -q 'expexp_service_test{kind="file"} 1' <<<"$body" || fail "file module served: $body"
body=$(curl -sf "$url/proxy?module=script") || fail "exec module"
grep -q 'expexp_service_test{kind="exec"} 1' <<<"$body" || fail "exec module served: $body"
body=$(curl -sf "$url/proxy?module=self") || fail "http module"
grep -q '^expexp_command_starts_total{module="script"} 1' <<<"$body" || fail "http module served: $body"
grep -q '^process_resident_memory_bytes ' <<<"$body" || fail "no process_* metrics: $body"
echo "file, exec and http modules served"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/-/reload")
[ "$code" = 200 ] || fail "POST /-/reload: $code"
echo "reloaded"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/proxy?module=broken")
[ "$code" = 502 ] || fail "the broken module: $code"
cp "$dir_unix/test.yaml" "$work/test.yaml"
echo 'modules: [' >"$dir_unix/test.yaml"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/-/reload")
[ "$code" = 500 ] || fail "POST /-/reload of a broken configuration: $code"
cp "$work/test.yaml" "$dir_unix/test.yaml"
echo "a failed scrape and a refused reload"

step "stop: the service drains (a scrape in flight is answered) and stops"
curl -s -o "$work/slow.out" -w '%{http_code}' "$url/proxy?module=slow" >"$work/slow.code" &
slow_scrape=$!
sleep 1
out=$(run -winsvc stop) || fail "stop: $out"
echo "$out"
wait "$slow_scrape" || true
[ "$(cat "$work/slow.code")" = 200 ] && grep -q '^slow 1' "$work/slow.out" ||
  fail "the scrape in flight at stop: $(cat "$work/slow.code") $(cat "$work/slow.out")"
echo "the scrape in flight was answered"
if curl -s -o /dev/null "$url/-/healthy"; then fail "still answering after stop"; fi

step "the service's log lines are Event Log entries of their level (read back through wine's eventlog channel)"
tr -d '\r' <"$work/wine-debug.log" | grep ':eventlog:ReportEventW' >"$work/entries" || true
cat "$work/entries"
for want in 'trace:eventlog:ReportEventW L"time=.* level=info msg=\\"starting as a service\\"' \
            'trace:eventlog:ReportEventW L"time=.* level=info msg=listening address=127.0.0.1:'"$port" \
            'trace:eventlog:ReportEventW L"time=.* level=info msg=request .*path=/proxy module=script status=200' \
            'warn:eventlog:ReportEventW L"time=.* level=warn msg=\\"scrape failed\\".* module=broken' \
            'err:eventlog:ReportEventW L"time=.* level=error msg=\\"reload refused' \
            'trace:eventlog:ReportEventW L"time=.* level=info msg=\\"service stop requested' \
            'trace:eventlog:ReportEventW L"time=.* level=info msg=\\"service stopped\\"'; do
  grep -q -- "$want" "$work/entries" || fail "no Event Log entry matching: $want"
done

step "uninstall: the service and its Event Log source are gone"
out=$(run -winsvc uninstall) || fail "uninstall: $out"
echo "$out"
if reg_query "$service_key" /v ImagePath | grep -q ImagePath; then fail "the service is still registered"; fi
if reg_query "$source_key" | grep -q EventMessageFile; then fail "the Event Log source is still registered"; fi

step "installed without flags, the service reads expexp.yaml beside the exe; uninstalled while running"
out=$(run -winsvc install) || fail "install without flags: $out"
image=$(reg_query "$service_key" /v ImagePath)
echo "$image"
grep -qF "\"-config.file=$dir_win\\expexp.yaml\"" <<<"$image" || fail "default argument: $image"
# Without flags the service listens on the default :9999, which may be taken on this machine
# (then only the registry is checked, with a SKIPPED line; under CI=true that fails). A module that only the file
# beside the exe names shows that this file is the one read.
port_default=9999
if (exec 3<>"/dev/tcp/127.0.0.1/$port_default") 2>/dev/null; then
  [ "${CI:-}" != true ] || fail "port $port_default is taken: the service installed without flags cannot be run"
  echo "SKIPPED: port $port_default is taken here: the default configuration is checked in the registry only"
else
  printf 'modules:\n  beside:\n    method: file\n    file: {path: file.prom}\n' >"$dir_unix/expexp.yaml"
  out=$(run -winsvc start) || fail "start without flags: $out"
  answers "http://127.0.0.1:$port_default" || fail "the service installed without flags does not answer on :$port_default"
  body=$(curl -sf "http://127.0.0.1:$port_default/proxy?module=beside") || fail "module beside"
  grep -q 'expexp_service_test{kind="file"} 1' <<<"$body" || fail "module beside served: $body"
  echo "serving expexp.yaml beside the exe on :$port_default"
fi
out=$(run -winsvc uninstall) || fail "uninstall: $out"
echo "$out"
if curl -s -o /dev/null "http://127.0.0.1:$port_default/-/healthy"; then
  fail "still answering after uninstall (it stops the service first)"
fi
if reg_query "$service_key" /v ImagePath | grep -q ImagePath; then fail "the service is still registered"; fi

step "a configuration refused at start: the service stops with exit code 1, and the Event Log says why"
out=$(run -winsvc install "-config.file=$dir_win\\missing.yaml" -web.listen-address "127.0.0.1:$port") ||
  fail "install with a missing configuration: $out"
out=$(run -winsvc start) || fail "start (the service manager takes the request): $out"
state=''
for _ in $(seq 100); do
  state=$(in_wine sc query exporter_exporter) || true
  grep -q 'STOPPED' <<<"$state" && break
  sleep 0.2
done
echo "$state"
grep -q 'STOPPED' <<<"$state" || fail "the service with a missing configuration did not stop: $state"
# ERROR_SERVICE_SPECIFIC_ERROR, and the binary's exit code for a configuration refused.
grep -Eq 'WIN32_EXIT_CODE +: 1066 ' <<<"$state" && grep -Eq 'SERVICE_EXIT_CODE +: 1 ' <<<"$state" ||
  fail "not stopped with the service-specific exit code 1: $state"
if curl -s -o /dev/null "$url/-/healthy"; then fail "a service whose configuration was refused answers"; fi
tr -d '\r' <"$work/wine-debug.log" | grep ':eventlog:ReportEventW' >"$work/entries" || true
grep -q 'err:eventlog:ReportEventW L"time=.* level=error .*missing.yaml' "$work/entries" ||
  fail "no Event Log error naming missing.yaml: $(tail -5 "$work/entries")"
grep 'missing.yaml' "$work/entries" | tail -1
out=$(run -winsvc uninstall) || fail "uninstall: $out"

step "uninstalling what is not installed is an error"
if out=$(run -winsvc uninstall); then fail "uninstall of nothing succeeded: $out"; fi
echo "$out"

step "ok"
