#!/usr/bin/env bats
# Verify mode (verify = RATE, TXCACHE_VERIFY): on sampled hits the real
# function runs too and its result is compared with the cached one. Honest
# signatures verify; wrong ones (an out-parameter declared as an input, a
# function with hidden state) are caught, the caller gets the real result,
# the entry goes. Real processes, a real memcached, libverify.so.

load helpers

VD=$FIXTURES/verify_driver

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$VD" "$FIXTURES/libverify.so"; do
		[[ -e $f ]] || {
			echo "missing $f: run make all and make -C tests/fixtures BUILD=$BUILD" >&2
			return 1
		}
	done
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	# This suite sets the rate itself, and makes mismatches on purpose:
	# neither the rate nor the log of `make check-verify` applies here.
	unset TXCACHE_VERIFY TXCACHE_VERIFY_LOG TXCACHE_DISABLE
	export TXCACHE_LOG=info
	STATE=$BATS_TEST_TMPDIR/state
	echo 5 >"$STATE"
}

# vconfig [CACHE LINES...]: every libverify function, in a namespace of this
# test's own; the LINES go into [cache]. Honest signatures, except vf_fill
# (buf is written: declared as an input) and vf_upcase (s is written).
vconfig() {
	{
		printf '[cache]\nservers = %s\nnamespace = v%s\ntimeout_ms = 2000\n' \
			"$MC_SOCK" "$BATS_TEST_NUMBER"
		printf 'stats_interval = 0\n'
		(($# == 0)) || printf '%s\n' "$@"
		cat <<'EOF'
[function vf_square]
signature = int vf_square(int x, out int *next)
[function vf_name]
signature = string vf_name(int n)
[function vf_email]
signature = int vf_email(string user, out string[cap] email, size_t cap)
[function vf_fill]
signature = int vf_fill(int n, bytes[cap] buf, size_t cap)
[function vf_upcase]
signature = int vf_upcase(string s)
[function vf_read]
signature = int vf_read(string path)
[function vf_cat]
signature = int vf_cat(string path, out string[cap] buf, size_t cap)
[function vf_errno]
signature = int vf_errno(string path)
[function vf_print]
signature = void vf_print(out fd fd, int n)
[function vf_show]
signature = void vf_show(out fd fd, string path)
EOF
	} | txc_config "v$BATS_TEST_NUMBER"
}

# vd CFG [VAR=VALUE...] OP...: the driver under the shim, stderr apart.
vd() {
	local cfg=$1 envs=()
	shift
	while [[ $# -gt 0 && $1 == *=* && $1 != *:* ]]; do
		envs+=("$1")
		shift
	done
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" \
		"${envs[@]}" "$VD" "$@"
}

fail_with() {
	printf '%s\n--- status %s\n--- stdout\n%s\n--- stderr\n%s\n' "$1" "$status" "$output" \
		"$stderr" >&2
	return 1
}

expect_out() {
	[[ $status -eq 0 ]] || fail_with "expected status 0"
	[[ $output == "$1" ]] || fail_with "expected stdout: $1"
}

# stat_is FN NAME N: the exit stats line of FN says NAME=N.
stat_is() {
	grep -Eq "^txcache: stats $1:.* $2=$3( |$)" <<<"$stderr" ||
		fail_with "expected $2=$3 for $1"
}

# mismatch_line FN PART: one warn line names FN and the part that differed.
mismatch_line() {
	local n
	n=$(grep -F "txcache: verify: $1 " <<<"$stderr" | grep -cF "mismatch: $2" || true)
	[[ $n -eq 1 ]] || fail_with "expected one mismatch line for $1 naming '$2' (got $n)"
}

no_mismatch() {
	! grep -q 'mismatch:' <<<"$stderr" || fail_with "unexpected mismatch line"
}

@test "verify: honest signatures verify on every hit, 0 mismatches, same output" {
	local ops=(sq:3 name:4 email:bob print:7 sq:3)
	cfg=$(vconfig 'verify = 1')
	run --separate-stderr "$VD" "${ops[@]}"
	local plain=$output
	vd "$cfg" "${ops[@]}" # misses (sq:3 twice: the second is a hit)
	expect_out "$plain"
	vd "$cfg" "${ops[@]}" # every call a hit, every hit verified
	expect_out "$plain"
	no_mismatch
	stat_is vf_square hits 2
	stat_is vf_square verified 2
	for fn in vf_name vf_email vf_print; do
		stat_is $fn verified 1
		stat_is $fn mismatch 0
	done
	[[ $(grep -c '^txcache: hit vf_.* (verified)$' <<<"$stderr") -eq 5 ]] ||
		fail_with "expected five verified hits"
}

@test "verify: near-cache hits are verified too" {
	cfg=$(vconfig 'verify = 1')
	sed -i '/^signature = int vf_square/a local_ttl = 60' "$cfg"
	sed -i '/^signature = int vf_read/a local_ttl = 60' "$cfg"
	vd "$cfg" sq:3 sq:3 sq:3
	expect_out $'sq(3) = 9 next 4\nsq(3) = 9 next 4\nsq(3) = 9 next 4'
	stat_is vf_square verified 2
	# hidden state changed within the process: the near hit is caught
	vd "$cfg" read:"$STATE" put:"$STATE":8 read:"$STATE" read:"$STATE"
	expect_out $'read = 5\nread = 8\nread = 8'
	mismatch_line vf_read "ret"
	stat_is vf_read mismatch 1
}

@test "verify: an out-parameter declared as a bytes input is caught; the caller gets the real result" {
	cfg=$(vconfig)
	vd "$cfg" fill:2 # miss: stored with the wrong signature
	expect_out "fill(2) = 8 [filled-2]"
	vd "$cfg" fill:2 # what the wrong signature does on a hit: buf is not written
	expect_out "fill(2) = 8 []"
	vd "$cfg" TXCACHE_VERIFY=1 fill:2
	expect_out "fill(2) = 8 [filled-2]"
	mismatch_line vf_fill "input arg 'buf' was modified"
	stat_is vf_fill mismatch 1
	stat_is vf_fill verified 0
	vd "$cfg" fill:2 # the lying entry is gone: a miss, the right result
	expect_out "fill(2) = 8 [filled-2]"
	grep -q '^txcache: miss vf_fill ' <<<"$stderr" || fail_with "expected a miss after the mismatch"
}

@test "verify: a function that modifies an input string is reported" {
	cfg=$(vconfig 'verify = 1')
	vd "$cfg" upcase:abc
	expect_out "upcase(abc) = 3 [ABC]"
	vd "$cfg" upcase:abc
	expect_out "upcase(abc) = 3 [ABC]"
	mismatch_line vf_upcase "input arg 's' was modified"
	stat_is vf_upcase mismatch 1
}

@test "verify: hidden state (a file) is caught in ret and in an out string" {
	cfg=$(vconfig 'verify = 1')
	vd "$cfg" read:"$STATE" cat:"$STATE"
	expect_out $'read = 5\ncat = 0 [5]'
	echo 6 >"$STATE"
	vd "$cfg" TXCACHE_VERIFY=0 read:"$STATE" cat:"$STATE" # the stale hits
	expect_out $'read = 5\ncat = 0 [5]'
	vd "$cfg" read:"$STATE" cat:"$STATE"
	expect_out $'read = 6\ncat = 0 [6]'
	mismatch_line vf_read "ret"
	mismatch_line vf_cat "out buf"
	stat_is vf_read mismatch 1
	stat_is vf_cat mismatch 1
	vd "$cfg" TXCACHE_VERIFY=0 read:"$STATE" cat:"$STATE" # entries deleted: fresh misses
	expect_out $'read = 6\ncat = 0 [6]'
}

@test "verify: errno is compared; the caller gets the real call's errno" {
	cfg=$(vconfig 'verify = 1')
	vd "$cfg" errno:"$STATE"
	expect_out "errno = 5 (ret -1)"
	echo 13 >"$STATE"
	vd "$cfg" errno:"$STATE"
	expect_out "errno = 13 (ret -1)"
	mismatch_line vf_errno "errno"
}

@test "verify: out fd output is written exactly once on a verified hit" {
	cfg=$(vconfig 'verify = 1')
	vd "$cfg" print:7 print:8
	expect_out $'line 7\nline 8'
	vd "$cfg" print:7 print:8 print:7
	expect_out $'line 7\nline 8\nline 7'
	stat_is vf_print verified 3
	no_mismatch
	# hidden state to the fd: the real bytes, once, and the part named
	vd "$cfg" show:"$STATE"
	expect_out "file: 5"
	echo 9 >"$STATE"
	vd "$cfg" show:"$STATE"
	expect_out "file: 9"
	mismatch_line vf_show "output on fd 'fd'"
}

@test "verify: txcache stats shows verified and mismatch" {
	cfg=$(vconfig 'verify = 1')
	vd "$cfg" read:"$STATE" sq:2
	echo 7 >"$STATE"
	vd "$cfg" read:"$STATE" sq:2
	run_txcache stats --json -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "txcache stats failed"
	json_check "assert d['functions']['vf_read']['mismatch'] == 1, d" || fail_with "stats --json"
	[[ $output == *'"vf_read":{'*'"mismatch":1'* ]] || fail_with "vf_read mismatch 1 not in stats"
	[[ $output == *'"vf_square":{'*'"verified":1,"mismatch":0}'* ]] ||
		fail_with "vf_square verified 1 not in stats"
	run_txcache stats -c "$cfg"
	[[ $output == *mismatch* ]] || fail_with "the table has no mismatch column"
}

@test "verify: TXCACHE_VERIFY overrides the file; a function's verify overrides [cache]" {
	cfg=$(vconfig 'verify = 1')
	vd "$cfg" fill:3
	vd "$cfg" TXCACHE_VERIFY=0 fill:3
	expect_out "fill(3) = 8 []" # not verified: the lying hit is served
	sed -i '/^signature = int vf_fill/a verify = 0' "$cfg"
	vd "$cfg" fill:3
	expect_out "fill(3) = 8 []"
	vd "$cfg" TXCACHE_VERIFY=1 fill:3
	expect_out "fill(3) = 8 [filled-3]"
	stat_is vf_fill mismatch 1
}

@test "verify: a rate samples part of the hits and leaves the host's rand() alone" {
	cfg=$(vconfig 'verify = 0.5')
	local ops=(rand) i
	for ((i = 0; i < 40; i++)); do ops+=(sq:4); done
	ops+=(rand rand)
	run --separate-stderr "$VD" "${ops[@]}"
	local plain=$output
	vd "$cfg" "${ops[@]}"
	expect_out "$plain"
	local v
	v=$(sed -n 's/^txcache: stats vf_square: .* verified=\([0-9]*\) .*/\1/p' <<<"$stderr")
	[[ -n $v && $v -gt 0 && $v -lt 39 ]] || fail_with "expected some of 39 hits verified, got '$v'"
}

@test "verify: a bad rate is a config error with its line; a bad TXCACHE_VERIFY is ignored" {
	cfg=$(vconfig 'verify = 1.5')
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -eq 65 ]] || fail_with "expected exit 65"
	[[ $stderr == *"$cfg:6: verify: '1.5' is not a rate from 0 to 1"* ]] ||
		fail_with "expected the line of verify"
	cfg=$(vconfig 'verify = 0.25')
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "verify = 0.25 is valid"
	vd "$cfg" TXCACHE_VERIFY=lots sq:1
	expect_out "sq(1) = 1 next 2"
	[[ $stderr == *"TXCACHE_VERIFY: 'lots' is not a rate"* ]] || fail_with "expected a warning"
}

@test "verify: TXCACHE_VERIFY_LOG collects the mismatch lines of every process" {
	cfg=$(vconfig 'verify = 1')
	local log=$BATS_TEST_TMPDIR/verify.log
	vd "$cfg" TXCACHE_VERIFY_LOG="$log" read:"$STATE" sq:1
	echo 4 >"$STATE"
	vd "$cfg" TXCACHE_VERIFY_LOG="$log" read:"$STATE" sq:1
	[[ $(wc -l <"$log") -eq 1 ]] || fail_with "expected one line in $log: $(cat "$log")"
	grep -q "verify: vf_read .*mismatch: ret" "$log" || fail_with "log: $(cat "$log")"
}
