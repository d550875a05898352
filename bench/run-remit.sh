#!/bin/sh
# run-remit.sh BIN BUILD - 835 reading and matching (called by run.sh).
# Target (issue 6): reconcile an 835 of 100,000 claims against 1,000,000 open
# claims at >= 50,000 claims/s.  Until posting lands this measures reading and
# matching (the part posting will stand on), with peak RSS.
set -eu
B=$2
f="$B/synthetic-835-100k-claims.x12"
[ -s "$f" ] || "$B/gen_835" --claims 100000 --seed 1 -o "$f"
cat "$f" > /dev/null
echo "== 835 reader (target: reconcile >= 50,000 claims/s; memory bounded)"
"$B/bench_remit" "$f"
"$B/bench_remit" --match 1000000 "$f"
