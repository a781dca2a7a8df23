#!/usr/bin/env bats
# The signature language of issue 15 against the real libz: compress2 and
# uncompress declared as zlib.h writes them (inout uLongf *destLen, out
# bytes[*destLen]), and the guarantees a hit must keep: never more bytes
# than the caller's *destLen allows, canary bytes after the buffer intact,
# *destLen = 0 and a NULL destLen answered as the real function would.
# Also: a prototype copied verbatim keys as its plain spelling, and [types]
# errors are reported at FILE:LINE by txcache check.

load helpers

setup_file() {
	[[ -x $FIXTURES/siglang_drv ]] || skip "siglang_drv not built (zlib.h missing)"
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

PLAIN='int compress2(out bytes[*destLen] dest, inout unsigned long *destLen, bytes[sourceLen] source, unsigned long sourceLen, int level)'
COPIED='int compress2(out bytes[*destLen] Bytef *dest, inout uLongf *destLen, bytes[sourceLen] const Bytef *source, uLong sourceLen, int level)'

# cfg NAME FUNCTION SIGNATURE [EXTRA LINES]: a config caching FUNCTION.
cfg() {
	txc_config "$1" <<EOF
[cache]
servers = $MC_SOCK
namespace = siglang
timeout_ms = 2000
log = info

[function $2]
signature = $3
${4:-}
EOF
}

# zcfg NAME SIGNATURE [EXTRA LINES]: compress2, successes only.
zcfg() {
	cfg "$1" compress2 "$2" "cache_if = ret == 0
${3:-}"
}

# drv CONFIG ARGS...: siglang_drv under the shim; fails unless it exited 0.
drv() {
	local cfg=$1
	shift
	run_shim --separate-stderr "$cfg" "$FIXTURES/siglang_drv" "$@"
	[[ $status -eq 0 ]] || { echo "siglang_drv $*: status $status: $output $stderr"; return 1; }
}

# hits FN: how many hits the last run logged for FN.
hits() {
	grep -c "^txcache: hit $1 " <<<"$stderr" || true
}

# plain ARGS...: siglang_drv without the shim: what the real function gives.
plain() {
	run "$FIXTURES/siglang_drv" "$@"
	[[ $status -eq 0 ]] || { echo "siglang_drv $*: status $status: $output"; return 1; }
}

# len_of: the len= of the last output.
len_of() {
	sed -n 's/.* len=\([0-9]*\) .*/\1/p' <<<"$output"
}

@test "compress2 with *destLen: a miss stores, a rerun hits with the same bytes" {
	txc_mc_flush
	local cfg want
	cfg=$(zcfg plain "$PLAIN")
	plain compress 1 4096 || return 1
	want=$output
	[[ $want == "rc=0 "*"canary=ok" ]] || { echo "plain run: $want"; return 1; }
	drv "$cfg" compress 1 4096 || return 1
	[[ $output == "$want" && $(hits compress2) -eq 0 ]] || { echo "first: $output / $stderr"; return 1; }
	drv "$cfg" compress 1 4096 || return 1
	[[ $output == "$want" && $(hits compress2) -eq 1 ]] || { echo "rerun: $output / $stderr"; return 1; }
}

@test "a prototype copied from zlib.h keys as the plain spelling" {
	txc_mc_flush
	local a b
	a=$(zcfg plain "$PLAIN")
	b=$(zcfg copied "$COPIED")
	drv "$a" compress 2 4096 || return 1
	[[ $(hits compress2) -eq 0 ]] || { echo "cold cache hit: $stderr"; return 1; }
	drv "$b" compress 2 4096 || return 1
	[[ $(hits compress2) -eq 1 ]] || { echo "copied spelling missed: $stderr"; return 1; }
	run_txcache --separate-stderr check -c "$b"
	[[ $status -eq 0 ]] || { echo "check: $status $output $stderr"; return 1; }
}

@test "*destLen keyed: calls differing only in it have different keys" {
	txc_mc_flush
	local cfg len want
	cfg=$(zcfg plain "$PLAIN")
	drv "$cfg" compress 3 4096 || return 1
	len=$(len_of)
	drv "$cfg" compress 3 4096 || return 1
	[[ $(hits compress2) -eq 1 ]] || { echo "the same *destLen: no hit: $stderr"; return 1; }
	plain compress 3 "$len" || return 1
	want=$output
	drv "$cfg" compress 3 "$len" || return 1
	[[ $(hits compress2) -eq 0 && $output == "$want" ]] || { echo "exact cap hit another key: $output $stderr"; return 1; }
	plain compress 3 "$((len - 1))" || return 1
	want=$output
	drv "$cfg" compress 3 "$((len - 1))" || return 1
	[[ $(hits compress2) -eq 0 && $output == "$want" && $output == *canary=ok ]] ||
		{ echo "one byte short: $output (want $want) $stderr"; return 1; }
}

@test "ignore = destLen: a smaller capacity never gets a longer value" {
	txc_mc_flush
	local cfg len want cap
	cfg=$(zcfg ign "$PLAIN" "ignore = destLen")
	drv "$cfg" compress 4 4096 || return 1
	[[ $output == "rc=0 "* ]] || { echo "store: $output"; return 1; }
	len=$(len_of)
	for cap in $((len - 1)) 1 0; do
		plain compress 4 "$cap" || return 1
		want=$output
		drv "$cfg" compress 4 "$cap" || return 1
		[[ $(hits compress2) -eq 0 ]] || { echo "cap $cap (stored $len) was served: $output"; return 1; }
		[[ $output == "$want" && $output == *canary=ok ]] ||
			{ echo "cap $cap: $output, the real function gives $want"; return 1; }
		grep -q "compress2: cached value does not fit the caller's buffer" <<<"$stderr" ||
			{ echo "cap $cap: no nofit line: $stderr"; return 1; }
	done
	plain compress 4 "$len" || return 1
	want=$output
	drv "$cfg" compress 4 "$len" || return 1
	[[ $(hits compress2) -eq 1 && $output == "$want" ]] || { echo "exact capacity: $output $stderr"; return 1; }
}

@test "uncompress round trip, byte for byte, on misses and on hits" {
	txc_mc_flush
	local cfg
	cfg=$(zcfg rt "$PLAIN" "
[function uncompress]
signature = int uncompress(out bytes[*destLen] Bytef *dest, inout uLongf *destLen, bytes[sourceLen] const Bytef *source, uLong sourceLen)
cache_if = ret == 0")
	drv "$cfg" roundtrip 5 || return 1
	[[ $output == *"roundtrip=ok canary=ok" && $(hits uncompress) -eq 0 ]] || { echo "miss: $output $stderr"; return 1; }
	drv "$cfg" roundtrip 5 || return 1
	[[ $output == *"roundtrip=ok canary=ok" && $(hits uncompress) -eq 1 && $(hits compress2) -eq 1 ]] ||
		{ echo "hit: $output $stderr"; return 1; }
}

# fcfg NAME [EXTRA LINES]: a config caching sl_fill, errors included.
fcfg() {
	cfg "$1" sl_fill 'int sl_fill(out bytes[*destLen] unsigned char *dest, inout unsigned long *destLen, bytes[n] const unsigned char *src, unsigned long n)' "${2:-}"
}

@test "a NULL destLen and *destLen = 0: answered as the real function, twice" {
	local cfg run want ign args
	for ign in "" "ignore = destLen"; do
		txc_mc_flush
		cfg=$(fcfg "fill${ign:+_ign}" "$ign")
		for args in "null 10" "0 10" "10 10" "9 10" "null 10" "0 10"; do
			# shellcheck disable=SC2086
			plain fill $args || return 1
			want=$output
			for run in 1 2; do
				# shellcheck disable=SC2086
				drv "$cfg" fill $args || return 1
				[[ $output == "$want" && $output == *canary=ok ]] ||
					{ echo "[$ign] fill $args run $run: $output, real: $want; $stderr"; return 1; }
				if [[ $run == 2 && $args == "10 10" && $(hits sl_fill) -ne 1 ]]; then
					echo "[$ign] fill 10 10 stored, not served: $stderr"
					return 1
				fi
			done
		done
	done
}

@test "[types] names a scalar; bad entries are reported at FILE:LINE" {
	local cfg all
	cfg=$(
		txc_config types <<EOF
[cache]
servers = $MC_SOCK
namespace = siglang

[types]
argon2_type = int
out = int
uLong = long
mine = struct foo
my_len = unsigned long int

[function f]
signature = int f(argon2_type t, inout my_len *n, out bytes[*n] unsigned char *b)
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	all="$output
$stderr"
	[[ $status -eq 65 ]] || { echo "status $status: $all"; return 1; }
	grep -qE "^$cfg:7: .*out.*keyword" <<<"$all" || { echo "keyword: $all"; return 1; }
	grep -qE "^$cfg:8: .*uLong.*built-in" <<<"$all" || { echo "built-in: $all"; return 1; }
	grep -qE "^$cfg:9: .*struct foo.*not a C scalar type" <<<"$all" || { echo "target: $all"; return 1; }
	if grep -qE "^$cfg:(6|10|13): " <<<"$all"; then
		echo "a good line reported: $all"
		return 1
	fi
}

@test "a bare T * without a kind: txcache check says which kinds fit" {
	local cfg all
	cfg=$(
		txc_config bare <<EOF
[cache]
servers = $MC_SOCK
namespace = siglang

[function compress2]
signature = int compress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen, int level)
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	all="$output
$stderr"
	[[ $status -eq 65 ]] || { echo "status $status: $all"; return 1; }
	grep -qE "^$cfg:6: .*dest.*needs a kind: 'out Bytef \*' or 'inout Bytef \*'" <<<"$all" ||
		{ echo "$all"; return 1; }
}

@test "txcache key takes an inout's value (or NULL) and prints the key the shim used" {
	txc_mc_flush
	local cfg args want v hex=00010203040506070809
	cfg=$(fcfg key)
	for args in "10 10" "null 10" "12 10"; do
		# shellcheck disable=SC2086
		drv "$cfg" fill $args || return 1
		want=$(sed -n 's/^txcache: miss sl_fill \([^ ]*\) .*/\1/p' <<<"$stderr")
		[[ -n $want ]] || { echo "fill $args: no miss line: $stderr"; return 1; }
		v=${args%% *}
		[[ $v != null ]] || v=NULL # the CLI's spelling of a NULL pointer
		run_txcache --separate-stderr key -c "$cfg" sl_fill "$v" "$hex"
		[[ $status -eq 0 && ${output^^} == "${want^^}" ]] ||
			{ echo "fill $args: txcache key printed '$output' ($stderr), the shim used '$want'"; return 1; }
	done
}

@test "txcache set with *destLen given: the shim serves it, within the capacity" {
	txc_mc_flush
	local cfg want
	cfg=$(fcfg set)
	plain fill 10 10 || return 1
	want=$output
	run_txcache --separate-stderr set -c "$cfg" --library "$FIXTURES/libsiglang.so" sl_fill 10 00010203040506070809 -- 0 0102030405060708090a 10
	[[ $status -eq 0 ]] || { echo "set: $status $output $stderr"; return 1; }
	drv "$cfg" fill 10 10 || return 1
	[[ $output == "$want" && $(hits sl_fill) -eq 1 ]] || { echo "after set: $output (real $want) $stderr"; return 1; }
	run_txcache --separate-stderr set -c "$cfg" --library "$FIXTURES/libsiglang.so" sl_fill 4 00010203040506070809 -- 0 0102030405060708090a 10
	[[ $status -ne 0 ]] || { echo "10 bytes set for a *destLen of 4: $output"; return 1; }
}
