#!/usr/bin/env bash
# Scale checks of issue 20, each a figure for BENCHMARKS.md ("Reliability"):
#   1. `translate` streams: peak RSS on 10^4, 10^5 and 10^6 input lines (Multi30k val repeated)
#      with a small model must not grow with the input (the last within 10% of the first).
#   2. `prepare` and `train --dry-run` on 10^7 pairs (Multi30k train repeated 345 times, each
#      copy's lines perturbed by a copy number so no two copies are alike) stay within 1.5× of
#      the corpus memory they report (token ids and offsets) plus a small corpus's baseline RSS.
# Usage: scripts/scale-check.sh [S2S_BINARY] [CORPUS_DIR] [WORK_DIR]
#   defaults: .build/release/s2s, $(scripts/corpus-path.sh), work/scale  (needs ≈ 6 GB of disk)
set -euo pipefail
S2S="${1:-.build/release/s2s}"
CORPUS="${2:-$(scripts/corpus-path.sh)}"
WORK="${3:-work/scale}"
mkdir -p "$WORK"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); family=$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
model=$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
echo "CPU: $cpu (family $family model $model), $(nproc) cores"

# peak_kb LOG: the peak RSS that /usr/bin/time -v wrote into LOG, in kB.
peak_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
# measure LOG OUT COMMAND…: runs COMMAND (stdout to OUT) under /usr/bin/time -v; prints its wall seconds.
measure() {
    local log="$1" out="$2"; shift 2
    /usr/bin/time -v "$@" > "$out" 2> "$log" || { echo "FAIL: $* (see $log)" >&2; tail -3 "$log" >&2; exit 1; }
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$log"
}

# --- 1. translate on 10^4 … 10^6 lines --------------------------------------------------------------
head -n 2000 "$CORPUS/train.en" > "$WORK/small.en"; head -n 2000 "$CORPUS/train.fr" > "$WORK/small.fr"
[[ -f "$WORK/small.s2s" ]] || "$S2S" train "$WORK/small.en" "$WORK/small.fr" -o "$WORK/small.s2s" --quiet \
    --emb 32 --hidden 32 --attention 32 --vocab-size 1000 --max-updates 300
first=""
for lines in 10000 100000 1000000; do
    yes "$(paste -sd'\n' "$CORPUS/val.en")" 2> /dev/null | head -n "$lines" > "$WORK/input.en" || true
    seconds=$(measure "$WORK/translate-$lines.log" /dev/null "$S2S" translate -m "$WORK/small.s2s" --quiet --max-length-factor 1.5 "$WORK/input.en")
    kb=$(peak_kb "$WORK/translate-$lines.log"); first=${first:-$kb}
    echo "translate $lines lines: peak RSS $((kb / 1024)) MB, $seconds s, $(awk -v a="$kb" -v b="$first" 'BEGIN { printf "%.3f", a / b }')× the 10^4-line run"
done
awk -v a="$kb" -v b="$first" 'BEGIN { exit !(a <= 1.10 * b) }' || { echo "FAIL: translate's memory grows with its input" >&2; exit 1; }

# --- 2. prepare and train --dry-run on 10^7 pairs ---------------------------------------------------
pairs=$(wc -l < "$CORPUS/train.en")
copies=$(( (10000000 + pairs - 1) / pairs ))
for side in en fr; do
    [[ -f "$WORK/big.$side" ]] || for copy in $(seq 1 "$copies"); do sed "s/\$/ $copy/" "$CORPUS/train.$side"; done \
        | head -n 10000000 > "$WORK/big.$side"
done
[[ -f "$WORK/v.s2sv" ]] || "$S2S" vocab "$CORPUS/train.en" "$CORPUS/train.fr" -o "$WORK/v.s2sv" --size 8000 --quiet
measure "$WORK/baseline.log" /dev/null "$S2S" train "$WORK/small.en" "$WORK/small.fr" -v "$WORK/v.s2sv" --dry-run --quiet > /dev/null
baseline=$(peak_kb "$WORK/baseline.log")
echo "baseline (2,000 pairs, train --dry-run): peak RSS $((baseline / 1024)) MB"
for run in prepare dry-run; do
    if [[ $run == prepare ]]; then
        command=("$S2S" prepare "$WORK/big.en" "$WORK/big.fr" -v "$WORK/v.s2sv" -o "$WORK/big.s2sd" --quiet)
    else
        command=("$S2S" train "$WORK/big.en" "$WORK/big.fr" -v "$WORK/v.s2sv" --dry-run --quiet)
    fi
    seconds=$(measure "$WORK/$run.log" "$WORK/$run.out" "${command[@]}")
    kb=$(peak_kb "$WORK/$run.log")
    reported=$(awk '/^corpus memory/ { v = $3; u = $4; m = (u == "GB" ? 1048576 : u == "MB" ? 1024 : u == "kB" ? 1 : 1 / 1024); printf "%d", v * m }' "$WORK/$run.out")
    ratio=$(awk -v a="$kb" -v b="$baseline" -v c="$reported" 'BEGIN { printf "%.2f", (a - b) / c }')
    echo "$run 10^7 pairs: $(grep '^pairs kept' "$WORK/$run.out" | sed 's/  */ /g'), corpus memory $((reported / 1024)) MB, peak RSS $((kb / 1024)) MB ($ratio× the corpus memory above the baseline), $seconds s"
    awk -v r="$ratio" 'BEGIN { exit !(r <= 1.5) }' || { echo "FAIL: $run held more than 1.5× its corpus memory" >&2; exit 1; }
done
echo "scale checks passed"
