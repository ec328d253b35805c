#!/usr/bin/env bash
# s2s eval vs sacreBLEU: corpus BLEU and chrF on a 100,000-line hypothesis/reference pair.
# Usage: scripts/bench-metrics.sh S2S_BIN CORPUS_DIR WORK_DIR
#   S2S_BIN     the s2s binary (`make build` → .build/release/s2s)
#   CORPUS_DIR  Multi30k en-fr (train.fr is repeated to 100k lines as reference)
#   WORK_DIR    scratch directory for the generated files
# Needs sacreBLEU: pip install sacrebleu (SACREBLEU=/path/to/sacrebleu overrides the command;
# default `$PYTHON -m sacrebleu`, PYTHON defaulting to python3).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
mkdir -p "$work"
if [[ -n "${SACREBLEU:-}" ]]; then sacrebleu=($SACREBLEU)
else sacrebleu=("${PYTHON:-python3}" -m sacrebleu); fi
lines=100000
ref="$work/metrics-ref.fr"; hyp="$work/metrics-hyp.fr"

# Reference: train.fr repeated to 100k lines. Hypothesis: deterministic MT-like perturbations
# (dropped word, swapped neighbours, replaced word, truncation) of each reference line.
for _ in 1 2 3 4; do cat "$corpus/train.fr"; done > "$work/metrics-repeated.fr"
head -n "$lines" "$work/metrics-repeated.fr" > "$ref"
awk 'BEGIN { srand(7) }
{
  n = split($0, w, " "); r = rand();
  if (r < 0.2 && n > 3) { k = int(rand() * n) + 1; out = ""; for (i = 1; i <= n; i++) if (i != k) out = out (out == "" ? "" : " ") w[i]; print out }
  else if (r < 0.4 && n > 3) { k = int(rand() * (n - 1)) + 1; t = w[k]; w[k] = w[k + 1]; w[k + 1] = t; out = w[1]; for (i = 2; i <= n; i++) out = out " " w[i]; print out }
  else if (r < 0.6) { k = int(rand() * n) + 1; w[k] = "chose"; out = w[1]; for (i = 2; i <= n; i++) out = out " " w[i]; print out }
  else if (r < 0.7 && n > 4) { out = w[1]; for (i = 2; i <= n - 2; i++) out = out " " w[i]; print out }
  else print $0
}' "$ref" > "$hyp"
echo "metrics: $(wc -l < "$hyp") hypothesis lines vs $(wc -l < "$ref") reference lines"

# Seconds taken by a command (its stdout goes to $work/last.out).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/last.out"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

report() {  # name s2s_seconds sacrebleu_seconds
  printf '%-6s s2s %7.2f s   sacreBLEU %7.2f s   s2s is %.1fx faster\n' "$1" "$2" "$3" "$(echo "$3 / $2" | bc -l)"
}

t_s2s_bleu=$(seconds "$s2s" eval --bleu -r "$ref" "$hyp"); s2s_bleu=$(cat "$work/last.out")
t_sb_bleu=$(seconds "${sacrebleu[@]}" "$ref" -i "$hyp" -m bleu -f text -w 2); sb_bleu=$(cat "$work/last.out")
t_s2s_chrf=$(seconds "$s2s" eval --chrf -r "$ref" "$hyp"); s2s_chrf=$(cat "$work/last.out")
t_sb_chrf=$(seconds "${sacrebleu[@]}" "$ref" -i "$hyp" -m chrf -f text -w 2); sb_chrf=$(cat "$work/last.out")

echo "s2s:       $s2s_bleu"
echo "sacreBLEU: $sb_bleu"
echo "s2s:       $s2s_chrf"
echo "sacreBLEU: $sb_chrf"
report BLEU "$t_s2s_bleu" "$t_sb_bleu"
report chrF "$t_s2s_chrf" "$t_sb_chrf"
if [[ "$s2s_bleu" != "$sb_bleu" || "$s2s_chrf" != "$sb_chrf" ]]; then
  echo "metrics: MISMATCH between s2s and sacreBLEU output" >&2
  exit 1
fi
