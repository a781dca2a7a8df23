#!/usr/bin/env bats
# Which definition a lazily bound slot reaches (shim/scope.h). The loader
# binds a lazy PLT slot on its first call by searching the calling module's
# own scope; the shim patches the slot before that call, so it must find the
# same definition itself (before, it asked dlsym(RTLD_NEXT) from its own
# place and got libscopedef's scope_f everywhere). Fixtures:
# tests/fixtures/scope.mk. Each case: the uncached answer, then misses that
# make the same real calls of the same definitions, then hits; and the same
# under LD_BIND_NOW=1, where the loader binds everything itself.

load helpers
load kinds_helpers
load interpose_helpers

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	bind_setup
	export BIND_FN=scope_f
	PROG=$FIXTURES/scope_main
}

scope_config() {
	kinds_config scope <<'EOF2'
[function scope_f]
signature = long scope_f(long x)
EOF2
}

# scope_case OP EXPECTED-LINE: lazy, then BIND_NOW, each in its namespace.
scope_case() {
	local op=$1 want=$2 ns=$KINDS_NS
	kinds_exec "$PROG" "$op" 1
	expect_out "$want" || return 1
	: >"$KINDS_CALLS"
	KINDS_NS=${ns}l
	preload_roundtrip "$(scope_config)" SHIM "$PROG" "$op" 1 || return 1
	KINDS_NS=${ns}n
	preload_roundtrip "$(scope_config)" SHIM env LD_BIND_NOW=1 "$PROG" "$op" 1 || return 1
	KINDS_NS=$ns
}

@test "-rdynamic: a start-up library's lazy slot binds to the program's own scope_f" {
	scope_case g "g 1 = 2"
}

@test "RTLD_DEEPBIND plugin: its lazy slot binds within its own scope (libscopedef2) first" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime refuses RTLD_DEEPBIND (google/sanitizers#611)"
	scope_case deep "deep 1 = 2001"
}

@test "RTLD_LOCAL plugin: the global scope (the program's scope_f) comes first" {
	scope_case local "local 1 = 2"
}

@test "RTLD_GLOBAL plugin: the same, and it joins the global scope" {
	scope_case global "global 1 = 2"
}

@test "all four in one process: three definitions, each cached under its own key" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime refuses RTLD_DEEPBIND (google/sanitizers#611)"
	kinds_exec "$PROG" g 1 deep 2 local 3 global 4 deep 5
	expect_status 0 || return 1
	: >"$KINDS_CALLS"
	preload_roundtrip "$(scope_config)" SHIM "$PROG" g 1 deep 2 local 3 global 4 deep 5
}

@test "dlmopen: another namespace is never patched; its calls run uncached, same answers" {
	local cfg
	cfg=$(scope_config)
	kinds_exec "$PROG" ns 1 nsdlsym 2
	expect_status 0 || return 1
	kinds_keep_ref
	: >"$KINDS_CALLS"
	kinds_exec_shim "$cfg" "$PROG" ns 1 nsdlsym 2
	assert_same_as_plain || return 1
	assert_calls 2 "first run" || return 1
	kinds_exec_shim "$cfg" "$PROG" ns 1 nsdlsym 2
	assert_same_as_plain || return 1
	assert_calls 4 "second run: nothing was cached, every call real" || return 1
	expect_log_count hit scope_f 0 || return 1
	kinds_exec "$TXCACHE" check -c "$cfg" "$PROG"
	expect_status 0 || return 1
	expect_out --partial "scope_main calls dlmopen: modules in other namespaces are never patched" ||
		return 1
}

# Issue 12, point 6: a pass must never patch a plugin that another thread's
# dlopen has mapped but not relocated yet (relocation would overwrite the
# patch), nor leave a plugin for a pass that ends before the plugin's own
# dlopen returns. scope_race: four threads open sixteen plugins (lazy and
# BIND_NOW, each with 2000 symbolic relocations: a long relocation) while a
# fifth loads and unloads another in a loop. Every plugin's call must be a
# miss in one run and a hit in the next, ten times over. Passes that do not
# pin their modules (interpose.c pin_all) fail it: a crash or uncached calls.
@test "passes racing dlopen in other threads: every plugin's call is cached (10 rounds)" {
	local race=$FIXTURES/scope_race ns=$KINDS_NS cfg round
	export BIND_FN=bind_slow
	kinds_exec "$race"
	expect_status 0 || return 1
	kinds_keep_ref
	for round in 1 2 3 4 5 6 7 8 9 10; do
		KINDS_NS=${ns}r$round
		cfg=$(bind_config </dev/null)
		: >"$KINDS_CALLS"
		kinds_exec_shim "$cfg" "$race"
		assert_same_as_plain || return 1
		assert_calls 16 "round $round, first run: sixteen misses" || return 1
		kinds_exec_shim "$cfg" "$race"
		assert_same_as_plain || return 1
		assert_calls 16 "round $round, second run: every plugin's call a hit" || return 1
		expect_log_count hit bind_slow 16 || return 1
	done
}
