#!/usr/bin/env bats
# txcache suggest PROGRAM: a config for the catalogue functions PROGRAM
# imports through a GOT slot the shim patches. These tests use a catalogue
# of their own (--catalogue / TXCACHE_CATALOGUE), so they say what suggest
# does whatever the shipped catalogue holds.

load helpers

setup() {
	MKPASSWD=$(command -v mkpasswd) || skip "mkpasswd is not installed (Debian package whois)"
	cat_dir=$BATS_TEST_TMPDIR/cat
	mkdir -p "$cat_dir"
	cat >"$cat_dir/libcrypt.ini" <<'EOF2'
[catalogue]
library = libcrypt.so.1

; crypt: the same passphrase and setting give the same hash
[function crypt]
signature = string crypt(string phrase, string setting)
cache_if = ret != NULL
EOF2
	cat >"$cat_dir/libm.ini" <<'EOF2'
[catalogue]
library = libm.so.6

; pow: pure
[function pow]
signature = double pow(double x, double y)
EOF2
	# a catalogue that claims crc32 for another library than the one
	# python3 takes it from
	cat >"$cat_dir/notzlib.ini" <<'EOF2'
[catalogue]
library = libnotz.so.9

[function crc32]
signature = unsigned long crc32(unsigned long crc, bytes[len] buf, unsigned int len)
EOF2
}

@test "suggest: mkpasswd gets crypt from libcrypt, and nothing it does not import" {
	run_txcache --separate-stderr suggest --catalogue "$cat_dir" "$MKPASSWD"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	grep -qx '\[function crypt\]' <<<"$output" || { echo "$output"; return 1; }
	grep -qx 'from = libcrypt' <<<"$output" || { echo "$output"; return 1; }
	grep -q "imported by $MKPASSWD" <<<"$output" || { echo "$output"; return 1; }
	grep -qx '; crypt: the same passphrase and setting give the same hash' <<<"$output" ||
		{ echo "the entry's comment is missing: $output"; return 1; }
	! grep -q 'pow\|crc32' <<<"$output" || { echo "suggested what mkpasswd never calls: $output"; return 1; }
	grep -qx 'verify    = 1' <<<"$output" || { echo "no verify = 1: $output"; return 1; }
	grep -qx 'namespace = mkpasswd' <<<"$output" || { echo "$output"; return 1; }
}

@test "suggest: TXCACHE_CATALOGUE names the catalogue; -o writes the config to a file" {
	out=$BATS_TEST_TMPDIR/suggested.ini
	run env TXCACHE_CATALOGUE="$cat_dir" "$TXCACHE" suggest -o "$out" mkpasswd
	[[ $status -eq 0 ]] || { echo "status $status: $output"; return 1; }
	[[ -z $output ]] || { echo "wrote to stdout with -o: $output"; return 1; }
	grep -qx '\[function crypt\]' "$out" || { cat "$out"; return 1; }
}

@test "suggest: servers, namespace and secret_file come from -c CONFIG" {
	secret=$BATS_TEST_TMPDIR/secret
	head -c 32 /dev/urandom >"$secret"
	chmod 600 "$secret"
	cfg=$(txc_config base <<EOF2
[cache]
servers = /tmp/some.sock, 127.0.0.1:11311
namespace = pw
secret_file = $secret
EOF2
	)
	run_txcache --separate-stderr suggest -c "$cfg" --catalogue "$cat_dir" "$MKPASSWD"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	grep -qx 'servers   = /tmp/some.sock, 127.0.0.1:11311' <<<"$output" || { echo "$output"; return 1; }
	grep -qx 'namespace = pw' <<<"$output" || { echo "$output"; return 1; }
	grep -qx "secret_file = $secret" <<<"$output" || { echo "$output"; return 1; }
}

@test "suggest: a function another library defines is left out, and said so" {
	PY=/usr/bin/python3.11
	[[ -x $PY ]] || skip "no /usr/bin/python3.11"
	readelf -W --dyn-syms "$PY" | grep -qw 'UND crc32' || skip "python3.11 does not import crc32 here"
	run_txcache --separate-stderr suggest --catalogue "$cat_dir" "$PY"
	! grep -q '\[function crc32\]' <<<"$output" || { echo "suggested zlib's crc32 as libnotz's: $output"; return 1; }
	grep -q "crc32: left out: .*libz.so.* defines it, not libnotz.so.9" <<<"$stderr" ||
		{ echo "stderr: $stderr"; return 1; }
	grep -qx '\[function pow\]' <<<"$output" || { echo "python3 imports pow from libm: $output"; return 1; }
}

@test "suggest: nothing to suggest is exit 1 with the reason; no config printed" {
	run_txcache --separate-stderr suggest --catalogue "$cat_dir" /bin/true
	[[ $status -eq 1 ]] || { echo "status $status"; return 1; }
	[[ -z $output ]] || { echo "printed a config: $output"; return 1; }
	grep -q "imports none of the catalogue's 3 functions" <<<"$stderr" || { echo "$stderr"; return 1; }
}

@test "suggest: bad usage, a missing program, a missing catalogue" {
	run_txcache --separate-stderr suggest --catalogue "$cat_dir"
	[[ $status -eq 64 ]] || { echo "no PROGRAM: status $status"; return 1; }
	run_txcache --separate-stderr suggest --catalogue "$cat_dir" /no/such/program
	[[ $status -eq 66 ]] || { echo "missing program: status $status"; return 1; }
	grep -q '/no/such/program' <<<"$stderr" || { echo "$stderr"; return 1; }
	run_txcache --separate-stderr suggest --catalogue "$BATS_TEST_TMPDIR/none" "$MKPASSWD"
	[[ $status -eq 66 ]] || { echo "missing catalogue: status $status"; return 1; }
	grep -q "cannot read the catalogue $BATS_TEST_TMPDIR/none" <<<"$stderr" || { echo "$stderr"; return 1; }
	run_txcache --separate-stderr suggest --bogus "$MKPASSWD"
	[[ $status -eq 64 ]] || { echo "unknown option: status $status"; return 1; }
}

@test "suggest: a function only its own library calls (zlib's adler32 inside compress2) is left out, and said so" {
	command -v mksquashfs >/dev/null || skip "mksquashfs not installed (squashfs-tools)"
	local libz
	libz=$(ldd "$(command -v mksquashfs)" | sed -n 's/.*libz.so.1 => \([^ ]*\).*/\1/p')
	[[ -n $libz ]] || skip "mksquashfs does not link libz here"
	readelf -W -r "$libz" | grep -q ' adler32\b' || skip "this libz calls adler32 directly"
	printf '[catalogue]\nlibrary = libz.so.1\n\n[function adler32]\nsignature = unsigned long adler32(unsigned long a, bytes[len] buf, unsigned int len)\n' \
		>"$cat_dir/zlib.ini"
	run_txcache --separate-stderr suggest --catalogue "$cat_dir" "$(command -v mksquashfs)"
	! grep -q '\[function adler32\]' <<<"$output" || { echo "suggested libz's internal adler32: $output"; return 1; }
	grep -q "adler32: left out: only .*libz.so.*'s own calls reach it" <<<"$stderr" || { echo "stderr: $stderr"; return 1; }
}
