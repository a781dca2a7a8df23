#!/usr/bin/env bats
# Start-up: what the shim does (and must not do) before the program runs.
# Behaviour only; the cost itself is measured by `make bench`.

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

strlen_cfg() {
	txc_config "$1" <<EOF
[cache]
servers = $MC_SOCK
namespace = startup$1$RANDOM
timeout_ms = 2000

[function strlen]
signature = size_t strlen(string s)
EOF
}

@test "a C program dlopens a C++ plugin: libstdc++ (libmemcached's closure, read from disk only now) is never patched, the plugin's own calls are cached" {
	local cfg
	cfg=$(strlen_cfg dlcxx)
	TXCACHE_LOG=debug run_shim --separate-stderr "$cfg" "$FIXTURES/sudl" "$FIXTURES/libsucxx.so"
	[[ $status -eq 0 && $output == "sudl 51 51 51" ]] || { echo "status $status: $output $stderr"; return 1; }
	[[ $stderr == *"patched strlen in "*libsucxx.so* ]] || { echo "plugin not patched: $stderr"; return 1; }
	[[ $stderr != *"patched strlen in "*libstdc++* && $stderr != *"patched strlen in "*libgcc_s* ]] || {
		echo "a library of libmemcached's closure was patched: $stderr"
		return 1
	}
	# the plugin's 3 calls, not libstdc++'s 3 from runtime_error
	[[ $stderr == *"stats strlen: hits=2 misses=1 "* ]] || { echo "calls counted: $stderr"; return 1; }
}

@test "a program that loads only libc: no library file is opened at start" {
	command -v strace >/dev/null || skip "strace not installed"
	# libasan and libubsan load libstdc++: then reading the closure is right
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtimes load libstdc++"
	local cfg
	cfg=$(strlen_cfg libc)
	run --separate-stderr strace -f -e trace=open,openat -o "$BATS_TEST_TMPDIR/trace" \
		env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" /bin/true
	[[ $status -eq 0 ]] || { echo "status $status: $output $stderr"; return 1; }
	grep -qF "$cfg" "$BATS_TEST_TMPDIR/trace" || {
		echo "the config was not read: $(cat "$BATS_TEST_TMPDIR/trace")"
		return 1
	}
	# libmemcached and what it needs are read only when a library that
	# could be one of them is loaded (or when libmemcached itself is)
	if grep -E 'libmemcached|libstdc\+\+|libsasl2|libcrypto|libhashkit' "$BATS_TEST_TMPDIR/trace"; then
		echo "library files opened at start"
		return 1
	fi
}

@test "x86-64: the shim needs libc alone (no libm: its start-up costs every preloaded program)" {
	[[ $(uname -m) == x86_64 ]] || skip "libm is linked on other targets"
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer build links its runtimes"
	run readelf -d "$SHIM"
	[[ $status -eq 0 ]] || { echo "readelf: $output"; return 1; }
	local needed
	needed=$(grep NEEDED <<<"$output" | sed 's/.*\[\(.*\)\]/\1/' | sort | tr '\n' ' ')
	[[ $needed == "ld-linux-x86-64.so.2 libc.so.6 " ]] || { echo "needed: $needed"; return 1; }
}

@test "a config with no function: nothing is patched, not even at a dlopen; the program runs as without the shim, and the C API still flushes" {
	local cfg
	cfg=$(txc_config nofn <<EOF
[cache]
servers = $MC_SOCK
namespace = startupnofn$RANDOM
timeout_ms = 2000
EOF
)
	TXCACHE_LOG=debug run_shim --separate-stderr "$cfg" "$FIXTURES/sudl" "$FIXTURES/libsucxx.so"
	[[ $status -eq 0 && $output == "sudl 51 51 51" ]] || { echo "status $status: $output $stderr"; return 1; }
	[[ $stderr == *"0 functions configured, 0 call sites redirected"* ]] || { echo "$stderr"; return 1; }
	[[ $stderr != *"patched "* ]] || { echo "a slot was rewritten: $stderr"; return 1; }
	local pre=()
	[[ ${TXCACHE_ASAN:-} != 1 ]] || pre=(LD_PRELOAD="$TXC_LIBASAN")
	run --separate-stderr env "${pre[@]}" TXCACHE_CONFIG="$cfg" "$FIXTURES/api_driver" flush
	[[ $status -eq 0 ]] || { echo "txcache_flush: status $status: $output $stderr"; return 1; }
}
