#!/usr/bin/env bats
# Sanitizers in `make check`: the libFuzzer targets (replay of every
# regression input, then a few seconds each) and valgrind memcheck on the
# slowdb example and a fixture under the shim, with zero errors.
# (`make asan` runs the whole suite with ASan and UBSan.)

load helpers
load rel_helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

# vg CMD...: CMD under valgrind memcheck (children too: env execs the
# program), exit 99 on any error. Leaks are not errors: host programs
# exit without freeing, and the shim keeps its config for late closures.
vg() {
	run --separate-stderr valgrind -q --error-exitcode=99 --trace-children=yes \
		--suppressions="$TXC_ROOT/tests/valgrind.supp" \
		--errors-for-leak-kinds=none --leak-check=no "$@"
}

@test "fuzz: regression inputs replay clean, and a short run of each target" {
	[[ ${TXCACHE_ASAN:-} == 1 ]] && skip "runs in make check"
	command -v clang >/dev/null || skip "clang is not installed"
	[[ -f $(clang -print-file-name=libclang_rt.fuzzer-x86_64.a) ]] ||
		skip "libFuzzer (libclang-rt-14-dev) is not installed"
	run make --no-print-directory -C "$TXC_ROOT" BUILD="$BUILD" fuzz-check
	echo "$output" | grep '^fuzz_' >&3 || true
	assert_success
	assert_output --partial "fuzz_config: replayed"
	assert_output --partial "fuzz_sig: replayed"
	assert_output --partial "fuzz_codec: replayed"
}

@test "valgrind: slowdb under the shim (miss, hit, set, get), zero errors" {
	[[ ${TXCACHE_ASAN:-} == 1 ]] && skip "valgrind cannot run ASan binaries"
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	make --no-print-directory -C "$TXC_ROOT/examples/slowdb" BUILD="$BUILD" >/dev/null
	slowdb=$BUILD/examples/slowdb
	export SLOWDB_FILE=$BATS_TEST_TMPDIR/users SLOWDB_DELAY_MS=0
	printf 'alice alice@example.org\nbob bob@example.org\n' >"$SLOWDB_FILE"
	sed "s|^servers .*|servers = $MC_SOCK|; s|^namespace .*|namespace = vg$$|" \
		"$TXC_ROOT/config/slowdb.ini" >"$BATS_TEST_TMPDIR/slowdb.ini"
	cfg=$BATS_TEST_TMPDIR/slowdb.ini
	for i in 1 2; do
		TXCACHE_LOG=info vg env LD_PRELOAD="$SHIM" TXCACHE_CONFIG="$cfg" "$slowdb" get alice bob
		assert_success
		assert_output "alice: alice@example.org
bob: bob@example.org"
	done
	[[ $stderr == *"hit db_get"* ]]
	vg env LD_PRELOAD="$SHIM" TXCACHE_CONFIG="$cfg" "$slowdb" set alice new@example.org
	assert_success
	vg env LD_PRELOAD="$SHIM" TXCACHE_CONFIG="$cfg" "$slowdb" get alice
	assert_success
	assert_output "alice: new@example.org"
}

@test "valgrind: the fixture with threads and an authenticated cache, zero errors" {
	[[ ${TXCACHE_ASAN:-} == 1 ]] && skip "valgrind cannot run ASan binaries"
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	secret=$BATS_TEST_TMPDIR/secret
	head -c 32 /dev/urandom >"$secret"
	chmod 600 "$secret"
	cfg=$(REL_NS=vg$$ rel_config vg "$MC_SOCK" "secret_file = $secret")
	for args in "loop 300 30" "loop 300 30" "threads 4 300 50"; do
		expected=$("$REL" $args 2>/dev/null)
		# shellcheck disable=SC2086
		vg env LD_PRELOAD="$SHIM" TXCACHE_CONFIG="$cfg" "$REL" $args
		assert_success
		assert_output "$expected"
	done
}
