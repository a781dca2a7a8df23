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
# second shim run must make no real call brk_slow(ARG) (the first stored it).
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
	if [[ $n -ne 0 ]]; then
		echo "brk_slow($arg) not cached: the second shim run made $n real calls"
		bad=1
	fi
	[[ $bad -eq 0 ]] || { echo "--- shim run 2 output: $output $stderr"; return 1; }
}

# BREAK. A PIE reading a library's const table directly gets a copy of it
# (R_X86_64_COPY), made by the loader before the shim patched the
# library's entry: the copy keeps the real function, unequal to &brk_slow
# (the closure) and uncached.
@test "copy-relocated const table in a PIE: entry == &f and calls cached" {
	brk_run brk_cr_pie '^table:' 5
}

# BREAK. The same for a writable pointer variable (int (*brk_fp)(int) =
# brk_slow) defined in the library.
@test "copy-relocated pointer variable in a PIE: == &f and calls cached" {
	brk_run brk_cr_pie '^variable:' 6
}

# Guard: in a non-PIE every one of them is the canonical PLT entry, which
# jumps through the patched slot.
@test "copy-relocated table and variable in a non-PIE (guard)" {
	brk_run brk_cr_nopie '^(table|variable|direct):' 5
}

# BREAK. A non-PIE program that never takes &brk_slow has no canonical PLT
# entry: its copies hold the real function, dlsym gives the closure.
@test "copy-relocated table and variable in a non-PIE without &f: == dlsym, cached" {
	brk_run brk_cr_dlsym '^nopie copies:' 17
}

# BREAK. In a PIE &brk_slow is the closure: dladdr no longer names it.
@test "dladdr(&f) in a PIE names f as without the shim" {
	brk_run brk_cr_pie '^(direct|dladdr):' 7
}

# BREAK (an unusual table): a data word naming brk_slow with an addend,
# (char *)brk_slow + 4 (R_X86_64_64 brk_slow + 4), is left holding the real
# function + 4: it no longer equals (char *)&brk_slow + 4 (the closure + 4),
# and a call through it minus 4 is not cached.
@test "data word with an addend (&f + 4) in a library, PIE" {
	brk_run brk_add_main '^addend:' 8
}

# BREAK (wrong result). A start-up library's constructor, which runs before
# the shim's, dlopen()s a lazy plugin with RTLD_DEEPBIND; the plugin's own
# libbrkalt.so defines brk_slow (+1000) and the loader binds the plugin's
# slot to it. The shim never saw that dlopen, patches the slot with the
# global brk_slow (+1): the program prints another number.
@test "RTLD_DEEPBIND plugin opened by a start-up constructor: same result" {
	export BRK_PLUG=$FIXTURES/libbrkdeep.so
	brk_run brk_ctor_main '^ctor plugin:' 9
}

# BREAK (wrong result). The same from a plugin's constructor: a plugin
# (libbrkctor.so) that opens its own sub-plugin while the program's dlopen
# of it runs, before the shim's pass.
@test "RTLD_DEEPBIND plugin opened by a plugin's constructor: same result" {
	export BRK_PLUG=$FIXTURES/libbrkdeep.so
	brk_run brk_pc_main '^plugin ctor plugin:' 37 "$FIXTURES/libbrkctor.so"
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

# BREAK (the host's dlopen fails). libbrkrpl.so has no DT_RPATH/RUNPATH and
# dlopen()s "libbrkrpplug.so", which glibc finds along the DT_RPATH of the
# library that loaded libbrkrpl.so (libbrkrpl0.so). Under the shim the
# dlopen fails: "cannot open shared object file".
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
	export LD_DYNAMIC_WEAK=1
	brk_run brk_wk_main '^weak:' 18
}

# BREAK (host crash). A thread with a PTHREAD_STACK_MIN (16 KiB) stack runs
# brk_slow fine uncached; under the shim the call (miss or hit) overflows
# the stack: SIGSEGV. Measured: about 28 KiB is needed on a miss, 24 KiB on
# a hit.
@test "a configured call from a thread with a 16 KiB stack does not crash" {
	brk_run brk_stack_main '^small stack:' 25 16384
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

# BREAK. On a miss of brk_slow (an integer function, which raises no
# floating-point exception) the shim's own work raises FE_INEXACT: a
# program testing the flags after the call sees one the call never raised.
@test "a miss leaves the floating-point exception flags as the real call did" {
	brk_fe_cfg
	brk_run brk_fe_main '^fe int:' 51
}

# BREAK. A hit of pow(2, 0.5) does not raise the FE_INEXACT the real pow
# raises (errno is restored on a hit; the exception flags are not).
@test "a hit raises the floating-point exception flags the real call raised" {
	brk_fe_cfg
	brk_run brk_fe_main '^fe pow:' 51
}

# BREAK (wrong result). The key does not cover the rounding mode: pow(6, 0.5)
# stored under FE_TONEAREST is served under FE_UPWARD and FE_DOWNWARD,
# whose real results differ in the last digit.
@test "a hit under another rounding mode returns what the real call would" {
	brk_fe_cfg
	brk_run brk_fe_main '^fe round:' 51
}

# BREAK (host crash). A program that traps FE_INEXACT (feenableexcept) runs
# brk_slow fine uncached; under the shim the floating-point work of the
# shim itself raises FE_INEXACT on a miss and on a hit: SIGFPE, status 136.
@test "a program trapping FE_INEXACT: a configured call raises no SIGFPE" {
	brk_run brk_fpe_main '^trapping fp' 61 all
}

# Guard: trapping FE_DIVBYZERO, FE_INVALID and FE_OVERFLOW.
@test "a program trapping division by zero, invalid and overflow (guard)" {
	brk_run brk_fpe_main '^trapping fp' 61 common
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

# The shim's per-thread memcached handles hold no thread-specific data key
# (shim/tslot.c): a program that creates keys until none is left gets 1024,
# as uncached (before: 1023).
@test "a program creating every thread key gets as many as uncached" {
	brk_run brk_keys_main '^thread keys:' 81
}
