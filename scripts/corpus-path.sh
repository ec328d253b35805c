#!/usr/bin/env bash
# Prints the folder holding Multi30k En–Fr (train/val/test_2016_flickr .en/.fr/.de):
# $S2S_CORPUS if set, else ../shared/corpora/multi30k-en-fr next to the checkout, else a
# copy fetched from the public Multi30k repository into data/cache (never committed).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${S2S_CORPUS:-}" ]; then echo "$S2S_CORPUS"; exit 0; fi
for candidate in "$here/../shared/corpora/multi30k-en-fr" "$here/../../shared/corpora/multi30k-en-fr"; do
  if [ -f "$candidate/train.en" ]; then (cd "$candidate" && pwd); exit 0; fi
done
"$here/scripts/fetch-multi30k.sh" "$here/data/cache/multi30k-en-fr" >&2
echo "$here/data/cache/multi30k-en-fr"
