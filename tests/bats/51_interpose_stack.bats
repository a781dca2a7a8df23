#!/usr/bin/env bats
# Stacked preloads (a RTLD_NEXT wrapper of our own, and libfaketime) in
# both LD_PRELOAD orders, symbol versions, and configured functions the shim
# itself uses (strlen, memcpy, malloc).

load helpers
load kinds_helpers
load interpose_helpers

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
PROG_NAME=bind_now_pie_full

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	bind_setup
	PROG=$FIXTURES/$PROG_NAME
	WRAP=$FIXTURES/libbindwrap.so
}

# run_preloaded CFG PRELOAD CMD...: like kinds_exec_shim with LD_PRELOAD set
# to PRELOAD exactly (the test puts the shim where it wants it).
run_preloaded() {
	local errf=$BATS_TEST_TMPDIR/.stderr cfg=$1 pre=$2
	shift 2
	KINDS_LAST="(LD_PRELOAD=$pre, $cfg) $*"
	status=0
	local before
	before=$(calls_count)
	output=$(LD_PRELOAD=$pre TXCACHE_CONFIG=$cfg "$@" 2>"$errf") || status=$?
	stderr=$(<"$errf")
	kinds_unlog_verified "$errf" "$before"
}

# stacked_roundtrip CFG FIRST SECOND: plain run with only the wrapper, then
# twice with both preloaded in the order given.
stacked_roundtrip() {
	local cfg=$1 first=$2 second=$3
	kinds_exec env LD_PRELOAD="$WRAP" "$PROG" plt 1 dlsym 2 plugin 3
	expect_status 0 || return 1
	expect_out --partial "plt 1 = 1008" || return 1
	kinds_keep_ref
	: >"$KINDS_CALLS"
	run_preloaded "$cfg" "$first $second" "$PROG" plt 1 dlsym 2 plugin 3
	assert_same_as_plain || return 1
	assert_calls 3 || return 1
	expect_log_count miss bind_slow 3 || return 1
	run_preloaded "$cfg" "$first $second" "$PROG" plt 1 dlsym 2 plugin 3
	assert_same_as_plain || return 1
	assert_calls 3 "second run: no new real call" || return 1
	expect_log_count hit bind_slow 3 || return 1
}

@test "RTLD_NEXT wrapper after the shim: its lookup still starts after it" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime must come first"
	stacked_roundtrip "$(bind_config </dev/null)" "$SHIM" "$WRAP"
}

@test "RTLD_NEXT wrapper before the shim" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime must come first"
	stacked_roundtrip "$(bind_config </dev/null)" "$WRAP" "$SHIM"
}

@test "RTLD_NEXT of a name that is not configured passes through" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime must come first"
	local cfg
	cfg=$(kinds_config strlen <<'EOF2'
[function strlen]
signature = size_t strlen(string s)
EOF2
	)
	kinds_exec env LD_PRELOAD="$WRAP" "$PROG" plt 1 strlen abc
	expect_status 0
	kinds_keep_ref
	run_preloaded "$cfg" "$SHIM $WRAP" "$PROG" plt 1 strlen abc
	assert_same_as_plain || return
	expect_log_count miss strlen 1
}

# faketime_roundtrip ORDER...: the program's time is faked and bind_slow is
# cached, with libfaketime and the shim preloaded in the order given.
faketime_roundtrip() {
	[[ -r $FAKETIME_LIB ]] || skip "libfaketime is not installed (Debian package faketime)"
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime must come first"
	local cfg
	cfg=$(bind_config </dev/null)
	export TZ=UTC FAKETIME="2001-09-09 01:46:40" FAKETIME_DONT_RESET=1
	kinds_exec "$PROG" time plt 1 dlsym 2
	kinds_exec env LD_PRELOAD="$FAKETIME_LIB" "$PROG" time plt 1 dlsym 2
	expect_status 0 || return 1
	expect_out --partial "time 1000000000" || return 1
	kinds_keep_ref
	: >"$KINDS_CALLS"
	run_preloaded "$cfg" "$*" "$PROG" time plt 1 dlsym 2
	assert_same_as_plain || return 1
	expect_log_count miss bind_slow 2 || return 1
	run_preloaded "$cfg" "$*" "$PROG" time plt 1 dlsym 2
	assert_same_as_plain || return 1
	assert_calls 2 "second run: no new real call" || return 1
	expect_log_count hit bind_slow 2 || return 1
}

@test "libfaketime before the shim: time faked, bind_slow cached" {
	faketime_roundtrip "$FAKETIME_LIB" "$SHIM"
}

@test "libfaketime after the shim: time faked, bind_slow cached" {
	faketime_roundtrip "$SHIM" "$FAKETIME_LIB"
}

# exp_run CFG-VERSION-LINE: exp (GLIBC_2.29) of 1.5 and the old exp of 2.5
exp_check() {
	local line=$1 misses=$2 cfg
	[[ $(uname -m) == x86_64 ]] || skip "the old exp version is x86-64's GLIBC_2.2.5"
	cfg=$(kinds_config "exp$RANDOM" <<EOF2
[function exp]
signature = double exp(double x)
$line
EOF2
	)
	kinds_exec "$PROG" exp 1.5 expold 2.5
	expect_status 0 || return 1
	kinds_keep_ref
	kinds_exec_shim "$cfg" "$PROG" exp 1.5 expold 2.5
	assert_same_as_plain || return 1
	expect_log_count miss exp "$misses" || return 1
	kinds_exec_shim "$cfg" "$PROG" exp 1.5 expold 2.5
	assert_same_as_plain || return 1
	expect_log_count hit exp "$misses" || return 1
}

@test "versions: no pin caches exp@GLIBC_2.29 and the old exp" {
	exp_check "" 2
}

@test "versions: version = GLIBC_2.29 caches only the new exp" {
	exp_check "version = GLIBC_2.29" 1
	[[ $stderr == *"hit exp $KINDS_NS:exp:"* ]] || kinds_fail "no hit"
}

@test "versions: version = GLIBC_2.2.5 caches only the old exp" {
	exp_check "version = GLIBC_2.2.5" 1
}

@test "versions: library = libm.so.6 matches, library = libc does not" {
	exp_check "library = libm.so.6" 2
	exp_check "library = libc" 0
}

# A returned pointer cannot be cached: memcpy and malloc are declared to
# return its bits as uint64_t, and cache_if keeps every result out.
@test "strlen, memcpy and malloc configured: no recursion, no deadlock" {
	local cfg
	cfg=$(kinds_config mem <<'EOF2'
[function strlen]
signature = size_t strlen(string s)

[function memcpy]
signature = uint64_t memcpy(ptr dst, bytes[n] src, size_t n)
cache_if = ret == 0

[function malloc]
signature = uint64_t malloc(size_t n)
cache_if = ret == 0
EOF2
	)
	kinds_exec "$PROG" mem hello strlen hello plt 1 plugin 2
	kinds_keep_ref
	kinds_exec_shim "$cfg" timeout 60 "$PROG" mem hello strlen hello plt 1 plugin 2
	assert_same_as_plain || return
	expect_log_count miss strlen 1 || return
	[[ $stderr == *"miss malloc "*"not stored: cache_if"* ]] || kinds_fail "malloc not seen"
	[[ $stderr == *"miss memcpy "*"not stored: cache_if"* ]] || kinds_fail "memcpy not seen"
	kinds_exec_shim "$cfg" timeout 60 "$PROG" mem hello strlen hello
	expect_status 0 || return
	# "mem hello" takes strlen("hello") too: two hits on one key
	expect_log_count hit strlen 2
}
