#!/usr/bin/env bash
# Quality per minute (issue #6): train s2s with its defaults for QUALITY_TIME (default 30m) on
# Multi30k En→Fr, then OpenNMT-py (pip) with the same architecture family, the same subwords, the
# same batch size, learning-rate schedule and time, one after the other on the same machine; both
# translate test_2016_flickr with beam 5 and are scored with sacreBLEU-exact detokenized BLEU.
# Usage: scripts/bench-quality.sh S2S_BIN CORPUS WORK      (QUALITY_ONLY="s2s" or "opennmt")
# Takes 2 × QUALITY_TIME plus a few minutes, so it is not in `make bench`'s default sections:
#   BENCH_ONLY=quality make bench
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
python="${PYTHON:-python3}"
limit="${QUALITY_TIME:-30m}"
only="${QUALITY_ONLY:-s2s opennmt}"
# OpenNMT-py's learning-rate schedule: "constant" (Adam 1e-3 throughout, what s2s's default
# plateau decay amounts to in 30 minutes: it has not stalled yet) or "noam" (warmup 200, then
# inverse square root from 1e-3, which is s2s's --lr-decay inverse-sqrt).
onmt_schedule="${ONMT_SCHEDULE:-constant}"
mkdir -p "$work"
seconds=$(awk -v t="$limit" 'BEGIN { n = 0; s = 0
  while (match(t, /^[0-9]+[hms]/)) { v = substr(t, 1, RLENGTH - 1); u = substr(t, RLENGTH, 1)
    s += v * (u == "h" ? 3600 : u == "m" ? 60 : 1); t = substr(t, RLENGTH + 1) } print s }')

# One joint BPE vocabulary for both systems, so they see the same subword units.
[ -f "$work/vocab.s2sv" ] || "$s2s" vocab "$corpus/train.en" "$corpus/train.fr" -o "$work/vocab.s2sv" --size 8000 --quiet

if [[ " $only " == *" s2s "* ]]; then
  echo "== s2s train (defaults, --time-limit $limit)"
  rm -f "$work"/s2s-model*
  start=$(date +%s)
  "$s2s" train "$corpus/train.en" "$corpus/train.fr" -v "$work/vocab.s2sv" -o "$work/s2s-model.s2s" \
    --valid-src "$corpus/val.en" --valid-tgt "$corpus/val.fr" --time-limit "$limit" \
    --log "$work/s2s-train.jsonl" 2> "$work/s2s-train.err"
  echo "s2s_train_wall_s=$(( $(date +%s) - start ))"
  grep -E 'validation|stopped|finished' "$work/s2s-train.err" | tail -4 || true
  model="$work/s2s-model.best.s2s"; [ -f "$model" ] || model="$work/s2s-model.s2s"
  "$s2s" translate -m "$model" --beam 5 --quiet < "$corpus/test_2016_flickr.en" > "$work/s2s-test.hyp.fr"
  echo "s2s_bleu: $("$s2s" eval --bleu -r "$corpus/test_2016_flickr.fr" "$work/s2s-test.hyp.fr")"
fi

if [[ " $only " == *" opennmt "* ]]; then
  onmt="$work/opennmt"
  scripts_dir="$(cd "$(dirname "$0")" && pwd)"
  bin="$("$scripts_dir/opennmt-setup.sh" "$s2s" "$python" "$corpus" "$work/vocab.s2sv" "$onmt" "$onmt_schedule" 1000000)"
  echo "== OpenNMT-py train (stopped after $limit; the last checkpoint saved within the limit counts)"
  start=$(date +%s)
  timeout -s INT "$seconds" "$bin/onmt_train" -config "$onmt/config.yaml" > "$onmt/train.log" 2>&1 || true
  # Newest checkpoint whose file was written within the time limit.
  best=""
  for checkpoint in $(ls -tr "$onmt"/model_step_*.pt 2>/dev/null); do
    written=$(stat -c %Y "$checkpoint")
    [ $(( written - start )) -le "$seconds" ] && best="$checkpoint"
  done
  [ -n "$best" ] || { echo "opennmt: no checkpoint within $limit" >&2; exit 1; }
  echo "opennmt_checkpoint=$(basename "$best") written $(( $(stat -c %Y "$best") - start ))s after start"
  grep -E 'Validation (perplexity|accuracy)' "$onmt/train.log" | tail -2 || true
  # OpenNMT-py 3.5 checkpoints pickle argparse.Namespace, which torch >= 2.6 refuses by default;
  # we wrote this checkpoint ourselves a minute ago, so loading it in full is safe.
  TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 "$bin/onmt_translate" -model "$best" -src "$onmt/test_2016_flickr.en.sp" -output "$onmt/test.hyp.sp" \
    -beam_size 5 -batch_size 64 -max_length 100 > "$onmt/translate.log" 2>&1
  "$s2s" decode -v "$work/vocab.s2sv" < "$onmt/test.hyp.sp" > "$work/opennmt-test.hyp.fr"
  echo "opennmt_bleu: $("$s2s" eval --bleu -r "$corpus/test_2016_flickr.fr" "$work/opennmt-test.hyp.fr")"
fi
