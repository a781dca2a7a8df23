#!/usr/bin/env bats
# txcache profile (issue 15, point 1): a program run once without a cache,
# every call crossing a module boundary timed by a trampoline (prof_tramp.h),
# the calls of functions with a known signature keyed as a real run would.
# The program's output must stay its own, byte for byte; a trampoline must
# never lose a register, a return value or a frame (longjmp, threads, fork,
# signals, exec).

load helpers

setup_file() {
	[[ $(uname -m) == x86_64 ]] || skip "txcache profile is x86_64 only"
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	# no catalogue unless a test names one (profcat.h): the rows stay the
	# config's, whatever is installed
	mkdir -p "$BATS_TEST_TMPDIR/nocat"
	export TXCACHE_CATALOGUE=$BATS_TEST_TMPDIR/nocat
	P=$FIXTURES/prof_main
	MIN=$(printf '[cache]\nservers = %s\n' "$MC_SOCK" | txc_config min)
}

# prof OUT [PROFILE-OPTIONS] -- PROGRAM ARG...: txcache profile --json -o
# OUT; the program's stdout and stderr are $output and $stderr.
prof() {
	local out=$1
	shift
	run_txcache --separate-stderr profile --json -o "$out" "$@"
}

# check OUT PYTHON: the JSON report OUT parses and PYTHON holds (d is the
# document; fn(NAME) its row for NAME, or None).
check() {
	output=$(<"$1") json_check "
def fn(name):
    rows = [f for f in d['functions'] if f['function'] == name]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None
$2"
}

@test "profile mkpasswd: crypt is the top row, 1 call, 1 key; the hash is byte-identical" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd not installed (whois)"
	local args=(-m sha-512 -R 200000 -S saltsaltsalt secret) plain
	plain=$(mkpasswd "${args[@]}")
	prof "$BATS_TEST_TMPDIR/p.json" -c "$TXC_ROOT/config/mkpasswd.ini" -- mkpasswd "${args[@]}"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $output == "$plain" ]] || { echo "hash differs: $output vs $plain"; return 1; }
	[[ -z $stderr ]] || { echo "stderr: $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
r = d['functions'][0]
assert r['function'] == 'crypt' and r['signature'], r
assert r['calls'] == 1 and r['keys'] == 1 and r['repeated_calls'] == 0, r
assert 'libcrypt' in r['library'], r
assert r['save_rerun_ns'] > 0 and r['save_run_ns'] == 0, r
assert d['processes'] == 1, d['processes']"
}

@test "profile: three mkpasswd processes of one shell: crypt 3 calls, 1 key, 2 repeated" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd not installed (whois)"
	local m="mkpasswd -m sha-512 -R 100000 -S saltsaltsalt secret"
	prof "$BATS_TEST_TMPDIR/p.json" -c "$TXC_ROOT/config/mkpasswd.ini" -- sh -c "$m; $m; $m"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $(sort -u <<<"$output" | wc -l) -eq 1 && $(wc -l <<<"$output") -eq 3 ]] ||
		{ echo "output: $output"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
r = d['functions'][0]
assert r['function'] == 'crypt', r
assert r['calls'] == 3 and r['keys'] == 1 and r['repeated_calls'] == 2, r
assert abs(r['repeated_share'] - 2 / 3) < 0.001, r
assert r['save_run_ns'] > 0, r
assert d['processes'] == 4, d['processes']"
}

