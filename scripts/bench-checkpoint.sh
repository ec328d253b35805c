#!/usr/bin/env bash
# Checkpoint benchmark: time to open and fully verify a ~53 MB model (13.4 M parameters:
# V=8000, E=256, H=512, A=512), and to average two such models (read both, write one).
# Usage: scripts/bench-checkpoint.sh [S2S_BINARY] [WORK_DIR]
#   defaults: .build/release/s2s, work/bench
# Needs: python3 + numpy to synthesize the model (scripts/write_s2s_model.py), once per WORK_DIR.
set -euo pipefail
S2S="${1:-.build/release/s2s}"
WORK="${2:-work/bench}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$WORK"
for seed in 1 2; do
    [[ -f "$WORK/synthetic$seed.s2s" ]] || "$PYTHON" scripts/write_s2s_model.py "$WORK/synthetic$seed.s2s" --seed "$seed"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
seconds() { local TIMEFORMAT=%R; { time "$@" > /dev/null 2>&1; } 2>&1; }
"$S2S" info "$WORK/synthetic1.s2s" > /dev/null  # warm the page cache
info=$(for _ in 1 2 3 4 5; do seconds "$S2S" info "$WORK/synthetic1.s2s"; done | median)
average=$(for _ in 1 2 3; do seconds "$S2S" average --quiet "$WORK/synthetic1.s2s" "$WORK/synthetic2.s2s" -o "$WORK/average.s2s"; done | median)
size=$(stat -L -c %s "$WORK/synthetic1.s2s")
echo "checkpoint: model of $size bytes: s2s info (open + verify every CRC + decode header) ${info}s median of 5"
echo "checkpoint: s2s average of 2 such models (2 reads + mean + atomic write) ${average}s median of 3"
