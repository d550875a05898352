#!/bin/sh
# run.sh BIN BENCH_BUILD_DIR - run every bench/bench_*.sh with the engine
# binary and the built benchmark programs.  Each prints its own results.
set -eu
BIN=$1
BUILD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
for b in "$HERE"/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b")"
    sh "$b" "$BIN" "$BUILD" || status=1
done
exit $status
