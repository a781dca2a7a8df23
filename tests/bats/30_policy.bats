#!/usr/bin/env bats
# Caching policy: cache_if, ignore, invalidates, ttl, the disable switches,
# sharing between programs and separation between namespaces. Real calls are
# counted in KINDS_CALLS, one line per call that reached libkinds.so.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
}

greet_config() {
	kinds_config "$@" <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
cache_if = ret >= 0
EOF
}

@test "cache_if: a failing call is not cached" {
	cfg=$(greet_config greet)
	kd greet fail 64
	kinds_keep_ref
	for i in 1 2 3; do
		kd_shim "$cfg" greet fail 64
		assert_same_as_plain
		assert_calls $((1 + i)) "ret -1 fails cache_if: every run is a real call"
		assert_log hit k_greet absent
	done
	# The same function still caches what passes.
	kinds_roundtrip "$cfg" k_greet greet bob 64
}

@test "cache_if: ret != NULL on a returned string" {
	cfg=$(kinds_config name <<'EOF'
[function k_name]
signature = string k_name(int id)
cache_if = ret != NULL
EOF
	)
	kd_shim "$cfg" repeat 3 name -1
	expect_out $'k_name -1 -> NULL\nk_name -1 -> NULL\nk_name -1 -> NULL'
	assert_calls 3
	kinds_roundtrip "$cfg" k_name name 2
}

@test "ignore: different caps share one entry" {
	cfg=$(kinds_config greet <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
ignore = cap
EOF
	)
	kinds_roundtrip "$cfg" k_greet greet bob 64
	for cap in 32 12 100; do
		kd greet bob $cap
		kinds_keep_ref
		before=$(calls_count)
		kd_shim "$cfg" greet bob $cap
		assert_same_as_plain
		assert_calls "$before" "cap $cap is ignored: same entry, hit"
		assert_log hit k_greet
	done
	# Without ignore, cap is part of the key.
	KINDS_NS=${KINDS_NS}b
	cfg2=$(kinds_config greet2 <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
EOF
	)
	kinds_roundtrip "$cfg2" k_greet greet bob 64
	kinds_roundtrip "$cfg2" k_greet greet bob 32
}

