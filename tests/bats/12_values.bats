#!/usr/bin/env bats
# What a value holds besides the return value: the capacity each out-buffer
# was filled with (ignore = cap must never serve a cut result), errno (a hit
# sets it as the real call did), returned strings that must stay valid
# (string: until the call after next; static string: for the process), and
# lengths that must agree with the signature. Real libc and libm functions
# (confstr, pow, strtol) and libvalues, a real memcached.

load helpers
load kinds_helpers
load rel_helpers # raw_get, raw_set

VD=$FIXTURES/values_driver

setup_file() {
	kinds_setup_file
	[[ -x $VD && -x $FIXTURES/values_resum ]] || {
		echo "missing $VD: make -C tests/fixtures BUILD=$BUILD" >&2
		return 1
	}
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	export VALUES_LOG=$KINDS_CALLS
}

vd() {
	kinds_exec "$VD" "$@"
}

vd_shim() {
	kinds_exec_shim "$cfg" "$VD" "$@"
}

# same_as_plain ARG...: the driver with the shim prints what it prints alone.
same_as_plain() {
	vd "$@"
	[[ $status -eq 0 ]] || kinds_fail "uncached run of '$*' failed" || return 1
	kinds_keep_ref
	vd_shim "$@"
	assert_same_as_plain
}

# log_count TEXT: stderr lines of the last run containing TEXT.
log_count() {
	grep -cF -- "$1" <<<"$stderr" || true
}

# poke FILE OFFSET BYTE...: overwrites bytes of FILE, then fixes its checksum.
poke() {
	python3 -S -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for k, b in enumerate(sys.argv[3:]): d[int(sys.argv[2]) + k] = int(b)
open(sys.argv[1], "wb").write(d)' "$@"
	"$FIXTURES/values_resum" "$1"
}

@test "ignore = len: confstr's result cut by a small buffer is never served to a larger one" {
	cfg=$(kinds_config confstr <<'EOF'
[function confstr]
signature = size_t confstr(int name, out string[len] buf, size_t len)
ignore = len
EOF
	)
	same_as_plain confstr 5
	expect_out 'n=14 buf=/bin'
	assert_log miss confstr
	# the stored "/bin" filled its 5 bytes and confstr said it needed 14
	same_as_plain confstr 256
	expect_out 'n=14 buf=/bin:/usr/bin'
	assert_log hit confstr absent
	# the whole result: served to any buffer it fits
	same_as_plain confstr 256
	assert_log hit confstr
	same_as_plain confstr 14
	expect_out 'n=14 buf=/bin:/usr/bin'
	assert_log hit confstr
	# one byte short: does not fit, the real function cuts it
	same_as_plain confstr 13
	expect_out 'n=14 buf=/bin:/usr/bi'
	assert_log hit confstr absent
	# ... and that cut result is not served to the larger buffer either
	same_as_plain confstr 256
	expect_out 'n=14 buf=/bin:/usr/bin'
	assert_log hit confstr absent
	# the same capacity again gets the same (cut) answer from the cache
	same_as_plain confstr 13
	same_as_plain confstr 13
	assert_log hit confstr
}

@test "ignore = cap: a buffer that was filled exactly is served to that capacity only" {
	cfg=$(kinds_config fill <<'EOF'
[function v_fill]
signature = int v_fill(int n, out bytes[cap:ret] buf, size_t cap)
ignore = cap
EOF
	)
	same_as_plain fill 6 4
	expect_out 'ret=4 buf=0123'
	same_as_plain fill 6 4
	assert_log hit v_fill
	same_as_plain fill 6 8
	expect_out 'ret=6 buf=012345..'
	assert_log hit v_fill absent
	same_as_plain fill 6 7
	expect_out 'ret=6 buf=012345.'
	assert_log hit v_fill
}

@test "static string: every pointer a program holds keeps its value" {
	cfg=$(kinds_config names <<'EOF'
[function v_name]
signature = static string v_name(int i)
EOF
	)
	same_as_plain names 1 2 3 1 2
	expect_out 'one two three one(same) two(same)'
	same_as_plain names 1 2 3 1 2
	assert_log hit v_name
	assert_log miss v_name absent
	same_as_plain names 3 3 5 1 4 4
	expect_out 'three three(same) five one four four(same)'
}

@test "string: the previous result stays readable through the next call" {
	cfg=$(kinds_config strs <<'EOF'
[function v_name]
signature = string v_name(int i)
[function v_str]
signature = string v_str(int i)
EOF
	)
	same_as_plain names 1 2
	same_as_plain names 1 2
	expect_out 'one two'
	assert_log hit v_name
	# a longer second result must not free the first (freed memory is
	# scribbled on: MALLOC_PERTURB_)
	export MALLOC_PERTURB_=165
	same_as_plain strs 1 7
	same_as_plain strs 1 7
	assert_log hit v_str
	assert_log miss v_str absent
	same_as_plain strs 0 3
	same_as_plain strs 0 3
	assert_log hit v_str
}

