#!/usr/bin/env bash
# Fuzz every reader of outside input with libFuzzer + AddressSanitizer (scripts/fuzz/FuzzTargets.swift
# lists them: container, vocabulary, prepared, lines, translate, eval, server).
# Needs only the Swift toolchain (libFuzzer ships with it on Linux) and make setup's libraries.
#
# Usage: scripts/fuzz/fuzz.sh [SECONDS] [TARGET…]   (SECONDS per target: default $FUZZ_SECONDS or 60;
#        targets: all by default). Runs as many targets at a time as there are cores.
# Builds into .build-fuzz/ (the package's S2SFuzz target), runs each target from its committed seeds (scripts/fuzz/seeds/TARGET)
# plus .build-fuzz/corpus/TARGET (kept between runs), prints each target's executions, rate and
# coverage, and fails if libFuzzer finds a crash (the reproducer is left in .build-fuzz/TARGET/).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN="${1:-${FUZZ_SECONDS:-60}}"
shift || true
TARGETS=(container vocabulary prepared lines translate eval server)
[ $# -gt 0 ] && TARGETS=("$@")
OUT=.build-fuzz
mkdir -p "$OUT"

# The package's S2SFuzz target (Package.swift adds it under S2S_FUZZ=1): every module it
# reaches, dependencies included, built with coverage instrumentation and AddressSanitizer.
echo "building the fuzz targets (.build-fuzz/build.log)" >&2
if ! S2S_FUZZ=1 swift build -c release -Xswiftc -enable-testing --scratch-path "$OUT/build" \
    --sanitize=fuzzer --sanitize=address --product S2SFuzz > "$OUT/build.log" 2>&1; then
  grep -E "error:" "$OUT/build.log" | head -20 >&2; exit 1
fi
cp "$OUT/build/release/S2SFuzz" "$OUT/fuzz"

export S2S_FUZZ_SEEDS="$PWD/scripts/fuzz"
run_target() {
  local target="$1" folder="$OUT/$1"
  mkdir -p "$folder" "$OUT/corpus/$target"
  ( cd "$folder" && S2S_FUZZ_TARGET="$target" ../fuzz -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 \
      -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1 -close_fd_mask=1 \
      "../corpus/$target" "../../scripts/fuzz/seeds/$target" > log 2>&1 )
}
summary() {
  local target="$1" log="$OUT/$1/log" runs rate edges
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if grep -q -E '^==[0-9]+==ERROR|deadly signal|Test unit written' "$log"; then
    echo "fuzz $target: CRASH after ${runs:-?} inputs — see $log and the crash-* file beside it"; return 1
  fi
  echo "fuzz $target: ${SECONDS_TO_RUN}s, ${runs:-?} inputs (${rate:-?}/s), ${edges:-?} edges, 0 crashes"
}

echo "fuzzing ${TARGETS[*]} for ${SECONDS_TO_RUN}s each, $(nproc) at a time" >&2
pids=() started=()
failed=0
for target in "${TARGETS[@]}"; do
  run_target "$target" & pids+=($!); started+=("$target")
  if [ ${#pids[@]} -ge "$(nproc)" ]; then wait "${pids[0]}" || true; summary "${started[0]}" || failed=1; pids=("${pids[@]:1}"); started=("${started[@]:1}"); fi
done
for index in "${!pids[@]}"; do wait "${pids[$index]}" || true; summary "${started[$index]}" || failed=1; done
exit "$failed"
