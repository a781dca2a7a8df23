#!/usr/bin/env bats
# The stampede lock (lock = yes): N processes missing the same key at once
# make one real call. Real processes, a real memcached, libperf's call log.

load helpers
load kinds_helpers

PD=$FIXTURES/perf_driver

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
}

lock_config() {
	{
		printf '[function pf_slow]\nsignature = int pf_slow(int x, int ms)\n'
		printf '%s\n' "$@"
	} | kinds_config lock
}

# herd N CFG ARG...: N processes of the driver at once; waits for them all.
herd() {
	local n=$1 cfg=$2 i pids=() bad=0 before
	shift 2
	before=$(calls_count)
	for ((i = 0; i < n; i++)); do
		LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg "$PD" "$@" \
			>"$BATS_TEST_TMPDIR/herd.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || bad=1
	done
	((bad == 0)) || { kinds_fail "a process of the herd failed"; return 1; }
	for ((i = 0; i < n; i++)); do
		kinds_unlog_verified "$BATS_TEST_TMPDIR/herd.$i" "$before"
	done
}

@test "lock: 8 processes missing one key at once make one real call" {
	cfg=$(lock_config 'lock = yes')
	herd 8 "$cfg" slow:5:600
	assert_calls 1
	[[ $(cat "$BATS_TEST_TMPDIR"/herd.* | grep -c '^slow(5) = 15$') -eq 8 ]] ||
		kinds_fail "every process printed the right answer: $(cat "$BATS_TEST_TMPDIR"/herd.*)"
	[[ $(cat "$BATS_TEST_TMPDIR"/herd.* | grep -c '^txcache: hit pf_slow ') -eq 7 ]] ||
		kinds_fail "seven processes were answered by the holder's result"
}

# lock_key_of FILE: the lock key a debug log FILE says was taken.
lock_key_of() {
	sed -n 's/^txcache: pf_slow: lock \([^ ]*\) taken$/\1/p' "$1" | head -n 1
}

@test "lock: the holder deletes the lock once its result is stored" {
	cfg=$(lock_config 'lock = yes')
	TXCACHE_LOG=debug kinds_exec_shim "$cfg" "$PD" slow:6:10
	expect_out 'slow(6) = 18'
	local key
	key=$(lock_key_of <(printf '%s\n' "$stderr"))
	[[ $key == "$KINDS_NS:pf_slow:"*":lock" ]] || kinds_fail "no 'lock taken' line"
	run -1 memcexist --servers="$MC_SOCK" "$key"
	run -0 memcexist --servers="$MC_SOCK" "${key%:lock}"
}

@test "lock: a holder that dies holds the others for lock_timeout_ms at most" {
	# ms is left out of the key: the holder sleeps long, the waiter not
	cfg=$(lock_config 'lock = yes' 'lock_timeout_ms = 400' 'ignore = ms')
	local log=$BATS_TEST_TMPDIR/holder.log key
	TXCACHE_LOG=debug LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg \
		"$PD" slow:8:30000 >/dev/null 2>"$log" 3>&- &
	local holder=$!
	wait_until grep -q '^txcache: pf_slow: lock .* taken$' "$log" || true # checked next
	key=$(lock_key_of "$log")
	[[ -n $key ]] || kill -KILL "$holder"
	[[ -n $key ]] || kinds_fail "the holder never took the lock: $(cat "$log")"
	kill -KILL "$holder"
	wait "$holder" 2>/dev/null || true
	kinds_exec_shim "$cfg" "$PD" slow:8:10
	expect_out 'slow(8) = 24'
	grep -q 'lock not released in 400 ms; computing' <<<"$stderr" ||
		kinds_fail "the waiter computes after lock_timeout_ms"
	assert_log miss pf_slow
	assert_calls 1 # the holder died before its call returned
}
