#!/usr/bin/env bats
# txcache check -c CONFIG PROGRAM: which configured functions the shim can
# intercept in PROGRAM, read from the ELF files on disk.

load helpers

setup() {
	[[ -x $TXCACHE && -x $FIXTURES/bind_now_pie_full ]] ||
		skip "run make all and make -C tests/fixtures BUILD=$BUILD"
	PROG=$FIXTURES/bind_now_pie_full
}

# cfg SECTIONS...: a config with a [cache] section and the given text.
cfg() {
	printf '[cache]\nservers = 127.0.0.1:1\n\n%s\n' "$1" | txc_config "c$RANDOM"
}

FN_BIND='[function bind_slow]
signature = long bind_slow(long x)'
FN_TGAMMA='[function tgamma]
signature = double tgamma(double x)'
FN_NONE='[function txc_nowhere]
signature = int txc_nowhere(int x)'

@test "check PROGRAM: imported by the program is interceptable; exit 0" {
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND")" "$PROG"
	assert_success
	assert_line "bind_slow: interceptable: imported by $PROG"
	assert_line "1 of 1 configured functions can be intercepted in $PROG"
}

@test "check PROGRAM: defined in a library but imported by nobody is not" {
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND
$FN_TGAMMA")" "$PROG"
	assert_success
	assert_line --regexp '^tgamma@GLIBC_2\.2\.5: not seen at start: defined in /.*/libm\.so\.6 \(whose own calls are direct\), imported by nothing loaded at start; may be imported by a library loaded later \(dlopen\)$'
	assert_line --partial "1 of 2 configured functions"
}

@test "check PROGRAM: nothing interceptable exits 1" {
	run_txcache --separate-stderr check -c "$(cfg "$FN_TGAMMA
$FN_NONE")" "$PROG"
	assert_failure 1
	assert_line 'txc_nowhere: not seen at start: may be imported by a library loaded later (dlopen)'
	assert_line --partial "0 of 2 configured functions"
}

@test "check PROGRAM: versions are the imported ones, and a pin must match" {
	[[ $(uname -m) == x86_64 ]] || skip "x86-64 version names"
	run_txcache --separate-stderr check -c "$(cfg '[function exp]
signature = double exp(double x)')" "$PROG"
	assert_success
	assert_line --regexp "^exp@GLIBC_2\.(29|2\.5): interceptable: imported by $PROG\$"
	for v in GLIBC_2.29 GLIBC_2.2.5; do
		run_txcache --separate-stderr check -c "$(cfg "[function exp]
signature = double exp(double x)
version = $v")" "$PROG"
		assert_success
		assert_line "exp@$v: interceptable: imported by $PROG"
	done
	run_txcache --separate-stderr check -c "$(cfg '[function exp]
signature = double exp(double x)
version = GLIBC_2.99')" "$PROG"
	assert_failure 1
	assert_line "exp@GLIBC_2.99: not seen at start: may be imported by a library loaded later (dlopen)"
}

@test "check PROGRAM: a library pin that names another library is not interceptable" {
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND
library = libother")" "$PROG"
	assert_failure 1
	assert_line --regexp '^bind_slow: not interceptable: library = libother, but .*/libbindt\.so defines it$'
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND
library = libbindt")" "$PROG"
	assert_success
}

@test "check PROGRAM: a real program (mkpasswd imports crypt@XCRYPT_2.0)" {
	command -v mkpasswd >/dev/null || skip "mkpasswd is not installed"
	run_txcache --separate-stderr check -c "$(cfg '[function crypt]
signature = string crypt(string phrase, string setting)')" mkpasswd
	assert_success
	assert_line "crypt@XCRYPT_2.0: interceptable: imported by $(readlink -f "$(command -v mkpasswd)")"
}

@test "check PROGRAM: a function only libc calls through its GOT is not seen at start" {
	# libc calls calloc through its own PLT; the program never does, and the
	# shim never patches libc (its own dependency)
	run_txcache --separate-stderr check -c "$(cfg '[function calloc]
signature = uint64_t calloc(size_t n, size_t m)')" "$PROG"
	assert_failure 1
	assert_line --regexp '^calloc@GLIBC_2\.2\.5: not seen at start: only /.*/libc\.so\.6 \(never patched\) calls it through its GOT; may be imported by a library loaded later \(dlopen\)$'
}

@test "check PROGRAM: a static program has nothing to intercept" {
	[[ -x $FIXTURES/bind_static ]] || skip "no static fixture"
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND")" "$FIXTURES/bind_static"
	assert_failure 1
	assert_output "$FIXTURES/bind_static: statically linked: nothing can be intercepted"
}

@test "check PROGRAM: a missing program or a non-ELF file is EX_NOINPUT" {
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND")" /nonexistent/prog
	assert_failure 66
	[[ $stderr == *"/nonexistent/prog: No such file or directory"* ]]
	run_txcache --separate-stderr check -c "$(cfg "$FN_BIND")" "$(cfg "$FN_BIND")"
	assert_failure 66
	[[ $stderr == *"not an ELF file of this machine"* ]]
}

@test "check PROGRAM: the verdict matches what the shim does" {
	# interceptable per check <=> redirected by the shim at start
	local c n
	c=$(cfg "$FN_BIND
$FN_TGAMMA")
	run_txcache --separate-stderr check -c "$c" "$PROG"
	n=$(grep -c ': interceptable:' <<<"$output")
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$c" \
		TXCACHE_LOG=info "$PROG" plt 1
	[[ $stderr == *"2 functions configured, $n call sites redirected"* ]]
}

@test "check PROGRAM: a function reached only through a static table is interceptable, as the shim does" {
	# idn_tabonly's one relocation naming idn_slow is a data word
	# (R_X86_64_64); before, check counted only JUMP_SLOT and GLOB_DAT
	local prog=$FIXTURES/idn_tabonly c
	[[ -x $prog ]] || skip "fixture idn_tabonly not built"
	c=$(cfg '[function idn_slow]
signature = int idn_slow(int x)')
	run_txcache --separate-stderr check -c "$c" "$prog"
	assert_success
	assert_line "idn_slow: interceptable: imported by $prog"
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$c" \
		TXCACHE_LOG=info "$prog" 0
	[[ $status -eq 0 && $output == 22 ]] || { echo "status $status out '$output'"; return 1; }
	# the call reached the closure (no server here: it says so and calls
	# the real function)
	[[ $stderr == *"idn_slow: lookup failed (memcached unavailable)"* ]] ||
		{ echo "stderr: $stderr"; return 1; }
}
