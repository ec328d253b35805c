#!/usr/bin/env bash
# Every benchmark, side by side with its peer in the same run (ratios are what count: these
# machines are shared and noisy). Usage: bench.sh S2S_BIN CORPUS_DIR WORK_DIR
# Each section prints its own figures; BENCHMARKS.md records them with this command.
# BENCH_ONLY="subword metrics" runs a subset; the decoding bench uses $BENCH_MODEL, else the
# demo's model (work/model.s2s), else trains one for BENCH_TRAIN_TIME (default 10m).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
export PATH="/work/venv/bin:$PATH"   # where the peers' Python packages live on this machine, if present
python3 -c "import torch, sacrebleu, sentencepiece" 2>/dev/null || {
  echo "bench: the peers need Python packages: pip install torch sacrebleu sentencepiece numpy" >&2
  echo "       (CPU torch: pip install --no-deps /opt/wheels/torch-*+cpu*.whl where that wheel exists)" >&2
  exit 1
}
sections="${BENCH_ONLY:-subword metrics corpus model decoding}"
for section in $sections; do
  script="$here/bench-$section.sh"
  [ -x "$script" ] || { echo "bench: no $script" >&2; exit 1; }
  echo "================ $section ================"
  if [ "$section" = decoding ]; then
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
    "$script" "$s2s" "$corpus" "$work/$section" "$model"
  else
    "$script" "$s2s" "$corpus" "$work/$section"
  fi
done
