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
        /usr/bin/time -f "%M %U %S" -o "$step.rss" "$@" > "$step.out" 2> "$step.err" || { cat "$step.err"; exit 1; }
    else
        "$@" > "$step.out" 2> "$step.err" || { cat "$step.err"; exit 1; }
        echo "0 0 0" > "$step.rss"
    fi
    t1=$(now)
    echo "$t0 $t1" > "$step.t"
}
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
run intake "$BIN" intake --quiet
run batch "$BIN" batch
cat intake.out batch.out

ready=$("$BIN" claims --state ready --limit 1 --json | sed -n 's/.*"counts":{"ready":\([0-9]*\)}.*/\1/p')
files=$(find spool/outbound/demo -name "*.x12" | wc -l)
bytes=$(find spool/outbound/demo -name "*.x12" -exec cat {} + | wc -c)
for f in spool/outbound/demo/*.x12; do
    "$BIN" inspect "$f" > /dev/null || { echo "inspect: $f has problems"; exit 1; }
done
# CPU seconds are printed too: on a shared machine they say more than the clock
awk -v n="$N" -v ready="${ready:-0}" -v files="$files" -v bytes="$bytes" -v load="$load" -v cpus="$(nproc)" \
    -v it="$(cat intake.t)" -v bt="$(cat batch.t)" -v ir="$(cat intake.rss)" -v br="$(cat batch.rss)" '
BEGIN {
    split(it, a, " "); split(bt, b, " "); split(ir, x, " "); split(br, y, " ");
    ti = a[2] - a[1]; tb = b[2] - b[1]; tt = ti + tb;
    ci = x[2] + x[3]; cb = y[2] + y[3];
    printf "encounters      %d (load average %s on %d CPUs at start)\n", n, load, cpus;
    printf "claims ready    %d in %d files (%.1f MB of 837)\n", ready, files, bytes / 1e6;
    printf "intake          %6.2f s  %7.0f claims/s   CPU %6.2f s  peak RSS %6.1f MB\n", ti, n / ti, ci, x[1] / 1024;
    printf "batch           %6.2f s  %7.0f claims/s   CPU %6.2f s  peak RSS %6.1f MB\n", tb, n / tb, cb, y[1] / 1024;
    printf "end to end      %6.2f s  %7.0f claims/s   CPU %6.2f s  (target 20000 claims/s)\n", tt, n / tt, ci + cb;
    if (ready != n) { print "FAIL: not every claim is ready"; exit 1 }
}'
