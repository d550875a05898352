#!/bin/sh
# run-daemon.sh BIN BUILD - the daemon from dropped encounters to delivered
# batches (the demo payer's directory transport), in encounters per second,
# and the CPU a waiting daemon uses (it must not busy-poll).
set -eu
BIN=$1
B=$2
N=${BENCH_DAEMON_ENCOUNTERS:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
home=$(mktemp -d "${TMPDIR:-/tmp}/chdaemon.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; rm -rf "$home"' EXIT
cd "$home"
cp -r "$ROOT/conf" "$ROOT/payer-profiles" .
# batch as soon as claims wait, send at once; no answering side in this run
sed -i -e 's/^  batch_every: .*/  batch_every: 1s/' -e 's/^  send_every: .*/  send_every: 1s/' \
       -e 's/^  collect_every: .*/  collect_every: 1h/' -e '/^simulator:/,/^$/d' payer-profiles/demo.yaml
mkdir -p spool/inbound/riverside
"$B/gen_encounters" --count "$N" --out spool/inbound/riverside >/dev/null
echo "== daemon: $N encounters dropped, to delivered batches (demo payer directory)"
start=$(date +%s.%N)
"$BIN" run --poll 1s --log "$home/daemon.log" &
pid=$!
while :; do
  sleep 0.2
  left=$(sqlite3 spool/ledger.db "SELECT count(*) FROM claims WHERE state IN ('queued','batched','ready','sending')" 2>/dev/null || echo x)
  total=$(sqlite3 spool/ledger.db "SELECT count(*) FROM claims" 2>/dev/null || echo 0)
  [ "$total" = "$N" ] && [ "$left" = 0 ] && break
done
end=$(date +%s.%N)
awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "daemon    %d encounters in %.2f s: %.0f encounters/s delivered\n", n, e - s, n / (e - s) }'
sleep 1
t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 10
t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
hz=$(getconf CLK_TCK)
awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "idle      %.2f%% CPU over 10 s waiting (%d clock ticks)\n", (b - a) / hz / 10 * 100, b - a }'
kill -TERM $pid && wait $pid || true
pid=
