#!/usr/bin/env bats
# Store faults that a real memcached rarely shows, played by a fake one
# (tests/lib/fake_mc.py): a server that drips valid replies one byte per
# 100 ms, a server that answers gets with SERVER_ERROR, and generation
# counters that are no numbers. Whatever the server does, the program's
# output is unchanged, each store operation ends by its deadline
# (timeout_ms), and an error is never read as a miss or as a zero.

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
	FAKE_PID=
	export REL_DB=$BATS_TEST_TMPDIR/db
	mkdir -p "$REL_DB"
}

teardown() {
	rel_kill "$FAKE_PID"
}

@test "drip server: each call ends within its deadline, output unchanged, breaker opens" {
	fake_start drip
	cfg=$(rel_config drip "127.0.0.1:$FAKE_PORT")
	rel_expect loop 6 3
	TXCACHE_LOG=debug rel_run "$cfg" loop 6 3
	assert_success
	assert_output "$expected"
	echo "drip: 6 calls in ${elapsed_ms} ms with timeout_ms = 200" >&3
	grep -q 'refusing calls for' <<<"$stderr" || {
		echo "the breaker never opened: $stderr"
		return 1
	}
	# Without a deadline per operation the first call alone takes ~3 s
	# (END, then three STORED, one byte per 100 ms each, none over 200 ms)
	# and every call pays it: ~18 s. With one, each operation ends by
	# 200 ms and the breaker refuses the next ones.
	((elapsed_ms < 2500)) || {
		echo "6 calls took ${elapsed_ms} ms"
		return 1
	}
}

@test "SERVER_ERROR in reply to a get is an error, not a miss: nothing stored" {
	fake_start server_error
	cfg=$(rel_config srverr "127.0.0.1:$FAKE_PORT")
	rel_expect loop 3 3
	TXCACHE_LOG=info rel_run "$cfg" loop 3 3
	assert_success
	assert_output "$expected"
	! grep -q '^txcache: miss ' <<<"$stderr" || {
		echo "a SERVER_ERROR was counted as a miss: $stderr"
		return 1
	}
	# (statistics counters, ":st:", are published whatever the lookups did)
	! grep -v ':st:' "$FAKE_LOG" | grep -Eq '^(set|add|cas) ' || {
		echo "the shim stored after a SERVER_ERROR: $(cat "$FAKE_LOG")"
		return 1
	}
}

@test "SERVER_ERROR in reply to a get: txcache get exits 69, not 1 (not cached)" {
	fake_start server_error
	cfg=$(rel_config srverr_cli "127.0.0.1:$FAKE_PORT")
	run_txcache get -c "$cfg" --library "$FIXTURES/librel.so" rel_work 5
	[[ $status -eq 69 ]] || {
		echo "txcache get: status $status: $output"
		return 1
	}
}

# raw_set KEY VALUE: writes VALUE under KEY in this file's memcached.
raw_set() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
d = sys.argv[3].encode()
s.sendall(b"set %s 0 0 %d\r\n" % (sys.argv[2].encode(), len(d)) + d + b"\r\n")
r = s.recv(100)
sys.exit(0 if r == b"STORED\r\n" else 1)
' "$MC_SOCK" "$1" "$2"
}

raw_get() {
	memccat --servers="$MC_SOCK" "$1" 2>/dev/null
}

# gen_garbage_case NS GOOD1 GOOD2: a value stored against generation GOOD1
# must never be served once the generation reads GOOD2, when both are
# garbage that a lax parser reads as the same number.
gen_garbage_case() {
	local ns=$1 g1=$2 g2=$3 cfg
	cfg=$(REL_NS=$ns rel_config "$ns" "$MC_SOCK")
	printf old >"$REL_DB/k"
	raw_set "$ns:@gen" "$g1" || return 1
	rel_run "$cfg" get k
	[[ $output == "get k 3 old" ]] || { echo "first run: $output"; return 1; }
	printf new >"$REL_DB/k"
	raw_set "$ns:@gen" "$g2" || return 1
	TXCACHE_LOG=info rel_run "$cfg" get k
	[[ $output == "get k 3 new" ]] || {
		echo "a value was served against the garbage generation '$g2': $output"
		return 1
	}
	# the garbage counter was replaced by a real one
	[[ $(raw_get "$ns:@gen") =~ ^[0-9]+$ ]] || {
		echo "generation now: '$(raw_get "$ns:@gen")'"
		return 1
	}
}

@test "generation counter with a leading space is garbage, not 0" {
	gen_garbage_case gsp ' 5' ' 7'
}

@test "generation counter past 2^64 is garbage, not a wrapped number" {
	# 2^64 and 2^65 both wrap to 0 in 64 bits
	gen_garbage_case gov 18446744073709551616 36893488147419103232
}

@test "generation counter with trailing incr padding is still a counter" {
	local cfg
	cfg=$(REL_NS=gpad rel_config gpad "$MC_SOCK")
	printf old >"$REL_DB/k"
	raw_set "gpad:@gen" '12   ' || return 1
	rel_run "$cfg" get k
	TXCACHE_LOG=info rel_run "$cfg" get k
	[[ $output == "get k 3 old" ]] || { echo "$output"; return 1; }
	grep -q '^txcache: hit rel_get ' <<<"$stderr" || {
		echo "no hit with a padded counter: $stderr"
		return 1
	}
	[[ $(raw_get "gpad:@gen") == '12   ' ]]
}

# txc_lines: the "txcache:" lines of the last run's stderr.
txc_lines() {
	grep -c '^txcache: ' <<<"$stderr" || true
}

@test "start-up does no DNS; a name that does not resolve: one line, every call real" {
	command -v strace >/dev/null || skip "strace is not installed (tests/deps.sh)"
	local cfg trace=$BATS_TEST_TMPDIR/strace.out
	cfg=$(rel_config dns "nonexistent.invalid:11211")
	# a program that makes no cached call opens no socket at all
	run strace -f -e trace=socket,connect -o "$trace" \
		env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" "$REL" loop 0 1
	assert_success
	! grep -E 'socket\(|connect\(' "$trace" || {
		echo "start-up touched the network"
		return 1
	}
	rel_expect loop 20 5
	rel_run "$cfg" loop 20 5
	assert_success
	assert_output "$expected"
	[[ $(rel_real) == 20 ]] || { echo "real calls: $(rel_real)"; return 1; }
	[[ $(txc_lines) -eq 1 ]] || { echo "expected one line: $stderr"; return 1; }
	grep -q 'cannot resolve memcached server nonexistent.invalid' <<<"$stderr"
}

@test "libmemcached cannot be loaded mid-run: one line, every call real, output unchanged" {
	local cfg
	cfg=$(rel_config nolib "$MC_SOCK")
	rel_expect loop 20 5
	TXCACHE_LIBMEMCACHED=/nonexistent/libmemcached.so.11 rel_run "$cfg" loop 20 5
	assert_success
	assert_output "$expected"
	[[ $(rel_real) == 20 ]] || { echo "real calls: $(rel_real)"; return 1; }
	[[ $(txc_lines) -eq 1 ]] || { echo "expected one line: $stderr"; return 1; }
	grep -q 'cannot load /nonexistent/libmemcached.so.11' <<<"$stderr"
}
