#!/usr/bin/env bash
# check_verify.sh - the bats suites once more with every hit verified
# (behind `make check-verify`, which `make check` runs).
#
#   tests/check_verify.sh [BATS-FILE...]
#
# TXCACHE_VERIFY=1 reaches every program the suites run under the shim
# (run_shim and the suites' own helpers pass the environment through), and
# TXCACHE_VERIFY_LOG collects the mismatch lines of all those processes in
# one file, whatever the tests do with their stderr. The run fails when a
# suite fails or when any mismatch was logged. The last line is
# "N passed, N failed" like tests/run.sh's; a mismatch counts as a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1

LOG=$(mktemp -d /tmp/txc-verify.XXXXXX) || exit 1
trap 'rm -rf "$LOG"' EXIT
chmod 0755 "$LOG"
: >"$LOG/mismatch.log"
# tests may run programs as another user
chmod 0666 "$LOG/mismatch.log"

export TXCACHE_VERIFY=1 TXCACHE_VERIFY_LOG=$LOG/mismatch.log
echo "== verify mode: every hit re-run and compared (TXCACHE_VERIFY=1)"
tests/run.sh bats "$@" | tee "$LOG/run.out"
rc=${PIPESTATUS[0]}

n=$(wc -l <"$LOG/mismatch.log")
echo
echo "verify mode: $n mismatches"
if ((n > 0)); then
	sed 's/^/  /' "$LOG/mismatch.log" | head -n 50
fi
last=$(tail -n 1 "$LOG/run.out")
if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(.*)$ ]]; then
	echo "${BASH_REMATCH[1]} passed, $((BASH_REMATCH[2] + (n > 0))) failed${BASH_REMATCH[3]}"
else
	echo "0 passed, 1 failed"
	rc=1
fi
((rc == 0 && n == 0))
