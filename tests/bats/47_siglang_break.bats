#!/usr/bin/env bats
# Issue 15, trying to break what landed: the signature language's inout
# scalars and `*n` sizes, the zlib catalogue entries (include/from), and
# the catalogue's trust rules. Every run under the shim is compared with
# the same program without it: what the caller sees (returns, *destLen,
# every byte of the buffer it gave, the canaries after it, neighbours of
# an inout scalar) must be identical, on a miss and on a hit.

load helpers

setup_file() {
	[[ -x $FIXTURES/brk15_io ]] || {
		echo "missing fixtures: make -C tests/fixtures BUILD=$BUILD" >&2
		return 1
	}
	txc_catalogue_copy || return 1
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_VERIFY TXCACHE_VERIFY_LOG TXCACHE_DISABLE TXCACHE_MODE
	export TXCACHE_CATALOGUE=$CATDIR
}

# bcfg NAME LINES...: a config in this test's own namespace.
bcfg() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = brk15_%s\ntimeout_ms = 2000\nlog = info\n' \
			"$MC_SOCK" "$BATS_TEST_NUMBER"
		printf 'stats_interval = 0\n'
		printf '%s\n' "$@"
	} | txc_config "$name"
}

# same_as_plain CONFIG PROG ARGS...: PROG's stdout without the shim, then
# twice under it (the second process serves from the cache); all equal,
# exit 0, and at least one hit logged by the second run.
same_as_plain() {
	local cfg=$1 ref
	shift
	run --separate-stderr "$@"
	[[ $status -eq 0 ]] || { echo "without the shim: status $status: $stderr"; return 1; }
	ref=$output
	local pass
	for pass in 1 2; do
		run_shim --separate-stderr "$cfg" "$@"
		[[ $status -eq 0 ]] || {
			echo "pass $pass: status $status"
			grep -v '^txcache: \(hit\|miss\) ' <<<"$stderr" | head -30
			return 1
		}
		[[ $output == "$ref" ]] || {
			echo "pass $pass differs from the real run:"
			diff <(printf '%s\n' "$ref") <(printf '%s\n' "$output") | head -40
			return 1
		}
	done
	grep -q '^txcache: hit ' <<<"$stderr" || {
		echo "no hit in the second run: the test proves nothing"
		grep -v '^txcache: miss ' <<<"$stderr" | head -20
		return 1
	}
}

ZSIG_OUT='out bytes[*destLen] Bytef *dest, inout uLongf *destLen'

@test "zlib include: compress2/compress/uncompress at capacities 0, 1, L-1, L, L+1, bound: same bytes, canaries intact" {
	[[ -x $FIXTURES/brk15_z ]] || skip "zlib.h missing"
	local cfg
	cfg=$(bcfg z 'include = zlib')
	same_as_plain "$cfg" "$FIXTURES/brk15_z" seq
}

@test "zlib from + ignore = destLen: one key for every capacity, a hit never exceeds the caller's *destLen" {
	[[ -x $FIXTURES/brk15_z ]] || skip "zlib.h missing"
	local cfg
	cfg=$(bcfg zi '[function compress2]' 'from = zlib' 'ignore = destLen' \
		'[function compress]' 'from = zlib' 'ignore = destLen' \
		'[function uncompress]' 'from = zlib' 'ignore = destLen')
	same_as_plain "$cfg" "$FIXTURES/brk15_z" seq
}

@test "zlib ignore = destLen: three threads at capacities bound, L-1 and L at once" {
	[[ -x $FIXTURES/brk15_z ]] || skip "zlib.h missing"
	local cfg
	cfg=$(bcfg zt '[function compress2]' 'from = zlib' 'ignore = destLen')
	same_as_plain "$cfg" "$FIXTURES/brk15_z" threads
}

@test "inout scalars of every width: the value written back on a hit is the real call's, neighbours untouched; +0 and -0 key apart" {
	local cfg
	cfg=$(bcfg io \
		'[function io_u8]' 'signature = int io_u8(inout uint8_t * p)' \
		'[function io_i8]' 'signature = int io_i8(inout int8_t * p)' \
		'[function io_u16]' 'signature = int io_u16(inout uint16_t * p)' \
		'[function io_i32]' 'signature = int io_i32(inout int32_t * p)' \
		'[function io_u64]' 'signature = int io_u64(inout uint64_t * p)' \
		'[function io_f]' 'signature = int io_f(inout float * p)' \
		'[function io_d]' 'signature = int io_d(inout double * p)' \
		'[function brk15_inv]' 'signature = double brk15_inv(double x)' \
		'[function brk15_invf]' 'signature = float brk15_invf(float x)')
	same_as_plain "$cfg" "$FIXTURES/brk15_io"
}

