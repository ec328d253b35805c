#!/usr/bin/env bash
# Kill test of the atomic writes of `s2s average` and `s2s prepare`: SIGKILL each at random
# moments while it replaces an existing output, and check after every kill that
#   - the output is the old file (byte for byte) or a complete new one whose content matches an
#     uninterrupted run's (the same bytes for `prepare`; for `average`, whose models carry a
#     creation time and an id, a verified model with the same tensor checksums), never a mixture
#     or a truncation,
#   - no temporary (`*.tmp.*`) is left in the folder once the command has run again (a kill in
#     the instant between naming the finished file and renaming it leaves one, and the next
#     run of the command removes it; the count of those is printed).
# Prints one summary line per command; exits non-zero on the first failure.
#
# Usage: scripts/kill-test-outputs.sh [S2S_BINARY] [CORPUS_DIR] [WORK_DIR] [KILLS]
#   defaults: .build/release/s2s, $(scripts/corpus-path.sh), work/kill-outputs, 50 (per command)
# Needs python3 + numpy once, to synthesize two ~53 MB models (scripts/write_s2s_model.py).
set -euo pipefail
S2S="${1:-.build/release/s2s}"
CORPUS="${2:-$(scripts/corpus-path.sh)}"
WORK="${3:-work/kill-outputs}"
KILLS="${4:-50}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$WORK/out"

# The inputs: two synthetic models to average; Multi30k four times over to prepare, so that
# the write of the prepared corpus takes long enough for kills to land inside it.
for seed in 1 2; do
    [[ -f "$WORK/synthetic$seed.s2s" ]] || "$PYTHON" scripts/write_s2s_model.py "$WORK/synthetic$seed.s2s" --seed "$seed"
done
for side in en fr; do
    for copy in 1 2 3 4; do cat "$CORPUS/train.$side"; done > "$WORK/big.$side"
    head -n 1000 "$CORPUS/train.$side" > "$WORK/small.$side"
done
[[ -f "$WORK/v.s2sv" ]] || "$S2S" vocab "$WORK/small.en" "$WORK/small.fr" -o "$WORK/v.s2sv" --size 2000 --quiet

# What must match between two complete outputs: a model's tensors (checksums, verified on
# load), any other file's bytes.
content() {
    case "$1" in
        *.s2s) "$S2S" info --tensors "$1" 2> /dev/null | sed -n '/^tensors$/,$p' ;;
        *) sha256sum < "$1" ;;
    esac
}

# kill_writes NAME OLD NEW COMMAND…: COMMAND writes $WORK/out/NAME; OLD is the file before it
# runs and NEW what an uninterrupted run writes.
kill_writes() {
    local name="$1" old="$2" new; new=$(content "$3"); shift 3
    local output="$WORK/out/$name" kept_old=0 got_new=0 strays=0 started finished
    started=$(date +%s.%N); "$@" > /dev/null; finished=$(date +%s.%N)
    [[ "$(content "$output")" == "$new" ]] || { echo "FAIL: $name: an uninterrupted run differs from the reference" >&2; exit 1; }
    local span; span=$(awk -v a="$started" -v b="$finished" 'BEGIN { printf "%d", (b - a) * 1000 }')
    for kill in $(seq 1 "$KILLS"); do
        cp "$old" "$output"
        "$@" > /dev/null 2>&1 &
        local pid=$!
        # A random moment in the first 110% of an uninterrupted run's span.
        sleep "$(awk -v r="$RANDOM" -v span="$span" 'BEGIN { printf "%.3f", (r % 1100) / 1000 * span / 1000 }')"
        kill -KILL "$pid" 2> /dev/null || true
        wait "$pid" 2> /dev/null || true
        if cmp -s "$output" "$old"; then kept_old=$((kept_old + 1))
        elif [[ "$(content "$output")" == "$new" ]]; then got_new=$((got_new + 1))
        else echo "FAIL: $name after kill $kill is neither the old nor the new file" >&2; exit 1; fi
        strays=$((strays + $(find "$WORK/out" -name "*.tmp.*" | wc -l)))
    done
    "$@" > /dev/null
    local left; left=$(find "$WORK/out" -name "*.tmp.*" | wc -l)
    echo "kill test (s2s $name): $KILLS SIGKILLs in a ${span} ms run: output always complete ($kept_old old, $got_new new); $strays temporaries seen after kills, $left left after the next run"
    [[ $left -eq 0 ]] || { echo "FAIL: $name left $left temporaries" >&2; exit 1; }
}

"$S2S" average --quiet "$WORK/synthetic1.s2s" "$WORK/synthetic2.s2s" -o "$WORK/averaged.s2s"
kill_writes average.s2s "$WORK/synthetic1.s2s" "$WORK/averaged.s2s" \
    "$S2S" average --quiet "$WORK/synthetic1.s2s" "$WORK/synthetic2.s2s" -o "$WORK/out/average.s2s"

"$S2S" prepare "$WORK/small.en" "$WORK/small.fr" -v "$WORK/v.s2sv" -o "$WORK/small.s2sd" --quiet > /dev/null
"$S2S" prepare "$WORK/big.en" "$WORK/big.fr" -v "$WORK/v.s2sv" -o "$WORK/big.s2sd" --quiet > /dev/null
kill_writes prepare.s2sd "$WORK/small.s2sd" "$WORK/big.s2sd" \
    "$S2S" prepare "$WORK/big.en" "$WORK/big.fr" -v "$WORK/v.s2sv" -o "$WORK/out/prepare.s2sd" --quiet
