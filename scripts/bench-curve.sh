#!/usr/bin/env bash
# Quality per minute, fairly clocked (issue #17): s2s with its defaults and OpenNMT-py with the
# configuration of scripts/opennmt-setup.sh each train for MINUTES (default 60) on Multi30k
# En→Fr, one after the other on the same machine. Both clocks are wall time from the training
# command's start to the moment the scored model file was written: at each mark (5, 10, 15,
# 20, 30, 60 minutes) the newest checkpoint written by then is translated (beam 5) and scored on
# test_2016_flickr with BLEU and chrF2. s2s saves every 5 minutes, OpenNMT-py every 100 steps.
# Prints the table, and draws both curves with `s2s plot` into WORK/curve.svg.
#
# usage: scripts/bench-curve.sh S2S_BIN CORPUS WORK [MINUTES]   (PYTHON: a python with torch)
#   S2S_TRAIN_EXTRA="…" adds options to s2s train (a candidate: --learning-rate 2e-3, --seed 2, …);
#   CURVE_ONLY="s2s" or "opennmt" runs one side (the other's earlier results are reused).
set -euo pipefail
bin="$1"; corpus="$2"; work="$3"; minutes="${4:-60}"
python="${PYTHON:-python3}"
only="${CURVE_ONLY:-s2s opennmt}"
mkdir -p "$work"
[ -f "$work/vocab.s2sv" ] || "$bin" vocab "$corpus/train.en" "$corpus/train.fr" -o "$work/vocab.s2sv" --size 8000 --quiet
marks=$(for m in 5 10 15 20 30 60; do if [ "$m" -le "$minutes" ]; then echo "$m"; fi; done)

score() {  # score HYPOTHESES → "BLEU chrF2"
  local bleu chrf
  bleu=$("$bin" eval --bleu -r "$corpus/test_2016_flickr.fr" "$1" | sed -n 's/^BLEU[^=]* = \([0-9.]*\).*/\1/p')
  chrf=$("$bin" eval --chrf -r "$corpus/test_2016_flickr.fr" "$1" | sed -n 's/^chrF2.* = \([0-9.]*\).*/\1/p')
  echo "$bleu $chrf"
}
newest_by() {  # newest_by START SECONDS FILES… → the newest file written within SECONDS of START
  local start="$1" limit="$2"; shift 2
  local best="" file
  for file in $(ls -tr "$@" 2>/dev/null); do
    [ "$(( $(stat -c %Y "$file") - start ))" -le "$limit" ] && best="$file"
  done
  echo "$best"
}

if [[ " $only " == *" s2s "* ]]; then
  rm -rf "$work/s2s"; mkdir -p "$work/s2s"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$bin" train "$corpus/train.en" "$corpus/train.fr" -v "$work/vocab.s2sv" -o "$work/s2s/model.s2s" \
    --valid-src "$corpus/val.en" --valid-tgt "$corpus/val.fr" --time-limit "${minutes}m" --save-frequency 5m \
    --keep 100 --log "$work/s2s/train.jsonl" --quiet ${S2S_TRAIN_EXTRA:-}
  echo "$start" > "$work/s2s/start"
  : > "$work/s2s/curve.jsonl"
  for mark in $marks; do
    model=$(newest_by "$start" $((mark * 60 + 30)) "$work/s2s"/model.s2s.iter* "$work/s2s/model.s2s")
    [ -n "$model" ] || continue
    "$bin" translate -m "$model" --beam 5 --quiet < "$corpus/test_2016_flickr.en" > "$work/s2s/test.$mark.fr"
    read -r bleu chrf < <(score "$work/s2s/test.$mark.fr")
    updates=$("$bin" info --json "$model" | sed -n 's/^ *"updates" : \([0-9][0-9]*\).*/\1/p' | head -1)
    written=$(( $(stat -c %Y "$model") - start ))
    echo "s2s $mark $bleu $chrf $updates $written" >> "$work/s2s/curve.txt.new"
    echo "{\"kind\":\"valid\",\"elapsedSeconds\":$written,\"epoch\":1,\"updates\":$updates,\"bleu\":$bleu}" >> "$work/s2s/curve.jsonl"
  done
  mv "$work/s2s/curve.txt.new" "$work/s2s/curve.txt"
