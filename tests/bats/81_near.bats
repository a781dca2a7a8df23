#!/usr/bin/env bats
# The near cache (local_ttl, local_entries): per-thread tables in front of
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

@test "near: local_entries bounds it, the entry not hit since goes first (CLOCK)" {
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

@test "near: threads use it safely (per-thread tables, evictions)" {
	# counts the stale answers it provokes: verify mode would correct them
	export TXCACHE_VERIFY=0
	# 60 keys in turn through 40 entries a thread: CLOCK evicts all along
	cfg=$(near_config 'local_ttl = 60' 'local_entries = 40')
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

# ---- per-thread tables (issue 16): invalidations across threads ----

ND=$FIXTURES/near16_driver

# nx_config [LINES FOR nx_get...]: nx_get with a near cache, nx_set
# invalidating it, nx_str with a near cache.
nx_config() {
	{
		printf '[function nx_get]\nsignature = int nx_get(int x)\nlocal_ttl = 60\n'
		printf '%s\n' "$@"
		printf '[function nx_set]\nsignature = int nx_set(int x, int v)\n'
		printf 'invalidates = nx_get(x)\n'
		printf '[function nx_str]\nsignature = string nx_str(int x)\nlocal_ttl = 60\n'
	} | kinds_config nx
}

nd_shim() {
	kinds_exec_shim "$cfg" "$ND" "$@"
}

@test "near: an invalidation in one thread is seen by another thread's next near lookup" {
	# verify mode would correct a stale near hit: the near cache alone here
	export TXCACHE_VERIFY=0
	cfg=$(nx_config)
	local how
	for how in set inval flush; do
		nd_shim xthread "$how" 20
		[[ $status -eq 0 && $output == "xthread ok" ]] ||
			kinds_fail "$how: status $status: $output"
		# B's second read of every round is a near hit: the test reads
		# through the near cache, not around it
		(($(count_log "(near)") >= 20)) || kinds_fail "$how: only $(count_log "(near)") near hits"
	done
}

@test "near: threads hitting while one invalidates in a loop: no answer older than the invalidation" {
	export TXCACHE_VERIFY=0 TXCACHE_LOG=warn
	cfg=$(nx_config)
	local how
	for how in set inval flush; do
		nd_shim hammer "$how" 3 400
		[[ $status -eq 0 && $output == "hammer ok" ]] ||
			kinds_fail "$how: status $status: $output $stderr"
	done
}

@test "near: local_entries bounds each thread's table, not the process's" {
	export TXCACHE_VERIFY=0
	cfg=$(nx_config 'local_entries = 2')
	# A: 1 2, B: 3 4, A: 1 2, B: 3 4. Each thread keeps its own two.
	nd_shim perthread 1 2 -- 3 4
	[[ $status -eq 0 && $output == "perthread ok" ]] || kinds_fail "status $status: $output"
	[[ $(count_log "(near)") -eq 4 ]] || kinds_fail "expected 4 near hits, got $(count_log "(near)")"
	# three keys in turn in one thread of two entries: never a near hit
	nd_shim perthread 5 6 7 5 6 7 --
	[[ $status -eq 0 && $output == "perthread ok" ]] || kinds_fail "status $status: $output"
	[[ $(count_log "(near)") -eq 0 ]] || kinds_fail "a thread kept more than 2 entries"
}

@test "near: a thread's table is freed when it exits" {
	export TXCACHE_VERIFY=0 TXCACHE_LOG=warn
	cfg=$(nx_config)
	# 200 threads, each with 32 entries of 16 KiB: 100+ MiB if kept
	nd_shim churn 200 32
	[[ $status -eq 0 && $output == churn\ maxrss=* ]] || kinds_fail "status $status: $output $stderr"
	local kib=${output#churn maxrss=}
	# ASan's quarantine holds freed memory: its leak check judges there
	[[ ${TXCACHE_ASAN:-} == 1 ]] || ((kib < 60000)) ||
		kinds_fail "peak RSS $kib KiB: the exited threads' tables were kept"
}
