#!/usr/bin/env bash
# Every benchmark, side by side with its peer in the same run (ratios are what count: these
# machines are shared and noisy). Usage: bench.sh S2S_BIN CORPUS_DIR WORK_DIR
# Each section prints its own figures; BENCHMARKS.md records them with this command.
# BENCH_ONLY="subword metrics" runs a subset; the decoding and serving benches use $BENCH_MODEL,
# else the demo's model (work/model.s2s), else train one for BENCH_TRAIN_TIME (default 10m).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
# The peers (PyTorch, sacreBLEU, SentencePiece) run in a virtualenv made once by peers-venv.sh.
PYTHON="${PYTHON:-$("$here/peers-venv.sh")}"
export PYTHON
export PATH="$(dirname "$PYTHON"):$PATH"   # so `sacrebleu` on the command line is the venv's
sections="${BENCH_ONLY:-subword metrics corpus model parallel decoding serving}"
for section in $sections; do
  script="$here/bench-$section.sh"
  [ -x "$script" ] || { echo "bench: no $script" >&2; exit 1; }
  echo "================ $section ================"
  if [ "$section" = decoding ] || [ "$section" = serving ]; then
    model="${BENCH_MODEL:-}"
    [ -z "$model" ] && [ -f work/model.s2s ] && model=work/model.s2s
    if [ -z "$model" ]; then
      model="$work/decoding-model.s2s"
      if [ ! -f "$model" ]; then
        "$s2s" vocab "$corpus/train.en" "$corpus/train.fr" -o "$work/vocab.s2sv" --size 8000
        "$s2s" train "$corpus/train.en" "$corpus/train.fr" -v "$work/vocab.s2sv" -o "$model" \
          --time-limit "${BENCH_TRAIN_TIME:-10m}" --quiet
      fi
    fi
    if [ "$section" = serving ]; then
      # The peer is OpenNMT-py's onmt_server with $BENCH_ONMT_MODEL (skipped without one).
      "$script" "$s2s" "$corpus" "$work/$section" "$model" "${BENCH_ONMT_MODEL:-}"
    else
      "$script" "$s2s" "$corpus" "$work/$section" "$model"
    fi
  else
    "$script" "$s2s" "$corpus" "$work/$section"
  fi
done
