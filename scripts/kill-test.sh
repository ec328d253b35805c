#!/usr/bin/env bash
# Kill test for checkpoint atomicity: SIGKILL `s2s train` at random moments (many of them
# during checkpoint writes, with --save-frequency small) and check after every kill that
#   - model.s2s, if present, is a complete, verified model (`s2s info`),
#   - its training state resumes (the next `s2s train` run continues; it must not fail),
#   - no file other than stray *.tmp.XXXXXX temporaries is ever partial.
# Finally lets a run finish and checks the model is intact.
#
# Usage: scripts/kill-test.sh [S2S_BINARY] [CORPUS_DIR] [WORK_DIR] [KILLS]
#   defaults: .build/release/s2s, $(scripts/corpus-path.sh), work/kill-test, 20
# Environment: TRAIN_EXTRA="…" adds options to `s2s train` (e.g. a small model:
#   TRAIN_EXTRA="--emb 32 --hidden 32 --attention 32"); each run after the first uses --resume. Needs: bash, awk, coreutils (timeout, head); optionally python3 + numpy
#   for a second, independent verification (scripts/read_s2s_model.py).
set -euo pipefail
S2S="${1:-.build/release/s2s}"
CORPUS="${2:-$(scripts/corpus-path.sh)}"
WORK="${3:-work/kill-test}"
KILLS="${4:-20}"
mkdir -p "$WORK"
head -n 2000 "$CORPUS/train.en" > "$WORK/train.en"
head -n 2000 "$CORPUS/train.fr" > "$WORK/train.fr"
MODEL="$WORK/model.s2s"
rm -f "$MODEL" "$MODEL".*
TRAIN=("$S2S" train "$WORK/train.en" "$WORK/train.fr" -o "$MODEL" --save-frequency 5 --quiet ${TRAIN_EXTRA:-})

verify() {
    if [[ -e "$MODEL" ]]; then
        "$S2S" info "$MODEL" > /dev/null || { echo "FAIL: $MODEL unreadable after kill $1" >&2; exit 1; }
        if command -v python3 > /dev/null && python3 -c "import numpy" 2> /dev/null; then
            python3 scripts/read_s2s_model.py --no-verify "$MODEL" > /dev/null \
                || { echo "FAIL: numpy reader rejects $MODEL after kill $1" >&2; exit 1; }
        fi
    fi
}

# Continue the killed run when a model is there (as a user would), else start one.
resume_flag() { [[ -e "$MODEL" ]] && echo --resume || true; }

for kill in $(seq 1 "$KILLS"); do
    "${TRAIN[@]}" $(resume_flag) 2> "$WORK/train.log" &
    pid=$!
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + (r % 350) / 100 }')"  # 0.5–4 s
    kill -KILL "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    verify "$kill"
    temporaries=$(ls "$WORK" | grep -c '\.tmp\.' || true)
    echo "kill $kill: model $( [[ -e $MODEL ]] && "$S2S" info --json "$MODEL" | jq '.updates' || echo absent) updates, $temporaries stray temporaries" >&2
done
# One uninterrupted continuation must succeed from whatever the kills left.
timeout 600 "${TRAIN[@]}" $(resume_flag) --max-updates 50 2> "$WORK/train.log" || { echo "FAIL: resume after kills: $(tail -1 "$WORK/train.log")" >&2; exit 1; }
verify final
echo "kill test passed: $KILLS kills, model intact and resumable" >&2
