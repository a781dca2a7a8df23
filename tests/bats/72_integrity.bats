#!/usr/bin/env bats
# Integrity and authentication: whatever bytes sit under a real key, the
# program's results stay correct. Each bad value is written with a raw
# memcached client under the key the shim itself uses (from its
# "txcache: miss FUNCTION KEY" line at log = info). Under `make asan` the
# same tests run with the ASan-built shim: nothing is read or written past
# a buffer. With secret_file, values written without the secret (well
# formed, correctly checksummed) are never served.

load helpers
load rel_helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	export TXCACHE_LOG=info
	# exact hit counts below: no spurious timeout on a loaded machine
	export REL_TIMEOUT_MS=2000
	export REL_DB=$BATS_TEST_TMPDIR/db
	mkdir -p "$REL_DB"
	txc_mc_flush
	SECRET=$BATS_TEST_TMPDIR/secret
	head -c 32 /dev/urandom >"$SECRET"
	chmod 600 "$SECRET"
	PLAIN=$(rel_config plain "$MC_SOCK")
	AUTH=$(rel_config auth "$MC_SOCK" "secret_file = $SECRET")
}

# key_of X CONFIG: runs rel_work(X) once (a miss) and prints its key.
key_of() {
	rel_run "$2" loop 1 "$(($1 + 1))" >/dev/null
	# loop 1 N calls rel_work(0); X>0 needs the matching call
	sed -n 's/^txcache: miss rel_work \([^ ]*\) .*/\1/p' <<<"$stderr" | head -n 1
}

# served_ok CONFIG: rel_work(0) through the shim is still correct, and the
# value did not verify (counted as corrupt). Each condition returns 1 on its
# own: the callers use `|| return`, under which errexit is off.
served_ok() {
	rel_expect loop 1 1
	rel_run "$1" loop 1 1
	[[ $status -eq 0 ]] || { echo "exit status $status: $stderr" >&2; return 1; }
	[[ $output == "$expected" ]] || { echo "stdout '$output', not '$expected'" >&2; return 1; }
	(($(rel_real) == 1)) || { echo "served from the cache: $stderr" >&2; return 1; }
	[[ $(rel_stat rel_work corrupt) == 1 ]] || { echo "not counted corrupt: $stderr" >&2; return 1; }
}

# tampered CONFIG KEY FILE: stores FILE's bytes under KEY; then served_ok.
tampered() {
	raw_set "$2" "$3" || { echo "raw_set $2 failed" >&2; return 1; }
	served_ok "$1" || { echo "(tampered value: $(od -An -tx1 -N 16 "$3"))" >&2; return 1; }
}

tamper_each() {
	local cfg=$1 key v=$BATS_TEST_TMPDIR/v t=$BATS_TEST_TMPDIR/t len pos
	key=$(key_of 0 "$cfg")
	[[ -n $key ]] || { echo "no key for rel_work(0)" >&2; return 1; }
	raw_get "$key" "$v" || { echo "raw_get $key failed" >&2; return 1; }
	len=$(stat -c %s "$v")
	# random bytes
	head -c 120 /dev/urandom >"$t"
	tampered "$cfg" "$key" "$t" || return 1
	# truncated, at several lengths (header cut, payload cut, one byte short)
	for n in 0 79 $((len - 1)); do
		head -c "$n" "$v" >"$t"
		tampered "$cfg" "$key" "$t" || return 1
	done
	# oversized: trailing garbage, and a large value
	{ cat "$v"; head -c 1000 /dev/urandom; } >"$t"
	tampered "$cfg" "$key" "$t" || return 1
	{ cat "$v"; head -c 900000 /dev/zero; } >"$t"
	tampered "$cfg" "$key" "$t" || return 1
	# one bit flipped: flags, key digest, length, checksum, the last byte
	for pos in 5 24 64 72 $((len - 1)); do
		python3 -S -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read()); d[int(sys.argv[2])] ^= 4
open(sys.argv[3], "wb").write(d)' "$v" "$pos" "$t"
		tampered "$cfg" "$key" "$t" || return 1
	done
	# the genuine value is still a hit
	raw_set "$key" "$v" || { echo "raw_set $key failed" >&2; return 1; }
	rel_run "$cfg" loop 1 1
	(($(rel_real) == 0)) || { echo "the genuine value was not served: $stderr" >&2; return 1; }
}

@test "checksummed values: random, truncated, oversized, bit-flipped are never served" {
	tamper_each "$PLAIN"
}

@test "authenticated values: random, truncated, oversized, bit-flipped are never served" {
	tamper_each "$AUTH"
}

@test "a value swapped in from another key is never served" {
	for cfg in "$PLAIN" "$AUTH"; do
		txc_mc_flush
		k0=$(key_of 0 "$cfg")
		rel_run "$cfg" loop 2 2 # stores rel_work(1)
		k1=$(sed -n 's/^txcache: miss rel_work \([^ ]*\) .*/\1/p' <<<"$stderr" | tail -n 1)
		[[ -n $k0 && -n $k1 && $k0 != "$k1" ]]
		raw_get "$k1" "$BATS_TEST_TMPDIR/v1"
		raw_set "$k0" "$BATS_TEST_TMPDIR/v1"
		served_ok "$cfg"
	done
}

