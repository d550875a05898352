#!/bin/sh
# bench_pipeline.sh BIN BENCH_BUILD_DIR - encounters to validated 837 files.
#
# Generates N encounter files (N=100000 unless set in the environment; one
# encounter per file, YAML unless FORMAT=json) with gen_encounters into a
# fresh engine home, then times `clearinghouse intake` and
# `clearinghouse batch` and prints claims per second end to end and the peak
# resident memory of each step.  The target is 20000 claims/s.
# KEEP=1 keeps the temporary directory.
set -eu
BIN=$1
BUILD=$2
N=${N:-100000}
FORMAT=${FORMAT:-yaml}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/chbench.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi; }
trap cleanup EXIT
mkdir -p "$T/conf" "$T/payer-profiles"
cp "$ROOT/conf/clearinghouse.yaml" "$T/conf/"
cp "$ROOT"/payer-profiles/*.yaml "$T/payer-profiles/"
cd "$T"

mkdir -p spool/inbound
echo "generating $N $FORMAT encounters..."
"$BUILD/gen_encounters" --count "$N" --out spool/inbound/riverside --format "$FORMAT"
# the spool on a warm cache, as it is on a busy server
find spool/inbound/riverside -type f -exec cat {} + > /dev/null
sync

now() { date +%s.%N; }
# run STEP CMD...: time a step, with its peak RSS when /usr/bin/time is there
run() {
    step=$1
    shift
    t0=$(now)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%M" -o "$step.rss" "$@" > "$step.out" 2> "$step.err" || { cat "$step.err"; exit 1; }
    else
        "$@" > "$step.out" 2> "$step.err" || { cat "$step.err"; exit 1; }
        echo 0 > "$step.rss"
    fi
    t1=$(now)
    echo "$t0 $t1" > "$step.t"
}
run intake "$BIN" intake --quiet
run batch "$BIN" batch
cat intake.out batch.out

ready=$("$BIN" claims --state ready --limit 1 --json | sed -n 's/.*"counts":{"ready":\([0-9]*\)}.*/\1/p')
files=$(find spool/outbound/demo -name "*.x12" | wc -l)
bytes=$(find spool/outbound/demo -name "*.x12" -exec cat {} + | wc -c)
for f in spool/outbound/demo/*.x12; do
    "$BIN" inspect "$f" > /dev/null || { echo "inspect: $f has problems"; exit 1; }
done
awk -v n="$N" -v ready="${ready:-0}" -v files="$files" -v bytes="$bytes" \
    -v it="$(cat intake.t)" -v bt="$(cat batch.t)" -v ir="$(cat intake.rss)" -v br="$(cat batch.rss)" '
BEGIN {
    split(it, a, " "); split(bt, b, " ");
    ti = a[2] - a[1]; tb = b[2] - b[1]; tt = ti + tb;
    printf "encounters      %d\n", n;
    printf "claims ready    %d in %d files (%.1f MB of 837P)\n", ready, files, bytes / 1e6;
    printf "intake          %.2f s  (%.0f claims/s)  peak RSS %.1f MB\n", ti, n / ti, ir / 1024;
    printf "batch           %.2f s  (%.0f claims/s)  peak RSS %.1f MB\n", tb, n / tb, br / 1024;
    printf "end to end      %.2f s  %.0f claims/s  (target 20000)\n", tt, n / tt;
    if (ready != n) { print "FAIL: not every claim is ready"; exit 1 }
}'
