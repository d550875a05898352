#!/bin/bash
# crash_daemon.sh BIN ROOT - kill -9 the daemon at random moments while 1,000
# encounters flow through it (dropped 40 at a time, one SIGKILL per drop, at
# least 25 kills), restart it each time, then check that every encounter
# became exactly one claim, in exactly one delivered batch, and that nothing
# in the spool is unaccounted for.  Prints what it checked; exit 1 on a
# failure.  Uses the demo payer (a dir: transport, answered in-process).
set -u
BIN=$1
ROOT=$2
N=${CRASH_ENCOUNTERS:-1000}
PER_DROP=40
home=$(mktemp -d /tmp/ch-crash.XXXXXX)
trap 'pkill -9 -f "$BIN run --config $home" 2>/dev/null; rm -rf "$home"' EXIT
cd "$home" || exit 2
cp -r "$ROOT/conf" "$ROOT/payer-profiles" .
mkdir -p spool/inbound/riverside
template="$ROOT/conf/demo/encounters/riverside/visit-paid.yaml"
RANDOM=42
kills=0
i=0
drop() {
  local k
  for k in $(seq 1 $PER_DROP); do
    [ $i -ge $N ] && return
    i=$((i + 1))
    id=$(printf 'CRASH-%05d' $i)
    sed "s/DEMO-R-0001/$id/" "$template" > "spool/inbound/riverside/.$id.tmp"
    mv "spool/inbound/riverside/.$id.tmp" "spool/inbound/riverside/$id.yaml"
  done
}
while [ $i -lt $N ]; do
  drop
  "$BIN" run --config "$home/conf/clearinghouse.yaml" --poll 1s --log "$home/daemon.log" &
  pid=$!
  # a random moment within the first 0.4 s of the run: intake, batch, send,
  # the demo payer's answers, collect or reconcile
  sleep "0.$(printf '%03d' $((RANDOM % 400)))"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
done
# recovery: after a pause (temporaries a crash left are swept once they are
# older than 2 s), runs to the end, as many passes as it takes
sleep 3
for pass in 1 2 3 4 5 6; do
  "$BIN" run --config "$home/conf/clearinghouse.yaml" --once --log "$home/daemon.log" >/dev/null 2>&1
done
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }
claims=$("$BIN" claims --config "$home/conf/clearinghouse.yaml" --json)
nclaims=$(printf '%s' "$claims" | tr '{' '\n' | grep -c '"encounter_id":"CRASH-')
nids=$(printf '%s' "$claims" | tr '{' '\n' | grep -o '"encounter_id":"CRASH-[0-9]*"' | sort -u | wc -l)
undelivered=$(printf '%s' "$claims" | tr '{' '\n' | grep '"encounter_id":"CRASH-' |
              grep -c '"state":"\(queued\|batched\|ready\|sending\|failed\)"')
delivered=$(cat spool/payers/demo/to-payer/*.x12 spool/payers/demo/to-payer/answered/*.x12 2>/dev/null |
            tr '~' '\n' | grep -c '^CLM\*')
distinct=$(cat spool/payers/demo/to-payer/*.x12 spool/payers/demo/to-payer/answered/*.x12 2>/dev/null |
           tr '~' '\n' | grep '^CLM\*' | cut -d'*' -f2 | sort -u | wc -l)
find spool -name ".*" -type f | grep -v "\.lock$" | sed "s/^/  leftover: /"
leftover=$(find spool -name '.*' -type f | grep -v '\.lock$' | wc -l)
inbound=$(find spool/inbound -type f | wc -l)
failed=$(find spool/failed -type f 2>/dev/null | wc -l)
echo "kills: $kills, encounters: $N, claims: $nclaims ($nids distinct), undelivered: $undelivered"
echo "claims in delivered files: $delivered ($distinct distinct), leftover temporary files: $leftover"
check "at least 20 kills" "[ $kills -ge 20 ]"
check "every encounter became exactly one claim" "[ $nclaims -eq $N ] && [ $nids -eq $N ]"
check "every claim was delivered" "[ $undelivered -eq 0 ]"
check "each claim is in exactly one delivered batch" "[ $delivered -eq $N ] && [ $distinct -eq $N ]"
check "nothing left in inbound/ or failed/" "[ $inbound -eq 0 ] && [ $failed -eq 0 ]"
check "no temporary files left anywhere in the spool" "[ $leftover -eq 0 ]"
# no claim was paid twice: each has at most one posted (non-reversal) payment
twice=$(sqlite3 spool/ledger.db "SELECT count(*) FROM (SELECT claim_id FROM claim_payments WHERE reversal = 0 GROUP BY claim_id HAVING count(*) > 1)" 2>/dev/null || echo 0)
check "no claim was paid twice" "[ ${twice:-0} -eq 0 ]"
exit $fail
