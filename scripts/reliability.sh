#!/usr/bin/env bash
# The bad-input catalogue (issue #20): every subcommand × every bad input that applies to it,
# run as a user would, each judged by the same rule. Prints a Markdown table (case, command,
# exit code, first stderr line, verdict) and the totals; exits 1 if any case is not clean.
#
# A case is clean when
#   - an error case exits with a code in 1–125, writes exactly one line on stderr, and that
#     line names the file (and the line, where the case has one);
#   - an accepted case (an input s2s takes as it is: CRLF, a BOM, NUL bytes, an empty file
#     where empty output is the answer) exits 0;
#   - a signal case exits with 130 (SIGINT) or 143 (SIGTERM), or 141 / 0 for a closed pipe,
#     with nothing on stderr but its one line;
#   - no case crashes (a code ≥ 128 that is not the signal sent, or a stack trace), hangs
#     (60 s unless the case says otherwise), changes a file it was not asked to write, or leaves a temporary behind; where it
#     writes over an earlier good output that it fails to replace, that output is unchanged.
#
# The full-disk and read-only cases mount small tmpfs file systems (root in a container can);
# where mounting is refused they are reported as skipped, never as clean.
#
# usage: scripts/reliability.sh [S2S_BIN] [WORK]      (make reliability)
set -uo pipefail
s2s="$(realpath "${1:-.build/release/s2s}")"
work="$(mkdir -p "${2:-work/reliability}" && realpath "${2:-work/reliability}")"
sample="$(cd "$(dirname "$0")/.." && pwd)/data/sample"
good="$work/good" bad="$work/bad" out="$work/out" logs="$work/logs"
for mounted in "$work/full" "$work/readonly"; do mountpoint -q "$mounted" 2>/dev/null && umount "$mounted"; done
rm -rf "$good" "$bad" "$out" "$logs" "$work/full" "$work/readonly"
mkdir -p "$good" "$bad" "$out" "$logs"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# ---------------------------------------------------------------------------------------------
# Fixtures: a good vocabulary, model, prepared corpus and log from the committed sample data,
# and a second vocabulary and model that do not belong to them.
tiny=(--emb 16 --hidden 16 --attention 16 --workers 1 --threads 1 --quiet)
cp "$sample"/train.en "$sample"/train.fr "$sample"/test.en "$sample"/test.fr "$good"/
"$s2s" vocab "$good/train.en" "$good/train.fr" -o "$good/vocab.s2sv" --size 400 --quiet
"$s2s" vocab "$good/train.en" "$good/train.fr" -o "$good/other.s2sv" --size 350 --quiet
"$s2s" train "$good/train.en" "$good/train.fr" -v "$good/vocab.s2sv" -o "$good/model.s2s" --max-updates 4 \
  --save-frequency 2 --log "$good/train.jsonl" "${tiny[@]}"
"$s2s" train "$good/train.en" "$good/train.fr" -v "$good/other.s2sv" -o "$good/other.s2s" --max-updates 2 "${tiny[@]}"
"$s2s" train "$good/train.en" "$good/train.fr" -v "$good/vocab.s2sv" -o "$good/wider.s2s" --max-updates 1 \
  --emb 24 --hidden 16 --attention 16 --workers 1 --threads 1 --quiet
"$s2s" prepare "$good/train.en" "$good/train.fr" -v "$good/other.s2sv" -o "$good/other.s2sd" --quiet > /dev/null
for fixture in vocab.s2sv model.s2s model.s2s.state other.s2sd train.jsonl; do
  [ -s "$good/$fixture" ] || { echo "reliability: could not make the fixture $good/$fixture" >&2; exit 1; }
done