NEG_FNS=(
	'[function brk15_fill]' 'signature = int brk15_fill(out bytes[*n] dst, inout int *n)'
	'[function brk15_fill8]' 'signature = int brk15_fill8(out bytes[*n] dst, inout int8_t *n)'
	'[function brk15_sum]' 'signature = int brk15_sum(bytes[*n] src, inout int *n)'
)

@test "a negative *n on entry (int, int8_t) as a capacity and an input length: as the real call, no read or write" {
	local cfg
	cfg=$(bcfg neg "${NEG_FNS[@]}")
	same_as_plain "$cfg" "$FIXTURES/brk15_neg"
}

@test "a negative *n with ignore = n: a value stored for *n = 100 is not served to *n = -1" {
	local cfg
	cfg=$(bcfg negi "${NEG_FNS[@]:0:2}" 'ignore = n' "${NEG_FNS[@]:2:2}" 'ignore = n' "${NEG_FNS[@]:4:2}")
	same_as_plain "$cfg" "$FIXTURES/brk15_neg"
}

@test "include = zlib: a catalogue trust rule: a symlink owned by another user, or into a directory others can write, is refused" {
	[[ $(id -u) -eq 0 ]] || skip "needs root to own a symlink as another user"
	[[ -x $FIXTURES/brk15_z ]] || skip "zlib.h missing"
	local cat=$BATS_TEST_TMPDIR/cat open=$BATS_TEST_TMPDIR/open cfg
	mkdir -m 0755 "$cat" "$open"
	cp "$CATDIR/zlib.ini" "$open/z.ini"
	ln -s "$open/z.ini" "$cat/zlib.ini"
	chown -h nobody "$cat/zlib.ini"
	cfg=$(bcfg sym 'include = zlib')
	TXCACHE_CATALOGUE=$cat run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_z" threads
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $stderr == *"a symlink owned by uid"*"its functions are skipped"* ]] || { echo "not refused: $stderr"; return 1; }
	[[ $stderr == *"0 functions configured"* ]] || { echo "$stderr"; return 1; }
	chown -h root "$cat/zlib.ini"
	chmod 0777 "$open"
	TXCACHE_CATALOGUE=$cat run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_z" threads
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $stderr == *"a directory others can write"*"its functions are skipped"* ]] || { echo "not refused: $stderr"; return 1; }
	chmod 0755 "$open"
	TXCACHE_CATALOGUE=$cat run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_z" threads
	[[ $stderr == *"7 functions configured"* ]] || { echo "a safe symlink refused: $stderr"; return 1; }
}

@test "include = zlib: a program's own crc32 and adler32 (library = libz.so.1) are never answered from zlib's values" {
	[[ -x $FIXTURES/brk15_own ]] || skip "zlib.h missing"
	local cfg ref pass
	cfg=$(bcfg ownfn 'include = zlib')
	run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_own_real"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	run --separate-stderr "$FIXTURES/brk15_own"
	ref=$(cut -d' ' -f1-2 <<<"$output")
	for pass in 1 2; do
		run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_own"
		[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
		[[ $(cut -d' ' -f1-2 <<<"$output") == "$ref" ]] || {
			echo "pass $pass: the program's own crc32/adler32 were answered by the cache:"
			printf '%s\n--- got\n%s\n' "$ref" "$output"
			return 1
		}
	done
}

# KNOWN BREAK (found by this suite, not fixed): zlib's compress2 and
# uncompress call adler32 through libz's PLT, so a program that defines its
# own adler32 (or crc32: a common name) changes what the real compress2
# writes (the trailer) and whether uncompress accepts data. The key has
# libz's build-id but not which adler32 libz's calls reach, so such a
# program is served values stored by programs using zlib's own adler32.
@test "include = zlib: a program whose own adler32 shadows zlib's gets what its real compress2 writes" {
	[[ -x $FIXTURES/brk15_own ]] || skip "zlib.h missing"
	[[ ${TXC_BRK15_KNOWN:-} == 1 ]] || skip "known break: a shadowed adler32 is not in compress2's key (TXC_BRK15_KNOWN=1 runs it)"
	local cfg ref
	cfg=$(bcfg own 'include = zlib')
	run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_own_real"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	run --separate-stderr "$FIXTURES/brk15_own"
	ref=$output
	run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_own"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $output == "$ref" ]] || {
		echo "the program's own adler32 changes compress2's bytes; a hit served another program's:"
		diff <(printf '%s\n' "$ref") <(printf '%s\n' "$output")
		return 1
	}
}

