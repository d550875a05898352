#!/bin/sh
# run.sh BIN BUILD - the hot-path benchmarks, with the issues' targets.
# Generates its own deterministic synthetic files under BUILD (not committed).
set -eu
BIN=$1
B=$2
SIZE_MB=${BENCH_MB:-200}
BIG_MB=${BENCH_BIG_MB:-2048}
f837="$B/synthetic-837p-${SIZE_MB}MB.x12"
[ -s "$f837" ] || "$B/gen_837p" --bytes $((SIZE_MB * 1000000)) --seed 1 -o "$f837"
echo "== tokenizer (target: >= 1000 MB/s on one core, peak RSS < 16 MB at 200 MB and 2 GB)"
cat "$f837" > /dev/null   # warm the page cache: measure the tokenizer, not the disk
"$B/bench_tokenize" "$f837"
"$B/bench_tokenize" --envelope "$f837"
echo "== tokenizer on ${BIG_MB} MB streamed through a pipe (memory must not grow)"
"$B/gen_837p" --bytes $((BIG_MB * 1000000)) --seed 2 | "$B/bench_tokenize" -
if [ -x "$B/bench_validate" ]; then
  f835="$B/synthetic-835-100MB.x12"
  [ -s "$f835" ] || "$B/gen_835" --bytes 100000000 --seed 1 -o "$f835"
  # As `clearinghouse validate` runs on files this size: transaction sets on
  # worker threads (one fewer than the CPUs), then on one thread for comparison.
  workers=$(( $(nproc) - 1 ))
  [ "$workers" -ge 1 ] || workers=0
  echo "== validation (target: >= 300 MB/s, memory bounded): $workers worker thread(s), then one thread"
  cat "$f835" > /dev/null
  "$B/bench_validate" --threads "$workers" "$f837"
  "$B/bench_validate" --threads "$workers" "$f835"
  "$B/bench_validate" "$f837"
  "$B/bench_validate" "$f835"
fi
for extra in "$(dirname "$0")"/run-*.sh; do
  [ -f "$extra" ] && sh "$extra" "$BIN" "$B"
done
exit 0