# Bad inputs.
mkdir "$bad/folder"
: > "$bad/empty.txt"
head -c 65536 /dev/urandom > "$bad/garbage.bin"
printf 'a man rides a bike\na \xff\xfe man\n' > "$bad/invalid.txt"
printf 'a man\0rides a bike\nthe dog\n' > "$bad/nul.txt"
printf 'a man rides a bike\r\nthe dog runs\r\n' > "$bad/crlf.txt"
printf '\xef\xbb\xbfa man rides a bike\nthe dog runs\n' > "$bad/bom.txt"
yes 'a man rides a bike ' | head -c 10000000 | tr -d '\n' > "$bad/long-line.txt"; echo >> "$bad/long-line.txt"
yes '' | head -n 1000000 > "$bad/empty-lines.txt"
head -n 100 "$good/train.fr" > "$bad/short.fr"
gzip -c "$good/train.en" > "$bad/good.en.gz"
cp "$bad/good.en.gz" "$bad/corrupt.en.gz"
printf '\x00\x00\x00\x00\x00\x00\x00\x00' | dd of="$bad/corrupt.en.gz" bs=1 seek=200 conv=notrunc status=none
head -c 700 "$bad/good.en.gz" > "$bad/truncated.en.gz"
model_bytes=$(stat -c %s "$good/model.s2s")
head -c $((model_bytes / 2)) "$good/model.s2s" > "$bad/truncated.s2s"
cp "$good/model.s2s" "$bad/flipped.s2s"
printf '\x5a' | dd of="$bad/flipped.s2s" bs=1 seek=$((model_bytes / 3)) conv=notrunc status=none
cp "$good/vocab.s2sv" "$bad/foreign.s2s"
printf 'not json\n{"kind":"train"\n' > "$bad/garbage.jsonl"
printf 'a man\n' > "$bad/one.en"
# A run whose .state belongs to another model: the other model's state beside this one.
cp "$good/model.s2s" "$bad/mismatched.s2s"; cp "$good/other.s2s.state" "$bad/mismatched.s2s.state"
printf 'key-one\n\n' > "$bad/keys-with-empty.txt"

# Small file systems: one nearly full, one read-only (each holding an earlier good output).
can_mount=1
mkdir -p "$work/full" "$work/readonly"
if mount -t tmpfs -o size=512k tmpfs "$work/full" 2>/dev/null; then
  cp "$good/vocab.s2sv" "$work/full/vocab.s2sv"
  cp "$good/model.s2s" "$good/model.s2s.state" "$work/full/"
  # Leave ≈ 20 kB: too little for a model, a large vocabulary or a prepared corpus beside them.
  used=$(du -sk "$work/full" | cut -f1)
  head -c $(( (512 - 20 - used) * 1024 )) /dev/zero > "$work/full/filler"
  mount -t tmpfs -o size=1m tmpfs "$work/readonly" && cp "$good/vocab.s2sv" "$work/readonly/" \
    && mount -o remount,ro "$work/readonly" || can_mount=0
else
  can_mount=0
fi
cleanup() { for m in "$work/full" "$work/readonly"; do mountpoint -q "$m" 2>/dev/null && umount "$m"; done; }
trap cleanup EXIT

# Large inputs: many short lines, and random text with many distinct words (a large vocabulary).
yes 'a man rides a bike with a dog in the park' | head -n 300000 > "$out/many.en"
head -c 6000000 /dev/urandom | base64 -w 76 | sed 's/[+/]/ /g' > "$out/random.txt"
head -c 300000 "$out/random.txt" > "$out/words.txt"

# ---------------------------------------------------------------------------------------------
total=0 clean=0 unclean=0 skipped=0
failures=()
printf '| case | command | exit | first stderr line | verdict |\n|---|---|---:|---|---|\n'

# row CASE COMMAND EXIT LINE VERDICT
row() {
  local shown="${2//$s2s/s2s}"; shown="${shown//$work\//}"
  local line="${4//$work\//}"; line="${line//|/\\|}"
  printf '| %s | `%s` | %s | %s | %s |\n' "$1" "${shown:0:90}" "$3" "${line:0:110}" "$5"
}

