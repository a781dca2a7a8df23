#!/usr/bin/env bats
# The txcache command against a real memcached: key, get, set, delete, flush,
# stats, ls; usage and exit codes. Keys printed by `txcache key` are checked
# against the keys the shim really used (its "miss" log lines) and read back
# from memcached.

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
	CFG=$(kinds_config cli 'stats_interval = 0' <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
cache_if  = ret >= 0
[function k_int]
signature = int k_int(int x)
[function k_sum]
signature = uint32_t k_sum(bytes[n] b, size_t n)
[function k_divmod]
signature = int k_divmod(int a, int b, out int *q, out int *r)
[function k_float]
signature = float k_float(float x)
[function k_strlen]
signature = int k_strlen(string s)
[function k_fill]
signature = ssize_t k_fill(int seed, out bytes[cap:ret] buf, size_t cap)
EOF
	)
}

# The key of the shim's last "miss FN KEY" line on stderr.
miss_key() {
	sed -n "s/^txcache: miss $1 \([^ ]*\).*/\1/p" <<<"$stderr" | tail -n 1
}

# tx CMD ARG...: the CLI with this test's config (kinds_exec: status/output/stderr).
tx() {
	local cmd=$1
	shift
	kinds_exec "$TXCACHE" "$cmd" -c "$CFG" "$@"
}

@test "--help lists every subcommand; unknown commands and options are usage errors" {
	kinds_exec "$TXCACHE" --help
	expect_status 0
	for c in run check key get set delete flush stats ls; do
		expect_out --partial "txcache $c "
	done
	kinds_exec "$TXCACHE" frobnicate
	expect_status 64
	tx key --json k_int 1
	expect_status 64
	tx get --replace k_int 1
	expect_status 64
}

@test "txcache key prints exactly the key the shim used, and memcached holds it" {
	local f=$BATS_TEST_TMPDIR/blob
	printf '\x01\x02\xff' >"$f"
	kd_shim "$CFG" greet bob 32 -- int -7 -- sum 0102ff -- divmod 17 5 -- float 0.1 \
		-- strlen NULL -- strlen ""
	expect_status 0
	local log=$stderr
	local -a calls=("k_greet bob 32" "k_int -7" "k_sum 0102ff" "k_sum @$f" "k_divmod 17 5"
		"k_float 0.1" "k_float 0x1.99999ap-4" "k_int -0x7" "k_int -7L")
	local c fn want
	for c in "${calls[@]}"; do
		fn=${c%% *}
		want=$(stderr=$log miss_key "$fn")
		# shellcheck disable=SC2086 # the words of $c are the arguments
		tx key ${c}
		[[ $status -eq 0 && $output == "$want" ]] ||
			kinds_fail "txcache key $c printed '$output', the shim used '$want'"
		[[ $(memccat --servers="$MC_SOCK" "$output" | head -c 3) == TXC ]] ||
			kinds_fail "memcached has no txcache value under $output"
	done
	# NULL and "" key apart, each as the shim keyed them
	local keys
	keys=$(sed -n 's/^txcache: miss k_strlen \([^ ]*\).*/\1/p' <<<"$log")
	tx key k_strlen NULL
	[[ $output == "$(sed -n 1p <<<"$keys")" ]] || kinds_fail "NULL string key"
	tx key k_strlen ""
	[[ $output == "$(sed -n 2p <<<"$keys")" ]] || kinds_fail "empty string key"
	[[ $(sed -n 1p <<<"$keys") != "$(sed -n 2p <<<"$keys")" ]] || kinds_fail "NULL == \"\""
}

@test "txcache key rejects bad arguments with EX_USAGE and bad configs with EX_DATAERR" {
	tx key k_int
	expect_status 64
	tx key k_int 1 2
	expect_status 64
	tx key k_int 2147483648
	expect_status 64
	tx key k_int 1.5
	expect_status 64
	tx key k_sum 0g
	expect_status 64
	tx key k_sum @"$BATS_TEST_TMPDIR/no-such-file"
	expect_status 64
	tx key k_nope 1
	expect_status 64
	[[ $stderr == *"no function 'k_nope'"* ]] || kinds_fail "no reason given"
	printf '[cache]\n' >"$BATS_TEST_TMPDIR/bad.ini"
	kinds_exec "$TXCACHE" key -c "$BATS_TEST_TMPDIR/bad.ini" k_int 1
	expect_status 65
}