fi

if [[ " $only " == *" opennmt "* ]]; then
  onmt="$work/opennmt"
  onmt_bin="$(SAVE_EVERY=100 "$(dirname "$0")/opennmt-setup.sh" "$bin" "$python" "$corpus" "$work/vocab.s2sv" "$onmt" constant 1000000)"
  start=$(date +%s)
  timeout -s INT $((minutes * 60)) "$onmt_bin/onmt_train" -config "$onmt/config.yaml" > "$onmt/train.log" 2>&1 || true
  : > "$onmt/curve.jsonl"
  for mark in $marks; do
    checkpoint=$(newest_by "$start" $((mark * 60 + 30)) "$onmt"/model_step_*.pt)
    [ -n "$checkpoint" ] || continue
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 "$onmt_bin/onmt_translate" -model "$checkpoint" -src "$onmt/test_2016_flickr.en.sp" \
      -output "$onmt/test.$mark.sp" -beam_size 5 -batch_size 64 -max_length 100 > "$onmt/translate.log" 2>&1
    "$bin" decode -v "$work/vocab.s2sv" < "$onmt/test.$mark.sp" > "$onmt/test.$mark.fr"
    read -r bleu chrf < <(score "$onmt/test.$mark.fr")
    step=$(basename "$checkpoint" .pt | sed 's/model_step_//')
    written=$(( $(stat -c %Y "$checkpoint") - start ))
    echo "opennmt $mark $bleu $chrf $step $written" >> "$onmt/curve.txt.new"
    echo "{\"kind\":\"valid\",\"elapsedSeconds\":$written,\"epoch\":1,\"updates\":$step,\"bleu\":$bleu}" >> "$onmt/curve.jsonl"
  done
  mv "$onmt/curve.txt.new" "$onmt/curve.txt"
fi

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); s2s trained at $(sed -n 's/.*"kind":"train".*"targetTokensPerSecond":\([0-9.]*\).*/\1/p' "$work/s2s/train.jsonl" 2>/dev/null | awk '{ t += $1; n++ } END { if (n) printf "%.0f", t / n }') target tokens/s"
printf "%-8s %8s %8s %12s %10s   %8s %8s %12s %10s\n" minutes "s2s BLEU" chrF2 updates "written s" "ONMT BLEU" chrF2 steps "written s"
for mark in $marks; do
  # A side not run yet has no curve.txt: its columns print as dashes (and set -e must not end the table).
  s=$(awk -v m="$mark" '$2 == m { print $3, $4, $5, $6 }' "$work/s2s/curve.txt" 2>/dev/null || true)
  o=$(awk -v m="$mark" '$2 == m { print $3, $4, $5, $6 }' "$work/opennmt/curve.txt" 2>/dev/null || true)
  # shellcheck disable=SC2086
  printf "%-8s %8s %8s %12s %10s   %8s %8s %12s %10s\n" "$mark" ${s:-- - - -} ${o:-- - - -}
done
logs=(); labels=()
[ -s "$work/s2s/curve.jsonl" ] && { logs+=("$work/s2s/curve.jsonl"); labels+=(--label s2s); }
[ -s "$work/opennmt/curve.jsonl" ] && { logs+=("$work/opennmt/curve.jsonl"); labels+=(--label OpenNMT-py); }
[ ${#logs[@]} -gt 0 ] && "$bin" plot "${logs[@]}" "${labels[@]}" -o "$work/curve.svg" \
  --title "BLEU on test_2016_flickr (beam 5) against wall time"