# check NAME EXPECT NAMED COMMAND…
#   EXPECT: error | accept | warn (exit 0, only warnings) | pipe | int | term
#   NAMED:  a fragment the error line must contain (a file name, "file:line"), or -
# Environment for one case: IN (stdin, default /dev/null), STDOUT (default a log file),
# KEEP (files that must keep their bytes), SIGNAL_AFTER (seconds before the signal).
check() {
  local name="$1" expect="$2" named="$3"; shift 3
  local err="$logs/$total.err" stdout="${STDOUT:-$logs/$total.out}"
  local keep=(${KEEP:-}) sums_before="" sums_after="" rc
  [ ${#keep[@]} -gt 0 ] && sums_before=$(md5sum "${keep[@]}" 2>&1)
  total=$((total + 1))
  case "$expect" in
    int|term)
      # (env restores the signal's default: a script's background jobs start with SIGINT ignored)
      timeout -k 5 60 env --default-signal=INT,TERM "$@" < "${IN:-/dev/null}" > "$stdout" 2> "$err" &
      local pid=$!
      sleep "${SIGNAL_AFTER:-2}"
      pkill -"${expect^^}" -P "$pid" 2>/dev/null
      wait "$pid"; rc=$? ;;
    pipe)
      # stdout is a pipe closed after its first line.
      ( "$@" < "${IN:-/dev/null}" 2> "$err"; echo $? > "$logs/$total.rc" ) | head -n 1 > /dev/null
      rc=$(cat "$logs/$total.rc") ;;
    *)
      timeout -k 5 "${TIMEOUT:-60}" "$@" < "${IN:-/dev/null}" > "$stdout" 2> "$err"; rc=$? ;;
  esac
  [ ${#keep[@]} -gt 0 ] && sums_after=$(md5sum "${keep[@]}" 2>&1)
  local lines first problem=""
  lines=$(grep -c '' "$err"); first=$(head -n 1 "$err")
  if grep -q -E 'Fatal error|Stack dump|Current stack trace|Segmentation fault|Illegal instruction|Aborted|core dumped|^[0-9]+ +0x[0-9a-f]+' "$err"; then
    problem="crash output"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    problem="hung (timeout)"
  fi
  if [ -z "$problem" ]; then
    case "$expect" in
      error)
        if [ "$rc" -lt 1 ] || [ "$rc" -gt 125 ]; then problem="exit $rc"
        elif [ "$lines" != 1 ]; then problem="$lines stderr lines"
        elif [ "$named" != - ] && [[ "$first" != *"$named"* ]]; then problem="does not name '$named'"
        fi ;;
      accept) [ "$rc" = 0 ] || problem="exit $rc" ;;
      warn) if [ "$rc" != 0 ]; then problem="exit $rc"
            elif grep -q -v '^s2s: warning: ' "$err"; then problem="stderr holds more than warnings"
            elif [[ "$first" != *"$named"* ]]; then problem="does not name '$named'"
            fi ;;
      pipe) { [ "$rc" = 0 ] || [ "$rc" = 141 ]; } || problem="exit $rc"
            [ "$lines" -le 1 ] || problem="$lines stderr lines" ;;
      int) [ "$rc" = 130 ] || problem="exit $rc, not 130" ;;
      term) { [ "$rc" = 130 ] || [ "$rc" = 143 ]; } || problem="exit $rc, not 143" ;;
    esac
  fi
  [ "$sums_before" = "$sums_after" ] || problem="${problem:+$problem; }changed ${keep[*]//$work\//}"
  local strays
  strays=$(find "$good" "$out" "$work/full" -name '*.tmp.*' 2>/dev/null | head -n 1)
  if [ -n "$strays" ]; then problem="${problem:+$problem; }left ${strays//$work\//}"; find "$good" "$out" "$work/full" -name '*.tmp.*' -delete 2>/dev/null; fi
  if [ -z "$problem" ]; then clean=$((clean + 1)); row "$name" "$*" "$rc" "$first" clean
  else unclean=$((unclean + 1)); failures+=("$name: $problem"); row "$name" "$*" "$rc" "$first" "**NOT CLEAN: $problem**"
  fi
}
skip() { total=$((total + 1)); skipped=$((skipped + 1)); row "$1" "$2" - "cannot mount a tmpfs here" skipped; }

g="$good" b="$bad" o="$out"
V=(-v "$g/vocab.s2sv")

