#!/usr/bin/env bash
# run.sh - the test runner behind `make check` and `make asan`.
#
#   tests/run.sh [unit|bats|all] [BATS-FILE...]
#
# Part 1 runs every $BUILD/tests/test_* (TAP from tests/unit/check.h) against
# a private memcached (TXCACHE_TEST_SOCKET), part 2 runs the bats suites
# (tests/bats, or the files given). The last line is always
# "N passed, N failed[, N skipped]"; the exit status is 1 when anything failed.
#
# Environment: BUILD (default build), TXCACHE_ASAN=1 (ASan-built shim: the
# suites preload the ASan runtime first), TXCACHE_UNIT_TIMEOUT (seconds per
# unit binary, default 300).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
export BUILD

PART=${1:-all}
case $PART in
unit | bats | all) shift $(($# > 0)) ;;
*) PART=all ;;
esac

# shellcheck source=lib/memcached.sh
source "$ROOT/tests/lib/memcached.sh"

passed=0 failed=0 skipped=0
LOG=$(mktemp -d /tmp/txc-run.XXXXXX) || exit 1
MC_DIR=

cleanup() {
	if [[ -n $MC_DIR ]]; then
		mc_stop "$MC_DIR"
		rm -rf "$MC_DIR"
		MC_DIR=
	fi
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Counts the TAP lines of FILE into the totals and prints the failing ones
# with the diagnostics that follow them. Sets part_ok/part_fail/part_skip.
count_tap() {
	local file=$1 line in_fail=0
	part_ok=0 part_fail=0 part_skip=0
	while IFS= read -r line; do
		if [[ $line =~ ^ok\ [0-9]+.*\#\ [Ss][Kk][Ii][Pp] ]]; then
			((part_skip++))
			in_fail=0
		elif [[ $line =~ ^ok\ [0-9]+ ]]; then
			((part_ok++))
			in_fail=0
		elif [[ $line =~ ^not\ ok\ [0-9]+ ]]; then
			((part_fail++))
			in_fail=1
			printf '  %s\n' "$line"
		elif ((in_fail)) && [[ $line == '#'* ]]; then
			printf '  %s\n' "$line"
		fi
	done <"$file"
}

# The plan line ("1..N") says how many results a binary meant to print.
plan_of() {
	sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1
}

run_one_unit() {
	local bin=$1 name out rc plan seen
	name=$(basename "$bin")
	out=$LOG/$name.out
	# A group, so bash's own "Segmentation fault" goes to the log too.
	{ timeout "${TXCACHE_UNIT_TIMEOUT:-300}" "$bin" </dev/null; } >"$out" 2>&1
	rc=$?
	count_tap "$out" >"$LOG/$name.fail"
	plan=$(plan_of "$out")
	seen=$((part_ok + part_fail + part_skip))
	if ((rc != 0 && part_fail == 0)) || [[ $plan != "$seen" ]]; then
		# Crashed, timed out or failed outside a CHECK (a sanitizer
		# report, a leak): one failure, and show everything it said.
		((part_fail++))
		printf '%-28s FAILED (exit %d, %d of %s results)\n' "$name" "$rc" "$seen" "${plan:-?}"
		sed 's/^/  | /' "$out" | tail -n 60
	elif ((part_fail)); then
		printf '%-28s %d ok, %d FAILED\n' "$name" "$part_ok" "$part_fail"
		cat "$LOG/$name.fail"
		# Whatever the test printed besides TAP (its own diagnostics).
		grep -Ev '^(ok |not ok |#|1\.\.)' "$out" | sed 's/^/  | /' | tail -n 40
	else
		printf '%-28s %d ok%s\n' "$name" "$part_ok" \
			"$( ((part_skip)) && printf ', %d skipped' "$part_skip")"
	fi
	unit_ok=$((unit_ok + part_ok))
	unit_fail=$((unit_fail + part_fail))
	unit_skip=$((unit_skip + part_skip))
}

run_unit() {
	local bins=() bin
	unit_ok=0 unit_fail=0 unit_skip=0
	for bin in "$BUILD"/tests/test_*; do
		[[ -f $bin && -x $bin ]] && bins+=("$bin")
	done
	echo "== unit tests ($BUILD/tests)"
	if ((${#bins[@]} == 0)); then
		echo "no unit test binaries (run 'make unit')"
	else
		if ! MC_DIR=$(mc_tmpdir) || ! mc_start "$MC_DIR"; then
			echo "cannot start memcached for the unit tests"
			((failed++))
			return
		fi
		export TXCACHE_TEST_SOCKET=$MC_SOCK
		export TXCACHE_FIXTURES=$BUILD/fixtures
		for bin in "${bins[@]}"; do
			run_one_unit "$bin"
		done
		mc_stop "$MC_DIR"
		rm -rf "$MC_DIR"
		MC_DIR=
		unset TXCACHE_TEST_SOCKET
	fi
	printf 'unit: %d passed, %d failed, %d skipped\n\n' "$unit_ok" "$unit_fail" "$unit_skip"
	passed=$((passed + unit_ok))
	failed=$((failed + unit_fail))
	skipped=$((skipped + unit_skip))
}

run_bats() {
	local rc targets=("$@")
	((${#targets[@]})) || targets=(tests/bats)
	echo "== bats (${targets[*]})"
	if ! command -v bats >/dev/null; then
		echo "bats is not installed (run tests/deps.sh)"
		((failed++))
		return
	fi
	export BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats}
	[[ ${TXCACHE_ASAN:-} == 1 ]] && export TXCACHE_ASAN
	[[ ${TXCACHE_TSAN:-} == 1 ]] && export TXCACHE_TSAN
	# TAP lines live for progress; the failures again at the end.
	bats --tap "${targets[@]}" 2>&1 | tee "$LOG/bats.out"
	rc=${PIPESTATUS[0]}
	echo
	count_tap "$LOG/bats.out" >"$LOG/bats.fail"
	local plan seen
	plan=$(plan_of "$LOG/bats.out")
	seen=$((part_ok + part_fail + part_skip))
	if ((part_fail)); then
		echo "bats failures:"
		cat "$LOG/bats.fail"
	fi
	if [[ -n $plan ]] && ((plan > seen)); then
		# A failed setup_file skips the rest of its file.
		echo "$((plan - seen)) of $plan bats tests did not run: counted as failures"
		part_fail=$((part_fail + plan - seen))
	elif ((rc != 0 && part_fail == 0)); then
		# A broken .bats file or a failing setup_file may print no
		# "not ok" line at all.
		echo "bats exited with status $rc without a failing test: counted as one failure"
		((part_fail++))
	fi
	printf 'bats: %d passed, %d failed, %d skipped\n\n' "$part_ok" "$part_fail" "$part_skip"
	passed=$((passed + part_ok))
	failed=$((failed + part_fail))
	skipped=$((skipped + part_skip))
}

[[ $PART == bats ]] || run_unit
[[ $PART == unit ]] || run_bats "$@"

if ((skipped)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
((failed == 0))