# profile_same ARGS...: the program without the shim, then under
# `txcache profile -o FILE`: the same stdout and exit status, and a report
# with a row for $PROFILE_ROW (default brk15_each).
profile_same() {
	local ref rs
	run --separate-stderr "$@"
	ref=$output rs=$status
	run_txcache --separate-stderr profile -o "$BATS_TEST_TMPDIR/report.txt" -- "$@"
	[[ $status -eq $rs && $output == "$ref" ]] || {
		echo "status $status (want $rs); stdout differs or stderr: ${stderr:0:2000}"
		diff <(printf '%s\n' "$ref") <(printf '%s\n' "$output") | head -20
		return 1
	}
	grep -q "^${PROFILE_ROW:-brk15_each} " "$BATS_TEST_TMPDIR/report.txt" || {
		echo "${PROFILE_ROW:-brk15_each} not in the report:"
		head -20 "$BATS_TEST_TMPDIR/report.txt"
		return 1
	}
}

@test "profile: two ucontext coroutines (256 KiB stacks, the second below) switch inside interleaved timed library calls" {
	profile_same "$FIXTURES/brk15_coro" 256
}

@test "profile: the same with the second coroutine's stack above the first's" {
	profile_same "$FIXTURES/brk15_coro" 256 up
}

# KNOWN BREAK (found by this suite, not fixed): entries are told apart by
# stack distance (64 KiB); coroutine stacks closer than that are taken
# for one stack, and a live call on the other is dropped as longjmp'd.
@test "profile: the same with 16 KiB coroutine stacks" {
	[[ ${TXC_BRK15_KNOWN:-} == 1 ]] || skip "known break: coroutine stacks closer than 64 KiB (TXC_BRK15_KNOWN=1 runs it)"
	profile_same "$FIXTURES/brk15_coro" 16
	profile_same "$FIXTURES/brk15_coro" 16 up
}

@test "profile: backtrace() and _Unwind_Backtrace from a callback inside timed calls find every frame" {
	# the sanitizer runtime intercepts backtrace() and adds its own frames
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "frame counts differ under the sanitizer runtime (make asan)"
	# the timed calls a walk goes through are forgotten, not counted: the
	# row to look for is a call made outside any walk
	PROFILE_ROW=printf profile_same "$FIXTURES/brk15_bt"
}

@test "zlib include: NULL buffers (crc32 of NULL with a length, NULL dest and source): keyed apart, never read" {
	[[ -x $FIXTURES/brk15_z ]] || skip "zlib.h missing"
	local cfg
	cfg=$(bcfg zn 'include = zlib')
	same_as_plain "$cfg" "$FIXTURES/brk15_z" nulls
}

@test "bytes[*n] with *n = -1 (\"a C string\", as PKCS5_PBKDF2_HMAC's passlen) runs uncached: two strings never share a key" {
	local cfg
	cfg=$(bcfg cstr '[function brk15_csum]' 'signature = int brk15_csum(bytes[*n] src, inout int *n)')
	run --separate-stderr "$FIXTURES/brk15_cstr"
	[[ $status -eq 0 ]] || { echo "plain: $status $stderr"; return 1; }
	local ref=$output pass
	for pass in 1 2; do
		run_shim --separate-stderr "$cfg" "$FIXTURES/brk15_cstr"
		[[ $status -eq 0 && $output == "$ref" ]] || {
			echo "pass $pass: status $status; the real run printed:"
			printf '%s\n---\nunder the shim:\n%s\n' "$ref" "$output"
			return 1
		}
	done
	[[ $stderr == *"brk15_csum: bytes src has a negative length; calling the real function"* ]] ||
		{ echo "no 'negative length' line: $stderr"; return 1; }
}
