#!/usr/bin/env bats
# Real Debian programs we did not write, each reaching a configured function
# a way other than a direct call from the program (mkpasswd, 40_programs):
#   python3 ctypes: dlopen("libcrypt.so.1") then dlsym(handle, "crypt")
#   perl POSIX:     perl dlopen()s POSIX.so, whose own PLT calls tgamma (libm)
# Output must be byte-identical with and without the shim; reruns are hits.

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
}

# real_roundtrip CFG FN CMD...: plain, miss, hit; same stdout each time.
real_roundtrip() {
	local cfg=$1 fn=$2
	shift 2
	kinds_exec "$@"
	expect_status 0 || return 1
	kinds_keep_ref
	kinds_exec_shim "$cfg" "$@"
	assert_same_as_plain || return 1
	assert_log miss "$fn" || return 1
	assert_log hit "$fn" absent || return 1
	kinds_exec_shim "$cfg" "$@"
	assert_same_as_plain || return 1
	assert_log hit "$fn" || return 1
	assert_log miss "$fn" absent || return 1
}

@test "python3 ctypes: crypt fetched with dlsym is served from the cache" {
	[[ -x /usr/bin/python3 ]] || skip "python3 is not installed"
	local cfg py
	cfg=$(kinds_config crypt <<'EOF2'
[function crypt]
signature = string crypt(string phrase, string setting)
cache_if = ret != NULL
EOF2
	)
	py='import ctypes, sys
c = ctypes.CDLL("libcrypt.so.1")
c.crypt.restype = ctypes.c_char_p
c.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
for pw in sys.argv[1:]:
    print(c.crypt(pw.encode(), b"$6$rounds=5000$saltsalt$").decode())'
	real_roundtrip "$cfg" crypt /usr/bin/python3 -c "$py" secret other
	[[ ${lines[0]:-$output} == '$6$rounds=5000$saltsalt$'* ]] || kinds_fail "not a crypt hash"
}

@test "perl POSIX: tgamma called from a dlopen()ed XS module is served from the cache" {
	perl -MPOSIX -e 1 2>/dev/null || skip "perl's POSIX module is not available"
	local cfg
	cfg=$(kinds_config tgamma <<'EOF2'
[function tgamma]
signature = double tgamma(double x)
EOF2
	)
	real_roundtrip "$cfg" tgamma perl -MPOSIX -e 'printf "%.17g\n", POSIX::tgamma($_) for @ARGV' 4.5 7.25
	expect_out "11.63172839656745
1155.3810139199895" || return
}

@test "perl POSIX: txcache check says tgamma is not imported at start" {
	# POSIX.so is dlopen()ed at run time: check cannot see it, the shim can
	local cfg
	cfg=$(kinds_config tgamma <<'EOF2'
[function tgamma]
signature = double tgamma(double x)
EOF2
	)
	run_txcache check -c "$cfg" perl
	assert_failure 1
	assert_line --partial "tgamma@GLIBC_2.2.5: not seen at start: defined in"
	assert_line --partial "may be imported by a library loaded later (dlopen)"
}