@test "profile: the program's stdout, stderr and exit status are its own" {
	prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- sh -c 'printf "out\n"; printf "err\n" >&2; exit 7'
	[[ $status -eq 7 ]] || { echo "status $status"; return 1; }
	[[ $output == out && $stderr == err ]] || { echo "out: $output err: $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "assert d['processes'] == 1"
	prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- sh -c 'kill -TERM $$'
	[[ $status -eq 143 ]] || { echo "killed: status $status"; return 1; }
	# without -o the report follows the program's output on stdout
	run_txcache --separate-stderr profile -c "$MIN" -- sh -c 'printf "out\n"'
	[[ $status -eq 0 && ${lines[0]} == out && ${lines[1]} == "txcache profile: sh: "* ]] ||
		{ echo "status $status: $output"; return 1; }
}

@test "profile mksquashfs -comp zstd: ZSTD_compressCCtx with its calls; the image is byte-identical" {
	command -v mksquashfs >/dev/null || skip "mksquashfs not installed (squashfs-tools)"
	local src=$BATS_TEST_TMPDIR/src t=$BATS_TEST_TMPDIR cfg
	mkdir -p "$src"
	python3 -S -c '
import random, sys
r = random.Random(7)
for i in range(4):
    with open("%s/f%d" % (sys.argv[1], i), "w") as f:
        f.write(" ".join(r.choice(["a", "bb", "ccc", "zstd"]) for _ in range(120000)))
' "$src"
	cfg=$(
		txc_config zstd <<-EOT
			[cache]
			servers = $MC_SOCK
			namespace = prof68
			timeout_ms = 2000
			log = info

			[function ZSTD_compressCCtx]
			signature = size_t ZSTD_compressCCtx(ptr cctx, out bytes[dstCapacity:ret] dst, size_t dstCapacity, bytes[srcSize] src, size_t srcSize, int level)
			cache_if = ret < 18446744073709551000
		EOT
	)
	local args=(-noappend -comp zstd -all-time 0 -mkfs-time 0 -all-root -processors 2 -no-progress -quiet)
	mksquashfs "$src" "$t/plain.img" "${args[@]}" >/dev/null
	prof "$t/p.json" -c "$cfg" -- mksquashfs "$src" "$t/prof.img" "${args[@]}"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	# log = info is for cached runs: the program's stderr stays its own
	[[ -z $stderr ]] || { echo "stderr: $stderr"; return 1; }
	cmp "$t/plain.img" "$t/prof.img"
	# the calls a cached run makes: its hits and misses, from a cold cache
	txc_mc_flush
	run_shim --separate-stderr "$cfg" mksquashfs "$src" "$t/cached.img" "${args[@]}"
	[[ $status -eq 0 ]] || { echo "cached run: status $status: $stderr"; return 1; }
	local hits misses errors
	hits=$(sed -n 's/^txcache: stats ZSTD_compressCCtx: hits=\([0-9]*\).*/\1/p' <<<"$stderr")
	misses=$(sed -n 's/^txcache: stats ZSTD_compressCCtx: .*misses=\([0-9]*\).*/\1/p' <<<"$stderr")
	errors=$(sed -n 's/^txcache: stats ZSTD_compressCCtx: .*errors=\([0-9]*\).*/\1/p' <<<"$stderr")
	[[ -n $hits && -n $misses && -n $errors ]] || { echo "no stats line: $stderr"; return 1; }
	check "$t/p.json" "
r = fn('ZSTD_compressCCtx')
assert r and r['signature'], d['functions'][:3]
assert r['calls'] == $hits + $misses + $errors and r['calls'] > 10, (r, $hits, $misses, $errors)
assert 0 < r['keys'] <= r['calls'] and r['unkeyed_calls'] == 0, r
assert d['functions'][0]['function'] == 'ZSTD_compressCCtx', d['functions'][0]"
}

@test "profile python3 ctypes: a function fetched with dlsym is timed, with its calls" {
	local py=/usr/bin/python3 plain
	[[ -x $py ]] || py=$(command -v python3)
	printf '%s\n' 'import ctypes' 'z = ctypes.CDLL("libz.so.1")' \
		'z.adler32.restype = ctypes.c_ulong' 'for i in range(7):' \
		'    print(z.adler32(1, b"abc%d" % (i % 3), 4))' >"$BATS_TEST_TMPDIR/ct.py"
	plain=$("$py" "$BATS_TEST_TMPDIR/ct.py")
	prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- "$py" "$BATS_TEST_TMPDIR/ct.py"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $output == "$plain" ]] || { echo "output differs: $output"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
r = fn('adler32')
assert r and 'libz' in r['library'] and not r['signature'], r
assert r['calls'] == 7, r"
	# with the catalogue (zlib.ini has adler32): keyed, 3 keys, 4 repeated
	[[ -f $TXC_ROOT/config/catalogue/zlib.ini ]] || return 0
	TXCACHE_CATALOGUE=$TXC_ROOT/config/catalogue \
		prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- "$py" "$BATS_TEST_TMPDIR/ct.py"
	[[ $status -eq 0 && $output == "$plain" ]] || { echo "status $status: $output $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
r = fn('adler32')
assert r and r['signature'] and 'libz' in r['library'], r
assert r['calls'] == 7 and r['keys'] == 3 and r['repeated_calls'] == 4, r"
}

@test "profile with the catalogue: mkpasswd without a config: crypt keyed from libcrypt.ini" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd not installed (whois)"
	[[ -f $TXC_ROOT/config/catalogue/libcrypt.ini ]] || skip "no libcrypt.ini in the catalogue"
	local cfg
	# a config that names crypt itself keeps its own entry; one that names
	# nothing gets the catalogue's
	cfg=$(printf '[cache]\nservers = %s\n' "$MC_SOCK" | txc_config bare)
	TXCACHE_CATALOGUE=$TXC_ROOT/config/catalogue \
		prof "$BATS_TEST_TMPDIR/p.json" -c "$cfg" -- mkpasswd -m sha-512 -S saltsaltsalt secret
	[[ $status -eq 0 && $output == '$6$saltsaltsalt$'* ]] || { echo "status $status: $output $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
r = d['functions'][0]
assert r['function'] == 'crypt' and r['signature'] and r['calls'] == 1 and r['keys'] == 1, r"
	# the config file itself is left as it was
	[[ $(cat "$cfg") == "$(printf '[cache]\nservers = %s' "$MC_SOCK")" ]] || { cat "$cfg"; return 1; }
}

# same MODE [N]: prof_main's output with and without profile is the same.
same() {
	local plain
	plain=$("$P" "$@")
	prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- "$P" "$@"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	[[ $output == "$plain" ]] || { printf 'plain:\n%s\nprofile:\n%s\n' "$plain" "$output"; return 1; }
	[[ -z $stderr ]] || { echo "stderr: $stderr"; return 1; }
}

@test "profile: longjmp out of a qsort comparator 1000 times, then more calls: counted, no crash" {
	same ljmp 1000 || return 1
	# the 1000 qsort calls left by longjmp never returned: not counted
	check "$BATS_TEST_TMPDIR/p.json" "
assert fn('pl_triv')['calls'] == 100, fn('pl_triv')
assert fn('qsort')['calls'] == 1, fn('qsort')
assert fn('printf')['calls'] == 1"
}

@test "profile: setjmp and longjmp used normally around timed calls" {
	same setjmp || return 1
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 10"
}

@test "profile: 4 threads: the counts are exact" {
	same threads 20000 || return 1
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 80000, fn('pl_triv')"
}

@test "profile: fork: the child's calls are counted once" {
	same fork || return 1
	check "$BATS_TEST_TMPDIR/p.json" "
assert fn('pl_triv')['calls'] == 10, fn('pl_triv')
assert d['processes'] == 2"
}

@test "profile: calls from a signal handler interrupting timed calls" {
	same signal 50 || return 1
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 100, fn('pl_triv')"
}

@test "profile: calls from a handler on an alternate signal stack" {
	same altsig 50 || return 1
	check "$BATS_TEST_TMPDIR/p.json" "
assert fn('pl_triv')['calls'] == 100, fn('pl_triv')
assert fn('raise')['calls'] == 50, fn('raise')"
}

@test "profile: 8 integer + 9 double arguments, rax:rdx and long double returns, varargs, recursion past the shadow stack" {
	same args || return 1
	[[ ${lines[0]} == "mix 87654324.751464844" && ${lines[1]} == "pair 21 -55" &&
		${lines[2]} == "ld 0.678571428571428571436" &&
		${lines[3]} == "fmt 58 42|0.10000000000000001|str|2.5e-300|-7|0.33333333333333331" &&
		${lines[4]} == "rec 180300" ]] || { echo "values: $output"; return 1; }
	# 600 nested calls: the first 512 timed, the rest straight to the function
	check "$BATS_TEST_TMPDIR/p.json" "
assert fn('pl_rec')['calls'] + fn('pl_rec_b')['calls'] == 512, (fn('pl_rec'), fn('pl_rec_b'))
for f in ('pl_mix', 'pl_pair', 'pl_ld', 'pl_fmt'):
    assert fn(f)['calls'] == 1, fn(f)"
}

@test "profile: calls made before exec and _exit reach the report" {
	same exec || return 1
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 13, fn('pl_triv')"
	same uexit || return 1
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 4, fn('pl_triv')"
}

@test "profile: C++ exceptions thrown through a timed qsort and from libstdc++'s helpers are caught" {
	local plain
	plain=$("$FIXTURES/prof_throw" 100)
	[[ $plain == "caught 101 sum 1275" ]] || { echo "plain: $plain"; return 1; }
	prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- "$FIXTURES/prof_throw" 100
	[[ $status -eq 0 && $output == "$plain" && -z $stderr ]] ||
		{ echo "status $status: $output $stderr"; return 1; }
	# the 100 qsort calls the throws left are not counted; the rest are
	check "$BATS_TEST_TMPDIR/p.json" "
assert fn('pl_triv')['calls'] == 50, fn('pl_triv')
assert fn('qsort') is None, fn('qsort')"
}

@test "profile: pthread_exit from inside a timed call; threads that end (python3)" {
	same pexit 10 || return 1
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 10, fn('pl_triv')"
	local py=/usr/bin/python3 plain
	[[ -x $py ]] || py=$(command -v python3)
	printf '%s\n' 'import threading' \
		'ts = [threading.Thread(target=lambda: sum(range(100000))) for _ in range(8)]' \
		'[t.start() for t in ts]' '[t.join() for t in ts]' 'print("ok")' >"$BATS_TEST_TMPDIR/thr.py"
	prof "$BATS_TEST_TMPDIR/p.json" -c "$MIN" -- "$py" "$BATS_TEST_TMPDIR/thr.py"
	[[ $status -eq 0 && $output == ok ]] || { echo "status $status: $output $stderr"; return 1; }
}

# conns: memcached's total_connections so far.
conns() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
for line in buf.decode().splitlines():
    if line.startswith("STAT total_connections "):
        print(line.split()[2])
' "$MC_SOCK"
}

