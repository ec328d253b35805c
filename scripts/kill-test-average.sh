#!/usr/bin/env bash
# Kill test of atomic model writes that runs today, before `s2s train` exists: SIGKILL
# `s2s average` (two ~53 MB models → one) at random moments and check that the output path
# always holds a complete, verified model — the old one or the new one, never a mixture — and
# that only stray `*.tmp.XXXXXX` temporaries are left behind.
# Usage: scripts/kill-test-average.sh [S2S_BINARY] [WORK_DIR] [KILLS]
#   defaults: .build/release/s2s, work/bench (shares the synthetic models of bench-checkpoint.sh), 30
# Needs: python3 + numpy once, to synthesize the models (scripts/write_s2s_model.py).
set -euo pipefail
S2S="${1:-.build/release/s2s}"
WORK="${2:-work/bench}"
KILLS="${3:-30}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$WORK/kill"
for seed in 1 2; do
    [[ -f "$WORK/synthetic$seed.s2s" ]] || "$PYTHON" scripts/write_s2s_model.py "$WORK/synthetic$seed.s2s" --seed "$seed"
done
OUT="$WORK/kill/out.s2s"
cp "$WORK/synthetic1.s2s" "$OUT"  # the "old" model: not averaged
old=0 new=0 strays=0
for kill in $(seq 1 "$KILLS"); do
    "$S2S" average --quiet "$WORK/synthetic1.s2s" "$WORK/synthetic2.s2s" -o "$OUT" &
    pid=$!
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.2 + (r % 1200) / 1000 }')"  # 0.2–1.4 s
    kill -KILL "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    json=$("$S2S" info --json "$OUT") || { echo "FAIL: $OUT unreadable after kill $kill" >&2; exit 1; }
    if grep -q '"averagedFrom"' <<< "$json"; then new=$((new + 1)); cp "$WORK/synthetic1.s2s" "$OUT"; else old=$((old + 1)); fi
    found=$(find "$WORK/kill" -name 'out.s2s.tmp.*' | wc -l)
    strays=$((strays + found))
    find "$WORK/kill" -name 'out.s2s.tmp.*' -delete
done
echo "kill test (s2s average): $KILLS SIGKILLs, output always a complete verified model: $old old, $new new; $strays stray temporaries removed"
