#!/usr/bin/env bats
# The harness itself: if these fail, nothing else in the suite means anything.

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

teardown() {
	# A test's private instance, stopped even when the test failed.
	if [[ -n ${OTHER:-} ]]; then
		mc_stop "$OTHER"
		rm -rf "$OTHER"
	fi
}

@test "paths are absolute and under BUILD" {
	[[ $BUILD == /* ]]
	assert_equal "$TXCACHE" "$BUILD/txcache"
	assert_equal "$SHIM" "$BUILD/libtxcache.so"
	assert_equal "$FIXTURES" "$BUILD/fixtures"
	assert_file_exists "$TXC_ROOT/tests/lib/memcached.sh"
}

@test "LD_PRELOAD is not exported to the tests" {
	run printenv LD_PRELOAD
	assert_failure
	assert_output ""
}

@test "the file's memcached answers on a short unix socket" {
	assert_equal "$MC_SERVER" "$MC_SOCK"
	assert_equal "$MC_SOCK" "$TXC_MC_DIR/mc.sock"
	((${#MC_SOCK} < 108))
	[[ -S $MC_SOCK ]]
	run memcstat --servers="$MC_SOCK"
	assert_success
	assert_line --regexp "^[[:space:]]*pid: $MC_PID\$"
}

@test "the file's memcached stores and returns a value" {
	local src=$BATS_TEST_TMPDIR/harness_key
	echo "hello" >"$src"
	run memccp --servers="$MC_SOCK" "$src"
	assert_success
	run memccat --servers="$MC_SOCK" harness_key
	assert_success
	assert_output "hello"
	txc_mc_flush
	run memccat --servers="$MC_SOCK" harness_key
	assert_failure
}

@test "a second instance gets its own socket; mc_stop kills only its pid" {
	local first_pid=$MC_PID first_sock=$MC_SOCK
	OTHER=$(mc_tmpdir)
	mc_start "$OTHER"
	# (Each test runs in a subshell: the next test sees the file's MC_*.)
	local pid=$MC_PID sock=$MC_SOCK

	[[ $sock != "$first_sock" ]]
	[[ $pid != "$first_pid" ]]
	run memcstat --servers="$sock"
	assert_line --regexp "^[[:space:]]*pid: $pid\$"

	mc_stop "$OTHER"
	run mc_running "$pid"
	assert_failure
	assert_not_exist "$sock"
	assert_not_exist "$OTHER/mc.pid"
	run mc_ping "$sock"
	assert_failure
	# The file's instance is untouched.
	mc_running "$first_pid"
	mc_ping "$first_sock"
}

@test "mc_start refuses a directory whose memcached is running" {
	run mc_start "$TXC_MC_DIR"
	assert_failure
	assert_output --partial "already has a running memcached"
	mc_ping "$MC_SOCK"
}

@test "mc_start_tcp picks a free port on 127.0.0.1" {
	OTHER=$(mc_tmpdir)
	mc_start_tcp "$OTHER"
	[[ $MC_PORT =~ ^[0-9]+$ ]]
	assert_equal "$MC_SERVER" "127.0.0.1:$MC_PORT"
	mc_ping "127.0.0.1:$MC_PORT"
	local pid=$MC_PID
	mc_stop "$OTHER"
	run mc_running "$pid"
	assert_failure
	run mc_ping "127.0.0.1:$MC_PORT"
	assert_failure
}

@test "txc_config writes stdin to a file and prints its path" {
	local cfg
	cfg=$(txc_config sample <<-EOF
		[cache]
		servers = $MC_SOCK
	EOF
	)
	assert_equal "$cfg" "$BATS_TEST_TMPDIR/sample.ini"
	assert_file_exists "$cfg"
	run cat "$cfg"
	assert_line --index 0 "[cache]"
	assert_line --index 1 "servers = $MC_SOCK"
}

@test "txc_preload puts the ASan runtime first only under TXCACHE_ASAN=1" {
	TXCACHE_ASAN= run txc_preload
	assert_output "$SHIM"
	TXCACHE_ASAN=1 TXC_LIBASAN=/x/libasan.so run txc_preload
	assert_output "/x/libasan.so $SHIM"
}

@test "run_shim passes LD_PRELOAD and TXCACHE_CONFIG to one command only" {
	# A stand-in shim: the loader ignores it with a warning on stderr.
	SHIM=$BATS_TEST_TMPDIR/none.so
	run_shim --separate-stderr /some/config.ini \
		sh -c 'printf "%s|%s\n" "$LD_PRELOAD" "$TXCACHE_CONFIG"'
	assert_success
	assert_output "$(txc_preload)|/some/config.ini"
	run printenv LD_PRELOAD
	assert_failure
}
