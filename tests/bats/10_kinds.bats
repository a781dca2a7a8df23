#!/usr/bin/env bats
# Every kind of signature: scalars, strings, bytes, opaque pointers, out
# buffers, returned strings, void, errno. Each call is made without the shim
# for reference, then twice with it: a miss (one real call) and a hit from
# another process (no real call), printing exactly what the real call printed.

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

# SHORT CTYPE V1 V2: k_SHORT(CTYPE x), called with two values that must key
# apart (so the two are both misses, then both hits).
SCALARS=(
	char char -128 127
	schar "signed char" -5 5
	uchar "unsigned char" 255 0
	short short -32768 32767
	ushort "unsigned short" 65535 1
	int int -7 2147483647
	uint "unsigned int" 4294967295 7
	long long -9223372036854775808 9223372036854775807
	ulong "unsigned long" 18446744073709551615 4294967296
	llong "long long" -1 1
	ullong "unsigned long long" 0x8000000000000000 1
	size size_t 18446744073709551615 0
	ssize ssize_t -1 4096
	i8 int8_t -128 127
	u8 uint8_t 200 100
	i16 int16_t -300 300
	u16 uint16_t 65535 256
	i32 int32_t -2147483648 2147483647
	u32 uint32_t 4294967295 65536
	i64 int64_t -9223372036854775808 42
	u64 uint64_t 18446744073709551615 4294967296
	bool bool 0 1
	float float 0.1 -3.5e30
	double double 0 -0
)

# kinds_batch_roundtrip CFG ARG...: kinds_roundtrip for a driver batch
# (CMD ARG -- CMD ARG ...): uncached, then a run where every call is a miss,
# then one where every call is a hit. Failures name the calls at fault.
kinds_batch_roundtrip() {
	local cfg=$1 ncalls
	shift
	kd "$@"
	[[ $status -eq 0 ]] || { kinds_fail "uncached run failed"; return 1; }
	kinds_keep_ref
	cp "$KINDS_CALLS" "$BATS_TEST_TMPDIR/calls.plain"
	ncalls=$(calls_count)
	: >"$KINDS_CALLS"

	kd_shim "$cfg" "$@"
	[[ $status -eq $REF_STATUS ]] || { kinds_fail "miss run: exit status $status"; return 1; }
	[[ $output == "$REF_OUT" ]] || {
		kinds_fail "miss run: stdout differs from the uncached run:
$(diff <(echo "$REF_OUT") <(echo "$output"))"
		return 1
	}
	assert_calls "$ncalls" "every call a miss: the same real calls as uncached" || {
		diff "$BATS_TEST_TMPDIR/calls.plain" "$KINDS_CALLS" >&2
		return 1
	}
	: >"$KINDS_CALLS"

	kd_shim "$cfg" "$@"
	[[ $status -eq $REF_STATUS ]] || { kinds_fail "hit run: exit status $status"; return 1; }
	[[ $output == "$REF_OUT" ]] || {
		kinds_fail "hit run: stdout differs from the uncached run:
$(diff <(echo "$REF_OUT") <(echo "$output"))"
		return 1
	}
	assert_calls 0 "every call a hit; the real calls listed were not served from the cache" ||
		return 1
	[[ $(grep -c '^txcache: hit ' <<<"$stderr") -eq $ncalls ]] || {
		kinds_fail "expected $ncalls 'txcache: hit' lines"
		return 1
	}
}