# --- inputs every text-reading command shares ---------------------------------------------------
# (file, expectation for vocab/encode, what the error must name)
text_cases=(
  "missing:$b/nope.txt:error:nope.txt"
  "directory:$b/folder:error:folder"
  "binary garbage:$b/garbage.bin:error:garbage.bin:"
  "invalid UTF-8:$b/invalid.txt:error:invalid.txt:2"
  "NUL bytes:$b/nul.txt:accept:-"
  "CRLF:$b/crlf.txt:accept:-"
  "BOM:$b/bom.txt:accept:-"
  "a 10 MB line:$b/long-line.txt:accept:-"
  "corrupt gzip:$b/corrupt.en.gz:error:corrupt.en.gz"
  "truncated gzip:$b/truncated.en.gz:error:truncated.en.gz"
)
for entry in "${text_cases[@]}"; do
  IFS=: read -r what file expect named <<< "$entry"
  check "vocab: $what" "$expect" "$named" "$s2s" vocab "$file" -o "$o/v.s2sv" --size 300 --quiet
  check "encode: $what" "$expect" "$named" "$s2s" encode "${V[@]}" "$file"
done
# translate reads stdin and, as a filter in a pipeline, does not stop at a bad line: invalid
# UTF-8 is replaced with U+FFFD and each such line gets a warning naming it.
IN="$b/garbage.bin" check "translate: binary garbage" warn "<stdin>:1" "$s2s" translate -m "$g/model.s2s"
IN="$b/invalid.txt" check "translate: invalid UTF-8" warn "<stdin>:2" "$s2s" translate -m "$g/model.s2s"
for entry in "${text_cases[@]:4:3}"; do
  IFS=: read -r what file expect named <<< "$entry"
  IN="$file" check "translate: $what" "$expect" "$named" "$s2s" translate -m "$g/model.s2s" --quiet
done
# (cut into ≈ 20,000 chunks of --max-source-length pieces, each translated: minutes of work for
# an untrained model that writes to its length limit)
TIMEOUT=600 IN="$b/long-line.txt" check "translate: a 10 MB line" accept - "$s2s" translate -m "$g/model.s2s" --quiet
check "vocab: empty file" error "empty.txt" "$s2s" vocab "$b/empty.txt" -o "$o/v.s2sv" --quiet
check "vocab: 10^6 empty lines" error "empty-lines.txt" "$s2s" vocab "$b/empty-lines.txt" -o "$o/v.s2sv" --quiet
check "encode: empty file" accept - "$s2s" encode "${V[@]}" "$b/empty.txt"
check "encode: 10^6 empty lines" accept - "$s2s" encode "${V[@]}" "$b/empty-lines.txt"
IN="$b/empty.txt" check "translate: empty input" accept - "$s2s" translate -m "$g/model.s2s" --quiet
IN="$b/empty-lines.txt" check "translate: 10^6 empty lines" accept - "$s2s" translate -m "$g/model.s2s" --quiet
printf '\xe2\x96\x81a\n\xe2\x96\x81zzzqqq\n' > "$b/unknown.pieces"
IN="$b/unknown.pieces" check "decode: unknown piece" error "<stdin>:2" "$s2s" decode "${V[@]}"
printf '\xe2\x96\x81a\n\xe2\x96\x81a \xff\n' > "$b/invalid.pieces"
IN="$b/invalid.pieces" check "decode: invalid UTF-8" error "<stdin>:2" "$s2s" decode "${V[@]}"
IN="$b/garbage.bin" check "decode --ids: garbage" error "<stdin>:1" "$s2s" decode "${V[@]}" --ids

# --- vocabularies -----------------------------------------------------------------------------------
for entry in "missing:$b/nope.s2sv:nope.s2sv" "directory:$b/folder:folder" "empty:$b/empty.txt:empty.txt" \
             "garbage:$b/garbage.bin:garbage.bin" "a model given as vocabulary:$g/model.s2s:model.s2s"; do
  IFS=: read -r what file named <<< "$entry"
  IN="$b/one.en" check "encode: vocabulary $what" error "$named" "$s2s" encode -v "$file"
  check "prepare: vocabulary $what" error "$named" "$s2s" prepare "$g/train.en" "$g/train.fr" -v "$file" -o "$o/p.s2sd" --quiet
  check "train: vocabulary $what" error "$named" "$s2s" train "$g/train.en" "$g/train.fr" -v "$file" -o "$o/m.s2s" "${tiny[@]}" --max-updates 1
done