@test "txcache key takes only values the parameter's type holds: no wrapping, inf and nan spelled out" {
	local cfg
	cfg=$(kinds_config cli_range <<'EOF'
[function k_long]
signature = long k_long(long x)
[function k_u64]
signature = uint64_t k_u64(uint64_t x)
[function k_i8]
signature = int8_t k_i8(int8_t x)
[function k_float]
signature = float k_float(float x)
[function k_double]
signature = double k_double(double x)
EOF
	)
	local -a bad=("k_long 18446744073709551615" "k_long 9223372036854775808"
		"k_long -9223372036854775809" "k_u64 -1" "k_u64 : -1" "k_u64 : 5" "k_i8 128"
		"k_i8 -129" "k_float 1e999" "k_float 1e39" "k_double 1e999" "k_double -1e999"
		"k_double : 1")
	local c fn arg
	# each names no value of its type: refused, never wrapped to another call's key
	# (": X" stands for the word " X", with its leading space)
	for c in "${bad[@]}"; do
		fn=${c%% *} arg=${c#* }
		[[ $arg != ": "* ]] || arg=" ${arg#: }"
		kinds_exec "$TXCACHE" key -c "$cfg" "$fn" "$arg"
		[[ $status -eq 64 ]] || kinds_fail "txcache key $fn '$arg': expected exit 64"
		[[ $stderr == *"bad value"* ]] || kinds_fail "txcache key $fn '$arg': no reason"
	done
	# the ends of each range are accepted
	for c in "k_long 9223372036854775807" "k_long -9223372036854775808" \
		"k_u64 18446744073709551615" "k_i8 127" "k_i8 -128" "k_float 3.4e38"; do
		# shellcheck disable=SC2086 # the words of $c are the arguments
		kinds_exec "$TXCACHE" key -c "$cfg" --library "$FIXTURES/libkinds.so" $c
		[[ $status -eq 0 ]] || kinds_fail "txcache key $c: expected exit 0"
	done
	# set takes the same rules for the result it stores
	kinds_exec "$TXCACHE" set -c "$cfg" --library "$FIXTURES/libkinds.so" k_long 1 -- 18446744073709551615
	expect_status 64
	# inf, -inf and nan key as the shim keys the real call
	kd_shim "$cfg" double inf -- double -inf -- double nan -- float inf -- float -inf
	expect_status 0
	local -a want
	mapfile -t want < <(sed -n 's/^txcache: miss k_[a-z]* \([^ ]*\).*/\1/p' <<<"$stderr")
	((${#want[@]} == 5)) || kinds_fail "expected 5 misses, got ${#want[@]}"
	local -a calls=("k_double inf" "k_double -inf" "k_double nan" "k_float inf" "k_float -inf")
	local i
	for i in "${!calls[@]}"; do
		# shellcheck disable=SC2086 # the words are the arguments
		kinds_exec "$TXCACHE" key -c "$cfg" ${calls[i]}
		[[ $status -eq 0 && $output == "${want[i]}" ]] ||
			kinds_fail "txcache key ${calls[i]} printed '$output', the shim used '${want[i]}'"
	done
}

@test "txcache key refuses bytes longer than the LEN parameter's type can count" {
	local cfg
	cfg=$(kinds_config cli_len <<'EOF'
[function k_sum]
signature = uint32_t k_sum(bytes[n] b, uint8_t n)
EOF
	)
	local hex255 hex300
	hex255=$(head -c 255 /dev/zero | od -An -v -tx1 | tr -d ' \n')
	hex300=$(head -c 300 /dev/zero | od -An -v -tx1 | tr -d ' \n')
	((${#hex255} == 510 && ${#hex300} == 600)) || kinds_fail "test setup: bad hex"
	kinds_exec "$TXCACHE" key -c "$cfg" --library "$FIXTURES/libkinds.so" k_sum "$hex255"
	expect_status 0
	# 300 bytes: n would wrap to 44, a call the shim can never key this way
	kinds_exec "$TXCACHE" key -c "$cfg" --library "$FIXTURES/libkinds.so" k_sum "$hex300"
	expect_status 64
	[[ $stderr == *"LEN"* ]] || kinds_fail "no reason given"
	head -c 300 /dev/zero >"$BATS_TEST_TMPDIR/b300"
	kinds_exec "$TXCACHE" key -c "$cfg" --library "$FIXTURES/libkinds.so" k_sum "@$BATS_TEST_TMPDIR/b300"
	expect_status 64
}

@test "txcache get prints the return value and out-parameters by name, or JSON; 1 when not cached" {
	tx get k_greet bob 32
	expect_status 1
	[[ $stderr == *"not cached"* ]] || kinds_fail "no 'not cached' message"
	kd_shim "$CFG" greet bob 32 -- divmod 17 5 -- fill 7 16 -- float 0.5
	local fill
	fill=$(sed -n 's/^k_fill 7 16 -> 8 buf=\(.\{16\}\).*/\1/p' <<<"$output")
	[[ ${#fill} -eq 16 ]] || kinds_fail "k_fill: unexpected driver output"
	tx get k_greet bob 32
	expect_status 0
	expect_out $'ret = 10\nbuf = "hello, bob"'
	tx get k_divmod 17 5
	expect_out $'ret = 0\nq = 3\nr = 2'
	tx get k_fill 7 16
	expect_out "ret = 8"$'\n'"buf = $fill"
	tx get k_float 0.5
	expect_out 'ret = 0.5'
	tx get --json k_divmod 17 5
	expect_status 0
	[[ $output == '{"function":"k_divmod","key":"'"$KINDS_NS"':k_divmod:'*'","ret":0,"out":{"q":3,"r":2},"cost_ns":'*'}' ]] ||
		kinds_fail "unexpected JSON"
	json_check 'assert d["out"]["q"] == 3' || kinds_fail "not valid JSON"
}

# The samples of tests/fixtures/jsonb_lib.c, as python bytes literals.
JB_SAMPLES='[b"\x80\xff", b"say \"hi\" C:\\tmp\\", b"\xed\xa0\x80", b"\xc0\xaf",
 b"c\x01\x1f\x7f\t\r\n.", "café € 😀".encode(), b"\xf4\x90\x80\x80", b"cut \xe2\x82",
 b"", b"\xe0\x80\x80", b"\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80"]'
# jb_text V B: V is bytes B by the rule of shim/cli/jsonout.h: a string when
# the bytes are UTF-8 (python's strict decoder agrees with RFC 3629 on
# overlongs, surrogates and U+10FFFF), else {"base64"}; either way its bytes.
JB_TEXT='
def jb_text(v, b):
    try:
        b.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    assert isinstance(v, str) == utf8, (v, b)
    assert jbytes(v) == b, (v, b)
'

@test "get --json: valid JSON whatever the bytes (not UTF-8, NULs, quotes, surrogates, overlongs), decoding to them" {
	local jb=$FIXTURES/jsonb_driver i
	[[ -x $jb ]] || kinds_fail "missing $jb: make -C tests/fixtures" || return 1
	CFG=$(kinds_config jsonb <<'EOF'
[function jb_str]
signature = string jb_str(int i)
[function jb_out]
signature = int jb_out(int i, out string[cap] buf, size_t cap)
[function jb_bytes]
signature = ssize_t jb_bytes(int i, out bytes[cap:ret] buf, size_t cap)
EOF
	)
	kinds_exec_shim "$CFG" "$jb" 0 1 2 3 4 5 6 7 8 9 10
	expect_status 0 || return 1
	for i in 0 1 2 3 4 5 6 7 8 9 10; do
		tx get --json jb_str "$i"
		expect_status 0 || return 1
		json_check "$JB_TEXT"$'\n'"jb_text(d['ret'], $JB_SAMPLES[$i])" || return 1
		tx get --json jb_out "$i" 64
		expect_status 0 || return 1
		json_check "$JB_TEXT"$'\n'"jb_text(d['out']['buf'], $JB_SAMPLES[$i]); assert d['ret'] == len($JB_SAMPLES[$i])" ||
			return 1
		tx get --json jb_bytes "$i" 64
		expect_status 0 || return 1
		json_check "assert bytes.fromhex(d['out']['buf']) == b'\0' + $JB_SAMPLES[$i] + b'\0', d" ||
			return 1
	done
	# the rule, not only a parse: UTF-8 is a string (escaped), the rest base64
	tx get --json jb_str 1
	[[ $output == *'"ret":"say \"hi\" C:\\tmp\\"'* ]] || kinds_fail "quotes not escaped" || return 1
	tx get --json jb_str 0
	[[ $output == *'"ret":{"base64":"gP8="}'* ]] || kinds_fail "0x80 0xff not base64" || return 1
	tx get --json jb_str 4
	[[ $output == *'"ret":"c\u0001\u001f\u007f\u0009\u000d\u000a."'* ]] ||
		kinds_fail "controls not \\u escaped" || return 1
}

@test "txcache set stores a result the shim then serves; --replace needs a cached call" {
	export TXCACHE_VERIFY=0 # the values set are made up: verify would rightly refuse them
	# nothing ran yet, so no definition is registered: --library names it
	tx set k_greet zed 32 -- 6 "hi zed"
	expect_status 1
	[[ $stderr == *"--library FILE"* ]] || kinds_fail "no hint at --library"
	tx set --library "$FIXTURES/libkinds.so" k_greet zed 32 -- 6 "hi zed"
	expect_status 0
	tx set --library "$FIXTURES/libkinds.so" k_divmod 9 2 -- 0 40 2
	expect_status 0
	kd_shim "$CFG" greet zed 32 -- divmod 9 2
	expect_out $'k_greet "zed" 32 -> 6 buf="hi zed" canary ok\nk_divmod 9 2 -> 0 q=40 r=2 canary ok canary ok'
	assert_calls 0 "both answered from the values set"
	assert_log hit k_greet
	tx set --replace k_int 5 -- 1
	expect_status 1
	kd_shim "$CFG" int 5
	tx set --replace k_int 5 -- 99
	expect_status 0
	kd_shim "$CFG" int 5
	expect_out 'k_int 5 -> 99'
	# a string longer than the caller's capacity could never be served
	tx set k_greet zed 4 -- 6 "hi zed"
	expect_status 64
	tx set k_greet zed 32 -- 6
	expect_status 64
	tx set k_greet zed 32 6 "hi"
	expect_status 64
}

@test "txcache delete drops one call; the next run is a miss" {
	kd_shim "$CFG" greet ann 32 -- greet bea 32
	tx delete k_greet ann 32
	expect_status 0
	tx get k_greet ann 32
	expect_status 1
	tx get k_greet bea 32
	expect_status 0
	: >"$KINDS_CALLS"
	kd_shim "$CFG" greet ann 32 -- greet bea 32
	assert_calls 1 "ann recomputed, bea still cached"
	assert_log miss k_greet
}

@test "txcache flush FUNCTION and flush of the namespace leave other namespaces and foreign keys alone" {
	local other=$BATS_TEST_TMPDIR/o.ini foreign=$BATS_TEST_TMPDIR/foreign_key_$KINDS_NS
	sed "s/^namespace = .*/namespace = other$KINDS_NS/" "$CFG" >"$other"
	echo "not txcache's" >"$foreign"
	memccp --servers="$MC_SOCK" "$foreign"
	kd_shim "$CFG" greet bob 32 -- int 3
	kd_shim "$other" greet bob 32 -- int 3
	: >"$KINDS_CALLS"

	tx flush k_int
	expect_status 0
	tx get k_int 3
	expect_status 1
	tx get k_greet bob 32
	expect_status 0

	tx flush
	expect_status 0
	tx get k_greet bob 32
	expect_status 1
	kinds_exec "$TXCACHE" get -c "$other" k_greet bob 32
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$other" k_int 3
	expect_status 0
	[[ $(memccat --servers="$MC_SOCK" "$(basename "$foreign")") == "not txcache's" ]] ||
		kinds_fail "a key that is not txcache's was touched"
	kd_shim "$other" greet bob 32 -- int 3
	assert_calls 0 "the other namespace is still served from the cache"
	kd_shim "$CFG" greet bob 32 -- int 3
	assert_calls 2 "this namespace was flushed"
	tx flush k_nope
	expect_status 64
}

@test "txcache flush --all-server wipes the server, and only when asked" {
	local foreign=$BATS_TEST_TMPDIR/wiped_$KINDS_NS
	echo x >"$foreign"
	memccp --servers="$MC_SOCK" "$foreign"
	tx flush --all-server k_int
	expect_status 64
	memcexist --servers="$MC_SOCK" "$(basename "$foreign")" || kinds_fail "wiped without asking"
	tx flush --all-server
	expect_status 0
	[[ $output == "flushed the whole server $MC_SOCK" ]] || kinds_fail "unexpected output"
	! memcexist --servers="$MC_SOCK" "$(basename "$foreign")" || kinds_fail "not wiped"
}

@test "txcache stats adds up what every process published at exit, with the time saved" {
	export TXCACHE_VERIFY=0 # a verified hit runs the real call: it saves no time
	tx stats
	expect_status 0
	[[ $(awk '$1 == "k_greet" {print $2, $3}' <<<"$output") == "0 0" ]] || kinds_fail "not zero"
	kd_shim "$CFG" greet bob 32 -- int 1
	kd_shim "$CFG" repeat 20 greet bob 32
	kd_shim "$CFG" repeat 20 greet bob 32
	tx stats
	expect_status 0
	[[ $(awk '$1 == "k_greet" {print $2, $3, $4, $5}' <<<"$output") == "40 1 1 0" ]] ||
		kinds_fail "k_greet: expected 40 hits, 1 miss, 1 store, 0 errors"
	tx stats --json
	json_check '
d = d["functions"]
g = d["k_greet"]
assert g["hits"] == 40 and g["misses"] == 1 and g["stores"] == 1, g
assert g["saved_us"] > 0, g
assert g["bytes_in"] == 40 * g["bytes_out"], g
assert d["k_int"]["misses"] == 1, d
' || kinds_fail "unexpected JSON counters"
}

@test "the shim publishes every stats_interval seconds from a call, not only at exit" {
	local cfg=$BATS_TEST_TMPDIR/i.ini
	sed 's/^stats_interval = 0/stats_interval = 1/' "$CFG" >"$cfg"
	# A process that keeps calling and is then killed: nothing at exit, so
	# whatever stats show was published along the way.
	LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg TXCACHE_LOG=warn \
		"$KD" repeat 100000000 int 4 >/dev/null 2>&1 3>&- &
	local pid=$!
	wait_until k_int_hits_shown || true # checked below, after the kill
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[[ $output == *'"k_int":{"hits":'[1-9]* ]] || kinds_fail "no counters published while running"
}

# txcache stats --json shows hits of k_int (a condition for wait_until).
k_int_hits_shown() {
	tx stats --json
	[[ $output == *'"k_int":{"hits":'[1-9]* ]]
}

# ls_shows STATE N [FUNCTION] [KEY]: txcache ls [FUNCTION] lists N calls of
# k_int in STATE, and KEY when given (a condition for wait_until: the
# metadump is best effort while memcached moves items between its LRUs).
ls_shows() {
	tx ls ${3:+"$3"}
	[[ $status -eq 0 && $(grep -c "^$1 .*$KINDS_NS:k_int:" <<<"$output") -eq $2 ]] &&
		[[ -z ${4:-} || $output == *"$4"* ]]
}

@test "txcache ls lists cached calls, live or stale" {
	kd_shim "$CFG" greet bob 32 -- int 3 -- int 4
	local kb
	kb=$(miss_key k_greet)
	wait_until ls_shows live 2 "" "$kb" || true # the checks below say what is missing
	expect_status 0
	[[ $(grep -c "^live .*$KINDS_NS:k_int:" <<<"$output") -eq 2 ]] || kinds_fail "2 k_int calls"
	[[ $output == *"$kb"* ]] || kinds_fail "k_greet's key is not listed"
	tx ls k_greet
	[[ $output != *":k_int:"* ]] || kinds_fail "ls FUNCTION listed another function"
	tx flush k_int
	wait_until ls_shows stale 2 k_int || true
	[[ $(grep -c "^stale .*$KINDS_NS:k_int:" <<<"$output") -eq 2 ]] || kinds_fail "stale after flush"
}

@test "commands report an unreachable memcached with EX_UNAVAILABLE" {
	local d=$BATS_TEST_TMPDIR/d.ini args
	sed "s|^servers = .*|servers = $BATS_TEST_TMPDIR/none.sock|" "$CFG" >"$d"
	for args in "get k_int 1" "delete k_int 1" "flush" "stats" "ls" "set k_int 1 -- 2"; do
		local -a w
		read -ra w <<<"$args"
		kinds_exec "$TXCACHE" "${w[0]}" -c "$d" "${w[@]:1}"
		[[ $status -eq 69 ]] || kinds_fail "txcache $args: expected exit 69"
	done
}
