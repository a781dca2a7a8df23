#!/usr/bin/env bats
# A capturing call left by longjmp (libpng-style error handling) or by a
# C++ exception. Its capture frames lived in the shim's stack frame; before
# the shadow stack (shim/capture.h) the next write after a longjmp
# segfaulted in capture_before_fd, and after an exception the frame chain
# looped for ever. Now the dead frames are dropped, nothing of the left
# call is stored, and the program's output is what it is without txcache.

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	txc_mc_flush
	CFG=$(txc_config unwind <<EOF
[cache]
servers = $MC_SOCK
namespace = unwind
timeout_ms = 2000

[function lj_emit]
signature = int lj_emit(out fd fd, int n, ptr env)

[function throw_emit]
signature = int throw_emit(out fd fd, int n)
EOF
)
}

# same_output PROGRAM: the output under the shim, twice (cold, then warm),
# equals the output without it, and the warm run answered from the cache.
same_output() {
	local prog=$1 plain run
	plain=$("$prog") || { echo "plain run failed"; return 1; }
	for run in cold warm; do
		TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 30 "$prog"
		[[ $status -eq 0 ]] || { echo "$run: status $status (139 = crash, 124 = hang)"; echo "$stderr" | tail -5; return 1; }
		[[ $output == "$plain" ]] || { echo "$run output differs:"; diff <(echo "$plain") <(echo "$output"); return 1; }
		[[ $stderr == *"dropped the frames of a call left by longjmp or an exception"* ]] || {
			echo "$run: no frames dropped?"; echo "$stderr"; return 1; }
	done
	[[ $stderr == *"txcache: hit "* ]] || { echo "warm run had no hit"; return 1; }
}

@test "longjmp out of a capturing writer: the next writes are right, no crash" {
	same_output "$FIXTURES/ljdrv"
}

@test "C++ exception through a capturing writer: caught, the next writes are right, no hang" {
	same_output "$FIXTURES/throwdrv"
}

@test "a call left by longjmp is never stored" {
	TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 30 "$FIXTURES/ljdrv"
	[[ $status -eq 0 ]] || { echo "status $status"; return 1; }
	# only lj_emit(1, 7, ...) completes: one miss stored, then one hit
	local stored
	stored=$(grep -c '^txcache: miss lj_emit .* bytes stored' <<<"$stderr" || true)
	[[ $stored == 1 ]] || { echo "stored $stored values:"; grep 'lj_emit' <<<"$stderr"; return 1; }
}
