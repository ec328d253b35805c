#!/usr/bin/env bash
# Downloads Multi30k (task 1: train, val, test_2016_flickr; en, fr, de) from its public
# GitHub repository into the folder given as $1, as plain text. Used only when
# ../shared/corpora/multi30k-en-fr is absent.
set -euo pipefail
dest="${1:?usage: fetch-multi30k.sh DEST}"
base="https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw"
mkdir -p "$dest"
for split in train val test_2016_flickr; do
  for lang in en fr de; do
    out="$dest/$split.$lang"
    [ -s "$out" ] && continue
    echo "fetching $split.$lang" >&2
    curl -fsSL "$base/$split.$lang.gz" | gunzip -c > "$out.tmp"
    mv "$out.tmp" "$out"
  done
done
