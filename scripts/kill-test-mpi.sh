#!/usr/bin/env bash
# Kill test for multi-process training: KILLS times (default 10), start (or resume)
# `mpirun -np 2 s2s train --save-frequency 5`, SIGKILL one rank at a random moment, and check
#   - the whole job ends within 30 s (mpirun notices the death and aborts the other rank),
#   - the last checkpoint is complete and verified (`s2s info`),
#   - `--resume` continues it (the next round resumes; a last one runs 3 more updates).
# Prints one line per kill (seconds from the kill to the job's end, the model's updates).
#
# usage: scripts/kill-test-mpi.sh S2S_BIN CORPUS_DIR WORK_DIR [KILLS]
set -euo pipefail
bin="$1"; corpus="$2"; work="$3"; kills="${4:-10}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mkdir -p "$work"
head -n 2000 "$corpus/train.en" > "$work/train.en"
head -n 2000 "$corpus/train.fr" > "$work/train.fr"
"$bin" vocab "$work/train.en" "$work/train.fr" -o "$work/vocab.s2sv" --size 600 --quiet
model="$work/model.s2s"
rm -f "$model" "$model".*
train=(train "$work/train.en" "$work/train.fr" -v "$work/vocab.s2sv" -o "$model" --emb 32 --hidden 32 --attention 32
       --workers 1 --save-frequency 5 --no-valid-bleu --quiet)
updates() { "$bin" info --json "$model" | sed -n 's/^ *"updates" : \([0-9][0-9]*\).*/\1/p' | head -1; }
worst=0
for kill in $(seq "$kills"); do
  resume=(); [ -e "$model" ] && resume=(--resume)
  mpirun -np 2 "$bin" "${train[@]}" "${resume[@]}" --max-updates 1000000 > "$work/mpirun.log" 2>&1 &
  job=$!
  sleep "$(awk -v seed="$RANDOM" 'BEGIN { srand(seed); printf "%.2f", 1.5 + 3 * rand() }')"
  ranks=$(pgrep -f -P "$job" "s2s train" || true)
  victim=$(echo "$ranks" | shuf -n 1)
  [ -n "$victim" ] || { echo "FAIL: no rank to kill in round $kill" >&2; exit 1; }
  start=$(date +%s.%N)
  kill -9 "$victim"
  for _ in $(seq 300); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$job" 2> /dev/null; then echo "FAIL: the job outlived its killed rank by 30 s" >&2; kill -9 "$job"; exit 1; fi
  wait "$job" || true
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  "$bin" info "$model" > /dev/null || { echo "FAIL: $model unreadable after kill $kill" >&2; exit 1; }
  echo "kill $kill: rank $victim; job ended after ${seconds} s; model at update $(updates)"
  worst=$(awk -v a="$worst" -v b="$seconds" 'BEGIN { print (b > a ? b : a) }')
done
before=$(updates)
"$bin" "${train[@]}" --resume --max-updates $((before + 3)) --workers 2
after=$(updates)
[ "$after" -eq $((before + 3)) ] || { echo "FAIL: resume made $((after - before)) updates, not 3" >&2; exit 1; }
echo "kills survived: $kills/$kills; slowest end ${worst} s; resume continued from update $before to $after"
