#!/usr/bin/env bats
# The host program keeps working: 16 threads, fork with parent and children
# calling at once, exec/vfork/posix_spawn, a signal handler calling a cached
# function while the thread is inside the shim, setuid programs (AT_SECURE:
# the shim stays inert), and configs that are bad, missing or odd.

load helpers
load rel_helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_LOG
	export REL_TIMEOUT_MS=2000 # exact hit counts: no spurious timeout
	txc_mc_flush
	CFG=$(rel_config host "$MC_SOCK")
	SUID_DIR= TCP_DIR=
}

teardown() {
	[[ -n $SUID_DIR ]] && rm -rf "$SUID_DIR"
	if [[ -n $TCP_DIR ]]; then
		mc_stop "$TCP_DIR"
		rm -rf "$TCP_DIR"
	fi
}

@test "16 threads, random arguments, every result checked" {
	export TXCACHE_VERIFY=0 # counts real calls at log = warn; under verify each hit makes one too
	rel_expect threads 16 2000 500
	rel_run "$CFG" threads 16 2000 500
	assert_success
	assert_output "$expected"
	assert_output --partial "bad=0"
	((500 <= $(rel_real) && $(rel_real) < 32000)) # hits happened
}

@test "fork after the shim connected: parent and 4 children call at once" {
	export TXCACHE_VERIFY=0 # counts real calls at log = warn; under verify each hit makes one too
	rel_expect fork 4 1000 200
	rel_run "$CFG" fork 4 1000 200
	assert_success
	assert_output "$expected"
	assert_output --partial "failed=0 bad=0"
	# what parent and children computed was stored
	rel_run "$CFG" loop 200 200
	(($(rel_real) == 0))
}

@test "exec, vfork and posix_spawn keep working under the shim" {
	for how in exec vfork spawn; do
		rel_expect "$how" 300 30
		rel_run "$CFG" "$how" 300 30
		assert_success
		assert_output "$expected"
	done
}

@test "signals: a handler calling the cached function during cached calls" {
	rel_expect signal 20000 64
	rel_run "$CFG" signal 20000 64
	assert_success
	assert_output "$expected"
	handled=$(sed -n 's/^rel: handled=//p' <<<"$stderr")
	echo "handled $handled signals" >&3
	((handled > 0))
}

@test "setuid program (AT_SECURE): the shim stays inert" {
	[[ ${TXCACHE_ASAN:-} == 1 ]] && skip "rel_linked links the shim without the ASan runtime"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	TCP_DIR=$(mc_tmpdir)
	mc_start_tcp "$TCP_DIR"
	# nobody must reach everything it runs and loads: not under the bats
	# temp dir (0700), nor under the checkout, which may be private too (a
	# clone in /root). So the program is linked anew against copies of its
	# libraries in a world-readable temporary directory, with that directory
	# as its absolute run path: a setuid program ignores LD_LIBRARY_PATH and
	# $ORIGIN.
	SUID_DIR=$(mktemp -d /tmp/txc-suid.XXXXXX)
	chmod 755 "$SUID_DIR"
	[[ ,$(findmnt -n -o OPTIONS --target "$SUID_DIR"), != *,nosuid,* ]] ||
		skip "/tmp is mounted nosuid: no setuid program can run from it"
	cp -L "$FIXTURES/librel.so" "$FIXTURES/libtxcache.so.0" "$SUID_DIR/"
	chmod 755 "$SUID_DIR/librel.so" "$SUID_DIR/libtxcache.so.0"
	run ${CC:-cc} -O1 -pthread -I"$TXC_ROOT/tests/fixtures" -o "$SUID_DIR/plain" \
		"$TXC_ROOT/tests/fixtures/rel_driver.c" -L"$SUID_DIR" -Wl,-rpath,"$SUID_DIR" -lrel \
		-Wl,--no-as-needed "$SUID_DIR/libtxcache.so.0" -Wl,--as-needed
	assert_success
	cp "$SUID_DIR/plain" "$SUID_DIR/suid"
	chown root:root "$SUID_DIR/suid"
	chmod 4755 "$SUID_DIR/suid"
	REL_NS=suid rel_config suid "$MC_SERVER" >/dev/null
	cp "$BATS_TEST_TMPDIR/suid.ini" "$SUID_DIR/suid.ini"
	chmod 644 "$SUID_DIR/suid.ini"
	as_nobody() {
		run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
			env TXCACHE_CONFIG="$SUID_DIR/suid.ini" TXCACHE_LOG=debug "$@"
	}
	expected=$("$FIXTURES/rel_driver" loop 100 10 2>/dev/null)
	# control: the same program without the setuid bit is cached
	as_nobody "$SUID_DIR/plain" loop 100 10
	assert_success
	assert_output "$expected"
	[[ $stderr == *"txcache: "* ]]
	(($(rel_real) == 10))
	items=$(memcstat --servers="$MC_SERVER" | sed -n 's/^[[:space:]]*curr_items: //p')
	((items > 0))
	# setuid: nothing logged, nothing cached, nothing looked up
	gets=$(memcstat --servers="$MC_SERVER" | sed -n 's/^[[:space:]]*cmd_get: //p')
	as_nobody "$SUID_DIR/suid" loop 100 10
	assert_success
	assert_output "$expected"
	[[ $stderr == "rel: real=100" ]]
	(($(memcstat --servers="$MC_SERVER" | sed -n 's/^[[:space:]]*cmd_get: //p') == gets))
}

