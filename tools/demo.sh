#!/bin/sh
# demo.sh BIN - the main job on the embedded defaults (`make demo`).
#
# Lays out spool/ with sample encounters for two practices (conf/demo/
# encounters), runs the daemon against the bundled demo payer (a `dir:`
# transport whose answering side writes a 999, a 277CA and an 835 for what
# it receives), waits until every claim has its answer, stops the daemon
# with SIGTERM, and shows where the claims stand and what was posted.
# A spool left by an earlier run is moved aside (spool.previous-<time>),
# never deleted.
set -eu
BIN=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -e spool/ledger.db ]; then
  aside="spool.previous-$(date +%Y%m%d%H%M%S)"
  mv spool "$aside"
  echo "demo: the previous spool is now $aside"
fi
mkdir -p spool/inbound
chmod 700 spool spool/inbound
cp -r conf/demo/encounters/* spool/inbound/
echo "demo: $(ls spool/inbound/*/* | wc -l) encounters for practices: $(ls spool/inbound | tr '\n' ' ')"
"$BIN" run --poll 1s --log spool/clearinghouse.log &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
final=0
for i in $(seq 1 60); do
  sleep 1
  open=$("$BIN" claims --json 2>/dev/null | tr '{' '\n' |
         grep -c '"state":"\(queued\|batched\|ready\|sending\|sent\|acknowledged\|accepted\)"' || true)
  total=$("$BIN" claims --json 2>/dev/null | tr '{' '\n' | grep -c '"state":' || true)
  if [ "$total" -gt 0 ] && [ "$open" -eq 0 ]; then final=1; break; fi
done
kill -TERM $pid && wait $pid || true
trap - EXIT
echo
"$BIN" claims
echo
"$BIN" status
echo
echo "demo: posting reports:"
ls spool/reports/*/*
echo "demo: the daemon's log (JSON lines, no patient data): spool/clearinghouse.log"
[ "$final" = 1 ] || { echo "demo: not every claim was answered within 60 s" >&2; exit 1; }
