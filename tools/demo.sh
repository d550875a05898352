#!/bin/sh
# demo.sh BIN - the main job on the embedded defaults (see README.md).
# Until the daemon lands this shows the X12 path on a generated batch:
# a synthetic 837P is written to spool/outbound/demo/ and inspected.
set -eu
BIN=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mkdir -p spool/outbound/demo
chmod 700 spool spool/outbound spool/outbound/demo
make -s -C bench BUILD="$ROOT/build/bench" >/dev/null
"$ROOT/build/bench/gen_837p" --claims 25 --seed 7 -o spool/outbound/demo/demo-837p.x12
echo "== inspect spool/outbound/demo/demo-837p.x12"
"$BIN" inspect spool/outbound/demo/demo-837p.x12