# --- corpora ------------------------------------------------------------------------------------------
check "prepare: mismatched corpora" error "short.fr" "$s2s" prepare "$g/train.en" "$b/short.fr" "${V[@]}" -o "$o/p.s2sd" --quiet
check "prepare: invalid UTF-8" error "invalid.txt:2" "$s2s" prepare "$b/invalid.txt" "$b/invalid.txt" "${V[@]}" -o "$o/p.s2sd" --quiet
check "prepare: corrupt gzip" error "corrupt.en.gz" "$s2s" prepare "$b/corrupt.en.gz" "$g/train.fr" "${V[@]}" -o "$o/p.s2sd" --quiet
check "prepare: truncated gzip" error "truncated.en.gz" "$s2s" prepare "$b/truncated.en.gz" "$g/train.fr" "${V[@]}" -o "$o/p.s2sd" --quiet
check "prepare: empty corpus" error "empty.txt" "$s2s" prepare "$b/empty.txt" "$b/empty.txt" "${V[@]}" -o "$o/p.s2sd" --quiet
check "prepare: missing file" error "nope.en" "$s2s" prepare "$b/nope.en" "$g/train.fr" "${V[@]}" -o "$o/p.s2sd" --quiet
check "train: mismatched corpora" error "short.fr" "$s2s" train "$g/train.en" "$b/short.fr" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: invalid UTF-8" error "invalid.txt:2" "$s2s" train "$b/invalid.txt" "$b/invalid.txt" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: corrupt gzip" error "corrupt.en.gz" "$s2s" train "$b/corrupt.en.gz" "$g/train.fr" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: directory as corpus" error "folder" "$s2s" train "$b/folder" "$g/train.fr" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: empty corpus" error "empty.txt" "$s2s" train "$b/empty.txt" "$b/empty.txt" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: prepared corpus of another vocabulary" error "other.s2sd" "$s2s" train --data "$g/other.s2sd" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: garbage as prepared corpus" error "garbage.bin" "$s2s" train --data "$b/garbage.bin" "${V[@]}" -o "$o/m.s2s" "${tiny[@]}"
check "train: validation files of different lengths" error "short.fr" "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" \
  -o "$o/m.s2s" --valid-src "$g/train.en" --valid-tgt "$b/short.fr" "${tiny[@]}"
check "train: --resume without a model" error "none.s2s" "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$o/none.s2s" --resume "${tiny[@]}"
KEEP="$b/mismatched.s2s" check "train: --resume with another model's .state" error "mismatched.s2s" \
  "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$b/mismatched.s2s" --resume "${tiny[@]}"
KEEP="$g/model.s2s" check "train: --resume with another vocabulary" error "other.s2sv" \
  "$s2s" train "$g/train.en" "$g/train.fr" -v "$g/other.s2sv" -o "$g/model.s2s" --resume "${tiny[@]}"
check "shortlist: mismatched corpora" error "short.fr" "$s2s" shortlist "$g/train.en" "$b/short.fr" -m "$g/model.s2s" -o "$o/s.s2s" --quiet

# --- models -------------------------------------------------------------------------------------------
for entry in "missing:$b/nope.s2s:nope.s2s" "directory:$b/folder:folder" "empty:$b/empty.txt:empty.txt" \
             "truncated:$b/truncated.s2s:truncated.s2s" "bit-flipped:$b/flipped.s2s:flipped.s2s" \
             "foreign (a vocabulary):$b/foreign.s2s:foreign.s2s" "garbage:$b/garbage.bin:garbage.bin"; do
  IFS=: read -r what file named <<< "$entry"
  check "info: $what model" error "$named" "$s2s" info "$file"
  IN="$b/one.en" check "translate: $what model" error "$named" "$s2s" translate -m "$file" --quiet
  check "average: $what model" error "$named" "$s2s" average "$g/model.s2s" "$file" -o "$o/a.s2s" --quiet
  check "eval -m: $what model" error "$named" "$s2s" eval -m "$file" --src "$g/test.en" -r "$g/test.fr" --quiet
  check "shortlist: $what model" error "$named" "$s2s" shortlist "$g/train.en" "$g/train.fr" -m "$file" -o "$o/s.s2s" --quiet
  check "serve: $what model" error "$named" "$s2s" serve -m "$file" --port 39999 --quiet
