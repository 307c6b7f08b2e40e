#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 60) and fails if any of them finds a
# crash (a panic, an abort, a timeout or an out-of-memory). This is what CI calls:
#   fuzz/run.sh [SECONDS]
# Steps: install cargo-fuzz if missing (bounded), build all targets once, lay out the seed
# corpus (seed.sh), then run the targets, as many at a time as there are CPUs.
#
# Only the stable toolchain is available. With --sanitizer none every flag cargo-fuzz passes is
# stable (-Cpasses=sancov-module, -Cllvm-args=-sanitizer-coverage-*, --cfg fuzzing), so no
# nightly is needed. (The default, AddressSanitizer, passes -Zsanitizer=address, which stable
# rustc accepts only with RUSTC_BOOTSTRAP=1; it is not used: the crate forbids unsafe code, and
# ASan halves the speed and lengthens the build.) Debug assertions and overflow checks stay on.
#
# Environment: FUZZ_TARGET_DIR (build directory, default fuzz/target: point it somewhere that
# survives between runs to skip the build), FUZZ_JOBS (targets run at once, default nproc),
# FUZZ_TARGETS (space-separated subset), FUZZ_ARGS (more libFuzzer flags).
set -uo pipefail
seconds="${1:-60}"
fuzz="$(cd "$(dirname "$0")" && pwd)"
cd "$fuzz"
target_dir="${FUZZ_TARGET_DIR:-$fuzz/target}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"
targets=(${FUZZ_TARGETS:-verify_text verify_openmetrics verify_protobuf verify_gzip config})
jobs="${FUZZ_JOBS:-$(nproc)}"
start=$SECONDS
say() { printf '[fuzz %4ds] %s\n' "$((SECONDS - start))" "$*"; }

# 1. cargo-fuzz. Without it (no registry, or the install runs over its bound) the targets are
#    built by plain cargo with the flags cargo-fuzz would pass; the binaries are the same.
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (at most 300 s)"
  timeout 300 cargo install --locked cargo-fuzz >/tmp/cargo-fuzz-install.log 2>&1 \
    || say "cargo-fuzz install failed or timed out (see /tmp/cargo-fuzz-install.log); using plain cargo"
fi

# 2. Build.
say "building ${targets[*]}"
if cargo fuzz --version >/dev/null 2>&1; then
  build=(cargo fuzz build --sanitizer none --codegen-units 16 --target-dir "$target_dir")
  "${build[@]}" || { say "build failed"; exit 2; }
else
  RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions -Ccodegen-units=16" \
    cargo build --release --target "$triple" --bins --target-dir "$target_dir" \
    || { say "build failed"; exit 2; }
fi

# 3. Seeds.
"$fuzz/seed.sh" || { say "seeding failed"; exit 2; }

# 4. Run. Each target writes its log to fuzz/artifacts/<target>/log.txt and anything it finds
#    to fuzz/artifacts/<target>/.
run_one() {
  local t="$1" dir="$fuzz/artifacts/$1" dict=()
  mkdir -p "$dir" "$fuzz/corpus/$t"
  case "$t" in
    verify_text) dict=(-dict="$fuzz/dict/text.dict") ;;
    verify_openmetrics) dict=(-dict="$fuzz/dict/openmetrics.dict") ;;
    config) dict=(-dict="$fuzz/dict/config.dict") ;;
  esac
  "$bin_dir/$t" -artifact_prefix="$dir/" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} "$fuzz/corpus/$t" \
    >"$dir/log.txt" 2>&1
}
td_arg=""
[ "$target_dir" = "$fuzz/target" ] || td_arg=" --target-dir $target_dir"
declare -A pid_of
failed=()
say "running ${#targets[@]} targets for ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$t" &
  pid_of[$t]=$!
done
for t in "${targets[@]}"; do
  wait "${pid_of[$t]}"
  rc=$?
  log="$fuzz/artifacts/$t/log.txt"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  cov="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+')"
  if [ "$rc" -eq 0 ]; then
    say "$t: ok, ${execs:-?} runs (${rate:-?}/s), ${cov:-no final stats}"
  else
    failed+=("$t")
    artifact="$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')"
    say "$t: FAILED (exit $rc)"
    grep -E "panicked at|ERROR: libFuzzer|SUMMARY|deadly signal|timeout|out-of-memory" "$log" | head -5 | sed 's/^/    /'
    say "  log:       $log"
    if [ -n "$artifact" ]; then
      say "  artifact:  $artifact"
      say "  reproduce: (cd $fuzz && cargo fuzz run --sanitizer none$td_arg $t $artifact)"
      say "         or: $bin_dir/$t $artifact"
      say "  minimise:  (cd $fuzz && cargo fuzz tmin --sanitizer none$td_arg $t $artifact)"
    fi
  fi
done
say "done in $((SECONDS - start))s"
if [ "${#failed[@]}" -gt 0 ]; then
  say "crashes in: ${failed[*]}"
  exit 1
fi
