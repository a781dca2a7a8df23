#!/usr/bin/env bats
# Attempts to break the claims of README "Interception everywhere"
# (fixtures: tests/fixtures/break.mk). Each test runs a program uncached,
# then twice under the shim: the shim runs must print the uncached lines
# (results, pointer comparisons), and the second shim run must make no real
# call of the configured function (every call the README says is
# intercepted is a hit). A failure prints both outputs.

load helpers

setup_file() {
	txc_mc_start
	# every test counts the fixture's own real calls (a hit makes none);
	# verify mode (make check-verify) adds real calls on sampled hits
	export TXCACHE_VERIFY=0
}

teardown_file() {
	txc_mc_stop
}

setup() {
	BRK_CALLS=$BATS_TEST_TMPDIR/calls
	export BRK_CALLS
}

brk_cfg() {
	txc_config "brk_$BATS_TEST_NUMBER" <<EOF
[cache]
servers = $MC_SOCK
namespace = brk$BATS_TEST_NUMBER
timeout_ms = 2000
${BRK_CACHE_CFG:-}

[function brk_slow]
signature = int brk_slow(int x)

${BRK_EXTRA_CFG:-}
EOF
}

# brk_status_fail N PLAIN: shim run N ended with $status; the uncached run
# printed PLAIN and exited 0.
brk_status_fail() {
	printf 'shim run %s: status %s (uncached: status 0)\n--- uncached\n%s\n--- shim\n%s %s\n' \
		"$1" "$status" "$2" "$output" "${stderr:-}"
}

# brk_run PROG PATTERN ARG [PROG-ARGS...]: the lines of PROG's output
# matching PATTERN must be the same uncached and in two shim runs, and the
# second shim run must make no real call brk_slow(ARG) (the first stored it),
# or BRK_WANT_CALLS of them where the shim declines to cache the call.
# A run that hangs is killed after BRK_KILL_S (default 120) seconds, status
# 137; one takes well under a second.
brk_run() {
	local prog=$FIXTURES/$1 pat=$2 arg=$3 cfg plain out1 out2 n
	shift 3
	cfg=$(brk_cfg)
	run timeout -s KILL "${BRK_KILL_S:-120}" "$prog" "$@"
	[[ $status -eq 0 ]] || { echo "uncached run: status $status: $output"; return 1; }
	plain=$(grep -E "$pat" <<<"$output")
	[[ -n $plain ]] || { echo "uncached run printed no '$pat' line: $output"; return 1; }
	grep -q "brk_slow $arg\$" "$BRK_CALLS" || { echo "uncached run made no call brk_slow($arg)"; return 1; }
	run_shim --separate-stderr "$cfg" timeout -s KILL "${BRK_KILL_S:-120}" "$prog" "$@"
	[[ $status -eq 0 ]] || { brk_status_fail 1 "$plain"; return 1; }
	out1=$(grep -E "$pat" <<<"$output")
	: >"$BRK_CALLS"
	run_shim --separate-stderr "$cfg" timeout -s KILL "${BRK_KILL_S:-120}" "$prog" "$@"
	[[ $status -eq 0 ]] || { brk_status_fail 2 "$plain"; return 1; }
	out2=$(grep -E "$pat" <<<"$output")
	local bad=0
	if [[ $out1 != "$plain" || $out2 != "$plain" ]]; then
		printf 'output differs from the uncached run\n--- uncached\n%s\n--- shim run 1\n%s\n--- shim run 2\n%s\n' \
			"$plain" "$out1" "$out2"
		bad=1
	fi
	n=$(grep -c "brk_slow $arg\$" "$BRK_CALLS" || true)
	if [[ $n -ne ${BRK_WANT_CALLS:-0} ]]; then
		echo "brk_slow($arg): the second shim run made $n real calls (want ${BRK_WANT_CALLS:-0})"
		bad=1
	fi
	[[ $bad -eq 0 ]] || { echo "--- shim run 2 output: $output $stderr"; return 1; }
}

# Fixed (was a break). A PIE reading a library's const table directly gets
# a copy of it (R_X86_64_COPY), made by the loader before the shim's
# constructor: the shim rewrites the copy's words at the offsets of the
# library's data words naming brk_slow, so the entry equals &brk_slow (the
# closure) and calls through it are cached.
@test "copy-relocated const table in a PIE: entry == &f and calls cached" {
	brk_run brk_cr_pie '^table:' 5
}

# Fixed (was a break). The same for a writable pointer variable (int (*brk_fp)(int) =
# brk_slow) defined in the library.
@test "copy-relocated pointer variable in a PIE: == &f and calls cached" {
	brk_run brk_cr_pie '^variable:' 6
}

