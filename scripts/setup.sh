#!/usr/bin/env bash
# Installs the native libraries s2s links against (Debian packages), only if missing: OpenBLAS and
# LAPACKE, zlib, Open MPI (multi-machine training; `mpirun`), and man-db (`man -l` renders the
# man page that `make install` writes; a test checks it), jq (a README example pipes into it), and
# GNU time (the benchmarks and scripts/scale-check.sh read peak RSS from `/usr/bin/time -v`).
set -euo pipefail
packages=(libopenblas-dev liblapacke-dev zlib1g-dev pkg-config libopenmpi-dev openmpi-bin man-db jq time)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
