#!/usr/bin/env bash
# Corpus-loader benchmark: read, check, filter, subword-encode and batch a 1,000,000-pair bitext
# (Multi30k train repeated), plain and gzipped, with `s2s train --dry-run`; then prepare it once
# and time opening the prepared file. Needs only the s2s binary, GNU time and gzip
# (apt-get install time gzip).
#
# Usage: bench-corpus.sh S2S_BIN CORPUS_DIR WORK_DIR
#   S2S_BIN     the s2s binary (release build)
#   CORPUS_DIR  Multi30k en-fr folder (train.en, train.fr)
#   WORK_DIR    scratch folder (about 400 MB)
# Targets: >= 200,000 pairs/s including subword encoding on 2 cores; peak RSS <= 1.5 x
# (token arrays + vocabulary); opening a prepared 1M-pair corpus < 1 s.
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
pairs=1000000
mkdir -p "$work"

# (An unknown subcommand's --help falls back to the root help, so look in the subcommand list.)
if ! "$s2s" --help 2>/dev/null | grep -qE '^ +vocab( |$)'; then
    echo "bench-corpus: this s2s binary has no 'vocab' subcommand, so no vocabulary can be made; stopping." >&2
    echo "bench-corpus: run it again on a build that includes S2SSubword's 's2s vocab'." >&2
    exit 1
fi
[ -x /usr/bin/time ] || { echo "bench-corpus: needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 1; }

# 1. The 1M-pair bitext, plain and gzipped (made once).
for side in fr en; do
    if [ ! -s "$work/big.$side.gz" ] || [ "$(wc -l < "$work/big.$side")" -ne "$pairs" ]; then
        repeats=$(( pairs / $(wc -l < "$corpus/train.$side") + 1 ))
        for _ in $(seq "$repeats"); do cat "$corpus/train.$side"; done | awk -v n="$pairs" 'NR <= n' > "$work/big.$side"
        gzip -c "$work/big.$side" > "$work/big.$side.gz"
    fi
done

# 2. A vocabulary learned on Multi30k train.
if [ ! -s "$work/vocab.s2sv" ]; then
    "$s2s" vocab "$corpus/train.fr" "$corpus/train.en" -o "$work/vocab.s2sv" ${S2S_VOCAB_ARGS:-}
fi
vocab_bytes=$(stat -c %s "$work/vocab.s2sv")

# Runs `s2s ARGS…` under GNU time; prints wall seconds and peak RSS (KiB) on one line.
measure() {
    local log="$work/time.log"
    /usr/bin/time -v -o "$log" "$s2s" "$@" > "$work/out.txt"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
    echo "$wall $rss"
}

# Bytes of the corpus's arrays, from the dry run's statistics: 4 per token, 8 per offset.
tokens_of() { awk '/^(source|target) tokens/ { gsub(",", "", $3); t += $3 } END { print t }' "$work/out.txt"; }
kept_of() { awk '/^pairs kept/ { gsub(",", "", $3); print $3 }' "$work/out.txt"; }

echo "## Corpus loader: $pairs pairs (Multi30k train repeated), $(nproc) cores"
for kind in plain gzip; do
    if [ "$kind" = plain ]; then src="$work/big.fr"; tgt="$work/big.en"; else src="$work/big.fr.gz"; tgt="$work/big.en.gz"; fi
    read -r wall rss < <(measure train "$src" "$tgt" -v "$work/vocab.s2sv" --dry-run --quiet)
    cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/time.log")
    awk -v k="$kind" -v w="$wall" -v c="$cpu" -v p="$pairs" -v r="$rss" -v t="$(tokens_of)" -v n="$(kept_of)" -v vb="$vocab_bytes" 'BEGIN {
        tokens = t * 4 / 1048576; offsets = (n + 1) * 16 / 1048576; vocab = vb / 1048576; peak = r / 1024
        printf "dry-run %-5s  wall %6.2f s  %8.0f pairs/s (CPU %.2f s)  peak RSS %6.1f MiB = %.2f x (token arrays %.1f + vocab %.1f MiB), %.2f x with offsets (%.1f MiB)\n",
               k, w, p / w, c, peak, peak / (tokens + vocab), tokens, vocab, peak / (tokens + offsets + vocab), offsets }'
    grep -E '^padding|^batches' "$work/out.txt"
done

# 3. Prepare once, then open the prepared corpus (memory-mapped) for a dry run.
read -r wall rss < <(measure prepare "$work/big.fr.gz" "$work/big.en.gz" -v "$work/vocab.s2sv" -o "$work/big.s2sd" --quiet)
printf "prepare        %6.2f s  peak RSS %7.1f MiB  file %.1f MiB\n" "$wall" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" \
    "$(awk -v b="$(stat -c %s "$work/big.s2sd")" 'BEGIN { print b / 1048576 }')"
read -r wall rss < <(measure train --data "$work/big.s2sd" -v "$work/vocab.s2sv" --dry-run --quiet)
echo "open prepared  $(grep '^load time' "$work/out.txt" | sed 's/^load time *//')  (whole dry run ${wall} s, peak RSS $(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }') MiB)"
