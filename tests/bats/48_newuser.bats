#!/usr/bin/env bats
# The new user's path (issue 15, "done when"), on Debian programs nobody
# here wrote: txcache profile -> txcache suggest --profile -> a run with
# verify = 1 -> a cached run. Nothing is written by hand but the [cache]
# section that names the private memcached; the signatures come from the
# shipped catalogue (config/catalogue, a copy).

load helpers

setup_file() {
	txc_mc_start
	txc_catalogue_copy || return 1
	export TXCACHE_CATALOGUE=$CATDIR
}

teardown_file() {
	txc_mc_stop
}

setup() {
	# the path turns verify on and off in the config itself: make
	# check-verify's TXCACHE_VERIFY=1 would override the config's verify = 0
	unset TXCACHE_VERIFY
	BASE=$(txc_config base <<EOF
[cache]
servers = $MC_SOCK
namespace = newuser
timeout_ms = 2000
EOF
	)
	CFG=$BATS_TEST_TMPDIR/suggested.ini
}

fail_with() {
	printf '%s\nstatus %s\nstdout: %s\nstderr: %s\n' "$1" "$status" "$output" "${stderr:-}" >&2
	return 1
}

# fn_stat FN NAME: a counter of FN from `txcache stats --json` for $CFG.
fn_stat() {
	local out
	out=$("$TXCACHE" stats -c "$CFG" --json) || { echo "stats failed" >&2; return 1; }
	python3 -c 'import json,sys; print(json.load(sys.stdin)["functions"][sys.argv[1]][sys.argv[2]])' \
		"$1" "$2" <<<"$out"
}

# path_for FN PROGRAM ARGS...: the whole path. FN must come out on top of
# the profile's keyed rows, be suggested, verify with no mismatch, then
# hit. $PATH_OUT (optional), a file the program writes, must be byte for
# byte the plain run's too.
path_for() {
	local fn=$1
	shift
	run --separate-stderr "$@"
	[[ $status -eq 0 ]] || fail_with "plain run" || return 1
	local plain=$output
	[[ -z ${PATH_OUT:-} ]] || cp "$PATH_OUT" "$BATS_TEST_TMPDIR/plain.out"
	# 1. profile: FN is the first row with a signature; the output is the program's
	run_txcache --separate-stderr profile -c "$BASE" -o "$BATS_TEST_TMPDIR/profile.txt" -- "$@"
	[[ $status -eq 0 && $output == "$plain" ]] || fail_with "profile: not the program's output" || return 1
	local top
	top=$(awk 'NR > 2 && $0 !~ /needs a signature/ { print $1; exit }' "$BATS_TEST_TMPDIR/profile.txt")
	[[ $top == "$fn" ]] || { cat "$BATS_TEST_TMPDIR/profile.txt" >&2; fail_with "profile: top row is '$top', not $fn"; return 1; }
	# 2. suggest --profile: FN, from the catalogue, verify = 1, -c's server
	run_txcache --separate-stderr suggest -c "$BASE" -o "$CFG" --profile -- "$@"
	[[ $status -eq 0 ]] || fail_with "suggest" || return 1
	grep -qx "\\[function $fn\\]" "$CFG" || { cat "$CFG" >&2; fail_with "suggest: no $fn"; return 1; }
	grep -qx 'verify    = 1' "$CFG" || { cat "$CFG" >&2; fail_with "suggest: no verify = 1"; return 1; }
	grep -qx "servers   = $MC_SOCK" "$CFG" || { cat "$CFG" >&2; fail_with "suggest: not -c's servers"; return 1; }
	run_txcache --separate-stderr check -c "$CFG" "$(command -v "$1")"
	[[ $output == *"$fn"*": interceptable"* ]] || fail_with "check: $fn not interceptable" || return 1
	# 3. two runs with verify = 1: the program's output; hits checked, no mismatch
	local n
	for n in 1 2; do
		run_txcache --separate-stderr run -c "$CFG" -- "$@"
		[[ $status -eq 0 && $output == "$plain" ]] || fail_with "verify run $n: other output" || return 1
		[[ -z ${PATH_OUT:-} ]] || cmp "$BATS_TEST_TMPDIR/plain.out" "$PATH_OUT" ||
			fail_with "verify run $n: another file" || return 1
	done
	local verified mismatch
	verified=$(fn_stat "$fn" verified) && mismatch=$(fn_stat "$fn" mismatch) || return 1
	((verified > 0)) || fail_with "no hit of $fn was verified" || return 1
	[[ $mismatch == 0 ]] || fail_with "$mismatch mismatches of $fn" || return 1
	# 4. verify off: served from the cache, same output, nothing stored or verified
	sed -i 's/^verify *= *1$/verify = 0/' "$CFG"
	local hits0 stores0 hits1 stores1 verified1
	hits0=$(fn_stat "$fn" hits) && stores0=$(fn_stat "$fn" stores) || return 1
	run_txcache --separate-stderr run -c "$CFG" -- "$@"
	[[ $status -eq 0 && $output == "$plain" ]] || fail_with "cached run: other output" || return 1
	[[ -z ${PATH_OUT:-} ]] || cmp "$BATS_TEST_TMPDIR/plain.out" "$PATH_OUT" ||
		fail_with "cached run: another file" || return 1
	hits1=$(fn_stat "$fn" hits) && stores1=$(fn_stat "$fn" stores) &&
		verified1=$(fn_stat "$fn" verified) || return 1
	((hits1 > hits0)) || fail_with "cached run: no hit of $fn ($hits0 -> $hits1)" || return 1
	[[ $stores1 == "$stores0" ]] || fail_with "cached run stored ($stores0 -> $stores1)" || return 1
	[[ $verified1 == "$verified" ]] || fail_with "cached run still verified" || return 1
}