@test "static string: past the per-process bound the real function runs, logged once" {
	# counts the real calls past the bound: verification would add its own
	export TXCACHE_VERIFY=0
	cfg=$(kinds_config bigs <<'EOF'
[function v_big]
signature = static string v_big(int i)
EOF
	)
	same_as_plain bigs 24
	expect_out 'ok 24 of 24'
	before=$(calls_count)
	vd_shim bigs 24
	expect_out 'ok 24 of 24'
	assert_log hit v_big
	n=$(log_count "static string results passed")
	[[ $n -eq 1 ]] || kinds_fail "expected the bound to be logged once, $n times"
	used=$(($(calls_count) - before))
	((used > 0 && used < 24)) || kinds_fail "expected some real calls past the bound, $used"
}

@test "errno: a hit of pow(10, 400) sets ERANGE as the real call does" {
	cfg=$(kinds_config pow <<'EOF'
[function pow]
signature = double pow(double x, double y)
EOF
	)
	same_as_plain pow 10 400 0
	expect_out 'pow=inf errno=34'
	same_as_plain pow 10 400 0
	assert_log hit pow
	same_as_plain pow 10 400 7
	expect_out 'pow=inf errno=34'
	# a call that sets no errno leaves the caller's, on a hit too
	same_as_plain pow 2 10 5
	expect_out 'pow=1024 errno=5'
	same_as_plain pow 2 10 0
	expect_out 'pow=1024 errno=0'
	assert_log hit pow
}

@test "errno: strtol's ERANGE on a hit; its untouched errno stays the caller's" {
	cfg=$(kinds_config strtol <<'EOF'
[function strtol]
signature = long strtol(string s, ptr end, int base)
EOF
	)
	same_as_plain strtol 99999999999999999999 10 0
	expect_out 'strtol=9223372036854775807 errno=34'
	same_as_plain strtol 99999999999999999999 10 0
	assert_log hit strtol
	# stored while the caller's errno was 5: the idiom errno = 0 still works
	same_as_plain strtol 12 10 5
	expect_out 'strtol=12 errno=5'
	same_as_plain strtol 12 10 0
	expect_out 'strtol=12 errno=0'
	assert_log hit strtol
}

@test "errno = keep in [cache]: hits leave the caller's errno; txcache get shows errno" {
	# errno = keep makes a hit differ from the real call on purpose (the old
	# behaviour): a verified hit would rightly report it
	export TXCACHE_VERIFY=0
	cfg=$(kinds_config pow_keep 'errno = keep' <<'EOF'
[function pow]
signature = double pow(double x, double y)
EOF
	)
	vd_shim pow 10 400 0
	expect_out 'pow=inf errno=34'
	vd_shim pow 10 400 0
	expect_out 'pow=inf errno=0'
	assert_log hit pow
	run_txcache get -c "$cfg" pow 10 400
	assert_success
	assert_line 'ret = inf'
	assert_line 'errno = 34'
	run_txcache get -c "$cfg" --json pow 10 400
	assert_success
	assert_output --partial '"errno":34'
	json_check "assert d['errno'] == 34 and d['ret'] == 'inf', d" || return 1
	bad=$(kinds_config pow_bad 'errno = sometimes' </dev/null)
	run_txcache check -c "$bad"
	assert_failure 65
	assert_output --partial ":5: errno: 'sometimes' is not keep or restore"
}

# fill_key N CAP: a miss of v_fill(N) and its key.
fill_key() {
	vd_shim fill "$1" "$2"
	sed -n 's/^txcache: miss v_fill \([^ ]*\) .*/\1/p' <<<"$stderr" | head -n 1
}

@test "a value whose out bytes[cap:ret] length disagrees with ret is corrupt" {
	cfg=$(kinds_config fillc <<'EOF'
[function v_fill]
signature = int v_fill(int n, out bytes[cap:ret] buf, size_t cap)
EOF
	)
	key=$(fill_key 5 8)
	[[ -n $key ]] || kinds_fail "no miss line"
	v=$BATS_TEST_TMPDIR/v
	raw_get "$key" "$v"
	# payload: ret (8 bytes at 88), then buf: present, capacity, length
	poke "$v" 88 4
	raw_set "$key" "$v"
	before=$(calls_count)
	same_as_plain fill 5 8
	expect_out 'ret=5 buf=01234...'
	[[ $(log_count "failed verification") -eq 1 ]] || kinds_fail "not reported as corrupt"
	assert_calls $((before + 2)) "plain run and a real call"
	# a capacity below the stored length
	raw_get "$key" "$v"
	poke "$v" 97 4
	raw_set "$key" "$v"
	same_as_plain fill 5 8
	[[ $(log_count "failed verification") -eq 1 ]] || kinds_fail "not reported as corrupt"
}

@test "a value of format version 1 is a quiet miss, then replaced" {
	cfg=$(kinds_config fillv <<'EOF'
[function v_fill]
signature = int v_fill(int n, out bytes[cap:ret] buf, size_t cap)
EOF
	)
	key=$(fill_key 3 8)
	v=$BATS_TEST_TMPDIR/v
	raw_get "$key" "$v"
	poke "$v" 4 1
	raw_set "$key" "$v"
	same_as_plain fill 3 8
	expect_out 'ret=3 buf=012.....'
	assert_log hit v_fill absent
	[[ $(log_count "failed verification") -eq 0 ]] || kinds_fail "counted as corrupt"
	same_as_plain fill 3 8
	assert_log hit v_fill
}
