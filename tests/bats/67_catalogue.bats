#!/usr/bin/env bats
# The catalogue of verified signatures (config/catalogue/*.ini, README
# "Catalogue") and the config keys that use it (include =, from =).
#
# Each catalogue file LIB.ini has a driver, tests/fixtures/cat_LIB.c, that
# calls every entry in the real library over many arguments and prints
# every result. For each LIB: the driver's output without the shim is the
# reference; under the shim with `verify = 1` and `include = LIB` (two
# passes: the second pass hits in the same process) the output is the same
# and no hit mismatches; a second run with verification off is the same
# again, stores nothing new, and makes no real call for what was stored.

load helpers

CATS=(zlib libm libcrypt libzstd libargon2 libcrypto libsodium)

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "${CATS[@]/#/$FIXTURES/cat_}"; do
		[[ -e $f ]] || {
			echo "missing $f: run make all and make -C tests/fixtures BUILD=$BUILD" >&2
			return 1
		}
	done
	txc_catalogue_copy || return 1
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_VERIFY TXCACHE_VERIFY_LOG TXCACHE_DISABLE TXCACHE_MODE
	export TXCACHE_LOG=info TXCACHE_CATALOGUE=$CATDIR
}

fail_with() {
	printf '%s\n--- status %s\n--- stdout\n%s\n--- stderr\n%s\n' "$1" "$status" \
		"${output:0:3000}" "$(grep -v '^txcache: \(hit\|miss\) ' <<<"${stderr:-}" | head -60)" >&2
	return 1
}

# cat_fns LIB: the [function F] names of LIB.ini, one a line.
cat_fns() {
	sed -n 's/^\[function \([A-Za-z_0-9]*\)\][[:space:]]*$/\1/p' "$TXC_ROOT/config/catalogue/$1.ini"
}

# stat_of FN NAME: NAME's value in FN's exit stats line ("" when absent).
stat_of() {
	sed -n "s/^txcache: stats $1: .*\\b$2=\\([0-9]*\\).*/\\1/p" <<<"$stderr" | head -1
}

# cconfig NAME LINES...: a config in a namespace of this test's own, the
# LINES after [cache]'s (sections may follow).
cconfig() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = cat%s\ntimeout_ms = 2000\n' \
			"$MC_SOCK" "$BATS_TEST_NUMBER"
		printf 'stats_interval = 0\n'
		printf '%s\n' "$@"
	} | txc_config "$name"
}

# verify_lib LIB [LINES...]: the whole check of one catalogue file.
verify_lib() {
	local lib=$1 drv=$FIXTURES/cat_$1 fn ref
	shift
	run --separate-stderr "$drv" 2
	[[ $status -eq 0 && -n $output ]] || fail_with "$lib: the driver failed without the shim"
	ref=$output
	local cfg
	cfg=$(cconfig "cat_$lib" 'verify = 1' "include = $lib" "$@")

	run_shim --separate-stderr "$cfg" "$drv" 2
	[[ $status -eq 0 ]] || fail_with "$lib: run 1 failed"
	[[ $output == "$ref" ]] || fail_with "$lib: run 1 (verify = 1) differs from the reference"
	[[ $stderr != *"mismatch:"* ]] || fail_with "$lib: a verified hit mismatched"
	[[ $stderr != *"include ="* ]] || fail_with "$lib: include = warned"
	declare -A m1 s1
	local nstored=0
	for fn in $(cat_fns "$lib"); do
		local h m s v x
		h=$(stat_of "$fn" hits) m=$(stat_of "$fn" misses) s=$(stat_of "$fn" stores)
		v=$(stat_of "$fn" verified) x=$(stat_of "$fn" mismatch)
		[[ -n $h && -n $m ]] || fail_with "$lib: no stats line for $fn (not configured?)"
		((h + m > 0)) || fail_with "$lib: the driver never calls $fn (an entry without its test)"
		[[ $x == 0 ]] || fail_with "$lib: $fn mismatch=$x"
		[[ $v == "$h" ]] || fail_with "$lib: $fn: $h hits but $v verified"
		((s > 0)) || fail_with "$lib: $fn stored nothing"
		m1[$fn]=$m s1[$fn]=$s
		nstored=$((nstored + s))
	done
	echo "# $lib: $nstored results stored, 0 mismatches" >&3

	run_shim --separate-stderr "$cfg" env TXCACHE_VERIFY=0 "$drv" 2
	[[ $status -eq 0 ]] || fail_with "$lib: run 2 failed"
	[[ $output == "$ref" ]] || fail_with "$lib: run 2 (from the cache) differs from the reference"
	for fn in $(cat_fns "$lib"); do
		local h m s
		h=$(stat_of "$fn" hits) m=$(stat_of "$fn" misses) s=$(stat_of "$fn" stores)
		((h > 0)) || fail_with "$lib: run 2: $fn had no hit"
		[[ $s == 0 ]] || fail_with "$lib: run 2: $fn stored $s: a stored call ran again"
		# real calls left: only those whose result is never stored (cache_if)
		((m == m1[$fn] - s1[$fn])) ||
			fail_with "$lib: run 2: $fn misses=$m, expected ${m1[$fn]} - ${s1[$fn]}"
	done
}