# one_line: the last run printed exactly one txcache: line, plus the driver's.
one_line() {
	(($(grep -c '^txcache:' <<<"$stderr") == 1)) || {
		echo "$stderr" >&2
		false
	}
}

@test "config: unknown key warns once, caching still works" {
	export TXCACHE_VERIFY=0 # counts real calls at log = warn; under verify each hit makes one too
	cfg=$(rel_config unknown "$MC_SOCK" "colour = blue")
	rel_expect loop 100 10
	rel_run "$cfg" loop 100 10
	assert_success
	assert_output "$expected"
	one_line
	[[ $stderr == *"unknown.ini:"*"colour"* ]]
	(($(rel_real) == 10))
}

@test "config: a host name that does not resolve: one line, program unchanged" {
	# glibc's getaddrinfo_a runs the lookup on a thread libc starts
	# itself, which ThreadSanitizer's runtime never sees: it crashes there
	[[ ${TXCACHE_TSAN:-} != 1 ]] || skip "getaddrinfo_a's own thread is unknown to ThreadSanitizer"
	cfg=$(rel_config nohost "no-such-host.invalid:11211")
	rel_expect loop 100 10
	rel_run "$cfg" loop 100 10
	assert_success
	assert_output "$expected"
	one_line
	(($(rel_real) == 100))
}

@test "config: empty, binary, a directory, unset: one line each, program unchanged" {
	rel_expect loop 50 5
	: >"$BATS_TEST_TMPDIR/empty.ini"
	head -c 3000 /dev/urandom >"$BATS_TEST_TMPDIR/binary.ini"
	for cfg in "$BATS_TEST_TMPDIR/empty.ini" "$BATS_TEST_TMPDIR/binary.ini" "$BATS_TEST_TMPDIR"; do
		rel_run "$cfg" loop 50 5
		assert_success
		assert_output "$expected"
		(($(rel_real) == 50))
		(($(grep -c '^txcache:' <<<"$stderr") >= 1))
	done
	# TXCACHE_CONFIG unset: /etc/txcache.ini (absent here) at most one line
	[[ -e /etc/txcache.ini ]] && skip "/etc/txcache.ini exists"
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" "$REL" loop 50 5
	assert_success
	assert_output "$expected"
	(($(grep -c '^txcache:' <<<"$stderr") <= 1))
}