done
check "average: models of different configurations" error "wider.s2s" "$s2s" average "$g/model.s2s" "$g/wider.s2s" -o "$o/a.s2s" --quiet
check "average: models of different vocabularies" error "other.s2s" "$s2s" average "$g/model.s2s" "$g/other.s2s" -o "$o/a.s2s" --quiet
IN="$b/one.en" check "translate: ensemble of different vocabularies" error "other.s2s" "$s2s" translate -m "$g/model.s2s" -m "$g/other.s2s" --quiet
IN="$b/one.en" check "translate: --shortlist on a model without one" error "model.s2s" "$s2s" translate -m "$g/model.s2s" --shortlist --quiet

# --- eval ---------------------------------------------------------------------------------------------
head -n 5 "$g/test.fr" > "$b/five.fr"
check "eval: missing reference" error "nope.fr" "$s2s" eval -r "$b/nope.fr" "$g/test.fr" --quiet
check "eval: hypothesis and reference of different lengths" error "five.fr" "$s2s" eval -r "$g/test.fr" "$b/five.fr" --quiet
check "eval: invalid UTF-8 reference" error "invalid.txt:2" "$s2s" eval -r "$b/invalid.txt" "$b/invalid.txt" --quiet
check "eval: --paired-bs system of another length" error "five.fr" "$s2s" eval -r "$g/test.fr" "$g/test.fr" --paired-bs "$b/five.fr" --quiet
IN="$b/invalid.txt" check "eval: invalid UTF-8 hypothesis on stdin" error "<stdin>:2" "$s2s" eval -r "$b/crlf.txt" --quiet
check "eval: directory as hypothesis" error "folder" "$s2s" eval -r "$g/test.fr" "$b/folder" --quiet
check "eval: empty hypothesis and reference" accept - "$s2s" eval -r "$b/empty.txt" "$b/empty.txt" --quiet

# --- plot ---------------------------------------------------------------------------------------------
check "plot: missing log" error "nope.jsonl" "$s2s" plot "$b/nope.jsonl" -o "$o/p.svg"
check "plot: garbage log" error "garbage.jsonl:1" "$s2s" plot "$b/garbage.jsonl" -o "$o/p.svg"
check "plot: empty log" error "empty.txt" "$s2s" plot "$b/empty.txt" -o "$o/p.svg"
check "plot: binary log" error "garbage.bin" "$s2s" plot "$b/garbage.bin" -o "$o/p.svg"

# --- serve --------------------------------------------------------------------------------------------
check "serve: API-key file missing" error "nope.keys" "$s2s" serve -m "$g/model.s2s" --port 39998 --api-keys "$b/nope.keys" --quiet
check "serve: port already in use" error "in use" bash -c '
  port=$((20000 + RANDOM % 20000))
  "$0" serve -m "$1" --port $port > /dev/null 2> "$2.first" & first=$!
  for _ in $(seq 200); do grep -q serving "$2.first" && break; sleep 0.1; done
  "$0" serve -m "$1" --port $port --quiet; rc=$?; kill -TERM $first; wait $first; exit $rc' "$s2s" "$g/model.s2s" "$logs/serve"

