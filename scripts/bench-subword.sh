#!/usr/bin/env bash
# Subword benchmark, s2s side by side with SentencePiece in one run.
# Usage: scripts/bench-subword.sh S2S_BIN CORPUS_DIR WORK_DIR
#   1. learn time: `s2s vocab` vs SentencePiece's BPE trainer (python), same text
#      (Multi30k train.en + train.fr), size 8000, character coverage 0.9995, byte fallback;
#   2. encode throughput (MB/s of input text), on the training text repeated 8 times:
#      `s2s encode` file → pieces on stdout (reading, normalising and writing included) vs
#      SentencePiece's best case: the python binding's encode of the lines already in memory
#      to ids, num_threads=1 (reading and writing not counted); best of 3 for both;
#   3. pieces on val en+fr with each vocabulary (compression).
# Needs: $PYTHON (default python3) with sentencepiece (pip install sentencepiece).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
python="${PYTHON:-python3}"
mkdir -p "$work"
train="$work/subword-train.txt"
cat "$corpus/train.en" "$corpus/train.fr" > "$train"
big="$work/subword-encode.txt"
: > "$big"; for _ in 1 2 3 4 5 6 7 8; do cat "$train" >> "$big"; done
val="$work/subword-val.txt"
cat "$corpus/val.en" "$corpus/val.fr" > "$val"

now() { date +%s.%N; }

# 1. Learning (best of 3 for both, to damp the noise of a shared machine).
s2s_learn=999
for _ in 1 2 3; do
  start=$(now); "$s2s" vocab "$train" -o "$work/subword.s2sv" --size 8000 --quiet; end=$(now)
  s2s_learn=$(echo "$end - $start" | bc -l | awk -v b="$s2s_learn" '{print ($1 < b) ? $1 : b}')
done
read -r spm_learn spm_encode_seconds spm_val_pieces < <("$python" - "$train" "$big" "$val" "$work" <<'PY'
import sys, time, sentencepiece as spm
train, big, val, work = sys.argv[1:5]
best = 1e9
for _ in range(3):
    start = time.perf_counter()
    spm.SentencePieceTrainer.train(input=train, model_prefix=work + "/subword-spm", model_type="bpe",
                                   vocab_size=8000, character_coverage=0.9995, byte_fallback=True,
                                   minloglevel=2)
    best = min(best, time.perf_counter() - start)
sp = spm.SentencePieceProcessor(model_file=work + "/subword-spm.model", num_threads=1)
with open(big, encoding="utf-8") as source:
    lines = source.read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
# SentencePiece's best case: ids only, in memory, no reading or writing counted.
encode_seconds = 1e9
for _ in range(3):
    start = time.perf_counter()
    sp.encode(lines, out_type=int, num_threads=1)
    encode_seconds = min(encode_seconds, time.perf_counter() - start)
with open(val, encoding="utf-8") as f:
    val_lines = f.read().rstrip("\n").split("\n")
print(best, encode_seconds, sum(len(p) for p in sp.encode(val_lines, out_type=str)))
PY
)

# 2. Encoding throughput (best of 3).
s2s_encode_seconds=999
for _ in 1 2 3; do
  start=$(now); "$s2s" encode -v "$work/subword.s2sv" "$big" > "$work/subword-s2s-encoded.txt"; end=$(now)
  s2s_encode_seconds=$(echo "$end - $start" | bc -l | awk -v b="$s2s_encode_seconds" '{print ($1 < b) ? $1 : b}')
done
megabytes=$(stat -c %s "$big" | awk '{print $1 / 1e6}')
lines=$(wc -l < "$big")
s2s_val_pieces=$("$s2s" encode -v "$work/subword.s2sv" "$val" | wc -w)

awk -v sl="$s2s_learn" -v pl="$spm_learn" -v se="$s2s_encode_seconds" -v pe="$spm_encode_seconds" \
    -v mb="$megabytes" -v n="$lines" -v sv="$s2s_val_pieces" -v pv="$spm_val_pieces" 'BEGIN {
  printf "## Subword (Multi30k train en+fr, 58k lines, size 8000)\n"
  printf "learn:   s2s vocab %.2f s   SentencePiece %.2f s   ratio s2s/spm %.2f (lower is better)\n", sl, pl, sl / pl
  printf "encode:  s2s %.1f MB/s (%.0f lines/s)   SentencePiece %.1f MB/s   ratio s2s/spm %.2f (higher is better), %.1f MB input\n", mb / se, n / se, mb / pe, pe / se, mb
  printf "val en+fr pieces: s2s %d   SentencePiece %d   ratio %.3f\n", sv, pv, sv / pv
}'
