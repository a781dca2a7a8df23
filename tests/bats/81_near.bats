#!/usr/bin/env bats
# The near cache (local_ttl, local_entries): a per-process LRU in front of
# memcached. Real processes, a real memcached, libperf's call log.

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
	echo 7 >"$KINDS_DB"
}

# near_config [LOCAL LINES...]: pf_get with the given lines, pf_set
# invalidating it.
near_config() {
	{
		printf '[function pf_get]\nsignature = int pf_get(int x)\n'
		printf '%s\n' "$@"
		printf '[function pf_set]\nsignature = int pf_set(int x, int n)\n'
		printf 'invalidates = pf_get(x)\n'
	} | kinds_config near
}

pd_shim() {
	kinds_exec_shim "$cfg" "$PD" "$@"
}

# count_log TEXT: stderr lines of the last run containing TEXT.
count_log() {
	grep -cF -- "$1" <<<"$stderr" || true
}

@test "near: a repeated call in one process is served in-process" {
	cfg=$(near_config 'local_ttl = 60')
	pd_shim get:1 get:1 get:1
	expect_status 0
	expect_out $'get(1) = 1007\nget(1) = 1007\nget(1) = 1007'
	assert_calls 1
	assert_log miss pf_get
	[[ $(count_log "(near)") -eq 2 ]] || kinds_fail "expected two near hits"
	grep -q '^txcache: stats pf_get: hits=2 misses=1 ' <<<"$stderr" ||
		kinds_fail "near hits are counted as hits"
}

@test "near: without local_ttl every hit goes to memcached" {
	cfg=$(near_config)
	pd_shim get:1 get:1
	expect_out $'get(1) = 1007\nget(1) = 1007'
	assert_calls 1
	assert_log hit pf_get
	[[ $(count_log "(near)") -eq 0 ]] || kinds_fail "near hit without local_ttl"
}

@test "near: a memcached hit fills it for the next call" {
	cfg=$(near_config 'local_ttl = 60')
	pd_shim get:2
	pd_shim get:2 get:2
	expect_out $'get(2) = 2007\nget(2) = 2007'
	assert_calls 1
	[[ $(count_log "(near)") -eq 1 ]] || kinds_fail "second call of the process is a near hit"
	assert_log hit pf_get
}

@test "near: local_entries bounds it, least recently used goes first" {
	cfg=$(near_config 'local_ttl = 60' 'local_entries = 2')
	pd_shim get:1 get:2 get:1 get:3 get:1 get:2
	expect_status 0
	assert_calls 3
	# 1 2 (near 1) 3 evicts 2, (near 1), 2 comes from memcached
	[[ $(count_log "(near)") -eq 2 ]] || kinds_fail "expected near hits for get:1 only"
	[[ $(grep -cE '^txcache: hit pf_get [^ ]+( \(verified\))?$' <<<"$stderr") -eq 1 ]] ||
		kinds_fail "the evicted entry is a memcached hit"
}

@test "near: an invalidation in this process clears it at once" {
	cfg=$(near_config 'local_ttl = 60')
	pd_shim get:1 get:1 set:1:9 get:1 get:1
	expect_status 0
	expect_out $'get(1) = 1007\nget(1) = 1007\nset(1, 9) = 0\nget(1) = 1009\nget(1) = 1009'
	assert_calls 3 # get, set, get again after the invalidation
}

@test "near: another process's invalidation shows after local_ttl at most" {
	# stale near hits on purpose: verify mode would give the fresh value
	export TXCACHE_VERIFY=0
	cfg=$(near_config 'local_ttl = 2')
	local go=$BATS_TEST_TMPDIR/go ready=$BATS_TEST_TMPDIR/ready
	LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg "$PD" get:1 touch:"$ready" \
		wait:"$go" get:1 sleep:2200 get:1 >"$BATS_TEST_TMPDIR/a.out" 2>&1 3>&- &
	local a=$!
	wait_until test -e "$ready" || kinds_fail "the first process did not start"
	pd_shim set:1:9
	expect_out 'set(1, 9) = 0'
	touch "$go"
	wait "$a" || kinds_fail "the first process failed: $(cat "$BATS_TEST_TMPDIR/a.out")"
	output=$(grep '^get' "$BATS_TEST_TMPDIR/a.out")
	# stale within local_ttl (the documented bound), fresh after it
	expect_out $'get(1) = 1007\nget(1) = 1007\nget(1) = 1009'
}

@test "near: threads share it safely (8 stripes, evictions)" {
	# counts the stale answers it provokes: verify mode would correct them
	export TXCACHE_VERIFY=0
	cfg=$(near_config 'local_ttl = 60' 'local_entries = 100')
	export TXCACHE_LOG=warn # tens of thousands of calls
	pd_shim threads:4:60
	expect_status 0
	expect_out 'threads ok'
	# pf_get(5) alone is invalidated; every other key keeps the old number
	pd_shim set:5:8 threads:4:60
	expect_status 1
	expect_out $'set(5, 8) = 0\nthreads: 14160 wrong answers'
}

@test "near: with secret_file a memcached hit fills it too" {
	local secret=$BATS_TEST_TMPDIR/secret
	head -c 32 /dev/urandom >"$secret"
	chmod 600 "$secret"
	cfg=$(printf '[function pf_get]\nsignature = int pf_get(int x)\nlocal_ttl = 60\n' |
		kinds_config near_secret "secret_file = $secret")
	pd_shim get:4
	expect_out 'get(4) = 4007'
	pd_shim get:4 get:4 get:4
	expect_status 0
	expect_out $'get(4) = 4007\nget(4) = 4007\nget(4) = 4007'
	assert_calls 1
	# the first call is a memcached hit (value with its MAC); the next two
	# must come from the near cache
	[[ $(count_log "(near)") -eq 2 ]] || kinds_fail "memcached hit did not fill the near cache"
}