# --- outputs: unwritable, the input itself, read-only, a full disk -------------------------------------
check "vocab: output in a missing folder" error "missing/v.s2sv" "$s2s" vocab "$g/train.en" -o "$o/missing/v.s2sv" --quiet
check "vocab: output is a directory" error "folder" "$s2s" vocab "$g/train.en" -o "$b/folder" --quiet
KEEP="$g/train.en" check "vocab: output = input" error "train.en" "$s2s" vocab "$g/train.en" -o "$g/train.en" --size 300 --quiet
KEEP="$g/train.fr" check "prepare: output = input" error "train.fr" "$s2s" prepare "$g/train.en" "$g/train.fr" "${V[@]}" -o "$g/train.fr" --quiet
KEEP="$g/train.en" check "train: output = input" error "train.en" "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$g/train.en" "${tiny[@]}"
KEEP="$g/model.s2s" check "average: output = input" error "model.s2s" "$s2s" average "$g/model.s2s" "$g/model.s2s" -o "$g/model.s2s" --quiet
KEEP="$g/train.jsonl" check "plot: output = input" error "train.jsonl" "$s2s" plot "$g/train.jsonl" -o "$g/train.jsonl"
STDOUT=/dev/full check "encode: stdout on a full device" error "stdout" "$s2s" encode "${V[@]}" "$g/train.en"
STDOUT=/dev/full IN="$g/test.en" check "translate: stdout on a full device" error "stdout" "$s2s" translate -m "$g/model.s2s" --quiet
STDOUT=/dev/full check "eval: stdout on a full device" error "stdout" "$s2s" eval -r "$g/test.fr" "$g/test.fr" --quiet
if [ "$can_mount" = 1 ]; then
  f="$work/full" r="$work/readonly"
  KEEP="$r/vocab.s2sv" check "vocab: read-only folder" error "vocab.s2sv" "$s2s" vocab "$g/train.en" -o "$r/vocab.s2sv" --size 300 --quiet
  check "prepare: read-only folder" error "p.s2sd" "$s2s" prepare "$g/train.en" "$g/train.fr" "${V[@]}" -o "$r/p.s2sd" --quiet
  check "train: read-only folder" error "m.s2s" "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$r/m.s2s" "${tiny[@]}"
  KEEP="$f/vocab.s2sv" check "vocab: full disk" error "vocab.s2sv" "$s2s" vocab "$out/words.txt" -o "$f/vocab.s2sv" --size 4000 --quiet
  check "prepare: full disk" error "p.s2sd" "$s2s" prepare "$out/many.en" "$out/many.en" "${V[@]}" -o "$f/p.s2sd" --quiet
  KEEP="$f/model.s2s $f/model.s2s.state" check "train: checkpoint on a full disk" error "model.s2s" \
    "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$f/model.s2s" --resume --max-updates 8 --save-frequency 2 "${tiny[@]}"
  check "train: the model kept after a full disk loads" accept - "$s2s" info "$f/model.s2s"
  check "average: full disk" error "a.s2s" "$s2s" average "$g/model.s2s" "$g/model.s2s" -o "$f/a.s2s" --quiet
else
  for what in "vocab: read-only folder" "prepare: read-only folder" "train: read-only folder" "vocab: full disk" \
              "prepare: full disk" "train: checkpoint on a full disk" "average: full disk"; do skip "$what" "(tmpfs)"; done
fi

# --- signals ------------------------------------------------------------------------------------------
check "encode: SIGPIPE (stdout closed early)" pipe - "$s2s" encode "${V[@]}" "$out/many.en"
IN="$out/many.en" check "translate: SIGPIPE" pipe - "$s2s" translate -m "$g/model.s2s" --quiet
cp "$g/model.s2s" "$g/model.s2s.state" "$out/"
for signal in int term; do
  SIGNAL_AFTER=$((1 + RANDOM % 3)) check "train: SIG${signal^^} mid-run" "$signal" - \
    "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$out/model.s2s" --resume --max-updates 100000 --save-frequency 3 "${tiny[@]}"
  check "train: SIG${signal^^}'s checkpoint loads" accept - "$s2s" info "$out/model.s2s"
  check "train: SIG${signal^^}'s checkpoint resumes" accept - "$s2s" train "$g/train.en" "$g/train.fr" "${V[@]}" -o "$out/model.s2s" --resume --max-updates "$(( $("$s2s" info --json "$out/model.s2s" | sed -n 's/^ *"updates" : \([0-9][0-9]*\).*/\1/p' | head -1) + 1 ))" "${tiny[@]}"
  SIGNAL_AFTER=1 IN="$out/many.en" check "translate: SIG${signal^^}" "$signal" - "$s2s" translate -m "$g/model.s2s" --quiet
  KEEP="$g/vocab.s2sv" SIGNAL_AFTER=1 check "vocab: SIG${signal^^} while learning" "$signal" - \
    "$s2s" vocab "$out/random.txt" -o "$g/vocab.s2sv" --size 8000 --quiet
done

echo
echo "cases $total, clean $clean, not clean $unclean, skipped $skipped  (CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
for failure in "${failures[@]}"; do echo "not clean: $failure"; done
[ "$unclean" = 0 ]
