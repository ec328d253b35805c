#!/usr/bin/env bash
# The main job on the real default corpus, Multi30k En→Fr:
#   learn a joint BPE vocabulary → train (bounded time) → translate test_2016_flickr with beam 5 → BLEU.
# Usage: demo.sh S2S_BIN CORPUS_DIR WORK_DIR     (DEMO_TIME=30m by default; e.g. DEMO_TIME=5m for a quick look)
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
time_limit="${DEMO_TIME:-30m}"
mkdir -p "$work"
echo "== s2s demo on $corpus (training time limit $time_limit; work files in $work)" >&2

echo "== 1. vocabulary: joint BPE, 8000 pieces, on train.en + train.fr" >&2
"$s2s" vocab "$corpus/train.en" "$corpus/train.fr" -o "$work/vocab.s2sv" --size 8000
echo "   round trip of the first test sentence:" >&2
head -1 "$corpus/test_2016_flickr.en" | tee /dev/stderr | "$s2s" encode -v "$work/vocab.s2sv" | tee /dev/stderr \
  | "$s2s" decode -v "$work/vocab.s2sv" >&2

echo "== 2. training (Ctrl-C saves a checkpoint; rerun with --resume to continue)" >&2
rm -f "$work/train.jsonl"
"$s2s" train "$corpus/train.en" "$corpus/train.fr" -v "$work/vocab.s2sv" -o "$work/model.s2s" \
  --valid-src "$corpus/val.en" --valid-tgt "$corpus/val.fr" --time-limit "$time_limit" --log "$work/train.jsonl"
"$s2s" plot "$work/train.jsonl" -o "$work/curves.svg"
echo "   learning curves: $work/curves.svg" >&2

echo "== 3. translating test_2016_flickr with beam 5 (best model by validation)" >&2
model="$work/model.best.s2s"; [ -f "$model" ] || model="$work/model.s2s"
"$s2s" translate -m "$model" --beam 5 < "$corpus/test_2016_flickr.en" > "$work/test_2016_flickr.hyp.fr"
head -3 "$work/test_2016_flickr.hyp.fr" >&2

echo "== 4. sacreBLEU-exact BLEU (13a, detokenized)" >&2
"$s2s" eval --bleu -r "$corpus/test_2016_flickr.fr" "$work/test_2016_flickr.hyp.fr"
# What the 30 minutes bought depends on the CPU: say which one, and how fast it trained.
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
speed=$(sed -n 's/.*"kind":"train".*"targetTokensPerSecond":\([0-9.]*\).*/\1/p' "$work/train.jsonl" \
  | awk '{ total += $1; n += 1 } END { if (n) printf "%.0f", total / n }')
updates=$("$s2s" info --json "$work/model.s2s" | sed -n 's/^ *"updates" : \([0-9][0-9]*\).*/\1/p' | head -1)
echo "== trained on $cpu ($(nproc) cores) at about $speed target tokens/s: $updates updates in $time_limit" >&2
