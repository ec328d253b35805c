#!/usr/bin/env bash
# What the checked build (-O: overflow, bounds and precondition checks kept) costs against an
# unchecked one (-Ounchecked everywhere, as s2s was built before), side by side in one run:
# the default training step (`s2s bench train`) and greedy and beam-5 decoding of
# test_2016_flickr with MODEL, each timed as a whole process, alternating the two builds.
#
# usage: scripts/bench-checked.sh CHECKED_BIN CORPUS_DIR MODEL [ROUNDS]
set -euo pipefail
checked="$1"; corpus="$2"; model="$3"; rounds="${4:-3}"
here="$(cd "$(dirname "$0")/.." && pwd)"
S2S_UNCHECKED=1 swift build -c release --product s2s --scratch-path "$here/.build-unchecked" >&2
unchecked="$here/.build-unchecked/release/s2s"
input="$corpus/test_2016_flickr.en"
seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1; end=$(date +%s.%N); awk "BEGIN { printf \"%.2f\", $end - $start }"; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') ($(grep -c ^processor /proc/cpuinfo) cores)"
printf "%-8s %-10s %14s %14s %14s\n" round build "train tok/s" "greedy s" "beam5 s"
for round in $(seq "$rounds"); do
  for build in checked unchecked; do
    bin="${!build}"
    tokens=$("$bin" bench train --steps 15 --quiet 2>/dev/null | sed -n 's/^tgt_tokens_per_s=//p')
    greedy=$(seconds "$bin" translate -m "$model" --quiet "$input")
    beam=$(seconds "$bin" translate -m "$model" --beam 5 --quiet "$input")
    printf "%-8s %-10s %14s %14s %14s\n" "$round" "$build" "$tokens" "$greedy" "$beam"
  done
done
