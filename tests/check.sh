#!/usr/bin/env bash
# check.sh - everything `make check` runs, with one closing line.
#
#   1. tests/run.sh          unit tests and every bats suite
#   2. tests/check_verify.sh the bats suites again with every hit verified
#   3. tests/torture/run.sh  the torture test, short (TORTURE_SECONDS, 20)
#
# Each part prints its own "N passed, N failed"; the last line here is
# their sum, and the exit status is 1 when any part failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1

passed=0 failed=0 skipped=0 status=0
OUT=$(mktemp /tmp/txc-check.XXXXXX) || exit 1
trap 'rm -f "$OUT"' EXIT

part() {
	"$@" | tee "$OUT"
	local rc=${PIPESTATUS[0]} last
	last=$(tail -n 1 "$OUT")
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
	else
		failed=$((failed + 1)) # a part that did not finish counts as a failure
	fi
	((rc == 0)) || status=1
	echo
}

part tests/run.sh
part tests/check_verify.sh
part env TORTURE_SECONDS="${TORTURE_SECONDS:-20}" tests/torture/run.sh

echo "== all parts"
if ((skipped)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
exit "$status"