@test "catalogue: every file has its driver, every entry a call (a new entry without a test fails)" {
	local f lib known
	for f in "$TXC_ROOT"/config/catalogue/*.ini; do
		lib=$(basename "$f" .ini)
		known=no
		for c in "${CATS[@]}"; do [[ $c == "$lib" ]] && known=yes; done
		[[ $known == yes ]] || fail_with "$lib.ini: not in 67_catalogue's CATS (no verify test)"
		[[ -x $FIXTURES/cat_$lib ]] || fail_with "$lib.ini: no driver $FIXTURES/cat_$lib"
		[[ -n $(cat_fns "$lib") ]] || fail_with "$lib.ini: no [function] section"
		grep -q "verify_lib $lib\\b" "$BATS_TEST_FILENAME" ||
			fail_with "$lib.ini: no verify_lib test"
	done
}

@test "catalogue: every file parses clean, every entry says why in a comment, check lists them" {
	local total=0 lib fn
	for lib in "${CATS[@]}"; do
		total=$((total + $(cat_fns "$lib" | wc -l)))
		# a ';' comment in each [function] section: why it is safe, what to add
		awk '/^\[function/ { h = $0; c = 0; next }
			h && /^;/ { c = 1 }
			h && /^(\[|$)/ { if (!c) { print FILENAME ": " h; bad = 1 } h = "" }
			END { if (h && !c) { print FILENAME ": " h; bad = 1 } exit bad }' \
			"$TXC_ROOT/config/catalogue/$lib.ini" ||
			fail_with "$lib.ini: a [function] section without a ';' comment"
	done
	local list
	list=$(IFS=,; echo "${CATS[*]}")
	cfg=$(cconfig all "include = $list")
	run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "check failed"
	[[ $stderr != *"include ="* ]] || fail_with "a catalogue file does not parse"
	[[ $output == *": ok: $total functions,"* ]] || fail_with "expected $total functions"
	for lib in "${CATS[@]}"; do
		for fn in $(cat_fns "$lib"); do
			grep -qF ": $fn: from catalogue $lib ($CATDIR/$lib.ini)" <<<"$output" ||
				fail_with "check does not list $fn from $lib"
		done
	done
}

@test "catalogue zlib: crc32, crc32_z, adler32, adler32_z, compress, compress2, uncompress verify and hit" {
	verify_lib zlib
}

@test "catalogue libm: every entry verifies and hits (lgamma enabled by the user's own section)" {
	# the sanitizer runtime intercepts crypt and lgamma_r: calls bind to it,
	# not to the library the catalogue pins (library =), so nothing is cached
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime defines lgamma_r (make asan)"
	verify_lib libm '[function lgamma]' 'mode = normal'
}

@test "catalogue libcrypt: crypt, crypt_r, crypt_rn verify and hit" {
	# the sanitizer runtime intercepts crypt and lgamma_r: calls bind to it,
	# not to the library the catalogue pins (library =), so nothing is cached
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime defines crypt (make asan)"
	verify_lib libcrypt
}

@test "catalogue libzstd: ZSTD_compress, ZSTD_compressCCtx, ZSTD_decompress verify and hit" {
	verify_lib libzstd
}

@test "catalogue libargon2: argon2id_hash_raw, argon2id_hash_encoded, argon2id_verify, argon2_hash, argon2_verify" {
	verify_lib libargon2
}

@test "catalogue libcrypto: PKCS5_PBKDF2_HMAC (symptr digest), PKCS5_PBKDF2_HMAC_SHA1, EVP_PBE_scrypt" {
	verify_lib libcrypto
	# passlen = -1 means "a C string": keyed as 0 bytes, three passwords
	# would share one result (verify saw it); such calls now run uncached
	[[ $(grep -c 'PKCS5_PBKDF2_HMAC: bytes pass has a negative length; calling the real' \
		<<<"$stderr") -eq 6 ]] || fail_with "passlen = -1 was not left uncached"
}

@test "catalogue libsodium: crypto_pwhash, crypto_pwhash_str_verify verify and hit" {
	verify_lib libsodium
}

@test "catalogue libcrypto: the digest as a plain ptr would serve SHA-1's key for SHA-256 (what symptr prevents)" {
	run --separate-stderr "$FIXTURES/cat_libcrypto"
	local ref=$output
	# the user's signature wins over the catalogue's: the wrong one on purpose
	cfg=$(cconfig ptrdigest '[function PKCS5_PBKDF2_HMAC]' 'from = libcrypto' \
		'signature = int PKCS5_PBKDF2_HMAC(bytes[passlen] pass, int passlen,' \
		'    bytes[saltlen] salt, int saltlen, int iter, ptr digest, int keylen,' \
		'    out bytes[keylen] key)')
	run_shim --separate-stderr "$cfg" "$FIXTURES/cat_libcrypto"
	[[ $status -eq 0 ]] || fail_with "run failed"
	[[ $output != "$ref" ]] || fail_with "a ptr digest went unnoticed: the test cannot see keying"
	cfg=$(cconfig symdigest '[function PKCS5_PBKDF2_HMAC]' 'from = libcrypto')
	for run in 1 2; do
		run_shim --separate-stderr "$cfg" "$FIXTURES/cat_libcrypto"
		[[ $status -eq 0 && $output == "$ref" ]] ||
			fail_with "run $run: the catalogue's symptr digest gave other keys"
	done
	(($(stat_of PKCS5_PBKDF2_HMAC hits) > 0)) || fail_with "PKCS5_PBKDF2_HMAC not cached"
}

@test "from = zlib takes one entry; the user's keys win over the catalogue's" {
	run --separate-stderr "$FIXTURES/cat_zlib"
	local ref=$output
	cfg=$(cconfig from '[function crc32]' 'from = zlib' '[function adler32]' 'from = zlib' \
		'mode = off')
	run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "check failed"
	[[ $output == *"$cfg:6: crc32: from catalogue zlib ($CATDIR/zlib.ini)"* ]] ||
		fail_with "check does not show crc32's entry"
	[[ $output == *": ok: 2 functions,"* ]] || fail_with "expected 2 functions"
	for run in 1 2; do
		run_shim --separate-stderr "$cfg" "$FIXTURES/cat_zlib"
		[[ $status -eq 0 && $output == "$ref" ]] || fail_with "run $run differs"
	done
	(($(stat_of crc32 hits) > 0)) || fail_with "crc32 not cached"
	[[ $(stat_of crc32 stores) == 0 ]] || fail_with "crc32 stored on the second run"
	[[ $(stat_of adler32 hits) == 0 && $(stat_of adler32 stores) == 0 ]] ||
		fail_with "adler32: mode = off of the user's section did not win"
	[[ -z $(stat_of crc32_z hits) ]] || fail_with "crc32_z configured without include or from"
}

@test "include = zlib with a section of one's own: its keys override that entry" {
	cfg=$(cconfig incl 'include = zlib' '[function adler32]' 'mode = off')
	run --separate-stderr "$TXCACHE" check -c "$cfg"
	local nz
	nz=$(cat_fns zlib | wc -l)
	[[ $status -eq 0 && $output == *": ok: $nz functions,"* ]] || fail_with "check"
	[[ $output == *"$cfg:7: adler32: from catalogue zlib"* ]] || fail_with "adler32 entry"
	[[ $output == *"$cfg:6: crc32_z: from catalogue zlib"* ]] || fail_with "crc32_z entry"
	for run in 1 2; do
		run_shim --separate-stderr "$cfg" "$FIXTURES/cat_zlib"
		[[ $status -eq 0 ]] || fail_with "run $run"
	done
	(($(stat_of crc32_z hits) > 0)) || fail_with "crc32_z not cached"
	[[ $(stat_of adler32 hits) == 0 ]] || fail_with "adler32 cached despite mode = off"
}

@test "include/from errors: FILE:LINE warnings in check, one log line each in the shim, the rest works" {
	local bad=$BATS_TEST_TMPDIR/badcat
	mkdir -m 0755 "$bad"
	cp "$CATDIR/zlib.ini" "$bad/"
	printf '[function broken]\nsignature = int broken(\n' >"$bad/broken.ini"
	printf '[cache]\nservers = x\n[function f]\nsignature = int f(int x)\n' >"$bad/withcache.ini"
	run --separate-stderr "$FIXTURES/cat_zlib"
	local ref=$output
	cfg=$(cconfig errs 'include = zlib, nosuch, broken, withcache, ../zlib' \
		'[function inflate]' 'from = zlib' '[function other]' 'from = nosuch2')
	export TXCACHE_CATALOGUE=$bad
	run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "check: a skipped entry is not an error of the config"
	local nz
	nz=$(cat_fns zlib | wc -l)
	[[ $output == *": ok: $nz functions,"* ]] || fail_with "zlib's $nz entries expected"
	local want=(
		"$cfg:6: warning: include = nosuch: $bad/nosuch.ini: cannot open: No such file or directory; its functions are skipped"
		"$cfg:6: warning: include = broken: $bad/broken.ini:2: signature:"
		"$cfg:6: warning: include = withcache: $bad/withcache.ini:1: unknown section [cache] (expected [catalogue]"
		"$cfg:6: warning: include = ../zlib: not a catalogue name"
		"$cfg:8: warning: from = zlib: no [function inflate] in $bad/zlib.ini; inflate is skipped"
		"$cfg:10: warning: from = nosuch2: $bad/nosuch2.ini: cannot open"
	)
	for w in "${want[@]}"; do
		grep -qF "$w" <<<"$stderr" || fail_with "check: missing: $w"
	done
	run_shim --separate-stderr "$cfg" "$FIXTURES/cat_zlib"
	[[ $status -eq 0 && $output == "$ref" ]] || fail_with "the program's output changed"
	for w in "include = nosuch:" "include = broken:" "include = withcache:" "include = ../zlib:" \
		"from = zlib: no [function inflate]" "from = nosuch2:"; do
		[[ $(grep -cF "$w" <<<"$stderr") -eq 1 ]] || fail_with "shim: not one line for $w"
	done
	[[ $stderr == *"$nz functions configured"* ]] || fail_with "shim: zlib's entries not loaded"
	(($(stat_of crc32 misses) > 0)) || fail_with "crc32 not intercepted"
}

@test "catalogue files are read with the config's trust rules; TXCACHE_CATALOGUE picks the directory" {
	local open=$BATS_TEST_TMPDIR/open
	mkdir "$open"
	cp "$CATDIR/zlib.ini" "$open/"
	chmod 0777 "$open"
	cfg=$(cconfig trust 'include = zlib')
	TXCACHE_CATALOGUE=$open run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $status -eq 0 && $output == *": ok: 0 functions,"* ]] || fail_with "an open directory was trusted"
	[[ $stderr == *"include = zlib: $open/zlib.ini: refusing"* ]] || fail_with "no refusal"
	chmod 0755 "$open"
	chmod 0666 "$open/zlib.ini"
	TXCACHE_CATALOGUE=$open run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $output == *": ok: 0 functions,"* ]] || fail_with "a file others can write was trusted"
	chmod 0644 "$open/zlib.ini"
	TXCACHE_CATALOGUE=$open run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $output == *": ok: $(cat_fns zlib | wc -l) functions,"* && $output == *"($open/zlib.ini)"* ]] ||
		fail_with "TXCACHE_CATALOGUE not used"
	# unset: the compiled-in directory ($(PREFIX)/share/txcache/catalogue)
	run --separate-stderr env -u TXCACHE_CATALOGUE "$TXCACHE" check -c "$cfg"
	[[ $stderr == *"/share/txcache/catalogue/zlib.ini"* || $output == *"/share/txcache/catalogue/zlib.ini"* ]] ||
		fail_with "the built-in directory is not used"
}

@test "a Debian program nobody built for txcache: mkpasswd with from = libcrypt" {
	# the sanitizer runtime intercepts crypt and lgamma_r: calls bind to it,
	# not to the library the catalogue pins (library =), so nothing is cached
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime defines crypt (make asan)"
	command -v mkpasswd >/dev/null || skip "mkpasswd (package whois) is not installed"
	local args=(-m sha-512 -R 20000 -S saltsaltsalt secret)
	run --separate-stderr mkpasswd "${args[@]}"
	[[ $status -eq 0 && $output == '$6$rounds=20000$saltsaltsalt$'* ]] || fail_with "mkpasswd"
	local ref=$output
	cfg=$(cconfig mkpasswd '[function crypt]' 'from = libcrypt')
	for run in 1 2; do
		run_shim --separate-stderr "$cfg" mkpasswd "${args[@]}"
		[[ $status -eq 0 && $output == "$ref" ]] || fail_with "run $run differs"
	done
	[[ $(stat_of crypt hits) == 1 && $(stat_of crypt misses) == 0 ]] ||
		fail_with "the second run's crypt was not a hit"
}

@test "a Debian program nobody built for txcache: mksquashfs -comp zstd with from = libzstd" {
	command -v mksquashfs >/dev/null || skip "mksquashfs (squashfs-tools) is not installed"
	local src=$BATS_TEST_TMPDIR/src t=$BATS_TEST_TMPDIR i
	mkdir "$src"
	for i in 1 2 3; do
		seq 1 40000 | sed "s/^/line $i /" >"$src/f$i.txt"
	done
	cfg=$(cconfig squash '[function ZSTD_compressCCtx]' 'from = libzstd')
	local args=(-noappend -comp zstd -all-time 0 -mkfs-time 0 -all-root -processors 1
		-no-progress -quiet)
	run --separate-stderr mksquashfs "$src" "$t/plain.img" "${args[@]}"
	[[ $status -eq 0 ]] || fail_with "mksquashfs"
	local n
	for n in 1 2; do
		run_shim --separate-stderr "$cfg" mksquashfs "$src" "$t/run$n.img" "${args[@]}"
		[[ $status -eq 0 ]] || fail_with "run $n"
		cmp "$t/plain.img" "$t/run$n.img" || fail_with "run $n: another image"
	done
	(($(stat_of ZSTD_compressCCtx hits) > 0)) || fail_with "no hit on the second run"
	[[ $(stat_of ZSTD_compressCCtx stores) == 0 ]] || fail_with "the second run stored"
}

@test "the user's [types] never reach a catalogue entry: a type named like its parameter (len, level) breaks nothing" {
	# found by the attack round: [types] len = int made from = zlib a hard
	# config error (caching off for the whole program)
	cfg=$(cconfig types '[types]' 'len = int' 'level = int' '[function crc32]' 'from = zlib' \
		'[function compress2]' 'from = zlib')
	run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "check refused the config"
	[[ $stderr != *unsupported* ]] || fail_with "a [types] name reached the catalogue's signature"
	# the user's own signatures still see [types]
	cfg=$(cconfig types2 '[types]' 'myint = int' '[function crc32]' 'from = zlib' \
		'[function f]' 'signature = myint f(myint x)')
	run --separate-stderr "$TXCACHE" check -c "$cfg"
	[[ $status -eq 0 ]] || fail_with "the user's own [types] stopped working"
}
