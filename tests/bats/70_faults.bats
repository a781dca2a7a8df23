#!/usr/bin/env bats
# The failure matrix: whatever memcached does, the program under the shim
# prints the same output as without it and never hangs. Each fault is a
# real process: a closed port, a listener that accepts and never answers,
# a listener whose accept queue is full, kill -STOP/-CONT and kill -9 of a
# memcached. rel_driver checks every result itself (exit 1 on a wrong one).
#
# Time bounds are generous (no performance assertion): they only prove that
# calls do not each wait for a timeout. The count of timeouts paid comes
# from the breaker's debug lines ("refusing calls for N ms": one per failed
# operation that reached the network).

load helpers
load rel_helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_LOG
	REL_LPID= TCP_DIR=
}

teardown() {
	rel_kill "$REL_LPID"
	if [[ -n $TCP_DIR ]]; then
		# a stopped memcached must be continued before SIGKILL reaps it
		[[ -n ${MC_PID:-} ]] && kill -CONT "$MC_PID" 2>/dev/null
		mc_stop "$TCP_DIR"
		rm -rf "$TCP_DIR"
	fi
}

# timeouts: how many failed operations the last run paid for.
timeouts() {
	grep -c 'refusing calls for' <<<"$stderr" || true
}

# A long run in the background: sets BG_PID, output in $BATS_TEST_TMPDIR/bg.*
bg_run() {
	local config=$1
	shift
	BG_T0=$(now_ms)
	timeout 60 env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$config" TXCACHE_LOG=info \
		"$REL" "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	BG_PID=$!
}

bg_wait() {
	wait "$BG_PID"
	bg_status=$?
	elapsed_ms=$(($(now_ms) - BG_T0))
	stderr=$(cat "$BATS_TEST_TMPDIR/bg.err")
	output=$(cat "$BATS_TEST_TMPDIR/bg.out")
}

mc_stat() {
	memcstat --servers="$1" | sed -n "s/^[[:space:]]*$2: \([0-9]*\)/\1/p"
}

# Conditions for wait_until, while the background run goes on.
# items_on SERVER: SERVER holds an item (the run stored a result).
items_on() {
	local n
	n=$(mc_stat "$1" curr_items)
	((${n:-0} > 0))
}

# hits_above SERVER N: SERVER served more than N hits.
hits_above() {
	local n
	n=$(mc_stat "$1" get_hits)
	((${n:-0} > $2))
}

# The background run's stderr so far, for a failure message.
bg_log() {
	if kill -0 "$BG_PID" 2>/dev/null; then
		echo "(still running)"
	else
		echo "(exited)"
	fi
	tail -n 5 "$BATS_TEST_TMPDIR/bg.err"
}

@test "live memcached: output unchanged, repeated calls are hits" {
	export TXCACHE_VERIFY=0 # counts real calls at log = warn; under verify each hit makes one too
	txc_mc_flush
	cfg=$(REL_TIMEOUT_MS=2000 rel_config live "$MC_SOCK")
	rel_expect loop 2000 50
	rel_run "$cfg" loop 2000 50
	assert_success
	assert_output "$expected"
	(($(rel_real) == 50))
}

@test "closed port: output unchanged, no hang, at most one warning" {
	port=$(_mc_free_port)
	cfg=$(rel_config closed "127.0.0.1:$port")
	rel_expect loop 3000 50 200
	rel_run "$cfg" loop 3000 50 200
	assert_success
	assert_output "$expected"
	((elapsed_ms < 30000))
	(($(rel_real) == 3000))
	n=$(grep -c '^txcache:' <<<"$stderr" || true)
	((n <= 1)) || { echo "$stderr" >&2; false; }
}

@test "silent server: about one timeout per back-off interval, not one per call" {
	rel_listener silent
	cfg=$(rel_config silent "127.0.0.1:$REL_LPORT")
	rel_expect loop 3000 50 1000
	TXCACHE_LOG=debug rel_run "$cfg" loop 3000 50 1000
	assert_success
	assert_output "$expected"
	n=$(timeouts)
	echo "silent: $n timeouts of 200 ms in ${elapsed_ms} ms for 3000 calls" >&3
	# one per call would be 3000 timeouts (600 s); back-off allows ~1 per interval
	((n >= 1 && n <= 20))
	((elapsed_ms < 30000))
}

@test "full accept queue: connects time out, bounded like a silent server" {
	rel_listener full
	cfg=$(rel_config full "127.0.0.1:$REL_LPORT")
	rel_expect loop 3000 50 1000
	TXCACHE_LOG=debug rel_run "$cfg" loop 3000 50 1000
	assert_success
	assert_output "$expected"
	n=$(timeouts)
	echo "full queue: $n timeouts in ${elapsed_ms} ms for 3000 calls" >&3
	((n >= 1 && n <= 20))
	((elapsed_ms < 30000))
}

@test "kill -STOP then -CONT of memcached mid-run: unchanged output, cache used again" {
	TCP_DIR=$(mc_tmpdir)
	mc_start_tcp "$TCP_DIR"
	cfg=$(rel_config stop "$MC_SERVER")
	rel_expect loop 6000 50 1000
	bg_run "$cfg" loop 6000 50 1000
	# mid-run: once the run has stored results, however long it took to start
	wait_until items_on "$MC_SERVER" || fail "the run stored nothing: $(bg_log)"
	kill -STOP "$MC_PID"
	sleep 1.5 # the fault itself: calls meet a stopped server for this long
	kill -CONT "$MC_PID"
	before=$(mc_stat "$MC_SERVER" get_hits)
	# the same process finds memcached again, while it still runs
	wait_until hits_above "$MC_SERVER" "$before" ||
		fail "no hit after -CONT: $(bg_log)"
	bg_wait
	((bg_status == 0))
	assert_output "$expected"
	echo "stop/cont: ${elapsed_ms} ms, real calls $(rel_real) of 6000" >&3
	((elapsed_ms < 60000))
}

@test "kill -9 of memcached mid-run, restarted on its port: unchanged, reconnects" {
	TCP_DIR=$(mc_tmpdir)
	mc_start_tcp "$TCP_DIR"
	cfg=$(rel_config kill9 "$MC_SERVER")
	rel_expect loop 6000 50 1000
	bg_run "$cfg" loop 6000 50 1000
	wait_until items_on "$MC_SERVER" || fail "the run stored nothing: $(bg_log)"
	kill -KILL "$MC_PID"
	# mc_stop waits until the killed process is gone and its port is free
	mc_stop "$TCP_DIR"
	mc_start_tcp "$TCP_DIR" "$MC_PORT"
	# the new, empty memcached receives this process's results
	wait_until items_on "$MC_SERVER" || fail "nothing stored after the restart: $(bg_log)"
	bg_wait
	((bg_status == 0))
	assert_output "$expected"
	echo "kill -9: ${elapsed_ms} ms, real calls $(rel_real) of 6000" >&3
	((elapsed_ms < 60000))
}
