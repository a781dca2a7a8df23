#!/usr/bin/env bats
# min_cost_us against a real program (issue 13, point 5): Debian's python3
# calls EVP_PBE_scrypt (libcrypto.so.3, reached through the _hashlib module
# it dlopens) twice per hashlib.scrypt(): once with NULL buffers, to check
# its parameters (~0.1 ms), then for the key (tens of ms). The first is not
# worth a round trip on every later run; the second is.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	PY=/usr/bin/python3
	[[ -x $PY ]] || skip "Debian's python3 is not installed"
	"$PY" -c 'import _hashlib' 2>/dev/null || skip "python3 has no _hashlib"
	kinds_setup
}

scrypt_config() {
	kinds_config "$1" "${@:2}" <<'EOF'
[function EVP_PBE_scrypt]
signature = int EVP_PBE_scrypt(bytes[passlen] pass, size_t passlen, bytes[saltlen] salt, size_t saltlen, uint64_t N, uint64_t r, uint64_t p, uint64_t maxmem, out bytes[keylen] key, size_t keylen)
cache_if = ret == 1
EOF
}

SCRYPT='import hashlib, sys
print(hashlib.scrypt(sys.argv[1].encode(), salt=b"saltsalt", n=16384, r=8, p=1, dklen=32).hex())'

# keys LEVEL: the keys of the stderr lines "txcache: LEVEL EVP_PBE_scrypt KEY"
keys() {
	sed -n "s/^txcache: $1 EVP_PBE_scrypt \\([^ ]*\\).*/\\1/p" <<<"$stderr" | sort -u
}

@test "python3 hashlib.scrypt: the cheap parameter check is never stored, the derivation is a hit" {
	kinds_exec "$PY" -c "$SCRYPT" secret
	expect_status 0
	[[ $output =~ ^[0-9a-f]{64}$ ]] || kinds_fail "unexpected python3 output"
	kinds_keep_ref

	cfg=$(scrypt_config cost 'min_cost_us = 5000')
	kinds_exec_shim "$cfg" "$PY" -c "$SCRYPT" secret
	assert_same_as_plain
	[[ $stderr == *"1 functions configured"* ]] || kinds_fail "shim not loaded"
	cheap=$(grep -F 'not stored: under min_cost_us = 5000' <<<"$stderr" |
		sed -n 's/^txcache: miss EVP_PBE_scrypt \([^ ]*\).*/\1/p')
	[[ -n $cheap ]] || kinds_fail "the parameter check was stored (or not intercepted)"
	stored=$(grep -E 'bytes stored\)$' <<<"$stderr" | grep -vF 'not stored' |
		sed -n 's/^txcache: miss EVP_PBE_scrypt \([^ ]*\).*/\1/p')
	[[ -n $stored && $stored != "$cheap" ]] || kinds_fail "the derivation was not stored"

	for run in 2 3; do
		kinds_exec_shim "$cfg" "$PY" -c "$SCRYPT" secret
		assert_same_as_plain
		[[ $(keys hit) == "$stored" ]] || kinds_fail "run $run: the derivation is not a hit"
		[[ $(keys miss) == "$cheap" ]] || kinds_fail "run $run: the parameter check is not a real call"
	done
}

@test "python3 hashlib.scrypt: without min_cost_us the parameter check is a hit too (what the bound saves)" {
	kinds_exec "$PY" -c "$SCRYPT" other
	kinds_keep_ref
	cfg=$(scrypt_config nocost)
	kinds_exec_shim "$cfg" "$PY" -c "$SCRYPT" other
	assert_same_as_plain
	[[ $(keys miss | wc -l) -eq 2 ]] || kinds_fail "expected two stored calls"
	kinds_exec_shim "$cfg" "$PY" -c "$SCRYPT" other
	assert_same_as_plain
	[[ $(keys hit | wc -l) -eq 2 ]] || kinds_fail "expected both calls to hit"
	[[ -z $(keys miss) ]] || kinds_fail "a real call on the second run"
}
