#!/usr/bin/env bats
# The miss path's pipelined store (store.h: *_nowait): the add / cas goes
# out and the call returns without waiting for its reply, which is read
# by the thread's next memcached operation (after that operation's own
# request went out), at thread exit, or at process exit. These tests try to
# lose a reply, or to let one be read as the answer to something else: a
# server that never answers a store, one that refuses every store, one that
# answers a store with a forged get reply, many threads that exit right
# after a miss, and a process whose last call is a miss.

load helpers
load rel_helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_LOG TXCACHE_VERIFY
	FAKE_PID=
	export REL_DB=$BATS_TEST_TMPDIR/db
	mkdir -p "$REL_DB"
}

teardown() {
	rel_kill "$FAKE_PID"
}

# counters of rel_work from the exit report: misses, and what became of
# their stores
outcomes() {
	misses=$(rel_stat rel_work misses)
	stores=$(rel_stat rel_work stores)
	raced=$(grep -c '^txcache: rel_work: not stored: invalidated during the call' <<<"$stderr" || true)
	toobig=$(rel_stat rel_work toobig)
	errors=$(rel_stat rel_work errors)
	echo "misses=$misses stores=$stores raced=$raced toobig=$toobig errors=$errors"
}

@test "pipeline: the reply of a process's last store is read before its report" {
	cfg=$(REL_NS=last$$ rel_config last "$MC_SOCK" "")
	rel_expect loop 1 1
	TXCACHE_LOG=info rel_run "$cfg" loop 1 1
	assert_success
	assert_output "$expected"
	outcomes
	[[ $misses == 1 && $stores == 1 ]] || {
		echo "one miss, one store expected: $stderr"
		return 1
	}
	# and the value is there: a second process hits
	TXCACHE_LOG=info rel_run "$cfg" loop 1 1
	assert_output "$expected"
	[[ $(rel_stat rel_work hits) == 1 ]] || {
		echo "the stored value was not found: $stderr"
		return 1
	}
}

@test "pipeline: 8 threads whose last calls are misses: each store's outcome counted" {
	cfg=$(REL_NS=thr$$ rel_config thr "$MC_SOCK" "")
	# mostly distinct keys: a thread's last call is a miss. Threads other
	# than the main one store without pipelining (a process may end while
	# they hold a reply); this fails if one of their replies goes uncounted
	rel_expect threads 8 40 1000000
	TXCACHE_LOG=info rel_run "$cfg" threads 8 40 1000000
	assert_success
	assert_output "$expected"
	outcomes
	((misses > 200 && stores + raced == misses && errors == 0)) || {
		echo "store outcomes do not add up: $stderr"
		return 1
	}
	# and the values are there: a second run hits every key
	TXCACHE_LOG=info rel_run "$cfg" threads 8 40 1000000
	assert_output "$expected"
	[[ $(rel_stat rel_work misses) == 0 ]] || {
		echo "stored values missing: $stderr"
		return 1
	}
}

@test "pipeline: a server that never answers a store: each call ends by timeout_ms, output unchanged" {
	fake_start store_silent
	cfg=$(rel_config silent "127.0.0.1:$FAKE_PORT")
	rel_expect loop 6 3
	TXCACHE_LOG=info rel_run "$cfg" loop 6 3
	assert_success
	assert_output "$expected"
	echo "silent stores: 6 calls in ${elapsed_ms} ms with timeout_ms = 200" >&3
	outcomes
	# the first store's reply times out at the next call; the breaker then
	# refuses calls, and the exit report waits for nothing more
	((errors >= 1 && stores == 0)) || {
		echo "a store nobody answered was counted as stored: $stderr"
		return 1
	}
	((elapsed_ms < 3000)) || {
		echo "6 calls took ${elapsed_ms} ms"
		return 1
	}
}

@test "pipeline: a server that refuses every store: each refusal counted, none read as a later answer" {
	fake_start store_toobig
	cfg=$(rel_config toobig "127.0.0.1:$FAKE_PORT")
	rel_expect loop 20 5
	TXCACHE_LOG=info rel_run "$cfg" loop 20 5
	assert_success
	assert_output "$expected"
	outcomes
	((misses == 20 && toobig == 20 && stores == 0 && errors == 0)) || {
		echo "20 refused stores expected: $stderr"
		return 1
	}
	# one connection the whole run: no reply was out of step
	n=$(grep -c '^get\|^gets' "$FAKE_LOG" || true)
	((n >= 20)) || {
		echo "the server saw $n gets"
		return 1
	}
}

@test "pipeline: a forged get reply instead of a storage reply: counted an error, the connection dropped, output unchanged" {
	fake_start store_junk
	cfg=$(rel_config junk "127.0.0.1:$FAKE_PORT")
	rel_expect loop 12 4
	TXCACHE_LOG=info rel_run "$cfg" loop 12 4
	assert_success
	assert_output "$expected"
	outcomes
	((misses >= 1 && stores == 0 && errors >= misses)) || {
		echo "a forged reply was taken for a storage reply: $stderr"
		return 1
	}
	[[ $(rel_stat rel_work hits) == 0 ]] || {
		echo "a hit from a server that never stored: $stderr"
		return 1
	}
}