@test "secret_file: a well-formed value written without the secret is never served" {
	# The writer lacks the secret but can list keys: it copies a value the
	# plain config made (well formed, checksummed) to the sealed key.
	printf good >"$REL_DB/k"
	rel_run "$AUTH" get k
	local skey pkey v=$BATS_TEST_TMPDIR/v
	skey=$(sed -n 's/^txcache: miss rel_get \([^ ]*\).*/\1/p' <<<"$stderr" | head -n 1)
	printf evil >"$REL_DB/k"
	TXCACHE_VERIFY=0 rel_run "$PLAIN" get k
	assert_output "get k 4 evil"
	pkey=$(sed -n 's/^txcache: miss rel_get \([^ ]*\).*/\1/p' <<<"$stderr" | head -n 1)
	[[ -n $skey && -n $pkey && $skey != "$pkey" ]] || fail "keys: sealed '$skey' plain '$pkey'"
	raw_get "$pkey" "$v" || fail "nothing stored under $pkey"
	raw_set "$skey" "$v" || fail "raw_set failed"
	printf good >"$REL_DB/k"
	rel_run "$AUTH" get k
	assert_output "get k 4 good"
	[[ $(rel_stat rel_get corrupt) == 1 ]] || fail "not counted corrupt: $stderr"
	rel_run "$AUTH" get k
	assert_output "get k 4 good"
	[[ $(rel_stat rel_get hits) == 1 ]]
}

@test "secret_file: a forged envelope (plain codec bytes, made-up tag) is never served" {
	# The forger wraps a well-formed codec value in the envelope's layout
	# (auth.h) with any times, a nonce and 16 bytes where the tag goes:
	# only the AEAD check can refuse it.
	printf good >"$REL_DB/k"
	rel_run "$AUTH" get k
	local skey pkey v=$BATS_TEST_TMPDIR/v
	skey=$(sed -n 's/^txcache: miss rel_get \([^ ]*\).*/\1/p' <<<"$stderr" | head -n 1)
	printf evil >"$REL_DB/k"
	TXCACHE_VERIFY=0 rel_run "$PLAIN" get k
	pkey=$(sed -n 's/^txcache: miss rel_get \([^ ]*\).*/\1/p' <<<"$stderr" | head -n 1)
	raw_get "$pkey" "$v" || fail "nothing stored under $pkey"
	python3 -S -c '
import sys, time, os
d = open(sys.argv[1], "rb").read()
t = time.time_ns().to_bytes(8, "little")
open(sys.argv[1], "wb").write(b"TXS1" + t + (0).to_bytes(8, "little") + os.urandom(24) + d + bytes(16))' "$v"
	raw_set "$skey" "$v" || fail "raw_set failed"
	printf good >"$REL_DB/k"
	rel_run "$AUTH" get k
	assert_output "get k 4 good"
	[[ $(rel_stat rel_get corrupt) == 1 ]] || fail "not counted corrupt: $stderr"
}

@test "secret_file with the wrong mode or owner: one line, caching off, program unchanged" {
	unset TXCACHE_LOG
	rel_expect loop 100 10
	chmod 640 "$SECRET"
	rel_run "$AUTH" loop 100 10
	assert_success
	assert_output "$expected"
	(($(rel_real) == 100))
	[[ $stderr == "txcache: secret_file $SECRET: must be mode 0600, not 0640; caching is off"$'\n'"rel: real=100" ]]
	chmod 600 "$SECRET"
	chown 65534 "$SECRET"
	rel_run "$AUTH" loop 100 10
	assert_output "$expected"
	(($(rel_real) == 100))
	(($(grep -c '^txcache:' <<<"$stderr") == 1))
	[[ $stderr == *"must be owned by uid"* ]]
	rm -f "$SECRET"
	rel_run "$AUTH" loop 100 10
	assert_output "$expected"
	(($(grep -c '^txcache:' <<<"$stderr") == 1))
}

@test "max_value: a larger result is not stored, and is counted" {
	cfg=$(rel_config small "$MC_SOCK" "max_value = 2000")
	rel_expect blob 5000
	for i in 1 2; do
		rel_run "$cfg" blob 5000
		assert_success
		assert_output "$expected"
		[[ $(rel_stat rel_blob toobig) == 1 ]]
		[[ $(rel_stat rel_blob stores) == 0 ]]
		[[ $(rel_stat rel_blob hits) == 0 ]]
	done
	rel_expect blob 500
	rel_run "$cfg" blob 500
	rel_run "$cfg" blob 500
	assert_output "$expected"
	[[ $(rel_stat rel_blob hits) == 1 ]]
}
