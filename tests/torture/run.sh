#!/usr/bin/env bash
# run.sh - the torture test (`make torture`; `make check` runs it short).
#
#   TORTURE_SECONDS=600 tests/torture/run.sh
#
# One program (tests/fixtures/torture.c) under the shim, doing everything
# at once for TORTURE_SECONDS (default 20): 8 threads of checked cached
# calls, a fork loop whose children call too, a SIGALRM handler calling a
# cached function while the main thread mallocs, dlopen/dlclose of a plugin
# that imports a cached function, and longjmp out of a cached writer.
# Meanwhile this script stops (SIGSTOP/SIGCONT), kills (-9) and restarts
# its private memcached, in turn. Passes when the program exits 0 with no
# wrong result, no failed or hung child, before its own deadline plus
# 120 s (a hang fails). The last line is "N passed, N failed".
#
# Environment: BUILD (default build), TXCACHE_ASAN=1 / TXCACHE_TSAN=1 (the
# sanitizer runtime is preloaded before the shim).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SECS=${TORTURE_SECONDS:-20}
# shellcheck source=../lib/memcached.sh
source "$ROOT/tests/lib/memcached.sh"

fail() {
	echo "torture: FAILED: $*"
	echo "0 passed, 1 failed"
	exit 1
}

DIR=$(mc_tmpdir) || fail "no temporary directory"
PROG_PID=
cleanup() {
	[[ -n $PROG_PID ]] && kill -KILL "$PROG_PID" 2>/dev/null
	if [[ -n ${MC_PID:-} ]]; then
		kill -CONT "$MC_PID" 2>/dev/null
		mc_stop "$DIR" >/dev/null 2>&1
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
mc_start "$DIR" || fail "memcached did not start"

cat >"$DIR/torture.ini" <<INI
[cache]
servers    = $MC_SOCK
namespace  = torture
timeout_ms = 200

[function t_sq]
signature = int t_sq(int x)

[function t_blob]
signature = int t_blob(int x, out bytes[cap] buf, size_t cap)
local_ttl = 2

[function t_name]
signature = static string t_name(int x)

[function t_emit]
signature = int t_emit(out fd fd, int n, ptr env)
INI

preload=$BUILD/libtxcache.so
if [[ ${TXCACHE_ASAN:-} == 1 ]]; then
	preload="$(${CC:-cc} -print-file-name=libasan.so) $preload"
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
elif [[ ${TXCACHE_TSAN:-} == 1 ]]; then
	preload="$(${CC:-cc} -print-file-name=libtsan.so) $preload"
fi

# First, one quiet second at log = info: the config is valid and every
# function is really served from the cache (a torture that passes through
# everything would prove nothing).
LD_PRELOAD=$preload TXCACHE_CONFIG=$DIR/torture.ini TXCACHE_LOG=info \
	timeout -s KILL 120 "$BUILD/fixtures/torture" 1 "$BUILD/fixtures/libtplug.so" \
	2>"$DIR/warm" >/dev/null 3>&-
for fn in t_sq t_blob t_name t_emit; do
	grep -q "^txcache: hit $fn " "$DIR/warm" ||
		fail "no hit of $fn in a quiet run: $(grep -v '^txcache: \(hit\|miss\)' "$DIR/warm" | head -n 3)"
done
rm -f "$DIR/warm"

echo "== torture: ${SECS}s of threads, forks, signals, dlopen, longjmp; memcached stopped, killed, restarted"
LD_PRELOAD=$preload TXCACHE_CONFIG=$DIR/torture.ini \
	timeout -s KILL $((SECS + 120)) "$BUILD/fixtures/torture" "$SECS" \
	"$BUILD/fixtures/libtplug.so" >"$DIR/out" 2>"$DIR/err" 3>&- &
PROG_PID=$!

# The chaos: one action a second or so, in turn, until the program ends.
actions=0 n=0
while kill -0 "$PROG_PID" 2>/dev/null; do
	sleep 1
	kill -0 "$PROG_PID" 2>/dev/null || break
	case $((n++ % 3)) in
	0) # stopped: every call meets a silent server
		kill -STOP "$MC_PID" 2>/dev/null && sleep 0.7
		kill -CONT "$MC_PID" 2>/dev/null
		;;
	1) # killed, then restarted on the same socket
		kill -KILL "$MC_PID" 2>/dev/null
		mc_stop "$DIR" >/dev/null 2>&1
		sleep 0.3
		mc_start "$DIR" || fail "memcached did not restart"
		;;
	2) ;; # a quiet second: hits again
	esac
	actions=$((actions + 1))
done
wait "$PROG_PID"
rc=$?
PROG_PID=
summary=$(grep '^torture:' "$DIR/out" | tail -n 1)
echo "${summary:-torture: no summary line}"
echo "torture: $actions chaos actions on memcached; exit status $rc"
if ((rc == 137)); then
	sed 's/^/  | /' "$DIR/err" | tail -n 20
	fail "killed after $((SECS + 120)) s: a hang"
fi
if ((rc != 0)) || [[ $summary != *" wrong=0 child_fail=0" ]]; then
	sed 's/^/  | /' "$DIR/err" | grep -v '^  | txcache: ' | tail -n 20
	grep -m 5 'WRONG\|Sanitizer\|ThreadSanitizer' "$DIR/err" | sed 's/^/  | /'
	fail "exit status $rc"
fi
if grep -q 'ThreadSanitizer\|AddressSanitizer' "$DIR/err"; then
	grep -m 20 -A8 'WARNING: ThreadSanitizer\|ERROR: AddressSanitizer' "$DIR/err" | sed 's/^/  | /'
	fail "sanitizer report"
fi
echo "1 passed, 0 failed"
