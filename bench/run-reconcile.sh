#!/bin/sh
# run-reconcile.sh BIN BUILD - posting an 835 (called by run.sh).
# Target (issue 6): reconcile an 835 of 100,000 claims against a ledger of
# 1,000,000 open claims at >= 50,000 claims/s, memory bounded.
# The ledger is seeded once (claim k = PCN<k as 9 digits>, the claim gen_835
# pays as CLP k) and copied for each run, so every run posts afresh.
set -eu
BIN=$1
B=$2
CLAIMS=${BENCH_RECON_CLAIMS:-100000}
OPEN=${BENCH_RECON_OPEN:-1000000}
H="$B/reconcile"
mkdir -p "$H/payer-profiles" "$H/run"
f="$B/synthetic-835-${CLAIMS}-claims.x12"
[ -s "$f" ] || "$B/gen_835" --claims "$CLAIMS" --seed 1 -o "$f"
cat > "$H/payer-profiles/bench.yaml" <<'YAML'
payer_id: BENCH
name: BENCH PAYER
receiver: {qualifier: ZZ, interchange_id: BENCHPAYER}
claim_types: [professional]
usage: test
remittance:
  line_match: ref_6r | procedure
  fallback: patient_dates_charge
YAML
cat > "$H/bench.yaml" <<YAML
spool: $H/run/spool
ledger: {backend: sqlite, path: $H/run/spool/ledger.db}
payer_profiles: $H/payer-profiles
logging: {level: error, file: "-"}
practices:
  - id: benchclinic
    name: BENCH CLINIC
    npi: "1234567893"
    tax_id: "123456789"
    taxonomy: 207Q00000X
    claim_prefix: PCN
    address: {line1: 1 MAIN ST, city: DENVER, state: CO, zip: "80202"}
    payers:
      bench: {submitter_id: BENCH01, contact: {name: BILLING, phone: "5555550100"}}
YAML
tmpl="$B/reconcile-ledger-${OPEN}.db"
if [ ! -s "$tmpl" ]; then
  rm -f "$tmpl" "$tmpl-wal" "$tmpl-shm"
  echo "== seeding a ledger with $OPEN open claims (once)"
  "$B/seed_ledger" "$tmpl" "$OPEN"
fi
# A seed made by an older build is brought to this build's schema here, once
# (a migration checks every foreign key: seconds on 1,000,000 claims), not
# inside the measurement.
sed "s|ledger: {backend: sqlite, path: .*}|ledger: {backend: sqlite, path: $tmpl}|" "$H/bench.yaml" > "$H/seed.yaml"
"$BIN" claims --config "$H/seed.yaml" --limit 1 > /dev/null
rm -rf "$H/run/spool"
mkdir -p "$H/run/spool"
cp "$tmpl" "$H/run/spool/ledger.db"
# the copy's 700 MB go to the disk now, not while reconcile syncs its own
sync
cat "$f" > /dev/null
echo "== reconcile: an 835 of $CLAIMS claims against $OPEN open claims (target: >= 50,000 claims/s)"
# the whole command's CPU time (all its threads) when /usr/bin/time is there
TIME=
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %U,%S -o $H/time.txt"
rm -f "$H/time.txt"
t0=$(date +%s%N)
set +e
$TIME "$BIN" reconcile --config "$H/bench.yaml" --payer bench --json "$f" > "$H/out.json" 2> "$H/err.txt"
st=$?
set -e
t1=$(date +%s%N)
[ $st -le 1 ] || { echo "reconcile failed ($st):"; cat "$H/err.txt"; exit 1; }
python3 - "$H/out.json" "$t0" "$t1" "$H/time.txt" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
wall = (int(sys.argv[3]) - int(sys.argv[2])) / 1e9
f = d["files"][0]
post = d["elapsed_ms"] / 1000.0
cpu = d.get("cpu_ms", 0) / 1000.0
whole_cpu = ""
if os.path.exists(sys.argv[4]):
    u, s = open(sys.argv[4]).read().strip().splitlines()[-1].split(",")
    whole_cpu = f" (CPU {float(u) + float(s):.2f} s)"
print(f"  {f['claims']} claims read, {f['posted']} posted ({f['paid']} paid, {f['partial']} partial, "
      f"{f['denied']} denied), {f['unmatched']} unmatched, {f['ambiguous']} ambiguous, paid {f['paid_amount']}")
print(f"  posting: {post:.2f} s = {f['claims'] / post:,.0f} claims/s (CPU {cpu:.2f} s); with start-up and reports: "
      f"{wall:.2f} s = {f['claims'] / wall:,.0f} claims/s{whole_cpu}; peak RSS {d['max_rss_kb'] / 1024:.1f} MB")
PY