@test "profile: no connection to memcached at all; the round trip is measured against it" {
	command -v mkpasswd >/dev/null || skip "mkpasswd not installed (whois)"
	local cfg before after
	cfg=$(sed "s|^servers .*|servers = $MC_SOCK|" "$TXC_ROOT/config/mkpasswd.ini" | txc_config mk)
	before=$(conns)
	prof "$BATS_TEST_TMPDIR/p.json" -c "$cfg" -- mkpasswd -m sha-512 -S saltsaltsalt secret
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	after=$(conns)
	# one for the CLI's round-trip probe, one for the first stats read
	((after - before == 2)) || { echo "connections: $before -> $after"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
assert d['rtt_assumed'] is False and 0 < d['rtt_us'] < 100000, d['rtt_us']
assert fn('crypt')['calls'] == 1"
}

@test "profile --rtt: the savings use it; no server: 6 us, said to be assumed" {
	# the sanitizer runtime defines crypt: mkpasswd's calls bind to it (make asan)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the sanitizer runtime intercepts crypt"
	command -v mkpasswd >/dev/null || skip "mkpasswd not installed (whois)"
	prof "$BATS_TEST_TMPDIR/p.json" --rtt 5000000 -c "$TXC_ROOT/config/mkpasswd.ini" -- \
		mkpasswd -m sha-512 -S saltsaltsalt secret
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
assert d['rtt_us'] == 5000000 and d['rtt_assumed'] is False
r = fn('crypt')
assert r['save_rerun_ns'] == r['total_ns'] - 5000000 * 1000, r"
	local cfg
	cfg=$(sed "s|^servers .*|servers = /nonexistent/mc.sock|" "$TXC_ROOT/config/mkpasswd.ini" |
		txc_config none)
	run_txcache --separate-stderr profile -c "$cfg" -- mkpasswd -m sha-512 -S saltsaltsalt secret
	[[ $status -eq 0 && $output == *"round trip 6.0 us (assumed"* ]] ||
		{ echo "status $status: $output"; return 1; }
	[[ $output == *"crypt "*"libcrypt.so.1"* && $output == *"needs a signature"* ]] ||
		{ echo "$output"; return 1; }
}

@test "profile --json: the whole report parses; rows with a signature come first" {
	prof "$BATS_TEST_TMPDIR/p.json" -c "$TXC_ROOT/config/mkpasswd.ini" -- "$P" args
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "
sig = [f['signature'] for f in d['functions']]
assert sig == sorted(sig, reverse=True), sig
t = [f['total_ns'] for f in d['functions'] if not f['signature']]
assert t == sorted(t, reverse=True), t
assert d['program'] == '$P' and d['processes'] == 1"
}

@test "profile: a config with enabled = no, and no config at all, still profile" {
	local cfg
	cfg=$(printf '[cache]\nservers = %s\nenabled = no\n' "$MC_SOCK" | txc_config off)
	same setjmp || return 1
	prof "$BATS_TEST_TMPDIR/p.json" -c "$cfg" -- "$P" setjmp
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 10, fn('pl_triv')"
	prof "$BATS_TEST_TMPDIR/p.json" -- "$P" setjmp
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
	check "$BATS_TEST_TMPDIR/p.json" "assert fn('pl_triv')['calls'] == 10"
}

@test "profile: bad usage" {
	run_txcache --separate-stderr profile
	[[ $status -eq 64 && $stderr == *"no PROGRAM"* ]] || { echo "status $status: $stderr"; return 1; }
	run_txcache --separate-stderr profile --rtt abc -- true
	[[ $status -eq 64 && $stderr == *"--rtt abc"* ]] || { echo "status $status: $stderr"; return 1; }
	run_txcache --separate-stderr profile --rtt -1 -- true
	[[ $status -eq 64 ]] || { echo "status $status: $stderr"; return 1; }
	run_txcache --separate-stderr profile --bogus -- true
	[[ $status -eq 64 ]] || { echo "status $status: $stderr"; return 1; }
	run_txcache --separate-stderr profile -c /nonexistent.ini -- true
	[[ $status -ne 0 ]] || { echo "status $status: $stderr"; return 1; }
	run_txcache --separate-stderr profile -c "$MIN" -- /nonexistent/program
	[[ $status -eq 69 ]] || { echo "status $status: $stderr"; return 1; }
}

@test "profile mode: a TXCACHE_PROFILE that is not a regular file leaves the shim inert" {
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$MIN" \
		TXCACHE_PROFILE="$BATS_TEST_TMPDIR/missing" "$P" setjmp
	[[ $status -eq 0 && $output == "setjmp count 10" ]] || { echo "status $status: $output"; return 1; }
	[[ $stderr == *"TXCACHE_PROFILE"*"inert"* ]] || { echo "stderr: $stderr"; return 1; }
	[[ ! -e $BATS_TEST_TMPDIR/missing ]] || { echo "the shim created the file"; return 1; }
}