mutator_config() {
	kinds_config db <<'EOF'
[function k_get]
signature = int k_get(string name)

[function k_all]
signature = int k_all(int x)

[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(name), k_all(*)
EOF
}

# shim_expect CFG OUT CALLS ARG...: one run with the shim printing OUT, after
# which CALLS real calls have been made in this test.
shim_expect() {
	local cfg=$1 out=$2 calls=$3
	shift 3
	kd_shim "$cfg" "$@"
	expect_status 0 || return 1
	expect_out "$out" || return 1
	assert_calls "$calls" || return 1
}

@test "invalidates: f(args) drops only that call" {
	cfg=$(mutator_config)
	kd set a 1
	kd set b 2
	assert_calls 2
	shim_expect "$cfg" 'k_get "a" -> 1' 3 get a
	shim_expect "$cfg" 'k_get "b" -> 2' 4 get b
	shim_expect "$cfg" 'k_get "a" -> 1' 4 get a
	shim_expect "$cfg" 'k_get "b" -> 2' 4 get b

	# Changed behind the cache's back: the stale value is served (this is
	# what proves the hits above came from the cache).
	kd set a 10
	# (verify mode would rightly refuse the stale value: not here)
	TXCACHE_VERIFY=0 shim_expect "$cfg" 'k_get "a" -> 1' 5 get a

	# Through the mutator under the shim: the mutator is a real call every
	# time, k_get("a") is dropped, k_get("b") is not.
	shim_expect "$cfg" 'k_set "a" 11 -> 0' 6 set a 11
	shim_expect "$cfg" 'k_set "a" 11 -> 0' 7 set a 11
	shim_expect "$cfg" 'k_get "a" -> 11' 8 get a
	shim_expect "$cfg" 'k_get "a" -> 11' 8 get a
	shim_expect "$cfg" 'k_get "b" -> 2' 8 get b
}

@test "invalidates: f(*) drops every call of f" {
	cfg=$(mutator_config)
	kd set a 1
	shim_expect "$cfg" 'k_all 5 -> 6' 2 all 5
	shim_expect "$cfg" 'k_all 6 -> 7' 3 all 6
	shim_expect "$cfg" 'k_all 5 -> 6' 3 all 5
	shim_expect "$cfg" 'k_all 6 -> 7' 3 all 6
	shim_expect "$cfg" 'k_get "a" -> 1' 4 get a
	# k_set bumps the version k_all adds.
	shim_expect "$cfg" 'k_set "z" 0 -> 0' 5 set z 0
	shim_expect "$cfg" 'k_all 5 -> 7' 6 all 5
	shim_expect "$cfg" 'k_all 6 -> 8' 7 all 6
	shim_expect "$cfg" 'k_all 5 -> 7' 7 all 5
	# k_get("z") was dropped, k_get("a") was not.
	shim_expect "$cfg" 'k_get "a" -> 1' 7 get a
}

@test "ttl: entries expire" {
	# memcached counts time in whole seconds, so an entry with ttl = 3 lives
	# 2 to 3 s: each hit is checked by the run right after its miss, which a
	# loaded machine may slow to a second, never to two.
	cfg=$(kinds_config ttl 'ttl = 3' <<'EOF'
[function k_int]
signature = int k_int(int x)

[function k_uint]
signature = unsigned int k_uint(unsigned int x)
ttl = 3

[function k_long]
signature = long k_long(long x)
ttl = 0
EOF
	)
	shim_expect "$cfg" 'k_int 1 -> 4' 1 int 1
	shim_expect "$cfg" 'k_int 1 -> 4' 1 int 1
	shim_expect "$cfg" 'k_uint 1 -> 4' 2 uint 1
	shim_expect "$cfg" 'k_uint 1 -> 4' 2 uint 1
	shim_expect "$cfg" 'k_long 1 -> 4' 3 long 1
	shim_expect "$cfg" 'k_long 1 -> 4' 3 long 1
	sleep 4.2 # a lower bound: past every ttl, however loaded the machine
	shim_expect "$cfg" 'k_int 1 -> 4' 4 int 1   # inherited [cache] ttl: expired
	shim_expect "$cfg" 'k_uint 1 -> 4' 5 uint 1 # its own ttl: expired
	shim_expect "$cfg" 'k_long 1 -> 4' 5 long 1 # ttl = 0: never expires
}

@test "TXCACHE_DISABLE=1: every run is a real call" {
	cfg=$(greet_config greet)
	kd greet bob 64
	kinds_keep_ref
	for i in 1 2 3; do
		TXCACHE_DISABLE=1 kd_shim "$cfg" greet bob 64
		assert_same_as_plain
		assert_calls $((1 + i))
		assert_log hit k_greet absent
	done
	# Switched back on (0 is off), the same config caches.
	TXCACHE_DISABLE=0 kinds_roundtrip "$cfg" k_greet greet bob 64
}

@test "enabled = no: every run is a real call" {
	cfg=$(kinds_config off 'enabled = no' <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
EOF
	)
	kd greet bob 64
	kinds_keep_ref
	for i in 1 2 3; do
		kd_shim "$cfg" greet bob 64
		assert_same_as_plain
		assert_calls $((1 + i))
	done
	cfg=$(kinds_config on 'enabled = yes' <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
EOF
	)
	kinds_roundtrip "$cfg" k_greet greet bob 64
}

@test "two programs share one cache" {
	cfg=$(greet_config greet)
	kinds_roundtrip "$cfg" k_greet greet carol 64
	kinds_exec_shim "$cfg" "$KO" carol 64
	assert_same_as_plain
	assert_calls 2 "kinds_other is served what kinds_driver stored"
	assert_log hit k_greet
	# And the other way round.
	kinds_exec_shim "$cfg" "$KO" dave 64
	expect_out 'k_greet "dave" 64 -> 11 buf="hello, dave" canary ok'
	assert_calls 3
	kd_shim "$cfg" greet dave 64
	expect_out 'k_greet "dave" 64 -> 11 buf="hello, dave" canary ok'
	assert_calls 3
}

@test "namespaces are separate" {
	KINDS_NS=${KINDS_NS}a
	cfg_a=$(greet_config a)
	KINDS_NS=${KINDS_NS%a}b
	cfg_b=$(greet_config b)
	kd_shim "$cfg_a" greet erin 64
	assert_calls 1
	kd_shim "$cfg_b" greet erin 64
	assert_calls 2 "namespace b does not see namespace a's entry"
	kd_shim "$cfg_a" greet erin 64
	assert_calls 2
	kd_shim "$cfg_b" greet erin 64
	assert_calls 2
	assert_log hit k_greet
}

# min_cost_us (issue 13, point 5): a result whose real call took less than
# N microseconds is not worth a memcached round trip on every later run.
@test "min_cost_us: a call cheaper than the bound is never stored; [cache] sets it for all, a function's own wins" {
	# a 60 s bound in [cache]: k_greet (microseconds) is never stored
	cfg=$(kinds_config mincost 'min_cost_us = 60000000' <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
EOF
	)
	kd greet bob 64
	kinds_keep_ref
	for i in 1 2; do
		kd_shim "$cfg" greet bob 64
		assert_same_as_plain
		assert_calls $((1 + i)) "under min_cost_us: every run is a real call"
		assert_log hit k_greet absent
	done
	[[ $stderr == *"not stored: under min_cost_us = 60000000"* ]] ||
		{ echo "no log line: $stderr"; return 1; }
	# the function's own min_cost_us = 0 wins over [cache]: stored, then a hit
	cfg=$(kinds_config mincost0 'min_cost_us = 60000000' <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
min_cost_us = 0
EOF
	)
	kinds_roundtrip "$cfg" k_greet greet bob 64
}

@test "min_cost_us: a bad value is an error with its line in txcache check" {
	cfg=$(kinds_config mincostbad <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
min_cost_us = -5
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -ne 0 ]] || { echo "check accepted min_cost_us = -5"; return 1; }
	[[ "$output $stderr" == *":8: min_cost_us"* ]] || { echo "no FILE:LINE: $output $stderr"; return 1; }
}
