#!/usr/bin/env bash
# Training throughput of the s2s model next to a plain-PyTorch GRU encoder-decoder with attention
# (../shared/peers/torch_gru_s2s.py), same batch shape, same cores, same dropout, alternating
# ROUNDS times (default 2). s2s runs the step `s2s train` runs by default: one worker per core,
# layer normalization, dropout 0.1; `--workers 1` (one worker on multi-threaded BLAS) beside it.
# Usage: scripts/bench-model.sh S2S_BIN CORPUS WORK   (CORPUS is unused: batches are synthetic)
# Needs: a release build of s2s; $PYTHON (default python3) with torch (pip install torch).
# Note: the peer's encoder has hidden/2 units per direction (OpenNMT-py brnn); ours has `hidden`
# per direction as docs/model.md says, so our model does MORE work per token than the peer.
set -euo pipefail
s2s="$1"; work="${3:-work/bench}"
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
peer="${PEER:-$here/../../shared/peers/torch_gru_s2s.py}"
mkdir -p "$work"
# OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to its SSE3 "Prescott"
# kernels (4–8x slower sgemm); pick an AVX-512 or AVX2 kernel family explicitly in that case.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && "$s2s" bench train --batch 1 --src-len 2 --tgt-len 2 --vocab 8 --emb 4 \
     --hidden 4 --attention 4 --steps 1 --warmup 0 --quiet 2>/dev/null | grep -q '^openblas_core=Prescott'; then
  if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else export OPENBLAS_CORETYPE=Haswell; fi
  echo "OpenBLAS fell back to Prescott kernels; using OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
fi
shape=(--batch "${BATCH:-64}" --src-len "${SRC_LEN:-16}" --tgt-len "${TGT_LEN:-18}" --vocab "${VOCAB:-8000}"
       --emb "${EMB:-256}" --hidden "${HIDDEN:-512}" --threads "${THREADS:-2}" --steps "${STEPS:-20}"
       --warmup "${WARMUP:-3}" --dropout "${DROPOUT:-0.1}")
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
for round in $(seq "${ROUNDS:-2}"); do
  "$s2s" bench train "${shape[@]}" --attention "${HIDDEN:-512}" --quiet > "$work/model-s2s.txt"
  "$s2s" bench train "${shape[@]}" --attention "${HIDDEN:-512}" --workers 1 --quiet > "$work/model-s2s-one.txt"
  "$python" "$peer" --mode train "${shape[@]}" > "$work/model-torch.txt"
  ours=$(grep '^tgt_tokens_per_s=' "$work/model-s2s.txt" | tail -1 | cut -d= -f2)
  one=$(grep '^tgt_tokens_per_s=' "$work/model-s2s-one.txt" | tail -1 | cut -d= -f2)
  theirs=$(grep '^torch_train_tgt_tokens_per_s=' "$work/model-torch.txt" | tail -1 | cut -d= -f2)
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
  echo "round $round model_train_tokens_per_s s2s=$ours s2s_one_worker=$one torch=$theirs ratio=$ratio peak_rss_mb=$(grep '^peak_rss_mb=' "$work/model-s2s.txt" | cut -d= -f2) (s2s encoder: H per direction; torch: H/2)"
done