# Guard: in a non-PIE every one of them is the canonical PLT entry, which
# jumps through the patched slot.
@test "copy-relocated table and variable in a non-PIE (guard)" {
	brk_run brk_cr_nopie '^(table|variable|direct):' 5
}

# Fixed (was a break). A non-PIE program that never takes &brk_slow has no
# canonical PLT entry: its copies held the real function while dlsym gives
# the closure; now the copies are rewritten to the closure too.
@test "copy-relocated table and variable in a non-PIE without &f: == dlsym, cached" {
	brk_run brk_cr_dlsym '^nopie copies:' 17
}

# In a PIE &brk_slow is the closure: the shim's dladdr wrapper answers for
# the definition it stands for (it named nothing before).
@test "dladdr(&f) in a PIE names f as without the shim" {
	brk_run brk_cr_pie '^(direct|dladdr):' 7
}

# The same for every field: dli_sname, dli_fname, dli_saddr == &f (the
# closure), dladdr1's symbol entry and link map, on &f and on dlsym's
# pointer; both still cached.
@test "dladdr and dladdr1 on &f and dlsym's pointer answer as without the shim" {
	brk_run brk_dladdr_main '^dladdr' 19
}

# Fixed (was a break): a data word naming brk_slow with an addend,
# (char *)brk_slow + 4 (R_X86_64_64 brk_slow + 4), is rewritten to the
# closure + 4 while it holds the real function + 4: it equals
# (char *)&brk_slow + 4 as without the shim, and a call through it minus 4
# is cached.
@test "data word with an addend (&f + 4) in a library, PIE" {
	brk_run brk_add_main '^addend:' 8
}

# Struct arrays (tests/fixtures/copyrel.mk), one const (RELRO in the
# library, and in a full-RELRO PIE's copy), one writable, with &brk_slow at
# two offsets, brk_slow + 4, labs, the library's own function and NULL
# between them: every brk_slow word of the copies compares and calls as the
# closure; the other words, the tags and padding are left as they were.
@test "copy-relocated struct arrays with &f at several offsets in a full-RELRO PIE" {
	brk_run brk_crx_pie '^crx ' 9 9
}

# Guard: the same arrays in a non-PIE that takes &brk_slow (canonical PLT).
@test "copy-relocated struct arrays with &f at several offsets in a non-PIE (guard)" {
	brk_run brk_crx_nopie '^crx ' 10 10
}

# A start-up library's constructor, which runs before the shim's,
# dlopen()s a lazy plugin with RTLD_DEEPBIND; the plugin's own libbrkalt.so
# defines brk_slow (+1000) and the loader binds the plugin's slot to it. The
# shim never saw that dlopen, so it does not know the plugin's scope order:
# where the global scope and the plugin's own dependencies define brk_slow
# differently it leaves the lazy slot to the loader (declined: both calls
# run for real, no later dlopen comes to patch the bound slot), and the
# program's own call stays cached.
@test "RTLD_DEEPBIND plugin opened by a start-up constructor: same result, left uncached" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime refuses RTLD_DEEPBIND (google/sanitizers#611)"
	export BRK_PLUG=$FIXTURES/libbrkdeep.so
	BRK_WANT_CALLS=2 brk_run brk_ctor_main '^ctor plugin:' 9
	n=$(grep -c 'brk_slow 10$' "$BRK_CALLS" || true)
	[[ $n -eq 0 ]] || { echo "the program's brk_slow(10) not cached: $n real calls"; return 1; }
}

# The same from a plugin's constructor: a plugin (libbrkctor.so) that opens
# its own sub-plugin while the program's dlopen of it runs, before the
# shim's pass (declined the same way).
@test "RTLD_DEEPBIND plugin opened by a plugin's constructor: same result, left uncached" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime refuses RTLD_DEEPBIND (google/sanitizers#611)"
	export BRK_PLUG=$FIXTURES/libbrkdeep.so
	BRK_WANT_CALLS=2 brk_run brk_pc_main '^plugin ctor plugin:' 37 "$FIXTURES/libbrkctor.so"
}

# Guard: a library's static table holding the old version brk_slow@BRK_1
# (R_X86_64_64 against a versioned symbol) while the program uses the
# default brk_slow@@BRK_2: the entry equals dlvsym(BRK_1), and calls through
# it, through dlvsym's pointer, the PLT (old) and &f (new) are cached.
# (55_interpose_identity has no versioned table.)
@test "static table holding a non-default symbol version f@V1 (guard)" {
	brk_run brk_ver_main '^(old table|new):' 11
	brk_run brk_ver_main '^old dlvsym:' 12
	brk_run brk_ver_main '^old plt:' 13
	brk_run brk_ver_main '^new:' 14
}

