#!/usr/bin/env bash
# The cost of search alone (no network): greedy and beam 5, batch 1 and 64, V = 8000, 1,000
# sentences, with a decoder that copies precomputed log-probabilities. Compiles the search
# sources with the release flags (-O -wmo -target-cpu haswell) plus
# scripts/decoding-search-harness.swift into WORK_DIR and runs it.
# Usage: scripts/bench-decoding-search.sh WORK_DIR    (needs only swiftc)
set -euo pipefail
work="${1:-/tmp/s2s-bench-search}"
here="$(cd "$(dirname "$0")" && pwd)"
sources="$here/../Sources"
mkdir -p "$work/src"
rm -f "$work"/src/*.swift
for file in Hypothesis History TopK GreedySearch BeamSearch StepDecoder; do
    sed -e '/^import S2S/d' "$sources/S2SDecoding/$file.swift" > "$work/src/$file.swift"
done
cp "$here/decoding-search-harness.swift" "$work/src/main.swift"
swiftc -O -wmo -target-cpu haswell "$work"/src/*.swift -o "$work/search-harness" 2>&1 | grep -v warning || true
"$work/search-harness"