@test "every scalar type: a miss, then a hit with the same result" {
	local i sections=() args=()
	for ((i = 0; i < ${#SCALARS[@]}; i += 4)); do
		local short=${SCALARS[i]} ctype=${SCALARS[i + 1]}
		sections+=("[function k_$short]" "signature = $ctype k_$short($ctype x)")
		args+=("$short" "${SCALARS[i + 2]}" -- "$short" "${SCALARS[i + 3]}" --)
	done
	unset 'args[${#args[@]}-1]'
	cfg=$(printf '%s\n' "${sections[@]}" | kinds_config scalars)
	kinds_batch_roundtrip "$cfg" "${args[@]}"
	# Spot checks of the reference itself.
	grep -qx 'k_char 127 -> 126' <<<"$output" || kinds_fail "k_char"
	grep -qx 'k_u64 18446744073709551615 -> 18446744073709551614' <<<"$output" || kinds_fail "k_u64"
	grep -qx 'k_bool 0 -> 1' <<<"$output" || kinds_fail "k_bool"
	grep -qx 'k_double -0x0p+0 -> -0x1p-2' <<<"$output" || kinds_fail "k_double"
}

@test "a hit returns a narrow scalar correctly, many times in one process" {
	cfg=$(kinds_config narrow <<'EOF'
[function k_schar]
signature = signed char k_schar(signed char x)
EOF
	)
	kd repeat 4 schar -100
	kinds_keep_ref
	kd_shim "$cfg" repeat 4 schar -100
	assert_same_as_plain
	assert_calls 5 "4 uncached calls, then one miss and three hits"
}

@test "two doubles" {
	cfg=$(kinds_config pow <<'EOF'
[function k_pow]
signature = double k_pow(double x, double y)
EOF
	)
	kinds_roundtrip "$cfg" k_pow pow 2 0.5
	kinds_roundtrip "$cfg" k_pow pow 0.5 2
	kinds_roundtrip "$cfg" k_pow pow 2 0.25
	assert_calls 6 "3 uncached + 3 misses"
}

@test "string: NULL and \"\" are different keys" {
	cfg=$(kinds_config strlen <<'EOF'
[function k_strlen]
signature = int k_strlen(string s)
EOF
	)
	kinds_roundtrip "$cfg" k_strlen strlen NULL
	kinds_roundtrip "$cfg" k_strlen strlen ""
	kinds_roundtrip "$cfg" k_strlen strlen "NULL!"
	kinds_roundtrip "$cfg" k_strlen strlen "a longer string, with spaces and é"
	kd_shim "$cfg" strlen NULL
	expect_out 'k_strlen NULL -> -1'
}

@test "bytes are keyed by content, not address" {
	cfg=$(kinds_config sum <<'EOF'
[function k_sum]
signature = uint32_t k_sum(bytes[n] b, size_t n)
EOF
	)
	kinds_roundtrip "$cfg" k_sum sum 000102ff
	kinds_roundtrip "$cfg" k_sum sum 000102fe
	kinds_roundtrip "$cfg" k_sum sum 00
	kinds_roundtrip "$cfg" k_sum sum ""
	# The driver copies the bytes to a different address on each call.
	before=$(calls_count)
	kd_shim "$cfg" repeat 4 sum 0a0b0c
	expect_status 0
	assert_calls $((before + 1)) "one miss, then three hits at other addresses"
	[[ $(grep -c '^txcache: hit k_sum ' <<<"$stderr") -eq 3 ]] || kinds_fail "expected 3 hits"
}

@test "ptr is not keyed" {
	cfg=$(kinds_config ptr <<'EOF'
[function k_ptr]
signature = int k_ptr(ptr p, int x)
EOF
	)
	kinds_roundtrip "$cfg" k_ptr ptr 5
	before=$(calls_count)
	# A different handle on every call, same x: all hits.
	kd_shim "$cfg" repeat 4 ptr 5
	expect_status 0
	assert_calls "$before"
	kd_shim "$cfg" ptr 6
	expect_out 'k_ptr 6 -> 19'
	assert_calls $((before + 1)) "x is keyed"
}

@test "out string[cap]" {
	cfg=$(kinds_config greet <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
EOF
	)
	kinds_roundtrip "$cfg" k_greet greet bob 64
	kinds_roundtrip "$cfg" k_greet greet alice 64
	kinds_roundtrip "$cfg" k_greet greet "" 64
	kinds_roundtrip "$cfg" k_greet greet NULL 64
	# Truncated by the callee: the cached result must be the truncated one.
	kinds_roundtrip "$cfg" k_greet greet bob 4
	expect_out 'k_greet "bob" 4 -> -1 buf="hel" canary ok'
}

@test "out bytes[cap:ret] with NUL bytes" {
	cfg=$(kinds_config fill <<'EOF'
[function k_fill]
signature = ssize_t k_fill(int seed, out bytes[cap:ret] buf, size_t cap)
cache_if = ret >= 0
EOF
	)
	# Only ret bytes are restored: the rest of the buffer stays 0xee.
	kinds_roundtrip "$cfg" k_fill fill 10 64
	expect_out --partial ' -> 11 buf=003d444b520060676e7500eeee'
	kinds_roundtrip "$cfg" k_fill fill 49 50
	kinds_roundtrip "$cfg" k_fill fill 0 8
}

@test "out bytes[16]" {
	cfg=$(kinds_config block <<'EOF'
[function k_block]
signature = void k_block(int seed, out bytes[16] buf)
EOF
	)
	kinds_roundtrip "$cfg" k_block block 3
	kinds_roundtrip "$cfg" k_block block -3
}

@test "out int *" {
	cfg=$(kinds_config divmod <<'EOF'
[function k_divmod]
signature = int k_divmod(int a, int b, out int *q, out int *r)
EOF
	)
	kinds_roundtrip "$cfg" k_divmod divmod 17 5
	expect_out 'k_divmod 17 5 -> 0 q=3 r=2 canary ok canary ok'
	kinds_roundtrip "$cfg" k_divmod divmod -17 5
	kinds_roundtrip "$cfg" k_divmod divmod 5 17
}

@test "returned string: static storage, \"\" and NULL" {
	cfg=$(kinds_config name <<'EOF'
[function k_name]
signature = string k_name(int id)
EOF
	)
	kinds_roundtrip "$cfg" k_name name 3
	expect_out 'k_name 3 -> "three"'
	kinds_roundtrip "$cfg" k_name name 4
	expect_out 'k_name 4 -> ""'
	kinds_roundtrip "$cfg" k_name name -1
	expect_out 'k_name -1 -> NULL'
	# Hits in a row in one thread: each result is valid until the next call.
	kd_shim "$cfg" repeat 3 name 3
	expect_status 0
	[[ $(grep -c -x 'k_name 3 -> "three"' <<<"$output") -eq 3 ]] || kinds_fail "bad repeat"
}

@test "returned owned string: the caller frees hits" {
	cfg=$(kinds_config dup <<'EOF'
[function k_dup]
signature = owned string k_dup(string s)
EOF
	)
	kinds_roundtrip "$cfg" k_dup dup abc
	expect_out 'k_dup "abc" -> "abc!"'
	kinds_roundtrip "$cfg" k_dup dup NULL
	kinds_roundtrip "$cfg" k_dup dup ""
	# free() of each hit's result would abort on storage not from malloc.
	before=$(calls_count)
	kd_shim "$cfg" repeat 5 dup abc
	expect_status 0
	assert_calls "$before"
}

@test "void return: the call itself is cached" {
	cfg=$(kinds_config touch <<'EOF'
[function k_touch]
signature = void k_touch(string s)
EOF
	)
	kinds_roundtrip "$cfg" k_touch touch x
	kinds_roundtrip "$cfg" k_touch touch y
}

@test "a cached out string larger than the caller's cap is not written" {
	cfg=$(kinds_config greet <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
ignore = cap
cache_if = ret >= 0
EOF
	)
	kinds_roundtrip "$cfg" k_greet greet bob 64
	# "hello, bob" and its NUL: 11 bytes fit exactly.
	kd greet bob 11
	kinds_keep_ref
	before=$(calls_count)
	kd_shim "$cfg" greet bob 11
	assert_same_as_plain
	assert_calls "$before" "11 bytes fit a cap of 11: hit"
	assert_log hit k_greet
	for cap in 10 4 1; do
		kd greet bob $cap
		kinds_keep_ref
		before=$(calls_count)
		kd_shim "$cfg" greet bob $cap
		assert_same_as_plain
		expect_out --partial 'canary ok'
		assert_calls $((before + 1)) "cap $cap is too small for the cached value: real call"
		assert_log hit k_greet absent
	done
	# The failed calls were not stored (cache_if): the entry is intact.
	kd greet bob 64
	kinds_keep_ref
	before=$(calls_count)
	kd_shim "$cfg" greet bob 64
	assert_same_as_plain
	assert_calls "$before"
}

@test "cached out bytes larger than the caller's cap are not written" {
	cfg=$(kinds_config fill <<'EOF'
[function k_fill]
signature = ssize_t k_fill(int seed, out bytes[cap:ret] buf, size_t cap)
ignore = cap
cache_if = ret >= 0
EOF
	)
	kinds_roundtrip "$cfg" k_fill fill 10 64
	kd fill 10 11
	kinds_keep_ref
	before=$(calls_count)
	kd_shim "$cfg" fill 10 11
	assert_same_as_plain
	assert_calls "$before" "11 bytes fit a cap of 11: hit"
	kd fill 10 4
	kinds_keep_ref
	before=$(calls_count)
	kd_shim "$cfg" fill 10 4
	assert_same_as_plain
	expect_out 'k_fill 10 4 -> 4 buf=003d444b canary ok'
	assert_calls $((before + 1)) "11 cached bytes do not fit a cap of 4: real call"
}

@test "errno: as the real call left it, on a miss and on a hit" {
	cfg=$(kinds_config errno <<'EOF'
[function k_errno]
signature = int k_errno(int x)
EOF
	)
	kd errno 5 9
	expect_out 'k_errno 5 -> 5 errno before=9 after=5'
	kd_shim "$cfg" errno 5 9
	expect_status 0
	expect_out 'k_errno 5 -> 5 errno before=9 after=5'
	assert_calls 2
	kd_shim "$cfg" errno 5 9
	expect_out 'k_errno 5 -> 5 errno before=9 after=5'
	assert_calls 2
	kd_shim "$cfg" errno 5 33
	expect_out 'k_errno 5 -> 5 errno before=33 after=5'
	assert_calls 2
	assert_log hit k_errno
	# a function may set errno to 0, or to the value it already had
	kd errno 0 9
	expect_out 'k_errno 0 -> 0 errno before=9 after=0'
	kd_shim "$cfg" errno 0 9
	expect_out 'k_errno 0 -> 0 errno before=9 after=0'
	kd_shim "$cfg" errno 0 9
	expect_out 'k_errno 0 -> 0 errno before=9 after=0'
	assert_calls 4
	kd_shim "$cfg" errno 7 7
	expect_out 'k_errno 7 -> 7 errno before=7 after=7'
	kd_shim "$cfg" errno 7 0
	expect_out 'k_errno 7 -> 7 errno before=0 after=7'
	assert_calls 5
}

@test "errno = keep: a hit leaves the caller's errno (the old behaviour)" {
	# errno = keep makes a hit differ from the real call on purpose: a
	# verified hit would rightly report it
	export TXCACHE_VERIFY=0
	cfg=$(kinds_config errno_keep <<'EOF'
[function k_errno]
signature = int k_errno(int x)
errno = keep
EOF
	)
	kd_shim "$cfg" errno 6 9
	expect_out 'k_errno 6 -> 6 errno before=9 after=6'
	kd_shim "$cfg" errno 6 9
	expect_out 'k_errno 6 -> 6 errno before=9 after=9'
	assert_calls 1
	assert_log hit k_errno
}