# libbrkrpl.so has no DT_RPATH/RUNPATH and dlopen()s "libbrkrpplug.so",
# which glibc finds along the DT_RPATH of the library that loaded
# libbrkrpl.so (libbrkrpl0.so). The shim's dlopen wrapper searches the
# same chain (it failed before: "cannot open shared object file").
@test "bare-name dlopen found along the caller's loader's DT_RPATH" {
	brk_run brk_rp_main '^rpath plugin:' 15
}

# Guard: a closure is not handed to another definition while its module is
# still loaded: a plugin opened twice and closed once, and a NODELETE
# plugin closed, keep answering with their own brk_slow (cached) while 12
# other builds come and go (55_interpose_identity reloads plugins whose
# every dlclose unloads them).
@test "plugins still loaded after dlclose (refcount, NODELETE) keep their closures (guard)" {
	local d=$FIXTURES/brk_rl
	brk_run brk_rl_main '^reload:' 16 "$d/libbrkrlp.so" "$d/libbrkrlnd.so" "$d/libbrkrl.so"
}

# Guard: a program's weak brk_slow (-rdynamic) is the first definition in
# scope: a library's lazy slot binds to it, as the loader does.
@test "a program's weak definition over a library's strong one, lazy slot (guard)" {
	brk_run brk_wk_main '^weak:' 18
}

# BREAK (wrong result). With LD_DYNAMIC_WEAK=1 glibc passes over the
# program's weak definition for libbrkwk.so's strong one; the shim's own
# lookup of the lazy slot still takes the weak one.
@test "LD_DYNAMIC_WEAK=1: a lazy slot binds where the loader binds it" {
	# the ASan runtime's malloc and free are weak definitions: LD_DYNAMIC_WEAK
	# binds modules to two allocators (free(): invalid size, with or without the shim)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "LD_DYNAMIC_WEAK splits the ASan runtime's weak malloc/free"
	export LD_DYNAMIC_WEAK=1
	brk_run brk_wk_main '^weak:' 18
}

# Was a BREAK (host crash). A thread with a PTHREAD_STACK_MIN (16 KiB)
# stack runs brk_slow fine uncached; under the shim pthread_create failed
# (the shim's static TLS, 10.6 KiB, comes out of every thread's stack) and,
# with less TLS, the call overflowed the stack (about 28 KiB needed on a
# first miss, 24 KiB on a hit). Now: the capture frames are on the heap,
# and a call with less than 48 KiB of stack left runs the real function,
# uncached, with one info line (shim/stackroom.h).
@test "a configured call from a thread with a 16 KiB stack: no crash, the real function, uncached" {
	local prog=$FIXTURES/brk_stack_main cfg plain n
	cfg=$(brk_cfg)
	run "$prog" 16384
	[[ $status -eq 0 ]] || { echo "uncached: status $status: $output"; return 1; }
	plain=$output
	for pass in 1 2; do
		: >"$BRK_CALLS"
		run_shim --separate-stderr "$cfg" env TXCACHE_LOG=info timeout -s KILL 60 "$prog" 16384
		[[ $status -eq 0 ]] || { brk_status_fail "$pass" "$plain"; return 1; }
		[[ $output == "$plain" ]] || { echo "run $pass: '$output' uncached '$plain'"; return 1; }
		n=$(grep -c "brk_slow 25\$" "$BRK_CALLS" || true)
		[[ $n -eq 2 ]] || { echo "run $pass: $n real calls, want 2 (never cached)"; return 1; }
		[[ $stderr == *"a thread's stack has less than 48 KiB left: calls there run uncached"* ]] ||
			{ echo "run $pass: no log line: $stderr"; return 1; }
	done
}

# A coroutine's stack (makecontext) belongs to no thread: its size is
# unknown to the shim, so the call runs uncached (without the check, a
# 16 KiB coroutine stack overflowed like the thread's).
@test "a configured call on a 16 KiB coroutine stack: no crash, the real function, uncached" {
	local prog=$FIXTURES/brk_coro_main cfg plain n
	cfg=$(brk_cfg)
	run "$prog" 16384
	[[ $status -eq 0 ]] || { echo "uncached: status $status: $output"; return 1; }
	plain=$output
	: >"$BRK_CALLS"
	run_shim --separate-stderr "$cfg" env TXCACHE_LOG=info timeout -s KILL 60 "$prog" 16384
	[[ $status -eq 0 ]] || { brk_status_fail 1 "$plain"; return 1; }
	[[ $output == "$plain" ]] || { echo "'$output' uncached '$plain'"; return 1; }
	n=$(grep -c "brk_slow 25\$" "$BRK_CALLS" || true)
	[[ $n -eq 2 ]] || { echo "$n real calls, want 2 (never cached)"; return 1; }
	[[ $stderr == *"a call runs on a stack the shim does not know"* ]] ||
		{ echo "no log line: $stderr"; return 1; }
}

