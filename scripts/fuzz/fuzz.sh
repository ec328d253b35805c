#!/usr/bin/env bash
# Fuzz the container reader (Sources/S2SContainer) with libFuzzer + AddressSanitizer.
# Needs only the Swift toolchain (libFuzzer ships with it on Linux) and zlib (make setup).
# Usage: scripts/fuzz/fuzz.sh [SECONDS]   (default $FUZZ_SECONDS or 60)
# Builds into .build-fuzz/, runs from the committed seeds plus .build-fuzz/corpus (kept between
# runs), and fails if libFuzzer finds a crash (the reproducer is left in .build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN="${1:-${FUZZ_SECONDS:-60}}"
OUT=.build-fuzz
mkdir -p "$OUT/corpus"

# S2SIO (AtomicFile, IOError) is a module of its own, as in the package; instrumented too.
swiftc -parse-as-library -wmo -module-name S2SIO -sanitize=fuzzer,address \
    -I Sources/CZlib -emit-module -emit-module-path "$OUT/S2SIO.swiftmodule" \
    -c Sources/S2SIO/*.swift -o "$OUT/S2SIO.o"
swiftc -parse-as-library -module-name S2SContainerFuzz -sanitize=fuzzer,address -O \
    -I "$OUT" -I Sources/CZlib \
    Sources/S2SContainer/*.swift scripts/fuzz/FuzzContainer.swift "$OUT/S2SIO.o" -lz \
    -o "$OUT/fuzz-container" 2> >(grep -v "Cannot export local symbol" >&2)

echo "fuzzing the container reader for ${SECONDS_TO_RUN}s" >&2
cd "$OUT"
./fuzz-container -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len=65536 -print_final_stats=1 corpus ../scripts/fuzz/seeds
