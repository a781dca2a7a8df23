#!/usr/bin/env bats
# The binding-mode matrix: the same program and plugin (tests/fixtures/bind.mk)
# built lazy and BIND_NOW, PIE and non-PIE, with -fno-plt, and with partial,
# full and no RELRO. Every mode runs the same checks (bind_mode_suite); bats
# 1.8 cannot generate @test blocks, so each mode is one line below. Lazily
# bound modes must reach the definition the loader would bind (scope.h):
# a wrapper preloaded before the shim, a program exporting its own bind_slow
# (-rdynamic), a plugin opened RTLD_DEEPBIND; BIND_NOW modes, where the
# loader binds everything itself, must give the same answers.

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
}

# Every way of reaching bind_slow, then strlen (an IFUNC in libc) cached
# from the same program, and a config pinning another library: untouched.
bind_mode_suite() {
	local prog=$FIXTURES/bind_$1 cfg
	[[ -x $prog ]] || { kinds_fail "missing $prog"; return 1; }
	cfg=$(bind_config </dev/null)
	bind_roundtrip "$cfg" "$prog" plt 1 ptr 2 dlsym 3 dlhandle 4 plugin 5 threads 6 || return 1
	bind_scope_suite "$1" || return 1

	cfg=$(kinds_config strlen <<'EOF2'
[function strlen]
signature = size_t strlen(string s)
EOF2
	)
	kinds_exec "$prog" strlen hello strlen world
	expect_status 0 || return 1
	kinds_keep_ref
	kinds_exec_shim "$cfg" "$prog" strlen hello strlen world
	assert_same_as_plain || return 1
	expect_log_count miss strlen 2 || return 1
	kinds_exec_shim "$cfg" "$prog" strlen hello strlen world
	assert_same_as_plain || return 1
	expect_log_count hit strlen 2 || return 1

	cfg=$(kinds_config other <<'EOF2'
[function bind_slow]
signature = long bind_slow(long x)
library = libother
EOF2
	)
	kinds_exec "$prog" plt 1 dlsym 3 plugin 5
	expect_status 0 || return 1
	kinds_keep_ref
	: >"$KINDS_CALLS"
	kinds_exec_shim "$cfg" "$prog" plt 1 dlsym 3 plugin 5
	assert_same_as_plain || return 1
	assert_calls 3 "library = libother: nothing intercepted" || return 1
	expect_log_count miss bind_slow 0 || return 1
}

# bind_scope_suite MODE: each case in a namespace of its own, as each binds
# bind_slow to another definition (so other keys).
bind_scope_suite() {
	local prog=$FIXTURES/bind_$1 rdyn=$FIXTURES/bind_rdyn_$1 wrap=$FIXTURES/libbindwrap.so
	local ns=$KINDS_NS cfg
	KINDS_NS=${ns}r
	cfg=$(bind_config </dev/null)
	# main's bind_slow (x*x+507) for the plugins; libbindt's for DEEPBIND.
	# The ASan runtime refuses RTLD_DEEPBIND (google/sanitizers#611):
	# under make asan the DEEPBIND step is left out.
	local deep=(deep 6)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || deep=()
	preload_roundtrip "$cfg" SHIM "$rdyn" dlsym 3 plugin 5 "${deep[@]}" threads 7 || return 1
	if [[ ${TXCACHE_ASAN:-} != 1 ]]; then # the ASan runtime must come first
		KINDS_NS=${ns}w1
		cfg=$(bind_config </dev/null)
		# the wrapper (+1000) everywhere but in the DEEPBIND plugin
		preload_roundtrip "$cfg" "$wrap SHIM" "$prog" plt 1 dlsym 3 plugin 5 deep 6 || return 1
		KINDS_NS=${ns}w2
		cfg=$(bind_config </dev/null)
		preload_roundtrip "$cfg" "SHIM $wrap" "$prog" plt 1 dlsym 3 plugin 5 deep 6 || return 1
	fi
	KINDS_NS=$ns
}

@test "lazy, PIE, partial RELRO" { bind_mode_suite lazy_pie_partial; }
@test "lazy, PIE, no RELRO" { bind_mode_suite lazy_pie_norelro; }
@test "BIND_NOW, PIE, full RELRO" { bind_mode_suite now_pie_full; }
@test "lazy, non-PIE, no RELRO" { bind_mode_suite lazy_nopie_norelro; }
@test "BIND_NOW, non-PIE, full RELRO" { bind_mode_suite now_nopie_full; }
@test "-fno-plt, PIE, BIND_NOW, full RELRO" { bind_mode_suite noplt_pie_full; }
@test "-fno-plt, non-PIE, lazy, partial RELRO" { bind_mode_suite noplt_nopie_partial; }