# Guard: the same with a 64 KiB stack.
@test "a configured call from a thread with a 64 KiB stack (guard)" {
	brk_run brk_stack_main '^small stack:' 25 65536
}

# The floating-point environment. pow is cached as well.
brk_fe_cfg() {
	BRK_EXTRA_CFG=$'[function pow]\nsignature = double pow(double x, double y)'
	export BRK_EXTRA_CFG
}

# On a miss of brk_slow (an integer function, which raises no
# floating-point exception) the shim's own work raised FE_INEXACT (fixed:
# it runs with the flags held, shim/fpenv.h).
@test "a miss leaves the floating-point exception flags as the real call did" {
	brk_fe_cfg
	brk_run brk_fe_main '^fe int:' 51
}

# A hit of pow(2, 0.5) raises the FE_INEXACT the real pow raised (stored
# with the value, as errno is).
@test "a hit raises the floating-point exception flags the real call raised" {
	brk_fe_cfg
	brk_run brk_fe_main '^fe pow:' 51
}

# The key covers the rounding mode for float signatures: pow(6, 0.5) stored
# under FE_TONEAREST was served under FE_UPWARD and FE_DOWNWARD, whose real
# results differ in the last digit.
@test "a hit under another rounding mode returns what the real call would" {
	brk_fe_cfg
	brk_run brk_fe_main '^fe round:' 51
}

# A program that traps FE_INEXACT (feenableexcept) runs brk_slow fine
# uncached; the shim's own floating-point work (its exit report included)
# raised FE_INEXACT on a miss and on a hit: SIGFPE, status 136.
@test "a program trapping FE_INEXACT: a configured call raises no SIGFPE" {
	brk_run brk_fpe_main '^trapping fp' 61 all
}

# Guard: trapping FE_DIVBYZERO, FE_INVALID and FE_OVERFLOW.
@test "a program trapping division by zero, invalid and overflow (guard)" {
	brk_run brk_fpe_main '^trapping fp' 61 common
}

# The program's own flags (FE_DIVBYZERO raised before) stay after a miss
# and a hit of brk_slow and of pow, next to the FE_INEXACT pow raises.
@test "the program's own exception flags stay across configured calls" {
	brk_fe_cfg
	brk_run fe_more_main '^fe more:' 52 keep
}

# A hit of pow(3, 0.5) under FE_UPWARD (its own key) returns the upward
# result and raises FE_INEXACT.
@test "a hit under FE_UPWARD: the upward result and its flags" {
	brk_fe_cfg
	brk_run fe_more_main '^fe more:' 53 up
}

# fe_run_log CFG ARG: fe_more_main ARG under the shim, log at info.
fe_run_log() {
	run_shim --separate-stderr "$1" env TXCACHE_LOG=info "$FIXTURES/fe_more_main" "$2"
}

# A program trapping FE_INEXACT gets SIGFPE from pow(2, 0.5) uncached; a hit
# (stored by a run that does not trap) traps as well: feraiseexcept with the
# program's traps. (The unfixed shim trapped too, in its own arithmetic;
# with the hit's feraiseexcept removed this fails: status 0.)
@test "a hit traps as the real call would: SIGFPE for a trapped FE_INEXACT" {
	# under make asan, ASan would report the SIGFPE and exit 1 itself
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_sigfpe=0
	brk_fe_cfg
	local cfg
	cfg=$(brk_cfg)
	run "$FIXTURES/fe_more_main" trap
	[[ $status -eq 136 ]] || { echo "uncached: status $status (want SIGFPE, 136): $output"; return 1; }
	fe_run_log "$cfg" keep
	[[ $status -eq 0 ]] || { echo "storing run: status $status: $output $stderr"; return 1; }
	fe_run_log "$cfg" trap
	[[ $stderr == *"hit pow"* ]] || { echo "pow was not a hit: $stderr"; return 1; }
	[[ $status -eq 136 ]] || { echo "hit: status $status (want SIGFPE, 136): $output"; return 1; }
}

