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
	# One earlier process lists the definition in the identity registry.
	# A herd that also creates the registry makes each process bump the
	# generation it found missing, and the holder's value can then carry a
	# generation the waiters no longer accept (they compute: a known gap,
	# README "Stampede lock").
	kinds_exec_shim "$cfg" "$PD" slow:4:10
	expect_out 'slow(4) = 12'
	herd 8 "$cfg" slow:5:600
	assert_calls 2
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

# wait_lock_line LOG: the lock key once LOG says it was taken (10 s at most).
wait_lock_line() {
	local i key
	for ((i = 0; i < 1000; i++)); do
		key=$(lock_key_of "$1")
		[[ -z $key ]] || break
		sleep 0.01
	done
	printf '%s' "$key"
}

@test "lock: a holder whose lock expired never deletes the next holder's lock" {
	# A's lock lives 2 s; A computes for 6 s. B takes the lock after it
	# expired and computes for long; when A finishes, B's lock must stay.
	local cfg_a cfg_b log_a=$BATS_TEST_TMPDIR/a.log log_b=$BATS_TEST_TMPDIR/b.log key i
	# (lock_config writes one file: the second would replace the first)
	cfg_a=$(lock_config 'lock = yes' 'lock_timeout_ms = 400' 'ignore = ms')
	mv "$cfg_a" "${cfg_a%.ini}_a.ini"
	cfg_a=${cfg_a%.ini}_a.ini
	cfg_b=$(lock_config 'lock = yes' 'lock_timeout_ms = 30000' 'ignore = ms')
	TXCACHE_LOG=debug LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg_a \
		"$PD" slow:11:6000 >/dev/null 2>"$log_a" 3>&- &
	local a=$!
	key=$(wait_lock_line "$log_a")
	[[ -n $key ]] || kinds_fail "A never took the lock: $(cat "$log_a")"
	for ((i = 0; i < 1000; i++)); do
		memcexist --servers="$MC_SOCK" "$key" || break
		sleep 0.01
	done
	TXCACHE_LOG=debug LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg_b \
		"$PD" slow:11:60000 >/dev/null 2>"$log_b" 3>&- &
	local b=$!
	[[ -n $(wait_lock_line "$log_b") ]] || {
		kill -KILL "$b" 2>/dev/null || true
		kinds_fail "B never took the lock: $(cat "$log_b")"
	}
	kill -0 "$a" 2>/dev/null || {
		kill -KILL "$b" 2>/dev/null || true
		kinds_fail "A ended before B took the lock: inconclusive"
	}
	wait "$a" || true
	local survived=0
	memcexist --servers="$MC_SOCK" "$key" && survived=1
	kill -KILL "$b" 2>/dev/null || true
	wait "$b" 2>/dev/null || true
	[[ $survived -eq 1 ]] || kinds_fail "A deleted B's lock"
}
