#!/usr/bin/env bash
# What a user gets from `make install`, checked as a user would: installs into a fresh
# prefix, renders the man page with `man -l`, and asks bash's completion for `s2s tr<TAB>`.
# Usage: scripts/install-check.sh   (from the repository; prints what it checked, exits 1 if not)
set -euo pipefail
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
make install PREFIX="$prefix" > /dev/null
test -x "$prefix/bin/s2s" || { echo "install-check: no $prefix/bin/s2s" >&2; exit 1; }
MANPAGER=cat MANWIDTH=100 man -l "$prefix/share/man/man1/s2s.1" > "$prefix/page.txt"
grep -q -- "--max-request-bytes" "$prefix/page.txt" || { echo "install-check: the man page lacks serve's options" >&2; exit 1; }
completion=$(bash -c "source '$prefix/share/bash-completion/completions/s2s'
  COMP_WORDS=(s2s tr); COMP_CWORD=1; COMP_LINE='s2s tr'; COMP_POINT=6
  _s2s s2s tr s2s; echo \"\${COMPREPLY[*]}\"")
[ "$completion" = "train translate" ] || { echo "install-check: s2s tr<TAB> gave '$completion'" >&2; exit 1; }
for file in share/zsh/site-functions/_s2s share/fish/vendor_completions.d/s2s.fish; do
  test -s "$prefix/$file" || { echo "install-check: no $file" >&2; exit 1; }
done
echo "install-check: bin/s2s runs ($("$prefix/bin/s2s" --version)), man -l renders $(wc -l < "$prefix/page.txt") lines, s2s tr<TAB> → $completion, zsh and fish completions present"