# txcache delete of pow(3, 0.5) (run in FE_TONEAREST) removes the value
# stored under FE_UPWARD too: every rounding mode's key is tombstoned
# (with only the current mode's key tombstoned this fails).
@test "txcache delete reaches the keys of every rounding mode" {
	brk_fe_cfg
	local cfg
	cfg=$(brk_cfg)
	fe_run_log "$cfg" up
	fe_run_log "$cfg" up
	[[ $stderr == *"hit pow"* ]] || { echo "second run: pow was not a hit: $stderr"; return 1; }
	run_txcache delete -c "$cfg" pow 3 0.5
	[[ $status -eq 0 ]] || { echo "txcache delete: status $status: $output"; return 1; }
	fe_run_log "$cfg" up
	[[ $stderr == *"miss pow"* && $stderr != *"hit pow"* ]] ||
		{ echo "after delete: pow not a miss: $stderr"; return 1; }
}

# The shim's memcached connections live at high descriptor numbers
# (shim/mcfd.c: from min(RLIMIT_NOFILE, 4096) - 64), never the lowest free
# one (before: 3, and the program's open() returned 4).
@test "descriptor numbers: the program's open() returns what it returns uncached" {
	brk_run brk_fd_main '^fixed fds: the data file opened' 74 file "$BATS_TEST_TMPDIR/data"
}

# The same with a log_file: the shim opens it at start, before main (before:
# it took descriptor 3, and the program's open() returned 4).
@test "descriptor numbers with a log_file: the program's open() returns what it returns uncached" {
	BRK_CACHE_CFG="log_file = $BATS_TEST_TMPDIR/shim.log"
	brk_run brk_fd_main '^fixed fds: the data file opened' 74 file "$BATS_TEST_TMPDIR/data"
	[[ -f $BATS_TEST_TMPDIR/shim.log ]] || { echo "no log file was opened"; return 1; }
}

# Guard: the program dup2()s a data file over descriptors 3..7 (where the
# shim's connection used to be): nothing is written into the file.
@test "a data file dup2()ed over the shim's connection receives nothing (guard)" {
	brk_run brk_fd_main '^fixed fds: (calls|the data file holds)' 74 file "$BATS_TEST_TMPDIR/data"
}

# The same with one end of a socketpair (before: the shim sent its request
# to the program's peer and waited in a blocking recv() for ever).
@test "a socket dup2()ed over the shim's connection: no hang, nothing sent to it" {
	BRK_KILL_S=30
	brk_run brk_fd_main '^fixed fds: (calls|the sockets received)' 74 socket -
}

# A daemon that closes every descriptor from 3 up after start, then makes 4
# socketpairs (3..10) (before: one got the shim's old number, and the
# shim's next call waited on the program's socket for ever).
@test "a daemon closing all descriptors, then opening a socket: no hang" {
	BRK_KILL_S=30
	brk_run brk_fd_main '^fixed fds: (calls|the sockets received)' 74 closeall -
}

# The program finds the shim's connection wherever it is (/proc/self/fd)
# and dup2()s its own socket over it: the shim sees that the descriptor is
# no longer its socket (device and inode), sends and reads nothing on it,
# does not close it, and calls the real function.
@test "a socket dup2()ed over the shim's high descriptor: no hang, nothing sent, not closed" {
	BRK_KILL_S=30
	brk_run brk_fd_main '^fixed fds: (calls|the sockets received|stolen)' 74 steal -
}

# Declined: the shim's per-thread memcached handles hold one thread key,
# made at the first cached call (shim/tslot.h says why a keyless version
# deadlocked). A program that creates keys until none is left after a
# cached call gets exactly one fewer than uncached, and its calls are
# cached.
@test "a program creating every thread key after a cached call gets one fewer (the shim holds one)" {
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan runtime holds a thread key itself (1023 with it alone)"
	local prog=$FIXTURES/brk_keys_main cfg plain want n
	cfg=$(brk_cfg)
	run "$prog"
	[[ $status -eq 0 ]] || { echo "uncached: status $status: $output"; return 1; }
	plain=$output
	[[ $plain =~ ^thread\ keys:\ ([0-9]+)\ created,\ (.*)$ ]] || { echo "uncached: $plain"; return 1; }
	want="thread keys: $((BASH_REMATCH[1] - 1)) created, ${BASH_REMATCH[2]}"
	for pass in 1 2; do
		: >"$BRK_CALLS"
		run_shim --separate-stderr "$cfg" "$prog"
		[[ $status -eq 0 && $output == "$want" ]] ||
			{ echo "run $pass: status $status '$output', want '$want'"; return 1; }
	done
	n=$(grep -c 'brk_slow 8[12]$' "$BRK_CALLS" || true)
	[[ $n -eq 0 ]] || { echo "second run: $n real calls, want 0"; return 1; }
}
