#!/usr/bin/env bats
# The C API (include/txcache.h) from a program linked with -ltxcache
# (tests/fixtures/api_driver.c), with and without the preload, with caching
# enabled and disabled, against a real memcached.

load helpers
load kinds_helpers

API=$FIXTURES/api_driver

setup_file() {
	kinds_setup_file
	[[ -x $API ]] || { echo "missing $API" >&2; return 1; }
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	CFG=$(kinds_config api 'stats_interval = 0' <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
cache_if  = ret >= 0
[function k_int]
signature = int k_int(int x)
[function k_char]
signature = char k_char(char x)
[function k_u64]
signature = uint64_t k_u64(uint64_t x)
[function k_float]
signature = float k_float(float x)
[function k_sum]
signature = uint32_t k_sum(bytes[n] b, size_t n)
[function k_divmod]
signature = int k_divmod(int a, int b, out int *q, out int *r)
EOF
	)
	# Under ASan the library needs its runtime first; not the shim preload.
	ASAN_PRE=()
	[[ ${TXCACHE_ASAN:-} != 1 ]] || ASAN_PRE=(LD_PRELOAD="$TXC_LIBASAN")
}

# api [VAR=VALUE...] ARG...: api_driver (linked, not preloaded) with CFG.
api() {
	local -a vars=()
	while [[ $1 == *=* ]]; do
		vars+=("$1")
		shift
	done
	kinds_exec env "${ASAN_PRE[@]}" TXCACHE_CONFIG="$CFG" "${vars[@]}" "$API" "$@"
}

@test "txcache_key gives the key of txcache key and of the shim, for each varargs convention" {
	local c
	for c in "greet bob 32" "int -7" "char -5" "u64 18446744073709551615" "float 0.1" \
		"sum 0102ff" "divmod 17 5"; do
		local -a w
		read -ra w <<<"$c"
		api "key-${w[0]}" "${w[@]:1}"
		expect_status 0
		local from_api=$output
		# nothing is registered yet: the CLI reads the definition from the file
		kinds_exec "$TXCACHE" key -c "$CFG" --library "$FIXTURES/libkinds.so" "k_${w[0]}" \
			"${w[@]:1}"
		[[ $output == "$from_api" ]] ||
			kinds_fail "txcache_key printed $from_api, txcache key k_$c printed $output"
	done
	# and the shim stored the call under that key
	kd_shim "$CFG" char -5 -- u64 18446744073709551615
	local shim_key
	shim_key=$(sed -n 's/^txcache: miss k_char \([^ ]*\).*/\1/p' <<<"$stderr")
	api key-char -5
	[[ -n $shim_key && $output == "$shim_key" ]] ||
		kinds_fail "txcache_key printed $output, the shim used '$shim_key'"
	[[ $(memccat --servers="$MC_SOCK" "$output" | head -c 3) == TXC ]] ||
		kinds_fail "memcached has no value under $output"
}

@test "txcache_key refuses bytes longer than the LEN parameter's type can count" {
	local cfg=$BATS_TEST_TMPDIR/len.ini
	sed 's/^signature = uint32_t k_sum(bytes\[n\] b, size_t n)$/signature = uint32_t k_sum(bytes[n] b, int8_t n)/' \
		"$CFG" >"$cfg"
	grep -q 'int8_t n' "$cfg" || kinds_fail "test setup: k_sum not rewritten"
	local hex127 hex128
	hex127=$(head -c 127 /dev/zero | od -An -v -tx1 | tr -d ' \n')
	hex128=${hex127}00
	kinds_exec env "${ASAN_PRE[@]}" TXCACHE_CONFIG="$cfg" "$API" key-sum "$hex127"
	expect_status 0
	# 128 bytes: an int8_t n would wrap to -128; no real call passes them
	kinds_exec env "${ASAN_PRE[@]}" TXCACHE_CONFIG="$cfg" "$API" key-sum "$hex128"
	expect_status 1
	expect_out --partial 'rc=-2 '
}

@test "txcache_invalidate drops the call: a linked program invalidates its own cached read" {
	api TXCACHE_LOG=info greet amy 32
	expect_out 'k_greet -> 10 hello, amy'
	assert_log miss k_greet
	api TXCACHE_LOG=info greet amy 32
	assert_log hit k_greet
	assert_calls 1
	api TXCACHE_LOG=info write-read amy 32
	expect_status 0
	expect_out $'k_greet -> 10 hello, amy\nk_greet -> 10 hello, amy'
	assert_calls 2 "a hit, then a miss after txcache_invalidate"
	assert_log miss k_greet
}

@test "the API works with the library also preloaded, and with caching disabled" {
	kinds_exec env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$CFG" "$API" greet bo 32
	kinds_exec env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$CFG" "$API" inval-greet bo 32
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$CFG" k_greet bo 32
	expect_status 1
	kd_shim "$CFG" greet bo 32
	kinds_exec "$TXCACHE" get -c "$CFG" k_greet bo 32
	expect_status 0
	api TXCACHE_DISABLE=1 inval-greet bo 32
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$CFG" k_greet bo 32
	expect_status 1
}

@test "txcache_flush: one function, or the namespace; other namespaces untouched" {
	local other=$BATS_TEST_TMPDIR/o.ini
	sed "s/^namespace = .*/namespace = o$KINDS_NS/" "$CFG" >"$other"
	kd_shim "$CFG" greet bob 32 -- int 3
	kd_shim "$other" greet bob 32 -- int 3
	api flush k_int
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$CFG" k_int 3
	expect_status 1
	kinds_exec "$TXCACHE" get -c "$CFG" k_greet bob 32
	expect_status 0
	api flush
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$CFG" k_greet bob 32
	expect_status 1
	kinds_exec "$TXCACHE" get -c "$other" k_greet bob 32
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$other" k_int 3
	expect_status 0
}

@test "API errors: unknown function, small buffer, no config, unreachable server; txcache_strerror" {
	api flush k_nope
	expect_status 1
	expect_out 'rc=-3 not found'
	api key-small
	expect_out 'rc=-8 too big'
	kinds_exec env "${ASAN_PRE[@]}" TXCACHE_CONFIG="$BATS_TEST_TMPDIR/none.ini" "$API" flush
	expect_out 'rc=-10 invalid configuration'
	[[ $stderr == *"the txcache API is unavailable"* ]] || kinds_fail "no reason on stderr"
	sed "s|^servers = .*|servers = $BATS_TEST_TMPDIR/none.sock|" "$CFG" >"$BATS_TEST_TMPDIR/d.ini"
	kinds_exec env "${ASAN_PRE[@]}" TXCACHE_CONFIG="$BATS_TEST_TMPDIR/d.ini" "$API" inval-greet a 3
	expect_status 1
	[[ $output == "rc=-5 memcached unavailable" || $output == rc=-4* ]] ||
		kinds_fail "expected unavailable"
	api strerror 0
	expect_out success
	api strerror -999
	expect_out 'unknown error'
}
