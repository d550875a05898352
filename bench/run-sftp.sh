#!/bin/sh
# run-sftp.sh BIN BUILD - SFTP send throughput: one reused SSH connection
# versus a connection per file (issue 5).  Starts OpenSSH sshd on a free
# loopback port with tests/fixtures/servers.sh, runs BUILD/bench_sftp, and
# stops the server by its pid file whatever happens.
#   BENCH_SFTP_FILES (default 1000), BENCH_SFTP_SIZE (bytes, default 2048)
set -eu
B=$2
HERE=$(cd "$(dirname "$0")" && pwd)
FIX="$HERE/../tests/fixtures/servers.sh"
[ -x "$B/bench_sftp" ] || { echo "run-sftp.sh: $B/bench_sftp not built (make bench)" >&2; exit 1; }
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || { echo "== sftp send: skipped (no sshd; make deps)"; exit 0; }
D=$(mktemp -d "${TMPDIR:-/tmp}/bench-sftp-XXXXXX")
stop() { bash "$FIX" sftp stop "$D/sftp" >/dev/null 2>&1 || true; rm -rf "$D"; }
trap stop EXIT INT TERM
set -a
eval "$(bash "$FIX" sftp start "$D/sftp" 2>"$D/servers.log")"
set +a
"$B/bench_sftp" --files "${BENCH_SFTP_FILES:-1000}" --size "${BENCH_SFTP_SIZE:-2048}"
