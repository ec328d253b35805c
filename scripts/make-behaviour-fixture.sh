#!/usr/bin/env bash
# Records what s2s does, end to end, for a fixed seed: the loss of each of the first 500 updates
# on 3,000 real Multi30k pairs, and greedy and beam-5 translations of 200 validation sentences
# by the resulting model, for two model variants (the defaults; tied embeddings without layer
# normalization). A refactoring must leave these unchanged (BehaviourFixtureTests runs this
# script and compares with Tests/S2SCLITests/Fixtures/behaviour).
#
# The kernels are pinned (OpenBLAS's Haswell kernels, s2s's AVX2 kernels, packed products up to 16
# rows, 2 workers) so that
# every x86-64 machine with AVX2 computes the same bits.
#
# usage: scripts/make-behaviour-fixture.sh S2S_BINARY CORPUS_DIR OUT_DIR
set -euo pipefail
bin="$1"; corpus="$2"; out="$3"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OPENBLAS_CORETYPE=Haswell S2S_MAX_CPU_ISA=avx2 S2S_PACKED_ROW_LIMIT=16

head -n 3000 "$corpus/train.en" > "$work/train.en"
head -n 3000 "$corpus/train.fr" > "$work/train.fr"
head -n 200 "$corpus/val.en" > "$work/val.en"
"$bin" vocab "$work/train.en" "$work/train.fr" -o "$work/vocab.s2sv" --size 1000 --quiet

run() {  # run NAME TRAIN_OPTIONS...
  local name="$1"; shift
  "$bin" train "$work/train.en" "$work/train.fr" -v "$work/vocab.s2sv" -o "$work/$name.s2s" \
    --emb 24 --hidden 40 --attention 36 --batch-tokens 600 --max-updates 500 --seed 7 \
    --warmup 50 --learning-rate 6e-3 --no-valid-bleu --disp-freq 1u --log "$work/$name.jsonl" --workers 2 --quiet "$@"
  # One line per update: the update number and its loss (the log's full-precision Double).
  sed -n 's/.*"kind":"train".*"loss":\([^,}]*\).*"updates":\([0-9]*\).*/\2\t\1/p' "$work/$name.jsonl" \
    > "$out/$name.losses.tsv"
  "$bin" translate -m "$work/$name.s2s" --threads 2 < "$work/val.en" > "$out/$name.greedy.fr"
  "$bin" translate -m "$work/$name.s2s" --threads 2 --beam 5 < "$work/val.en" > "$out/$name.beam5.fr"
}
run defaults --bpe-dropout 0.1
run tied-plain --tied-embeddings --no-layer-normalization
