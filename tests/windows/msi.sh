#!/usr/bin/env bash
# The MSI (packaging/windows/exporter_exporter.wxs, made by build-windows.sh) under wine's
# msiexec, with a fresh wine prefix:
#   - `msiexec /i ... /qn LISTEN=127.0.0.1:PORT` installs the exe, the example expexp.yaml, the
#     service (its command line in the registry, start type automatic) and its Event Log
#     source, and starts the service, which serves with the configuration beside the exe;
#   - a newer version replaces it (MajorUpgrade) and runs, the edited configuration kept;
#   - `msiexec /x` stops and removes the service and its source, and keeps the configuration.
# Wine stands in for Windows Installer here, not for Windows itself (docs/windows.md).
#
#   tests/windows/msi.sh MSI     (MSI: exporter_exporter_VERSION_Windows_x86_64.msi)
#
# About 30 s. Needs wine, wixl and msitools (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/windows/lib.sh
. tests/windows/lib.sh
wine_test msi
[ $# -eq 1 ] && [ -f "$1" ] || fail "usage: tests/windows/msi.sh MSI"
msi=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
apt_install wixl msitools

step "a fresh wine prefix"
wine_prefix "$work/prefix"
# Wine's service manager lives as long as an ordinary program of the prefix does.
wine 'C:\expexp-test\hold.exe' >/dev/null 2>&1 &

port=$(free_port)
url="http://127.0.0.1:$port"
dir="$WINEPREFIX/drive_c/Program Files/exporter_exporter"
service_key='HKLM\SYSTEM\CurrentControlSet\Services\exporter_exporter'
source_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\exporter_exporter'
# Wine's launcher, started while the prefix's first programs are still coming up on a loaded
# machine, can fail to start msiexec at all ("ShellExecuteEx failed: Internal error", once in a
# CI run, never again in a row of reruns): that is tried again, up to 3 times; any failure of
# msiexec itself is not.
msiexec() {
  local try out rc
  for try in 1 2 3; do
    rc=0
    out=$(in_wine msiexec "$@") || rc=$?
    grep -q 'ShellExecuteEx failed' <<<"$out" || break
    echo "wine could not start msiexec (try $try of 3): $out" >&2
    sleep 2
  done
  printf '%s\n' "$out"
  return "$rc"
}

step "install: the service runs with the configuration beside the exe"
msiexec /i "$msi" /qn "LISTEN=127.0.0.1:$port" || fail "msiexec /i"
ls "$dir"
for f in exporter_exporter.exe expexp.yaml README.txt LICENSE.txt; do
  [ -f "$dir/$f" ] || fail "$f not installed"
done
image=$(reg_query "$service_key" /v ImagePath)
echo "$image"
grep -qF '"-config.file=C:\Program Files\exporter_exporter\expexp.yaml"' <<<"$image" || fail "ImagePath: $image"
grep -qF -- "-web.listen-address=127.0.0.1:$port" <<<"$image" || fail "ImagePath: $image"
reg_query "$service_key" /v Start | grep -q '0x2' || fail "start type is not automatic (2)"
reg_query "$source_key" | grep -q 'EventCreate.exe' || fail "no Event Log source"
answers "$url" || fail "the service does not answer on $url"
# The example configuration's one module is windows_exporter, not running here: a 502.
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/proxy?module=windows")
[ "$code" = 502 ] || fail "module windows of the example configuration: $code"
echo "started, serving the example configuration"

step "upgrade: a newer version replaces it; the edited configuration stays"
printf '  edited:\n    method: file\n    file: {path: edited.prom}\n' >>"$dir/expexp.yaml"
printf 'edited 1\n' >"$dir/edited.prom"
version=$(msiinfo export "$msi" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductVersion" {print $2}')
newer="$work/newer.msi"
cp "$msi" "$newer"
IFS=. read -r major minor patch <<<"$version"
newer_version="$major.$minor.$((patch + 1))"
# What wixl makes of the same .wxs with the next VERSION: a new product code, the version, and
# MajorUpgrade's Upgrade rows (older versions are removed, newer ones refuse to downgrade).
# The rows' versions are part of their key, so they are deleted and inserted again.
code="{$(tr a-z A-Z </proc/sys/kernel/random/uuid)}"
upgrade_code=$(msiinfo export "$msi" Property | tr -d '\r' | awk -F'\t' '$1 == "UpgradeCode" {print $2}')
q() { printf -- '-q\n%s\n' "$1"; }
mapfile -t queries < <(
  q "UPDATE \`Property\` SET \`Value\` = '$newer_version' WHERE \`Property\` = 'ProductVersion'"
  q "UPDATE \`Property\` SET \`Value\` = '$code' WHERE \`Property\` = 'ProductCode'"
  q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'"
  q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_DOWNGRADE_DETECTED'"
  q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('$upgrade_code', '$newer_version', 1, 'WIX_UPGRADE_DETECTED')"
  q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMin\`, \`Attributes\`, \`ActionProperty\`) VALUES ('$upgrade_code', '$newer_version', 2, 'WIX_DOWNGRADE_DETECTED')"
)
msibuild "$newer" "${queries[@]}" || fail "msibuild could not make version $newer_version"
msiexec /i "$newer" /qn "LISTEN=127.0.0.1:$port" || fail "msiexec /i of $newer_version"
grep -q '^  edited:' "$dir/expexp.yaml" || fail "the upgrade replaced the edited configuration"
answers "$url" || fail "the upgraded service does not answer"
body=$(curl -sf "$url/proxy?module=edited") || fail "the edited configuration's module"
grep -q '^edited 1' <<<"$body" || fail "module edited served: $body"
echo "upgraded to $newer_version, the edited configuration in use"

step "uninstall: the service and its source go, the configuration stays"
msiexec /x "$newer" /qn || fail "msiexec /x"
if curl -s -o /dev/null "$url/-/healthy"; then fail "still answering after uninstall"; fi
if reg_query "$service_key" /v ImagePath | grep -q ImagePath; then fail "the service is still registered"; fi
if reg_query "$source_key" | grep -q EventMessageFile; then fail "the Event Log source is still registered"; fi
[ ! -f "$dir/exporter_exporter.exe" ] || fail "the exe is still there"
grep -q '^  edited:' "$dir/expexp.yaml" || fail "the configuration was removed"

step "ok"
