#!/usr/bin/env bats
# A real program we did not write: Debian's mkpasswd (package whois) calls
# crypt() from libcrypt.so.1 (crypt@XCRYPT_2.0) through its GOT.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	MKPASSWD=$(command -v mkpasswd) || skip "mkpasswd is not installed (Debian package whois)"
	kinds_setup
	cfg=$(kinds_config crypt <<'EOF'
[function crypt]
signature = string crypt(string phrase, string setting)
cache_if = ret != NULL
EOF
	)
}

# mk ARG...: mkpasswd -m sha-512 -R 5000 -S saltsalt ARG...
mk() {
	kinds_exec "$MKPASSWD" -m sha-512 -R 5000 -S saltsalt "$@"
}

mk_shim() {
	kinds_exec_shim "$cfg" "$MKPASSWD" -m sha-512 -R 5000 -S saltsalt "$@"
}

@test "mkpasswd: same output with the shim, second run is a hit" {
	mk secret
	expect_status 0
	[[ $output == '$6$rounds=5000$saltsalt$'* ]] || kinds_fail "unexpected mkpasswd output"
	kinds_keep_ref

	mk_shim secret
	assert_same_as_plain
	assert_log miss crypt
	assert_log hit crypt absent

	mk_shim secret
	assert_same_as_plain
	assert_log hit crypt
	assert_log miss crypt absent
	has_stats='^txcache: stats crypt: hits=1 misses=0( |$)'
	grep -Eq "$has_stats" <<<"$stderr" || kinds_fail "no stderr line matching /$has_stats/"
}

@test "mkpasswd: a different password is a different key" {
	mk secret
	kinds_keep_ref
	mk_shim secret
	assert_same_as_plain
	assert_log miss crypt

	mk other
	expect_status 0
	[[ $output != "$REF_OUT" ]] || kinds_fail "two passwords, one hash?"
	kinds_keep_ref
	mk_shim other
	assert_same_as_plain
	assert_log miss crypt
	assert_log hit crypt absent
	mk_shim other
	assert_same_as_plain
	assert_log hit crypt
}

@test "mkpasswd: a different salt is a different key" {
	mk_shim secret
	assert_log miss crypt
	kinds_exec "$MKPASSWD" -m sha-512 -R 5000 -S othersalt secret
	kinds_keep_ref
	kinds_exec_shim "$cfg" "$MKPASSWD" -m sha-512 -R 5000 -S othersalt secret
	assert_same_as_plain
	assert_log miss crypt
	assert_log hit crypt absent
}