@test "new user, mkpasswd: profile puts crypt on top, suggest picks it, verify finds no mismatch, then it is cached" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd is not installed (Debian package whois)"
	path_for crypt mkpasswd -m sha-512 -R 200000 -S saltsaltsalt "correct horse"
}

@test "new user, mksquashfs -comp zstd: ZSTD_compressCCtx from profile to a cached run, image byte-identical" {
	command -v mksquashfs >/dev/null || skip "mksquashfs not installed (squashfs-tools)"
	local src=$BATS_TEST_TMPDIR/src i
	mkdir "$src"
	for i in 1 2 3 4; do
		seq 1 60000 | sed "s/^/line $i of a file that compresses /" >"$src/f$i.txt"
	done
	PATH_OUT=$BATS_TEST_TMPDIR/img.sqfs
	path_for ZSTD_compressCCtx mksquashfs "$src" "$PATH_OUT" -noappend -comp zstd \
		-all-time 0 -mkfs-time 0 -all-root -processors 1 -no-progress -quiet
}

@test "suggest --profile leaves out what a run does not call, and says why" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd is not installed (Debian package whois)"
	# mkpasswd -m help lists the methods and never calls crypt
	run_txcache --separate-stderr suggest -c "$BASE" --profile -- mkpasswd -m help
	[[ $status -eq 1 ]] || fail_with "expected exit 1 (nothing worth caching)" || return 1
	[[ -z $output ]] || fail_with "printed a config" || return 1
	[[ $stderr == *"crypt: left out: not called in the profiled run"* ]] || fail_with "no reason for crypt" || return 1
}

@test "suggest --profile keeps only what saves time: a round trip dearer than the call leaves it out" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd is not installed (Debian package whois)"
	run_txcache --separate-stderr suggest -c "$BASE" --rtt 10000000 --profile -- \
		mkpasswd -m sha-512 -R 5000 -S saltsaltsalt pw
	[[ $status -eq 1 ]] || fail_with "expected exit 1" || return 1
	[[ $stderr == *"crypt: left out: 1 calls of "*" us on average save nothing over a round trip of 10000000.0 us"* ]] ||
		fail_with "no reason" || return 1
}

@test "suggest --profile sees a function called through dlsym (python3 ctypes), which the scan cannot" {
	[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3"
	run_txcache --separate-stderr suggest -c "$BASE" --rtt 0 --profile -- /usr/bin/python3 -S -c '
import ctypes
z = ctypes.CDLL("libcrypt.so.1")
z.crypt.restype = ctypes.c_char_p
for i in range(3):
    print(z.crypt(b"pw", b"$5$rounds=20000$salt$").decode())
'
	[[ $status -eq 0 ]] || fail_with "suggest" || return 1
	grep -qx '\[function crypt\]' <<<"$output" || fail_with "crypt not suggested" || return 1
	grep -q '^; called through a module loaded later (dlopen, dlsym): seen by the profile$' <<<"$output" ||
		fail_with "not marked as seen by the profile only" || return 1
	grep -q '^; profile: 3 calls, 1 keys' <<<"$output" || fail_with "profile line" || return 1
	# the program's own output went to stderr: stdout is only the config
	[[ $stderr == *'$5$rounds=20000$salt$'* ]] || fail_with "the program's output is missing" || return 1
	! grep -q 'rounds=20000\$salt\$.' <<<"$output" || fail_with "the program's output is in the config" || return 1
}
