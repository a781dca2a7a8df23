#!/usr/bin/env bats
# The timeout pattern: an interval timer whose handler siglongjmps out of
# whatever the thread is doing, the shim's own work included. Before the
# guard (shim/guard.h), a jump out of the shim's work left the re-entry
# flag set: every later call of the thread went to the real function
# (3005 calls, 0 hits, no log line). Now a wrapped handler is deferred
# until the shim's work pauses or ends, so it never leaves a lock held or
# the guard set; the calls are right, and served from the cache.

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	txc_mc_flush
	CFG=$(txc_config guard <<EOF
[cache]
servers = $MC_SOCK
namespace = guard
timeout_ms = 2000

[function tmr_sq]
signature = int tmr_sq(int x)

[function big_emit]
signature = int big_emit(out fd fd, int kb)
EOF
)
}

# timer_run ARGS...: tmrdrv under the shim at log = info (LOG), passes when
# it completed its calls with no wrong result, and sets HITS and JUMPS.
timer_run() {
	TXCACHE_LOG=${LOG:-info} run_shim --separate-stderr "$CFG" timeout 120 "$FIXTURES/tmrdrv" "$@"
	[[ $status -eq 0 ]] || { echo "status $status (124 = hang)"; echo "$output"; echo "$stderr" | tail -5; return 1; }
	[[ $output == "calls $2 wrong 0" ]] || { echo "output: $output"; return 1; }
	HITS=$(sed -n 's/^txcache: stats tmr_sq: hits=\([0-9]*\) .*/\1/p' <<<"$stderr")
	[[ ${LOG:-info} == info ]] || HITS=-
	JUMPS=$(sed -n 's/^tmrdrv: \([0-9]*\) jumps.*/\1/p' <<<"$stderr")
	[[ -n $HITS && -n $JUMPS ]] || { echo "no stats:"; echo "$stderr" | tail -5; return 1; }
	echo "hits $HITS jumps $JUMPS"
}

# Most of the calls must be hits: the 5 keys miss once each, and a call a
# jump abandons is made again. Before the fix, hits stopped at the first
# jump out of the shim's work.
mostly_hits() {
	local calls=$1
	[[ $JUMPS -gt 0 ]] || { echo "the timer never jumped: proves nothing"; return 1; }
	[[ $HITS -ge $((calls / 2)) ]] || { echo "only $HITS hits of $calls calls ($JUMPS jumps)"; return 1; }
	# a wrapped handler is deferred: it never jumps out of the shim's work
	[[ $stderr != *"left the shim's work by longjmp"* ]] || { echo "a handler ran inside the shim's work"; return 1; }
}

@test "ITIMER_REAL siglongjmp every 200 us: calls stay right and cached" {
	timer_run real 3005 5 200 || return 1
	mostly_hits 3005
}

@test "ITIMER_PROF siglongjmp every 200 us: calls stay right and cached" {
	timer_run prof 3005 5 200 || return 1
	mostly_hits 3005
}

@test "the handler on an alternate signal stack: calls stay right and cached" {
	timer_run real 3005 5 200 alt || return 1
	mostly_hits 3005
}

@test "thousands of jumps at random points, misses and hits: no hang, no wrong result" {
	# 2000 keys: misses (store path, libmemcached mid-request) and hits;
	# a jump every 300 us lands anywhere; a lock or a libmemcached handle
	# left behind would hang or corrupt a later call. At log = warn: a
	# line per call would make most calls longer than the timer's period.
	LOG=warn timer_run real 20000 2000 300 || return 1
	[[ $JUMPS -ge 1000 ]] || { echo "only $JUMPS jumps"; return 1; }
	[[ $stderr != *"failed verification"* ]] || { echo "corrupt values:"; grep verification <<<"$stderr" | head -3; return 1; }
}

@test "a handler the shim did not wrap jumps out of its work: logged once, caching goes on" {
	# the lookup waits on a stopped memcached; the handler resumes it and jumps
	TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 60 "$FIXTURES/jumpdrv" "$MC_PID"
	kill -CONT "$MC_PID" 2>/dev/null || true
	[[ $status -eq 0 ]] || { echo "status $status (124 = hang)"; echo "$output"; echo "$stderr" | tail -5; return 1; }
	[[ $output == "jumped 1 wrong 0" ]] || { echo "output: $output"; return 1; }
	local n
	n=$(grep -c "^txcache: a signal handler left the shim's work by longjmp; caching goes on" <<<"$stderr" || true)
	[[ $n == 1 ]] || { echo "logged $n times:"; echo "$stderr" | tail -5; return 1; }
	local hits
	hits=$(sed -n 's/^txcache: stats tmr_sq: hits=\([0-9]*\) .*/\1/p' <<<"$stderr")
	[[ ${hits:-0} -ge 40 ]] || { echo "only ${hits:-0} hits after the jump:"; grep -v ' hit ' <<<"$stderr" | tail -8; return 1; }
}

@test "a hit's replay blocked on a full pipe: the program's alarm still times it out" {
	# 256 KiB into a pipe nobody reads blocks; the handler (signal(): SA_RESTART)
	# must run during the replay, not be deferred until it ends (never)
	run "$FIXTURES/blockdrv" block
	[[ $output == "timed out" ]] || { echo "plain: $output"; return 1; }
	TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 60 "$FIXTURES/blockdrv" warm
	[[ $status -eq 0 && $output == returned ]] || { echo "warm: $status $output"; return 1; }
	[[ $stderr == *"txcache: miss big_emit "*"bytes stored"* ]] || { echo "not stored:"; echo "$stderr" | tail -3; return 1; }
	TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 60 "$FIXTURES/blockdrv" block
	[[ $status -eq 0 ]] || { echo "status $status (124 = hang)"; return 1; }
	[[ $output == "timed out" ]] || { echo "output: $output"; return 1; }
}
